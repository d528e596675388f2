/* A process's attributes, applied in the same order for the container's
 * init (src/runtime/init.c) and for `exec` (src/runtime/exec.c): see
 * include/sprout/process.h.  Everything here runs inside the container,
 * after its namespaces and root were joined. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sprout/linux.h"
#include "sprout/process.h"
#include "sprout/security.h"
#include "sprout/util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- environment lists --------------------------------------------------- */

static size_t key_len(const char *kv) {
  const char *eq = strchr(kv, '=');
  return eq ? (size_t)(eq - kv) : strlen(kv);
}

static ssize_t env_find(char *const *envp, const char *key, size_t kl) {
  for (size_t i = 0; envp && envp[i]; i++)
    if (key_len(envp[i]) == kl && !strncmp(envp[i], key, kl))
      return (ssize_t)i;
  return -1;
}

const char *sp_env_get(char *const *envp, const char *key) {
  ssize_t i = env_find(envp, key, strlen(key));
  if (i < 0)
    return NULL;
  const char *eq = strchr(envp[i], '=');
  return eq ? eq + 1 : "";
}

void sp_env_free(char **envp) {
  for (size_t i = 0; envp && envp[i]; i++)
    free(envp[i]);
  free(envp);
}

char **sp_env_build(char *const *env, size_t n) {
  char **out = calloc(n + 1, sizeof *out);
  if (!out)
    return NULL;
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    char *copy = strdup(env[i]);
    if (!copy) {
      sp_env_free(out);
      return NULL;
    }
    ssize_t at = env_find(out, env[i], key_len(env[i]));
    if (at >= 0) {
      free(out[at]);
      out[at] = copy;
    } else {
      out[len++] = copy;
    }
  }
  return out;
}

int sp_env_set(char ***envp, const char *key, const char *value) {
  char *kv = NULL;
  if (asprintf(&kv, "%s=%s", key, value) < 0)
    return -1;
  ssize_t at = env_find(*envp, key, strlen(key));
  if (at >= 0) {
    free((*envp)[at]);
    (*envp)[at] = kv;
    return 0;
  }
  size_t n = 0;
  while (*envp && (*envp)[n])
    n++;
  char **nv = realloc(*envp, (n + 2) * sizeof *nv);
  if (!nv) {
    free(kv);
    return -1;
  }
  nv[n] = kv;
  nv[n + 1] = NULL;
  *envp = nv;
  return 0;
}

/* ---- setup ------------------------------------------------------------------ */

static const char *proc_env_get(const struct sp_process *p, const char *key) {
  size_t kl = strlen(key);
  for (size_t i = 0; i < p->env_len; i++)
    if (!strncmp(p->env[i], key, kl) && p->env[i][kl] == '=')
      return p->env[i] + kl + 1;
  return NULL;
}

/* Find args[0] as execvp would, with the process's PATH, inside the
 * container.  Returns a malloc'd path. */
static char *find_exe(const struct sp_process *p, struct sp_error *err) {
  const char *name = p->args[0];
  struct stat st;
  if (strchr(name, '/')) {
    if (stat(name, &st) < 0) {
      sp_error_sys(err, "exec \"%s\"", name);
      return NULL;
    }
    if (S_ISDIR(st.st_mode) || access(name, X_OK) < 0) {
      sp_error_errno(err, EACCES, "exec \"%s\"", name);
      return NULL;
    }
    return strdup(name);
  }
  const char *path = proc_env_get(p, "PATH");
  if (!path)
    path = DEFAULT_PATH;
  char *copy = strdup(path), *save = NULL, *found = NULL;
  for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
    char *cand = sp_path_join(*d ? d : ".", name);
    if (cand && stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
      found = cand;
    else
      free(cand);
  }
  free(copy);
  if (!found)
    sp_error_set(err, ENOENT, "exec \"%s\": executable file not found in $PATH", name);
  return found;
}

int sp_process_setup(const struct sp_spec *spec, const struct sp_process *proc,
                     char **exe, struct sp_error *err) {
  (void)spec;
  *exe = NULL;
  /* scheduler and I/O priority while CAP_SYS_NICE is still held */
  if (sp_sched_apply(proc, err) < 0 || sp_rlimits_apply(proc, err) < 0)
    return -1;
  if (sp_user_apply(proc, err) < 0)
    return -1;
  if (chdir(proc->cwd) < 0)
    return sp_error_sys(err, "process.cwd %s", proc->cwd);
  /* CVE-2024-21626: a cwd like /proc/self/fd/N could name a directory of
   * the host through an fd of ours; getcwd() then fails or returns a path
   * that is not absolute ("(unreachable)/..."): refuse it */
  char cwd[4096];
  if (!getcwd(cwd, sizeof cwd) || cwd[0] != '/')
    return sp_error_set(err, EPERM, "process.cwd %s: the working directory is outside "
                        "the container's root", proc->cwd);
  *exe = find_exe(proc, err);
  if (!*exe)
    return -1;
  if (sp_caps_apply(proc, err) < 0 ||
      (proc->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 &&
       sp_error_sys(err, "set no_new_privs"))) {
    free(*exe);
    *exe = NULL;
    return -1;
  }
  return 0;
}

/* ---- exec ------------------------------------------------------------------- */

static void reset_signals(void) {
  sigset_t all;
  sigfillset(&all);
  for (int s = 1; s < NSIG; s++)
    signal(s, SIG_DFL);
  sigprocmask(SIG_UNBLOCK, &all, NULL);
}

int sp_process_exec(const struct sp_spec *spec, const struct sp_process *proc,
                    const char *exe, char **envp, int keep_fds,
                    struct sp_error *err) {
  (void)spec;
  /* CVE-2024-21626: nothing of ours survives execve.  The passed fds keep
   * their flags: an fd in 3..3+keep_fds-1 that is close-on-exec is one of
   * sprout's own (the caller's fds come without the flag), never passed. */
  syscall(SYS_close_range, 3 + keep_fds, ~0U, CLOSE_RANGE_CLOEXEC);
  reset_signals();
  /* The LSM exec label and the seccomp filter go here, last before execve:
   * this function is the one path to execve for the init and for exec. */
  char **argv = calloc(proc->args_len + 1, sizeof *argv);
  char **env = envp;
  if (!env) {
    env = calloc(proc->env_len + 1, sizeof *env);
    if (env && proc->env_len)
      memcpy(env, proc->env, proc->env_len * sizeof *env);
  }
  if (!argv || !env)
    return sp_error_errno(err, ENOMEM, "exec \"%s\"", exe);
  memcpy(argv, proc->args, proc->args_len * sizeof *argv);
  /* affinity, LSM labels, seccomp: the last steps before execve */
  if (sp_security_exec_last(proc, err) < 0) {
    free(argv);
    if (env != envp)
      free(env);
    return -1;
  }
  execve(exe, argv, env);
  sp_error_sys(err, "exec \"%s\"", exe);
  free(argv);
  if (env != envp)
    free(env);
  return -1;
}
