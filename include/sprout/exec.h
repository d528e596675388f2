/* sprout — `exec`: a new process in a running container
 * (src/runtime/exec.c, exec_process.c). */
#ifndef SPROUT_EXEC_H
#define SPROUT_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sprout/container.h"
#include "sprout/error.h"
#include "sprout/spec.h"

struct sp_exec_opts {
  const char *id;
  const char *process_file;   /* --process FILE: the whole process JSON */
  char **args;                /* ARGS... (with no --process) */
  size_t args_len;
  bool tty, tty_set;          /* --tty given (overrides process.terminal) */
  bool detach;
  const char *pid_file;
  const char *console_socket;
  const char *cwd;
  char **env;                 /* --env K=V, later ones win */
  size_t env_len;
  bool has_user;              /* --user UID[:GID] */
  uint32_t uid, gid;
  bool has_gid;
  uint32_t *additional_gids;  /* --additional-gids (replace the config's) */
  size_t additional_gids_len;
  char **caps;                /* --cap CAP_X: added to the bounding, effective
                               * and permitted sets (ambient when inheritable) */
  size_t caps_len;
  bool no_new_privs;
  const char *process_label;
  const char *apparmor;
  int preserve_fds;
  char **cgroups;             /* --cgroup [CTRL[,CTRL]:]PATH */
  size_t cgroups_len;
  bool ignore_paused;
};

/* Foreground: the process's exit status (128+N when killed by signal N).
 * Detached: 0 once the process runs (the pid file written first). */
int sp_container_exec(const struct sp_global *g, const struct sp_exec_opts *o,
                      struct sp_error *err);

/* The process an exec runs: the container's process (args, env, user, caps,
 * rlimits, labels...) with the options on top, or the --process JSON where
 * fields it leaves out (capabilities, rlimits, labels, oomScoreAdj) come
 * from the container's.  Pointers borrow from SPEC, FILEPROC and O; what is
 * allocated is in *OWNED (free with sp_exec_process_free). */
struct sp_exec_owned {
  char **env;
  size_t env_len;
  char **caps[4]; /* bounding, effective, permitted, ambient */
  uint32_t *gids;
};
int sp_exec_process(const struct sp_spec *spec, const struct sp_process *fileproc,
                    const struct sp_exec_opts *o, struct sp_process *out,
                    struct sp_exec_owned *owned, struct sp_error *err);
void sp_exec_process_free(struct sp_exec_owned *owned);

#endif
