/* sprout CLI: what update, pause, resume, ps and events share. */
#ifndef SPROUT_CLI_CGROUP_H
#define SPROUT_CLI_CGROUP_H

#include <stdbool.h>

#include "sprout/cgroup.h"
#include "sprout/container.h"
#include "sprout/state.h"

/* A container's state and cgroup, loaded under a lock. */
struct cli_ctr {
  int fd; /* the state dir, locked */
  bool loaded;
  struct sp_state st;
  enum sp_status status;
  struct sp_cgroup cg;
};

int cli_ctr_open(const struct sp_global *g, const char *id, int lock,
                 struct cli_ctr *c, struct sp_error *err);
void cli_ctr_close(struct cli_ctr *c);
/* Running (or, with PAUSED_OK, also paused or created), else an error. */
int cli_ctr_want_running(const struct cli_ctr *c, const char *id, bool paused_ok,
                         struct sp_error *err);

#endif
