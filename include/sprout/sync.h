/* sprout — the parent <-> init protocol over a SOCK_SEQPACKET pair.
 * A message is a type and an optional NUL-terminated text (an error). */
#ifndef SPROUT_SYNC_H
#define SPROUT_SYNC_H

#include "sprout/error.h"

enum sp_sync_type {
  SP_SYNC_GO = 1,      /* parent -> init: id maps and cgroup are in place */
  SP_SYNC_READY,       /* init -> parent: set up, now waiting on exec.fifo */
  SP_SYNC_ERROR,       /* init -> parent: text is the error, init exits */
  SP_SYNC_EXECED,      /* (unused marker) */
};

int sp_sync_send(int fd, enum sp_sync_type type, const char *text);
/* Receive one message; *text (malloc'd, may be NULL) holds its text.  EOF
 * (the peer died) is an error naming `what`. */
int sp_sync_recv(int fd, enum sp_sync_type *type, char **text,
                 struct sp_error *err);

#endif
