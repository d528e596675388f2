/* sprout — user namespaces and rootless operation (src/runtime/userns.c). */
#ifndef SPROUT_USERNS_H
#define SPROUT_USERNS_H

#include <stdbool.h>
#include <sys/types.h>

#include "sprout/cgroup.h"
#include "sprout/error.h"
#include "sprout/spec.h"

/* --rootless: "auto" (default) means rootless when the effective uid is not
 * 0.  Rootless: the state root defaults to $XDG_RUNTIME_DIR/sprout and the
 * cgroup hierarchies not delegated to the user are skipped. */
enum sp_rootless { SP_ROOTLESS_AUTO, SP_ROOTLESS_TRUE, SP_ROOTLESS_FALSE };
bool sp_rootless_active(enum sp_rootless mode);

/* The default state root: /run/sprout for root; $XDG_RUNTIME_DIR/sprout
 * for another user (/run/sprout when unset and writable; an error saying
 * what to do otherwise).  *out is malloc'd. */
int sp_state_root_default(char **out, struct sp_error *err);

/* Keep only the hierarchies of CG that the caller may create cgroups in
 * (the rest: a debug log line each); none left: mode disabled. */
void sp_rootless_cgroup_filter(struct sp_cgroup *cg);

/* Write the uid and gid maps of the init PID's new user namespace: as root
 * directly; otherwise a map of just the caller's own id is written directly
 * (gid after setgroups "deny"), any other through newuidmap/newgidmap
 * (Debian's uidmap package, checked against /etc/subuid and /etc/subgid). */
int sp_userns_map(pid_t pid, const struct sp_spec *spec, struct sp_error *err);

/* The host uid (gid) that container id ID maps to in the config's user
 * namespace; (uid_t)-1 when there is no new user namespace or no mapping. */
uid_t sp_userns_host_uid(const struct sp_spec *spec, uint32_t id);
gid_t sp_userns_host_gid(const struct sp_spec *spec, uint32_t id);

/* A new user namespace together with namespaces joined by path: the joins
 * must come first (a namespace owned by the host's user namespace cannot be
 * entered from inside a new one), so a short-lived helper joins FDS (all
 * but pid and time, which the caller joined) and clone3()s the init with
 * FLAGS | CLONE_PARENT: the init is still the caller's child.  Returns the
 * init's pid and *pidfd in the caller, 0 in the init, -1 on error. */
bool sp_userns_needs_helper(unsigned long flags, const int fds[SP_NS_COUNT]);
pid_t sp_clone_after_joins(unsigned long flags, int fds[SP_NS_COUNT], int *pidfd,
                           struct sp_error *err);

/* In the init, as root of its new user namespace: create the time namespace
 * (owned by that user namespace, so this works rootless too), write
 * .linux.timeOffsets and move the init itself into it. */
int sp_timens_enter_new(const struct sp_spec *spec, struct sp_error *err);

#endif
