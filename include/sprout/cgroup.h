/* sprout — cgroups: one interface, several drivers (v2, v1/hybrid, disabled). */
#ifndef SPROUT_CGROUP_H
#define SPROUT_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sprout/error.h"
#include "sprout/spec.h"
#include "sprout/util.h"

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
  bool by_id;         /* the default path, named after the container's id: a
                       * leaf that exists with processes in it is refused */
};

/* Which driver: manager "cgroupfs" (default) or "disabled". */
int sp_cgroup_detect(const char *manager, enum sp_cgroup_mode *mode,
                     struct sp_error *err);

/* Work out the directories for the config's cgroupsPath (NULL: default
 * "<id>" under the runtime's own cgroup, as with runc).  No side
 * effects. */
int sp_cgroup_resolve(enum sp_cgroup_mode mode, const char *cgroups_path,
                      const char *id, struct sp_cgroup *cg,
                      struct sp_error *err);

/* Which hierarchies a call covers: the cgroup2 directory (on hybrid hosts
 * the unified one, without controllers), the v1 hierarchies, or both. */
enum { SP_CG_UNIFIED = 1, SP_CG_LEGACY = 2, SP_CG_ALL = 3 };
/* true when CG has a v1 hierarchy (v1 and hybrid hosts). */
bool sp_cgroup_has_legacy(const struct sp_cgroup *cg);
/* mkdir in every hierarchy (cpuset inherits cpus/mems).  Undone on error. */
int sp_cgroup_create(struct sp_cgroup *cg, struct sp_error *err);
/* The same for the hierarchies WHICH names (SP_CG_*): a create can make the
 * cgroup2 directory before the clone and the v1 ones while the init sets
 * up (see src/runtime/container.c). */
int sp_cgroup_create_in(struct sp_cgroup *cg, unsigned which,
                        struct sp_error *err);
/* Move PID into the container's cgroup in every hierarchy. */
int sp_cgroup_enter(const struct sp_cgroup *cg, pid_t pid, struct sp_error *err);

/* Entering without a migration by pid, which costs an RCU grace period
 * (src/cgroup/join.c): the cgroup2 directory for clone3 CLONE_INTO_CGROUP
 * and the v1 hierarchies' "tasks" files, opened by the runtime before the
 * clone; the child writes "0" to each (sp_cgroup_join_self) while it is
 * single-threaded.  COMPLETE: every hierarchy is covered, so that with
 * CLONE_INTO_CGROUP done (or no cgroup2 directory) sp_cgroup_enter is not
 * needed. */
struct sp_cgroup_join {
  int v2_fd;       /* O_PATH cgroup2 directory, -1: none */
  int *tasks_fds;  /* O_WRONLY v1 tasks files */
  size_t tasks_len;
  bool complete;
};
void sp_cgroup_join_init(struct sp_cgroup_join *j);
/* -1 (nothing prepared, J is empty) when CG has no directories.  WHICH
 * (SP_CG_*) limits it to the cgroup2 directory or the v1 tasks files;
 * COMPLETE then speaks of those only. */
int sp_cgroup_join_prepare(const struct sp_cgroup *cg, unsigned which,
                           struct sp_cgroup_join *j);
/* In the child: move the calling thread, close the tasks files. */
int sp_cgroup_join_self(struct sp_cgroup_join *j, struct sp_error *err);
void sp_cgroup_join_close(struct sp_cgroup_join *j);
/* The pids in the container's cgroup (first hierarchy that has them). */
int sp_cgroup_pids(const struct sp_cgroup *cg, pid_t **pids, size_t *n,
                   struct sp_error *err);
/* SIGKILL everything left, wait until empty, rmdir every directory and the
 * empty parents that sprout created for a cgroupsPath.  Missing is
 * success. */
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

/* ---- limits, freezing, statistics (src/cgroup: apply.c, v2.c, v1.c,
 * devices_bpf.c, stats.c) ---- */

/* The values of RES (the object at JSON path PREFIX, ".linux.resources")
 * that MODE cannot honour, before any side effect: realtime CPU fields,
 * disableOOMKiller, swappiness, kernelTCP, leaf weights and network on v2,
 * unsupported huge page sizes, `unified` keys of controllers that do not
 * exist.  Errors name the field: ".linux.resources.memory.swap: ...". */
int sp_cgroup_check(enum sp_cgroup_mode mode, const struct sp_resources *res,
                    const char *prefix, struct sp_error *err);
/* Write RES into the container's cgroup (NULL RES: nothing but the device
 * rules every container gets).  Create: every field, the device rules (a
 * BPF program on v2, devices.deny/allow on v1).  UPDATE: only the fields
 * given; memory.checkBeforeUpdate refuses a limit below the usage. */
int sp_cgroup_apply(const struct sp_cgroup *cg, const struct sp_resources *res,
                    const char *prefix, bool update, struct sp_error *err);
/* Freeze or thaw every process (cgroup.freeze on v2, the v1 freezer),
 * waiting until it took effect. */
int sp_cgroup_freeze(const struct sp_cgroup *cg, bool frozen,
                     struct sp_error *err);
/* runc's stats object (the "data" of `events`), into G. */
int sp_cgroup_stats(const struct sp_cgroup *cg, sp_json g, struct sp_error *err);
/* OOM kills so far (memory.events / memory.oom_control oom_kill); -1 when
 * there is no memory controller. */
int sp_cgroup_oom_kills(const struct sp_cgroup *cg, uint64_t *n);
/* The file whose changes announce an OOM kill (for inotify), in BUF. */
const char *sp_cgroup_oom_file(const struct sp_cgroup *cg, char *buf, size_t n);

/* runc's memory sizes (update --memory): "1024", "512k", "1.5g", "2MiB"
 * (binary units), "-1" (no limit).  -1 with errno EINVAL. */
int sp_cgroup_parse_bytes(const char *s, int64_t *out);

/* Serialised as "mode:path" in state.json. */
const char *sp_cgroup_mode_name(enum sp_cgroup_mode mode);
int sp_cgroup_mode_from_name(const char *name, enum sp_cgroup_mode *mode);

#endif
