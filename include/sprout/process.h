/* sprout — a process's attributes, applied the same way for the
 * container's init and for every `exec`'d process (src/runtime/process.c).
 *
 * The caller has joined the container's namespaces and root.  Then:
 *   sp_process_setup():  rlimits, user (groups, gid, uid, umask), cwd, the
 *                        executable looked up in the container's PATH,
 *                        capabilities, no_new_privs
 *   (the init waits for `start` here)
 *   sp_process_exec():   fds above 3+keep_fds closed on exec, signals reset,
 *                        [LSM label, seccomp filter: the last steps], execve
 */
#ifndef SPROUT_PROCESS_H
#define SPROUT_PROCESS_H

#include <stdbool.h>

#include "sprout/error.h"
#include "sprout/spec.h"

/* Returns the executable's path (malloc'd) in *exe. */
int sp_process_setup(const struct sp_spec *spec, const struct sp_process *proc,
                     char **exe, struct sp_error *err);

/* Execs PROC (argv = proc->args, envp = ENVP or proc->env when NULL).
 * Fds 3..3+keep_fds-1 are passed on as they are, every fd above is
 * closed by the exec.  Returns only on failure, with err filled. */
int sp_process_exec(const struct sp_spec *spec, const struct sp_process *proc,
                    const char *exe, char **envp, int keep_fds,
                    struct sp_error *err);

/* ---- environment lists (NULL-terminated, malloc'd strings) ---- */
/* A copy of ENV[0..n) with later duplicates of a key replacing the earlier
 * entry in place (the last value wins, the first position stays). */
char **sp_env_build(char *const *env, size_t n);
/* Set KEY=VALUE in *ENVP (replacing or appending).  -1 on ENOMEM. */
int sp_env_set(char ***envp, const char *key, const char *value);
const char *sp_env_get(char *const *envp, const char *key);
void sp_env_free(char **envp);

#endif
