/* The container's init, from clone3 to execve.  Every failure is sent to
 * the parent as one line and the process exits: the parent reports it and
 * undoes everything. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sprout/init.h"
#include "sprout/linux.h"
#include "sprout/sync.h"
#include "sprout/util.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

__attribute__((noreturn)) static void fail(struct sp_init_args *a,
                                           struct sp_error *err) {
  sp_sync_send(a->sync_fd, SP_SYNC_ERROR, err->msg);
  _exit(1);
}

static const char *env_get(const struct sp_process *p, const char *key) {
  size_t kl = strlen(key);
  for (size_t i = 0; i < p->env_len; i++)
    if (!strncmp(p->env[i], key, kl) && p->env[i][kl] == '=')
      return p->env[i] + kl + 1;
  return NULL;
}

/* Find args[0] as execvp would, with the container's PATH, inside the
 * container (after pivot_root).  Returns a malloc'd path. */
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
  const char *path = env_get(p, "PATH");
  if (!path)
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
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

static int set_hostnames(const struct sp_spec *s, struct sp_error *err) {
  if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
    return sp_error_sys(err, "set hostname \"%s\"", s->hostname);
  if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
    return sp_error_sys(err, "set domainname \"%s\"", s->domainname);
  return 0;
}

static int apply_sysctl(const struct sp_linux *l, struct sp_error *err) {
  for (size_t i = 0; i < l->sysctl_len; i++) {
    char path[4096];
    int n = snprintf(path, sizeof path, "/proc/sys/%s", l->sysctl[i].key);
    for (char *c = path + 10; c < path + n; c++)
      if (*c == '.')
        *c = '/';
    if (sp_procfs_write(path, l->sysctl[i].value, err) < 0)
      return sp_error_prefix(err, "sysctl %s", l->sysctl[i].key);
  }
  return 0;
}

static void reset_signals(void) {
  sigset_t all;
  sigfillset(&all);
  for (int s = 1; s < NSIG; s++)
    signal(s, SIG_DFL);
  sigprocmask(SIG_UNBLOCK, &all, NULL);
}

void sp_init_main(struct sp_init_args *a) {
  struct sp_error err = {0};
  const struct sp_spec *spec = a->spec;
  const struct sp_process *proc = &spec->process;
  for (int i = 0; i < 4 && a->close_fds[i] >= 0; i++)
    close(a->close_fds[i]);
  /* die with the parent during setup; cleared once set up */
  prctl(PR_SET_PDEATHSIG, SIGKILL);

  enum sp_sync_type t;
  if (sp_sync_recv(a->sync_fd, &t, NULL, &err) < 0 || t != SP_SYNC_GO)
    _exit(1);
  if (sp_ns_join(a->ns_fds, true, &err) < 0)
    fail(a, &err);
  bool in_userns = a->new_ns & CLONE_NEWUSER;
  if (in_userns) {
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
      sp_error_sys(&err, "become root in the user namespace (is 0 mapped?)");
      fail(a, &err);
    }
  }
  if (a->new_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
    sp_error_sys(&err, "create cgroup namespace");
    fail(a, &err);
  }
  if ((a->new_ns & CLONE_NEWNET) && sp_net_loopback_up(&err) < 0)
    fail(a, &err);
  struct sp_rootfs_opts ro = {
      .rootfs = a->rootfs, .bundle = a->bundle, .no_pivot = a->no_pivot,
      .new_mntns = a->new_ns & CLONE_NEWNS, .in_userns = in_userns,
      .new_netns = a->new_ns & CLONE_NEWNET};
  if (sp_rootfs_setup(spec, &ro, &err) < 0)
    fail(a, &err);
  if (set_hostnames(spec, &err) < 0 || apply_sysctl(&spec->linux_, &err) < 0 ||
      sp_rootfs_finish(spec, &ro, &err) < 0)
    fail(a, &err);
  if (!a->no_new_keyring &&
      syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS) {
    sp_error_sys(&err, "create session keyring");
    fail(a, &err);
  }
  if (spec->linux_.has_personality &&
      personality(spec->linux_.personality.domain_value) < 0) {
    sp_error_sys(&err, "set personality %s", spec->linux_.personality.domain);
    fail(a, &err);
  }
  if (sp_rlimits_apply(proc, &err) < 0)
    fail(a, &err);
  if (sp_user_apply(proc, &err) < 0)
    fail(a, &err);
  if (chdir(proc->cwd) < 0) {
    sp_error_sys(&err, "process.cwd %s", proc->cwd);
    fail(a, &err);
  }
  char *exe = find_exe(proc, &err);
  if (!exe)
    fail(a, &err);
  if (sp_caps_apply(proc, &err) < 0)
    fail(a, &err);
  if (proc->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    sp_error_sys(&err, "set no_new_privs");
    fail(a, &err);
  }

  /* set up: tell the parent, then wait for `start` on exec.fifo */
  prctl(PR_SET_PDEATHSIG, 0);
  if (sp_sync_send(a->sync_fd, SP_SYNC_READY, NULL) < 0)
    _exit(1);
  close(a->sync_fd);
  if (a->fifo_fd >= 0) {
    char p[32];
    snprintf(p, sizeof p, "/proc/self/fd/%d", a->fifo_fd);
    int w = open(p, O_WRONLY | O_CLOEXEC);
    if (w < 0) {
      dprintf(STDERR_FILENO, "sprout: init: open exec.fifo: %s\n", strerror(errno));
      _exit(127);
    }
    if (write(w, "0", 1) != 1)
      _exit(127);
    close(w);
    close(a->fifo_fd);
  }
  /* CVE-2024-21626: nothing of ours survives execve */
  syscall(SYS_close_range, 3 + a->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
  reset_signals();
  char **argv = calloc(proc->args_len + 1, sizeof *argv);
  char **envp = calloc(proc->env_len + 1, sizeof *envp);
  if (!argv || !envp)
    _exit(127);
  memcpy(argv, proc->args, proc->args_len * sizeof *argv);
  if (proc->env_len)
    memcpy(envp, proc->env, proc->env_len * sizeof *envp);
  execve(exe, argv, envp);
  dprintf(STDERR_FILENO, "sprout: exec \"%s\": %s\n", exe, strerror(errno));
  _exit(127);
}
