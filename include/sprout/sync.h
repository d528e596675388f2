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
  SP_SYNC_PTY,         /* init/exec -> parent: carries the pty master fd */
  SP_SYNC_HOOKS,       /* init -> parent: mounts done, run prestart and
                        * createRuntime hooks now, then send GO again */
};

int sp_sync_send(int fd, enum sp_sync_type type, const char *text);
/* Receive one message; *text (malloc'd, may be NULL) holds its text.  EOF
 * (the peer died) is an error naming `what`. */
int sp_sync_recv(int fd, enum sp_sync_type *type, char **text,
                 struct sp_error *err);
/* The same carrying one fd (SCM_RIGHTS) with the message. */
int sp_sync_send_fd(int fd, enum sp_sync_type type, const char *text, int passfd);
/* Like sp_sync_recv; *passfd is the fd that came with the message (O_CLOEXEC)
 * or -1.  (sp_sync_recv closes any fd that comes.) */
int sp_sync_recv_fd(int fd, enum sp_sync_type *type, char **text, int *passfd,
                    struct sp_error *err);

#endif
