/* sprout — cgroup module internals shared by manager.c, hierarchy.c and
 * lifecycle.c (and the limit writers to come: v1.c, v2.c). */
#ifndef SPROUT_CGROUP_INTERNAL_H
#define SPROUT_CGROUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "sprout/cgroup.h"
#include "sprout/error.h"

#define SP_CGROUP_ROOT "/sys/fs/cgroup"
#define SP_CGROUP_UNIFIED SP_CGROUP_ROOT "/unified"

/* One mounted hierarchy. */
struct sp_cg_hier {
  char *mount;       /* "/sys/fs/cgroup/memory" */
  char *controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
  char *root;        /* the mount's root inside the hierarchy (mountinfo field 4) */
  char *own;         /* the runtime's own cgroup, relative to mount: "/" or "/a/b" */
  bool v2;
};

/* The hierarchies that MODE uses, primary first (pids, memory, the other v1
 * controllers, named v1 hierarchies, cgroup2 last).  Reads
 * /proc/self/mountinfo and /proc/self/cgroup.  DISABLED: none. */
int sp_cg_hierarchies(enum sp_cgroup_mode mode, struct sp_cg_hier **out,
                      size_t *n, struct sp_error *err);
void sp_cg_hier_free(struct sp_cg_hier *h, size_t n);

/* Parsers behind sp_cg_hierarchies, on text (for tests). */
int sp_cg_parse_mountinfo(const char *text, enum sp_cgroup_mode mode,
                          struct sp_cg_hier **out, size_t *n,
                          struct sp_error *err);
/* Set h->own of every hierarchy from /proc/self/cgroup TEXT: the line with
 * the same controller set ("0::" for cgroup2), less the mount's root; "/"
 * when no line matches or the cgroup lies outside the mount. */
int sp_cg_fill_own(struct sp_cg_hier *h, size_t n, const char *text);

/* Is WORD one of the comma-separated items of LIST? */
bool sp_cg_list_has(const char *list, const char *word);
/* The same set of comma-separated items (order ignored)? */
bool sp_cg_same_set(const char *a, const char *b);

#endif
