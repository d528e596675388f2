/* sprout — the container lifecycle (src/runtime). */
#ifndef SPROUT_CONTAINER_H
#define SPROUT_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>

#include "sprout/error.h"

struct sp_global {
  const char *root;          /* state root, default /run/sprout */
  const char *cgroup_manager; /* "cgroupfs" (default) or "disabled" */
  bool systemd_cgroup;
  bool debug;
  int rootless;              /* --rootless: enum sp_rootless (userns.h), 0 = auto */
};

struct sp_create_opts {
  const char *id;
  const char *bundle;        /* default: cwd */
  const char *pid_file;
  const char *console_socket;
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds;
  bool detach;               /* run only */
  bool overlay;              /* --overlay[=DIR]: an overlay root */
  const char *overlay_dir;   /* its DIR (kept upper/work), NULL: a tmpfs */
  const char **lower;        /* --lower DIR..., top first */
  size_t lower_len;
};

int sp_container_create(const struct sp_global *g,
                        const struct sp_create_opts *o, struct sp_error *err);
/* create + start; foreground: forwards signals, waits, deletes, returns the
 * exit status (128+N when killed by signal N).  Detached: returns 0. */
int sp_container_run(const struct sp_global *g, const struct sp_create_opts *o,
                     struct sp_error *err);
int sp_container_start(const struct sp_global *g, const char *id,
                       struct sp_error *err);
int sp_container_kill(const struct sp_global *g, const char *id, int sig,
                      bool all, struct sp_error *err);
int sp_container_delete(const struct sp_global *g, const char *id, bool force,
                        struct sp_error *err);
/* The state JSON of ID (malloc'd). */
int sp_container_state(const struct sp_global *g, const char *id, char **json,
                       struct sp_error *err);

#endif
