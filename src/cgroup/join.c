/* Entering the container's cgroups without a migration by pid.
 *
 * Writing a pid to cgroup.procs write-locks the kernel's threadgroup
 * rwsem, which waits for an RCU grace period: 5 to 15 ms on the machines
 * sprout is measured on, the largest single cost of a `run` (see
 * tests/bench/PROFILE.md).  Two ways in need no such lock:
 *   - cgroup2: the init is born in its cgroup (clone3 CLONE_INTO_CGROUP
 *     with the directory opened here);
 *   - cgroup v1: the init, still single-threaded, moves its own thread by
 *     writing "0" to each hierarchy's "tasks" file.  The files are opened
 *     here, by the runtime, before clone3: the kernel checks a migration
 *     against the credentials of the file's opener, so the init's own
 *     (possibly unmapped) user namespace does not matter.  Where the v1
 *     directories are made after clone3 (no user namespace: see
 *     cgroups_later in src/runtime/container.c) the init opens them.
 * Anything that cannot be prepared this way is left to sp_cgroup_enter. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup_internal.h"

void sp_cgroup_join_init(struct sp_cgroup_join *j) {
  j->v2_fd = -1;
  j->tasks_fds = NULL;
  j->tasks_len = 0;
  j->complete = false;
}

int sp_cgroup_join_prepare(const struct sp_cgroup *cg, unsigned which,
                           struct sp_cgroup_join *j) {
  sp_cgroup_join_init(j);
  if (cg->dirs_len == 0 || !cg->controllers)
    return -1;
  j->tasks_fds = calloc(cg->dirs_len, sizeof *j->tasks_fds);
  if (!j->tasks_fds)
    return -1;
  bool all = true;
  for (size_t i = 0; i < cg->dirs_len; i++) {
    if (!*cg->controllers[i]) { /* cgroup2: only one can be the clone's */
      if (!(which & SP_CG_UNIFIED))
        continue;
      if (j->v2_fd >= 0)
        all = false;
      else
        j->v2_fd = open(cg->dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (j->v2_fd < 0)
        all = false;
      continue;
    }
    if (!(which & SP_CG_LEGACY))
      continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/tasks", cg->dirs[i]);
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      all = false;
      continue;
    }
    j->tasks_fds[j->tasks_len++] = fd;
  }
  j->complete = all;
  return 0;
}

int sp_cgroup_join_self(struct sp_cgroup_join *j, struct sp_error *err) {
  int r = 0;
  for (size_t i = 0; i < j->tasks_len; i++) {
    if (r == 0 && write(j->tasks_fds[i], "0", 1) != 1)
      r = sp_error_sys(err, "cgroup: move the init into its cgroup");
    close(j->tasks_fds[i]);
  }
  j->tasks_len = 0;
  if (j->v2_fd >= 0) /* the clone's, done with */
    close(j->v2_fd);
  j->v2_fd = -1;
  return r;
}

void sp_cgroup_join_close(struct sp_cgroup_join *j) {
  if (j->v2_fd >= 0)
    close(j->v2_fd);
  for (size_t i = 0; i < j->tasks_len; i++)
    close(j->tasks_fds[i]);
  free(j->tasks_fds);
  sp_cgroup_join_init(j);
}
