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

#include "sprout/cgroup.h"
#include "sprout/hooks.h"
#include "sprout/init.h"
#include "sprout/linux.h"
#include "sprout/process.h"
#include "sprout/security.h"
#include "sprout/sync.h"
#include "sprout/timeline.h"
#include "sprout/userns.h"
#include "sprout/util.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

__attribute__((noreturn)) static void fail(struct sp_init_args *a,
                                           struct sp_error *err) {
  sp_sync_send(a->sync_fd, SP_SYNC_ERROR, err->msg);
  _exit(1);
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

/* process.terminal: a pty from the container's devpts bound on
 * /dev/console; the master goes to the parent (for the console socket, or
 * for `run` to attach it to the caller's terminal); the slave becomes the
 * controlling terminal and the stdio. */
static int setup_terminal(struct sp_init_args *a, const struct sp_process *proc,
                          struct sp_error *err) {
  struct sp_pty pty;
  if (sp_pty_setup_child(proc, true, &pty, err) < 0)
    return -1;
  if (sp_sync_send_fd(a->sync_fd, SP_SYNC_PTY, pty.name, pty.master) < 0) {
    sp_pty_close(&pty);
    return sp_error_sys(err, "terminal: pass the pty to sprout");
  }
  int r = sp_pty_become_ctty(pty.slave, err);
  sp_pty_close(&pty);
  return r;
}

/* Socket activation: LISTEN_FDS as given, LISTEN_PID the workload's pid as
 * it sees it (1 in its own pid namespace).  NULL: the env as configured. */
static char **listen_env(const struct sp_init_args *a, const struct sp_process *proc) {
  if (a->listen_fds <= 0)
    return NULL;
  char **envp = sp_env_build(proc->env, proc->env_len);
  char n[16], pid[16];
  snprintf(n, sizeof n, "%d", a->listen_fds);
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  const char *names = getenv("LISTEN_FDNAMES");
  if (!envp || sp_env_set(&envp, "LISTEN_FDS", n) < 0 ||
      sp_env_set(&envp, "LISTEN_PID", pid) < 0 ||
      (names && sp_env_set(&envp, "LISTEN_FDNAMES", names) < 0))
    _exit(127);
  return envp;
}

/* After the mounts, before pivot_root: the parent runs the prestart and
 * createRuntime hooks (runtime namespace), then the createContainer hooks
 * run here, in the container's namespaces. */
struct pivot_hooks {
  struct sp_init_args *a;
  const char *state;
};

static int hooks_before_pivot(void *arg, struct sp_error *err) {
  struct pivot_hooks *p = arg;
  const struct sp_spec *spec = p->a->spec;
  const struct sp_hook *l;
  if (sp_hooks_of(spec, SP_HOOK_PRESTART, &l) || sp_hooks_of(spec, SP_HOOK_CREATE_RUNTIME, &l)) {
    enum sp_sync_type t;
    if (sp_sync_send(p->a->sync_fd, SP_SYNC_HOOKS, NULL) < 0)
      return sp_error_sys(err, "ask sprout to run the createRuntime hooks");
    /* anything but GO: the parent failed (a hook) and reports it */
    if (sp_sync_recv(p->a->sync_fd, &t, NULL, err) < 0 || t != SP_SYNC_GO)
      _exit(1);
  }
  return sp_hooks_run(spec, SP_HOOK_CREATE_CONTAINER, p->state, err);
}

/* /proc/self/cgroup (before a cgroup namespace hides the paths), for the
 * cgroup v1 bind mounts (src/linux/rootfs.c); NULL when unreadable or not
 * needed: no cgroup mount, or a cgroup2 host. */
static char *read_self_cgroup(const struct sp_spec *spec) {
  bool mounts = false;
  for (size_t i = 0; i < spec->mounts_len && !mounts; i++)
    mounts = !spec->mounts[i].bind && spec->mounts[i].type &&
             !strcmp(spec->mounts[i].type, "cgroup");
  enum sp_cgroup_mode mode;
  struct sp_error ignored;
  if (!mounts || sp_cgroup_detect(NULL, &mode, &ignored) < 0 ||
      (mode != SP_CGROUP_V1 && mode != SP_CGROUP_HYBRID))
    return NULL;
  char *text = NULL;
  size_t len;
  if (sp_read_file("/proc/self/cgroup", 1 << 16, &text, &len, &ignored) < 0)
    return NULL;
  return text;
}

/* The v1 cgroups made by the parent while this process mounts (see
 * cgroup_later): its GO says they are there; move in by "0" to their tasks
 * files, then the cgroup namespace.  Once, on the first call. */
struct later_cgroups {
  struct sp_init_args *a;
  struct sp_rootfs_opts *ro; /* gets self_cgroup, read once joined */
  bool done;
};

static int join_later_cgroups(void *arg, struct sp_error *err) {
  struct later_cgroups *l = arg;
  if (l->done)
    return 0;
  l->done = true;
  enum sp_sync_type t;
  /* anything but GO: the parent failed and reports it */
  if (sp_sync_recv(l->a->sync_fd, &t, NULL, err) < 0 || t != SP_SYNC_GO)
    _exit(1);
  struct sp_cgroup_join j;
  int r = sp_cgroup_join_prepare(l->a->cgroup_later, SP_CG_LEGACY, &j);
  if (r == 0 && !j.complete)
    r = sp_error_set(err, EIO, "cgroup: cannot open the tasks files of %s",
                     l->a->cgroup_later->path);
  if (r == 0)
    r = sp_cgroup_join_self(&j, err);
  sp_cgroup_join_close(&j);
  if (r < 0)
    return -1;
  l->ro->self_cgroup = read_self_cgroup(l->a->spec);
  if (l->a->new_cgroupns && unshare(CLONE_NEWCGROUP) < 0)
    return sp_error_sys(err, "create cgroup namespace");
  return 0;
}

void sp_init_main(struct sp_init_args *a) {
  struct sp_error err = {0};
  char *state_creating = NULL, *state_created = NULL;
  const struct sp_spec *spec = a->spec;
  const struct sp_process *proc = &spec->process;
  for (int i = 0; i < 4 && a->close_fds[i] >= 0; i++)
    close(a->close_fds[i]);
  sp_log_close();
  /* die with the parent during setup; cleared once set up */
  prctl(PR_SET_PDEATHSIG, SIGKILL);

  enum sp_sync_type t;
  if (sp_sync_recv(a->sync_fd, &t, NULL, &err) < 0 || t != SP_SYNC_GO)
    _exit(1);
  SP_MARK("init.go");
  /* the state for createContainer and startContainer hooks */
  if (sp_hooks_init_needs_state(spec) &&
      sp_hooks_recv_state(a->sync_fd, &state_creating, &state_created, &err) < 0)
    fail(a, &err);
  /* host pid (for the seccomp listener), execCPUAffinity.initial: while
   * the host's /proc is still ours */
  if (sp_security_child_early(proc, &err) < 0)
    fail(a, &err);
  /* into the v1 cgroups by "0" to tasks: no migration by pid */
  if (a->cgroup_join && sp_cgroup_join_self(a->cgroup_join, &err) < 0)
    fail(a, &err);
  if (sp_ns_join(a->ns_fds, true, &err) < 0)
    fail(a, &err);
  bool in_userns = a->new_ns & CLONE_NEWUSER;
  if (in_userns) {
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
      sp_error_sys(&err, "become root in the user namespace (is 0 mapped?)");
      fail(a, &err);
    }
    if (a->new_timens && sp_timens_enter_new(spec, &err) < 0)
      fail(a, &err);
  }
  /* CVE-2016-9962: from here on processes of the container can exist (an
   * exec into a created container): none may ptrace the init or open its
   * /proc/PID/{mem,environ,fd,exe} before it execs the workload, which
   * makes it dumpable again.  (Not earlier: a rootless parent still
   * writes the id maps of the init's /proc files.) */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  char *self_cgroup = a->cgroup_later ? NULL : read_self_cgroup(spec);
  if (!a->cgroup_later && a->new_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
    sp_error_sys(&err, "create cgroup namespace");
    fail(a, &err);
  }
  if ((a->new_ns & CLONE_NEWNET) && !a->lo_by_parent && sp_net_loopback_up(&err) < 0)
    fail(a, &err);
  struct sp_rootfs_opts ro = {
      .rootfs = a->rootfs, .bundle = a->bundle, .no_pivot = a->no_pivot,
      .new_mntns = a->new_ns & CLONE_NEWNS, .in_userns = in_userns,
      .new_netns = a->new_ns & CLONE_NEWNET};
  struct pivot_hooks ph = {.a = a, .state = state_creating};
  struct later_cgroups later = {.a = a, .ro = &ro, .done = a->cgroup_later == NULL};
  ro.overlay = a->overlay;
  ro.mount_label = spec->linux_.mount_label;
  ro.mount_fds = a->mount_fds;
  ro.self_cgroup = self_cgroup;
  ro.before_pivot = hooks_before_pivot;
  ro.before_pivot_arg = &ph;
  ro.before_cgroups = join_later_cgroups;
  ro.before_cgroups_arg = &later;
  SP_MARK("init.rootfs");
  if (sp_rootfs_setup(spec, &ro, &err) < 0 || join_later_cgroups(&later, &err) < 0)
    fail(a, &err);
  SP_MARK("init.rootfs_done");
  if (proc->terminal && setup_terminal(a, proc, &err) < 0)
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
  /* rlimits, user, cwd, executable, caps, no_new_privs (shared with exec) */
  SP_MARK("init.finish_done");
  char *exe = NULL;
  if (sp_process_setup(spec, proc, &exe, &err) < 0)
    fail(a, &err);

  /* set up: tell the parent, then wait for `start` on exec.fifo */
  SP_MARK("init.ready");
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
    /* startContainer hooks: inside the container, after `start`, before
     * the workload; a failure goes to `start` through the fifo ("E...") */
    if (sp_hooks_run(spec, SP_HOOK_START_CONTAINER, state_created, &err) < 0) {
      char msg[SP_ERROR_MAX + 1];
      int n = snprintf(msg, sizeof msg, "E%s", err.msg);
      if (write(w, msg, (size_t)(n < (int)sizeof msg ? n : (int)sizeof msg - 1)) < 0)
        _exit(1);
      _exit(1);
    }
    if (write(w, "0", 1) != 1)
      _exit(127);
    close(w);
    close(a->fifo_fd);
  }
  SP_MARK("init.exec");
  /* close_range above the passed fds, signals, execve (shared with exec) */
  sp_process_exec(spec, proc, exe, listen_env(a, proc),
                  a->listen_fds + a->preserve_fds, &err);
  dprintf(STDERR_FILENO, "sprout: %s\n", err.msg);
  _exit(127);
}
