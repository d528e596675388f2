/* sprout — cgroups: one interface, several drivers (v2, v1/hybrid, disabled). */
#ifndef SPROUT_CGROUP_H
#define SPROUT_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "sprout/error.h"
#include "sprout/spec.h"

enum sp_cgroup_mode {
  SP_CGROUP_DISABLED,
  SP_CGROUP_V2,     /* unified hierarchy at /sys/fs/cgroup */
  SP_CGROUP_HYBRID, /* v1 controllers + cgroup2 at /sys/fs/cgroup/unified */
  SP_CGROUP_V1,     /* v1 controllers only */
};

struct sp_cgroup {
  enum sp_cgroup_mode mode;
  char *path;    /* the container's path in the first (primary) hierarchy,
                  * "/a/b"; a relative cgroupsPath differs per hierarchy */
  char **dirs;   /* absolute directories, one per hierarchy */
  size_t dirs_len;
  /* Parallel to dirs (added by src/cgroup): */
  char **controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
  size_t *keep;       /* leading bytes of dirs[i] that destroy never removes:
                       * dirs[i][keep[i]] == '/'; the components after it are
                       * sprout's own (the leaf, parents sprout created) */
};

/* Which driver: manager "cgroupfs" (default) or "disabled". */
int sp_cgroup_detect(const char *manager, enum sp_cgroup_mode *mode,
                     struct sp_error *err);

/* Work out the directories for the config's cgroupsPath (NULL: default
 * "sprout/<id>" under the runtime's own cgroup).  No side effects. */
int sp_cgroup_resolve(enum sp_cgroup_mode mode, const char *cgroups_path,
                      const char *id, struct sp_cgroup *cg,
                      struct sp_error *err);

/* mkdir in every hierarchy (cpuset inherits cpus/mems).  Undone on error. */
int sp_cgroup_create(struct sp_cgroup *cg, struct sp_error *err);
/* Move PID into the container's cgroup in every hierarchy. */
int sp_cgroup_enter(const struct sp_cgroup *cg, pid_t pid, struct sp_error *err);
/* The pids in the container's cgroup (first hierarchy that has them). */
int sp_cgroup_pids(const struct sp_cgroup *cg, pid_t **pids, size_t *n,
                   struct sp_error *err);
/* SIGKILL everything left, wait until empty, rmdir every directory and the
 * empty parents that sprout created ("sprout/").  Missing is success. */
int sp_cgroup_destroy(const struct sp_cgroup *cg, struct sp_error *err);
void sp_cgroup_free(struct sp_cgroup *cg);

/* The directory of the hierarchy that has CONTROLLER ("memory",
 * "name=systemd"); NULL CONTROLLER: the cgroup2 directory.  On v2 every
 * controller is the one directory; on hybrid a controller that no v1
 * hierarchy has falls back to the cgroup2 directory.  NULL when none. */
const char *sp_cgroup_dir(const struct sp_cgroup *cg, const char *controller);

/* The directories (and which of their components sprout created) as one
 * string for state.json: per hierarchy "KEPT//OWNED", joined with ':'
 * ('\\' and ':' in names escaped with '\\'); "" when disabled.  A relative
 * cgroupsPath can differ per hierarchy (memory:/process_api/x, cpu:/), so the
 * delete has to use this, not one path.  Returns 0 or -1 (ENOMEM). */
int sp_cgroup_to_string(const struct sp_cgroup *cg, char **out);
/* The reverse, for MODE (checked: every directory must lie strictly below a
 * cgroup hierarchy mounted under /sys/fs/cgroup, no "." or ".." components). */
int sp_cgroup_from_string(enum sp_cgroup_mode mode, const char *s,
                          struct sp_cgroup *cg, struct sp_error *err);

/* Serialised as "mode:path" in state.json. */
const char *sp_cgroup_mode_name(enum sp_cgroup_mode mode);
int sp_cgroup_mode_from_name(const char *name, enum sp_cgroup_mode *mode);

#endif
