/* `exec`: a new process in a running (or created) container.
 *
 * Everything the user gave is checked first (the process, the options, the
 * container's state).  Then sprout joins the init's pid and time namespaces
 * for its children only, clones the process (a child of the caller, which
 * reaps it), puts it in the container's cgroup (or a --cgroup sub-cgroup),
 * and lets it go: the process joins the init's other namespaces at once
 * (setns through the init's pidfd; the /proc/PID/ns files on older kernels), the
 * init's root, gets its terminal, applies its attributes with the same code
 * as the init (src/runtime/process.c) and execs.  Its end of the sync socket
 * is close-on-exec: EOF after READY means the exec happened, an ERROR
 * message carries what failed.  Detached, sprout writes the pid file and
 * returns; in the foreground it waits, forwarding signals and attaching a
 * pty to the caller's terminal when there is no console socket. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#include "sprout/cgroup.h"
#include "sprout/exec.h"
#include "sprout/linux.h"
#include "sprout/process.h"
#include "sprout/security.h"
#include "sprout/session.h"
#include "sprout/state.h"
#include "sprout/sync.h"
#include "sprout/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

#define PROCESS_FILE_MAX (4u * 1024u * 1024u)

struct xctx {
  const struct sp_global *g;
  const struct sp_exec_opts *o;
  int statefd;
  bool keep_keyring;      /* created with --no-new-keyring */
  struct sp_state st;
  bool st_loaded;
  struct sp_spec spec;
  struct sp_process fileproc;
  bool has_fileproc;
  struct sp_process proc; /* what runs: borrows from spec/fileproc/o */
  struct sp_exec_owned owned;
  struct sp_cgroup cg;
  int init_pidfd;         /* the container's init */
  int rootfd;             /* O_PATH of the init's root */
  int console_fd;
  int sock[2];
  pid_t pid;              /* the new process */
  int pidfd;
  int master;
  unsigned long parent_ns, child_ns; /* namespaces sprout / the child join */
  struct sp_cgroup_join *cgroup_join; /* during the clone: see start_child */
};

static const struct {
  const char *name, *own; /* /proc/PID/ns/NAME vs /proc/self/ns/OWN */
  unsigned long flag;
} ns_types[] = {
    {"user", "user", CLONE_NEWUSER},     {"mnt", "mnt", CLONE_NEWNS},
    {"net", "net", CLONE_NEWNET},        {"ipc", "ipc", CLONE_NEWIPC},
    {"uts", "uts", CLONE_NEWUTS},        {"cgroup", "cgroup", CLONE_NEWCGROUP},
    {"pid", "pid_for_children", CLONE_NEWPID},
    {"time", "time_for_children", CLONE_NEWTIME},
};

/* ---- namespaces ------------------------------------------------------------- */

/* The namespaces of PID that differ from ours. */
static int ns_to_join(pid_t pid, unsigned long *flags, struct sp_error *err) {
  *flags = 0;
  for (size_t i = 0; i < sizeof ns_types / sizeof ns_types[0]; i++) {
    char p[64];
    struct stat theirs, ours;
    snprintf(p, sizeof p, "/proc/%d/ns/%s", (int)pid, ns_types[i].name);
    if (stat(p, &theirs) < 0) {
      if (errno == ENOENT)
        continue; /* a namespace type this kernel does not have */
      return sp_error_sys(err, "container init: %s namespace", ns_types[i].name);
    }
    snprintf(p, sizeof p, "/proc/self/ns/%s", ns_types[i].own);
    if (stat(p, &ours) < 0 || ours.st_ino != theirs.st_ino || ours.st_dev != theirs.st_dev)
      *flags |= ns_types[i].flag;
  }
  return 0;
}

/* setns through the pidfd: every namespace at once, in the kernel's order.
 * Kernels before 5.8 take only namespace files: /proc/PID/ns/NAME, user
 * first, checked against the pidfd (the pid could have been reused). */
static int ns_join(int pidfd, pid_t pid, unsigned long flags, struct sp_error *err) {
  if (!flags || setns(pidfd, (int)flags) == 0)
    return 0;
  if (errno != EINVAL)
    return sp_error_sys(err, "join the container's namespaces");
  int fds[sizeof ns_types / sizeof ns_types[0]];
  size_t n = sizeof ns_types / sizeof ns_types[0];
  int r = 0;
  for (size_t i = 0; i < n; i++) {
    fds[i] = -1;
    if (!(flags & ns_types[i].flag) || r < 0)
      continue;
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/ns/%s", (int)pid, ns_types[i].name);
    fds[i] = open(p, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0)
      r = sp_error_sys(err, "open %s", p);
  }
  if (r == 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
    r = sp_error_sys(err, "container init");
  for (size_t i = 0; i < n; i++) {
    if (fds[i] < 0)
      continue;
    if (r == 0 && setns(fds[i], (int)ns_types[i].flag) < 0)
      r = sp_error_sys(err, "join %s namespace", ns_types[i].name);
    close(fds[i]);
  }
  return r;
}

/* ---- the new process ------------------------------------------------------- */

__attribute__((noreturn)) static void child_main(struct xctx *x) {
  struct sp_error err = {0};
  /* CVE-2016-9962: until its execve this process is sprout, with sprout's
   * memory and fds (and any fd its caller leaked): no process of the
   * container may ptrace it or open its /proc/PID/{mem,environ,fd,exe}.
   * The execve of the workload makes it dumpable again. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  int sync = x->sock[1];
  close(x->sock[0]);
  close(x->statefd);
  if (sp_selfexe_view_fd() >= 0) /* the parent's is the last close */
    close(sp_selfexe_view_fd());
  if (x->console_fd >= 0)
    close(x->console_fd);
  sp_log_close();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  enum sp_sync_type t;
  if (sp_sync_recv(sync, &t, NULL, &err) < 0 || t != SP_SYNC_GO)
    _exit(1);
  /* with the host's /proc still in view: execCPUAffinity.initial */
  if (sp_security_child_early(&x->proc, &err) < 0)
    goto fail;
  /* into the v1 cgroups by "0" to tasks: no migration by pid */
  if (x->cgroup_join && sp_cgroup_join_self(x->cgroup_join, &err) < 0)
    goto fail;
  if (ns_join(x->init_pidfd, x->st.pid, x->child_ns, &err) < 0)
    goto fail;
  /* the init's root, whether it got there by pivot_root or chroot */
  if (fchdir(x->rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
    sp_error_sys(&err, "enter the container's root");
    goto fail;
  }
  close(x->rootfd);
  close(x->init_pidfd);
  /* not the caller's session keyring, unless the container was created
   * with --no-new-keyring */
  if (!x->keep_keyring)
    syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL);
  if (x->proc.terminal) {
    struct sp_pty pty;
    if (sp_pty_setup_child(&x->proc, false, &pty, &err) < 0)
      goto fail;
    if (sp_sync_send_fd(sync, SP_SYNC_PTY, pty.name, pty.master) < 0) {
      sp_error_sys(&err, "terminal: pass the pty to sprout");
      sp_pty_close(&pty);
      goto fail;
    }
    int r = sp_pty_become_ctty(pty.slave, &err);
    sp_pty_close(&pty);
    if (r < 0)
      goto fail;
  }
  char *exe = NULL;
  if (sp_process_setup(&x->spec, &x->proc, &exe, &err) < 0)
    goto fail;
  prctl(PR_SET_PDEATHSIG, 0);
  if (sp_sync_send(sync, SP_SYNC_READY, NULL) < 0)
    _exit(1);
  sp_process_exec(&x->spec, &x->proc, exe, NULL, x->o->preserve_fds, &err);
fail:
  sp_sync_send(sync, SP_SYNC_ERROR, err.msg);
  _exit(127);
}

/* ---- checks before anything happens ----------------------------------------- */

static int load_container(struct xctx *x, struct sp_error *err) {
  const struct sp_exec_opts *o = x->o;
  x->statefd = sp_state_open(x->g->root ? x->g->root : SP_DEFAULT_ROOT, o->id,
                             SP_LOCK_SH, err);
  if (x->statefd < 0)
    return -1;
  if (sp_state_load(x->statefd, o->id, &x->st, err) < 0)
    return -1;
  x->st_loaded = true;
  x->keep_keyring = faccessat(x->statefd, SP_NO_NEW_KEYRING, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
  enum sp_status s = sp_state_status(x->statefd, &x->st);
  if (s == SP_STATUS_STOPPED || s == SP_STATUS_CREATING)
    return sp_error_set(err, ESRCH, "container \"%s\" is %s: cannot exec in it", o->id,
                        sp_status_name(s));
  if (s == SP_STATUS_PAUSED && !o->ignore_paused)
    return sp_error_set(err, 0, "container \"%s\" is paused: cannot exec in it "
                                "(resume it, or use --ignore-paused)", o->id);
  char *config = sp_path_join(x->st.bundle, "config.json");
  int r = config ? sp_spec_parse_file(config, &x->spec, err) : sp_error_sys(err, "config");
  free(config);
  if (r < 0)
    return sp_error_prefix(err, "the container's bundle %s", x->st.bundle);
  return 0;
}

static int load_process(struct xctx *x, struct sp_error *err) {
  const struct sp_exec_opts *o = x->o;
  if (o->process_file) {
    char *buf = NULL;
    size_t len = 0;
    if (sp_read_file(o->process_file, PROCESS_FILE_MAX, &buf, &len, err) < 0)
      return sp_error_prefix(err, "--process");
    int r = sp_process_parse_buf(buf, len, o->process_file, &x->fileproc, err);
    free(buf);
    if (r < 0)
      return -1;
    x->has_fileproc = true;
  }
  if (sp_exec_process(&x->spec, x->has_fileproc ? &x->fileproc : NULL, o, &x->proc,
                      &x->owned, err) < 0)
    return -1;
  if (x->proc.terminal && o->detach && !o->console_socket)
    return sp_error_set(err, 0, "a terminal for a detached process needs --console-socket");
  if (!x->proc.terminal && o->console_socket)
    return sp_error_set(err, 0, "--console-socket given, but the process has no "
                                "terminal (use --tty)");
  return 0;
}

/* --cgroup [CTRL[,CTRL]:]PATH: an existing sub-cgroup of the container's,
 * for every hierarchy (PATH alone) or those with one of the controllers. */
static int sub_cgroups(struct xctx *x, struct sp_error *err) {
  const struct sp_exec_opts *o = x->o;
  if (!o->cgroups_len)
    return 0;
  if (x->cg.mode == SP_CGROUP_DISABLED || !x->cg.dirs_len)
    return sp_error_set(err, 0, "--cgroup: the container has no cgroup");
  char **chosen = calloc(x->cg.dirs_len, sizeof *chosen);
  if (!chosen)
    return sp_error_errno(err, ENOMEM, "--cgroup");
  int r = 0;
  for (size_t k = 0; k < o->cgroups_len && !r; k++) {
    const char *spec = o->cgroups[k], *colon = strchr(spec, ':');
    const char *path = colon ? colon + 1 : spec;
    char ctl[256] = "";
    if (colon)
      snprintf(ctl, sizeof ctl, "%.*s", (int)(colon - spec), spec);
    while (*path == '/')
      path++;
    bool bad = !*path || (colon && !*ctl);
    for (const char *c = path; !bad && *c;) {
      size_t l = strcspn(c, "/");
      bad = (l == 2 && !strncmp(c, "..", 2)) || (l == 1 && *c == '.');
      c += l + (c[l] == '/');
    }
    if (bad) {
      r = sp_error_set(err, 0, "--cgroup \"%s\": expected [CONTROLLER[,...]:]PATH, a "
                               "path below the container's cgroup", spec);
      break;
    }
    bool matched = false;
    for (size_t i = 0; i < x->cg.dirs_len; i++) {
      const char *have = x->cg.controllers ? x->cg.controllers[i] : "";
      bool m = !*ctl;
      char list[256];
      snprintf(list, sizeof list, "%s", ctl);
      char *save = NULL;
      for (char *c = strtok_r(list, ",", &save); c && !m; c = strtok_r(NULL, ",", &save)) {
        /* is C one of the comma-separated controllers in HAVE? */
        size_t cl = strlen(c);
        for (const char *h = have; *h && !m;) {
          size_t hl = strcspn(h, ",");
          m = hl == cl && !strncmp(h, c, cl);
          h += hl + (h[hl] == ',');
        }
      }
      if (!m || (!*ctl && chosen[i]))
        continue; /* an explicit controller beats PATH alone */
      matched = true;
      free(chosen[i]);
      chosen[i] = sp_path_join(x->cg.dirs[i], path);
    }
    if (!matched)
      r = sp_error_set(err, 0, "--cgroup \"%s\": no cgroup hierarchy of the container "
                               "has controller %s", spec, ctl);
  }
  for (size_t i = 0; i < x->cg.dirs_len && !r; i++) {
    struct stat st;
    if (chosen[i] && (stat(chosen[i], &st) < 0 || !S_ISDIR(st.st_mode)))
      r = sp_error_sys(err, "--cgroup: sub-cgroup %s", chosen[i]);
  }
  for (size_t i = 0; i < x->cg.dirs_len; i++) {
    if (!r && chosen[i]) {
      free(x->cg.dirs[i]);
      x->cg.dirs[i] = chosen[i];
    } else {
      free(chosen[i]);
    }
  }
  free(chosen);
  return r;
}

static int prepare(struct xctx *x, struct sp_error *err) {
  if (load_container(x, err) < 0 || load_process(x, err) < 0)
    return -1;
  /* CVE-2019-5736: may re-execute this command (see selfexe.c) */
  if (sp_selfexe_protect(&x->spec, err) < 0)
    return -1;
  /* the container's seccomp filter and LSM labels apply to this process */
  if (sp_security_prepare(&x->spec, &x->proc, x->g->root ? x->g->root : SP_DEFAULT_ROOT,
                          err) < 0)
    return -1;
  enum sp_cgroup_mode mode;
  if (sp_cgroup_mode_from_name(x->st.cgroup_mode, &mode) < 0)
    mode = SP_CGROUP_DISABLED;
  if (sp_cgroup_from_string(mode, x->st.cgroup_path, &x->cg, err) < 0 ||
      sub_cgroups(x, err) < 0)
    return -1;
  x->init_pidfd = (int)syscall(SYS_pidfd_open, x->st.pid, 0);
  if (x->init_pidfd < 0 || sp_proc_start_time(x->st.pid) != x->st.pid_start)
    return sp_error_set(err, ESRCH, "container \"%s\" is not running", x->o->id);
  char p[64];
  snprintf(p, sizeof p, "/proc/%d/root", (int)x->st.pid);
  x->rootfd = open(p, O_PATH | O_CLOEXEC);
  if (x->rootfd < 0)
    return sp_error_sys(err, "open the container's root");
  unsigned long all;
  if (ns_to_join(x->st.pid, &all, err) < 0)
    return -1;
  /* both still the init's: the pid cannot have been reused meanwhile */
  if (syscall(SYS_pidfd_send_signal, x->init_pidfd, 0, NULL, 0) < 0)
    return sp_error_set(err, ESRCH, "container \"%s\" is not running", x->o->id);
  unsigned long mine = CLONE_NEWPID | CLONE_NEWTIME;
  /* unprivileged (rootless): joining the pid and time namespaces needs
   * CAP_SYS_ADMIN over the container's user namespace, which only joining
   * that user namespace gives: sprout joins it too, in the same setns */
  if (geteuid() != 0 && (all & CLONE_NEWUSER) && (all & mine))
    mine |= CLONE_NEWUSER;
  x->parent_ns = all & mine;
  x->child_ns = all & ~mine;
  if (x->o->console_socket) {
    x->console_fd = sp_console_connect(x->o->console_socket, err);
    if (x->console_fd < 0)
      return -1;
  }
  return 0;
}

/* ---- sprout's side ---------------------------------------------------------- */


/* From GO to the exec: pass the pty on, report what failed. */
static int follow_child(struct xctx *x, struct sp_error *err) {
  bool ready = false;
  for (;;) {
    enum sp_sync_type t;
    char *text = NULL;
    int fd = -1;
    if (sp_sync_recv_fd(x->sock[0], &t, &text, &fd, err) < 0) {
      if (err->code != EPIPE)
        return -1;
      if (ready) { /* close-on-exec: the exec happened */
        sp_error_clear(err);
        return 0;
      }
      siginfo_t info = {0};
      if (waitid(P_PIDFD, (id_t)x->pidfd, &info, WEXITED) == 0)
        x->pid = 0; /* reaped */
      return sp_error_set(err, 0, "the process died during setup (%s %d)",
                          info.si_code == CLD_EXITED ? "exit status" : "signal",
                          info.si_status);
    }
    if (t == SP_SYNC_ERROR) {
      sp_error_set(err, 0, "%s", text ? text : "the process failed during setup");
      free(text);
      if (fd >= 0)
        close(fd);
      return -1;
    }
    if (t == SP_SYNC_PTY) {
      /* to the console socket, or attached to our own terminal */
      int r = sp_pty_hand_off(&x->console_fd, fd, text, &x->master, err);
      free(text);
      if (r < 0)
        return -1;
      continue;
    }
    free(text);
    if (fd >= 0)
      close(fd);
    if (t == SP_SYNC_READY)
      ready = true;
  }
}

static void cleanup(struct xctx *x, bool failed) {
  if (failed && x->pid > 0 && x->pidfd >= 0) {
    syscall(SYS_pidfd_send_signal, x->pidfd, SIGKILL, NULL, 0);
    waitpid(x->pid, NULL, 0);
  }
  if (failed)
    sp_tty_restore();
  int fds[] = {x->statefd, x->init_pidfd, x->rootfd, x->console_fd, x->sock[0],
               x->sock[1], x->pidfd, x->master};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  sp_exec_process_free(&x->owned);
  if (x->has_fileproc)
    sp_process_free(&x->fileproc);
  sp_spec_free(&x->spec);
  if (x->st_loaded)
    sp_state_free(&x->st);
  sp_cgroup_free(&x->cg);
}

static int start_child(struct xctx *x, struct sp_error *err) {
  if (x->parent_ns)
    sp_leak_check_now(); /* sanitizer builds: see util.h */
  if (x->parent_ns && ns_join(x->init_pidfd, x->st.pid, x->parent_ns, err) < 0)
    return sp_error_prefix(err, "pid/time namespace");
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, x->sock) < 0)
    return sp_error_sys(err, "socketpair");
  if (sp_security_connect(x->o->id, x->st.bundle, err) < 0)
    return -1;
  int pidfd = -1;
  struct clone_args ca = {.flags = CLONE_PIDFD,
                          .pidfd = (uint64_t)(uintptr_t)&pidfd,
                          .exit_signal = SIGCHLD};
  /* no migration by pid (an RCU grace period): born in the cgroup2, the
   * child moves itself into the v1 ones (src/cgroup/join.c) */
  struct sp_cgroup_join cj;
  sp_cgroup_join_init(&cj);
  if (x->cg.mode != SP_CGROUP_DISABLED)
    sp_cgroup_join_prepare(&x->cg, SP_CG_ALL, &cj);
  x->cgroup_join = &cj;
  if (cj.v2_fd >= 0) {
    ca.flags |= CLONE_INTO_CGROUP;
    ca.cgroup = (uint64_t)cj.v2_fd;
  }
  pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0 && (ca.flags & CLONE_INTO_CGROUP)) {
    /* an older kernel, or a cgroup that refuses: sp_cgroup_enter says why */
    ca.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
    pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
  }
  if (pid == 0)
    child_main(x);
  bool joined = cj.complete && (cj.v2_fd < 0 || (ca.flags & CLONE_INTO_CGROUP));
  sp_cgroup_join_close(&cj);
  x->cgroup_join = NULL;
  if (pid < 0)
    return sp_error_sys(err, "clone3");
  sp_security_parent_done();
  x->pid = pid;
  x->pidfd = pidfd;
  close(x->sock[1]);
  x->sock[1] = -1;
  if (x->cg.mode != SP_CGROUP_DISABLED && !joined && sp_cgroup_enter(&x->cg, pid, err) < 0)
    return -1;
  if (sp_sync_send(x->sock[0], SP_SYNC_GO, NULL) < 0)
    return sp_error_sys(err, "start the process");
  sp_selfexe_release(); /* while the child sets up (see security.h) */
  /* in the cgroup now (a delete kills it there): let resume/delete go on,
   * a process exec'd into a paused container waits for the resume */
  flock(x->statefd, LOCK_UN);
  return follow_child(x, err);
}

int sp_container_exec(const struct sp_global *g, const struct sp_exec_opts *o,
                      struct sp_error *err) {
  struct xctx x = {.g = g, .o = o, .statefd = -1, .init_pidfd = -1, .rootfd = -1,
                   .console_fd = -1, .sock = {-1, -1}, .pidfd = -1, .master = -1};
  if (o->preserve_fds < 0)
    return sp_error_set(err, 0, "--preserve-fds: must not be negative");
  sigset_t set, old;
  sp_forwardable_signals(&set);
  if (!o->detach)
    sigprocmask(SIG_BLOCK, &set, &old);
  int r = prepare(&x, err);
  if (r == 0)
    r = start_child(&x, err);
  if (r == 0 && o->pid_file)
    r = sp_write_pid_file(o->pid_file, x.pid, err);
  if (r < 0 || o->detach) {
    cleanup(&x, r < 0);
    if (!o->detach)
      sigprocmask(SIG_SETMASK, &old, NULL);
    return r;
  }
  /* foreground: let delete/kill go on meanwhile */
  close(x.statefd);
  x.statefd = -1;
  struct sp_foreground f = {.pidfd = x.pidfd, .forward = &set, .master = x.master,
                            .notify_fd = -1};
  int status = sp_foreground_wait(&f);
  x.pid = 0;
  cleanup(&x, false);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return status;
}
