/* The container lifecycle: create, start, run, kill, delete, state.
 *
 * create: parse and check everything the user gave (no side effect yet),
 * claim the state dir, make exec.fifo and the cgroup, clone3 the init into
 * its namespaces, write the id maps, place it in the cgroup, let it set up,
 * save state.json and the pid file.  Any failure undoes all of it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>

#include "sprout/cgroup.h"
#include "sprout/container.h"
#include "sprout/init.h"
#include "sprout/linux.h"
#include "sprout/parse.h"
#include "sprout/spec.h"
#include "sprout/state.h"
#include "sprout/sync.h"
#include "sprout/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct ctx {
  const struct sp_global *g;
  const struct sp_create_opts *o;
  struct sp_spec spec;
  char *bundle, *rootfs;
  int statefd;
  bool claimed;
  int fifo_fd;
  int ns_fds[SP_NS_COUNT];
  struct sp_cgroup cg;
  bool cg_created;
  int sock[2];
  pid_t pid;
  int pidfd;
};

static const char *root_of(const struct sp_global *g) {
  return g->root ? g->root : SP_DEFAULT_ROOT;
}

static int pidfd_open_checked(pid_t pid, uint64_t start) {
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0)
    return -1;
  /* the pid may have been reused since state.json was written */
  if (sp_proc_start_time(pid) != start) {
    close(fd);
    errno = ESRCH;
    return -1;
  }
  return fd;
}

/* Wait up to TIMEOUT_MS for the process behind PIDFD to exit. */
static bool wait_exit(int pidfd, int timeout_ms) {
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  int r;
  do
    r = poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  return r > 0;
}

static void ctx_cleanup(struct ctx *c) {
  struct sp_error ignored;
  if (c->pidfd >= 0) {
    syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
    waitpid(c->pid, NULL, 0);
  }
  if (c->cg_created)
    sp_cgroup_destroy(&c->cg, &ignored);
  if (c->claimed)
    sp_state_remove(root_of(c->g), c->o->id, &ignored);
}

static void ctx_free(struct ctx *c) {
  sp_ns_close_fds(c->ns_fds);
  if (c->fifo_fd >= 0)
    close(c->fifo_fd);
  if (c->statefd >= 0)
    close(c->statefd);
  for (int i = 0; i < 2; i++)
    if (c->sock[i] >= 0)
      close(c->sock[i]);
  if (c->pidfd >= 0)
    close(c->pidfd);
  sp_cgroup_free(&c->cg);
  sp_spec_free(&c->spec);
  free(c->bundle);
  free(c->rootfs);
}

/* Everything that can be wrong with the user's input, before any effect. */
static int check_input(struct ctx *c, struct sp_error *err) {
  const struct sp_create_opts *o = c->o;
  if (sp_id_validate(o->id, err) < 0)
    return -1;
  c->bundle = sp_abspath(o->bundle ? o->bundle : ".");
  if (!c->bundle)
    return sp_error_sys(err, "bundle");
  struct stat st;
  if (stat(c->bundle, &st) < 0)
    return sp_error_sys(err, "bundle %s", c->bundle);
  char *config = sp_path_join(c->bundle, "config.json");
  int r = sp_spec_parse_file(config, &c->spec, err);
  free(config);
  if (r < 0)
    return -1;
  const struct sp_spec *s = &c->spec;
  if (!s->has_process)
    return sp_error_set(err, 0, "config.json: .process: required to create a container");
  if (!s->root_path)
    return sp_error_set(err, 0, "config.json: .root.path: required");
  c->rootfs = s->root_path[0] == '/' ? sp_abspath(s->root_path)
                                      : sp_path_join(c->bundle, s->root_path);
  if (!c->rootfs)
    return sp_error_sys(err, "rootfs");
  if (stat(c->rootfs, &st) < 0)
    return sp_error_sys(err, "rootfs %s (.root.path)", c->rootfs);
  if (!S_ISDIR(st.st_mode))
    return sp_error_set(err, ENOTDIR, "rootfs %s (.root.path): not a directory", c->rootfs);
  if (!sp_spec_namespace(s, SP_NS_MOUNT))
    return sp_error_set(err, 0, "config.json: .linux.namespaces: a mount namespace is required");
  if (s->process.terminal && !o->console_socket)
    return sp_error_set(err, 0, "config.json: .process.terminal is true but no "
                                "--console-socket was given");
  if (o->preserve_fds < 0)
    return sp_error_set(err, 0, "--preserve-fds: must not be negative");
  if (sp_ns_open_paths(s, c->ns_fds, err) < 0)
    return sp_error_prefix(err, "config.json");
  enum sp_cgroup_mode mode;
  if (sp_cgroup_detect(c->g->cgroup_manager, &mode, err) < 0)
    return -1;
  if (sp_cgroup_resolve(mode, s->linux_.cgroups_path, o->id, &c->cg, err) < 0)
    return -1;
  return 0;
}

static int write_pid_file(const char *file, pid_t pid, struct sp_error *err) {
  char *abs = sp_abspath(file);
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%d", (int)pid);
  int r = abs ? sp_write_file_atomic(abs, buf, (size_t)n, 0644, err)
              : sp_error_sys(err, "pid file %s", file);
  free(abs);
  return r;
}

static char *owner_name(void) {
  uid_t uid = geteuid();
  if (uid == 0)
    return strdup("root");
  struct passwd *pw = getpwuid(uid);
  if (pw)
    return strdup(pw->pw_name);
  char buf[32];
  snprintf(buf, sizeof buf, "%u", (unsigned)uid);
  return strdup(buf);
}

static int save_state(struct ctx *c, struct sp_error *err) {
  struct sp_state st = {0};
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  char created[64];
  sp_time_rfc3339(created, sizeof created, &now);
  char *cgs = NULL;
  if (sp_cgroup_to_string(&c->cg, &cgs) < 0)
    return sp_error_sys(err, "encode cgroup paths");
  st.id = (char *)c->o->id;
  st.pid = c->pid;
  st.pid_start = sp_proc_start_time(c->pid);
  st.bundle = c->bundle;
  st.rootfs = c->rootfs;
  st.created = created;
  st.owner = owner_name();
  st.cgroup_mode = (char *)sp_cgroup_mode_name(c->cg.mode);
  st.cgroup_path = cgs;
  st.pidns = sp_spec_namespace(&c->spec, SP_NS_PID) != NULL;
  st.annotations = c->spec.annotations;
  st.annotations_len = c->spec.annotations_len;
  int r = sp_state_save(c->statefd, &st, err);
  free(st.owner);
  free(cgs);
  return r;
}

/* The parent's own part of joining or creating pid and time namespaces:
 * both apply to the children of the caller, so they happen before clone3. */
static int parent_namespaces(struct ctx *c, struct sp_error *err) {
  if (c->ns_fds[SP_NS_PID] >= 0 && setns(c->ns_fds[SP_NS_PID], CLONE_NEWPID) < 0)
    return sp_error_sys(err, "join pid namespace");
  if (c->ns_fds[SP_NS_TIME] >= 0 && setns(c->ns_fds[SP_NS_TIME], CLONE_NEWTIME) < 0)
    return sp_error_sys(err, "join time namespace");
  const struct sp_namespace *t = sp_spec_namespace(&c->spec, SP_NS_TIME);
  if (t && !t->path && sp_timens_prepare(&c->spec, err) < 0)
    return -1;
  return 0;
}

static int do_create(struct ctx *c, struct sp_error *err) {
  if (check_input(c, err) < 0)
    return -1;
  const char *root = root_of(c->g);
  c->statefd = sp_state_claim(root, c->o->id, err);
  if (c->statefd < 0)
    return -1;
  c->claimed = true;
  /* writable by the workload's user, whatever the umask */
  if (mkfifoat(c->statefd, SP_EXEC_FIFO, 0600) < 0 ||
      fchmodat(c->statefd, SP_EXEC_FIFO, 0622, 0) < 0)
    return sp_error_sys(err, "create exec.fifo");
  c->fifo_fd = openat(c->statefd, SP_EXEC_FIFO, O_PATH | O_CLOEXEC);
  if (c->fifo_fd < 0)
    return sp_error_sys(err, "open exec.fifo");
  if (sp_cgroup_create(&c->cg, err) < 0)
    return -1;
  c->cg_created = true;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sock) < 0)
    return sp_error_sys(err, "socketpair");
  if (parent_namespaces(c, err) < 0)
    return -1;

  unsigned long all = sp_ns_new_flags(&c->spec);
  unsigned long flags = all & ~(unsigned long)(CLONE_NEWTIME | CLONE_NEWCGROUP);
  struct sp_init_args a = {
      .spec = &c->spec, .rootfs = c->rootfs, .bundle = c->bundle,
      .sync_fd = c->sock[1], .fifo_fd = c->fifo_fd,
      .close_fds = {c->statefd, c->sock[0], sp_log_fd(), -1},
      .new_ns = all, .new_cgroupns = all & CLONE_NEWCGROUP,
      .no_pivot = c->o->no_pivot, .no_new_keyring = c->o->no_new_keyring,
      .preserve_fds = c->o->preserve_fds};
  memcpy(a.ns_fds, c->ns_fds, sizeof a.ns_fds);
  int pidfd = -1;
  struct clone_args ca = {.flags = flags | CLONE_PIDFD,
                          .pidfd = (uint64_t)(uintptr_t)&pidfd,
                          .exit_signal = SIGCHLD};
  pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0)
    return sp_error_sys(err, "clone3 into new namespaces");
  if (pid == 0)
    sp_init_main(&a);
  c->pid = pid;
  c->pidfd = pidfd;
  close(c->sock[1]);
  c->sock[1] = -1;
  sp_ns_close_fds(c->ns_fds);

  /* state.json at once: a create killed from here on leaves a pid that
   * `delete --force` can find */
  if (save_state(c, err) < 0)
    return -1;
  if ((all & CLONE_NEWUSER) && sp_idmap_write(pid, &c->spec, err) < 0)
    return -1;
  if (sp_cgroup_enter(&c->cg, pid, err) < 0)
    return -1;
  if (sp_sync_send(c->sock[0], SP_SYNC_GO, NULL) < 0)
    return sp_error_sys(err, "start container init");
  enum sp_sync_type t;
  char *text = NULL;
  if (sp_sync_recv(c->sock[0], &t, &text, err) < 0)
    return -1;
  if (t == SP_SYNC_ERROR) {
    sp_error_set(err, 0, "%s", text ? text : "container init failed");
    free(text);
    return -1;
  }
  free(text);
  if (c->o->pid_file && write_pid_file(c->o->pid_file, pid, err) < 0)
    return -1;
  return 0;
}

int sp_container_create(const struct sp_global *g,
                        const struct sp_create_opts *o, struct sp_error *err) {
  struct ctx c = {.g = g, .o = o, .statefd = -1, .fifo_fd = -1,
                  .sock = {-1, -1}, .pidfd = -1,
                  .ns_fds = {-1, -1, -1, -1, -1, -1, -1, -1}};
  int r = do_create(&c, err);
  if (r < 0)
    ctx_cleanup(&c);
  ctx_free(&c);
  return r;
}

/* Release the init waiting on exec.fifo and watch it: fails if the init
 * dies instead. */
static int release_fifo(int statefd, int pidfd, struct sp_error *err) {
  int fd = openat(statefd, SP_EXEC_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return sp_error_sys(err, "open exec.fifo");
  struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
  int r;
  for (;;) {
    r = poll(p, 2, -1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      r = sp_error_sys(err, "wait for container init");
      break;
    }
    if (p[0].revents & POLLIN) {
      char b;
      r = read(fd, &b, 1) == 1 ? 0 : sp_error_set(err, EIO, "container init did not start");
      break;
    }
    if (p[1].revents) {
      r = sp_error_set(err, ESRCH, "container init exited before start");
      break;
    }
  }
  close(fd);
  if (r == 0)
    unlinkat(statefd, SP_EXEC_FIFO, 0);
  return r;
}

static int load_cgroup(const struct sp_state *st, struct sp_cgroup *cg,
                       struct sp_error *err) {
  enum sp_cgroup_mode mode;
  if (sp_cgroup_mode_from_name(st->cgroup_mode, &mode) < 0)
    mode = SP_CGROUP_DISABLED;
  return sp_cgroup_from_string(mode, st->cgroup_path, cg, err);
}

int sp_container_start(const struct sp_global *g, const char *id,
                       struct sp_error *err) {
  int fd = sp_state_open(root_of(g), id, SP_LOCK_EX, err);
  if (fd < 0)
    return -1;
  struct sp_state st;
  int r = sp_state_load(fd, id, &st, err);
  if (r == 0) {
    enum sp_status s = sp_state_status(fd, &st);
    if (s != SP_STATUS_CREATED) {
      r = sp_error_set(err, 0, "container \"%s\" is %s, not created: cannot start it",
                       id, sp_status_name(s));
    } else {
      int pidfd = pidfd_open_checked(st.pid, st.pid_start);
      if (pidfd < 0)
        r = sp_error_sys(err, "container \"%s\" init", id);
      else {
        r = release_fifo(fd, pidfd, err);
        close(pidfd);
      }
    }
    sp_state_free(&st);
  }
  close(fd);
  return r;
}

/* Kill what is left, remove the cgroup and the state dir. */
static int destroy(const struct sp_global *g, const char *id, int statefd,
                   const struct sp_state *st, struct sp_error *err) {
  int pidfd = st->pid > 0 ? pidfd_open_checked(st->pid, st->pid_start) : -1;
  if (pidfd >= 0) {
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    wait_exit(pidfd, 10000);
    close(pidfd);
  }
  struct sp_cgroup cg = {0};
  int r = 0;
  if (load_cgroup(st, &cg, err) == 0) {
    r = sp_cgroup_destroy(&cg, err);
    sp_cgroup_free(&cg);
  }
  (void)statefd;
  if (sp_state_remove(root_of(g), id, r < 0 ? NULL : err) < 0)
    r = -1;
  return r;
}

int sp_container_delete(const struct sp_global *g, const char *id, bool force,
                        struct sp_error *err) {
  int fd = sp_state_open(root_of(g), id, SP_LOCK_EX, err);
  if (fd < 0) {
    /* like runc: forcing the removal of what is not there succeeds */
    if (force && err->code == ENOENT) {
      sp_error_clear(err);
      return 0;
    }
    return -1;
  }
  struct sp_state st;
  int r = sp_state_load(fd, id, &st, err);
  if (r < 0 && force) {
    /* a corrupt state: remove what can be found */
    sp_error_clear(err);
    r = sp_state_remove(root_of(g), id, err);
    close(fd);
    return r;
  }
  if (r == 0) {
    enum sp_status s = sp_state_status(fd, &st);
    if (!force && (s == SP_STATUS_RUNNING || s == SP_STATUS_PAUSED))
      r = sp_error_set(err, 0, "cannot delete container \"%s\" that is not stopped: %s "
                               "(use --force)", id, sp_status_name(s));
    else
      r = destroy(g, id, fd, &st, err);
    sp_state_free(&st);
  }
  close(fd);
  return r;
}

int sp_container_kill(const struct sp_global *g, const char *id, int sig,
                      bool all, struct sp_error *err) {
  int fd = sp_state_open(root_of(g), id, SP_LOCK_SH, err);
  if (fd < 0)
    return -1;
  struct sp_state st;
  int r = sp_state_load(fd, id, &st, err);
  if (r == 0) {
    enum sp_status s = sp_state_status(fd, &st);
    if (s == SP_STATUS_STOPPED || s == SP_STATUS_CREATING) {
      r = sp_error_set(err, ESRCH, "container \"%s\" is not running", id);
    } else {
      int pidfd = pidfd_open_checked(st.pid, st.pid_start);
      if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
        r = sp_error_sys(err, "signal container \"%s\"", id);
      if (pidfd >= 0)
        close(pidfd);
      struct sp_cgroup cg = {0};
      if (r == 0 && all && load_cgroup(&st, &cg, err) == 0) {
        pid_t *pids = NULL;
        size_t n = 0;
        if (sp_cgroup_pids(&cg, &pids, &n, err) == 0)
          for (size_t i = 0; i < n; i++)
            kill(pids[i], sig);
        free(pids);
      }
      sp_cgroup_free(&cg);
    }
    sp_state_free(&st);
  }
  close(fd);
  return r;
}

int sp_container_state(const struct sp_global *g, const char *id, char **json,
                       struct sp_error *err) {
  int fd = sp_state_open(root_of(g), id, SP_LOCK_NONE, err);
  if (fd < 0)
    return -1;
  struct sp_state st;
  int r = sp_state_load(fd, id, &st, err);
  if (r == 0) {
    *json = sp_state_to_json(&st, sp_state_status(fd, &st), true);
    sp_state_free(&st);
    if (!*json)
      r = sp_error_errno(err, ENOMEM, "encode state");
  }
  close(fd);
  return r;
}

/* ---- run ---------------------------------------------------------------- */

static void forwardable(sigset_t *set) {
  sigfillset(set);
  /* synchronous faults stay ours */
  sigdelset(set, SIGSEGV);
  sigdelset(set, SIGBUS);
  sigdelset(set, SIGILL);
  sigdelset(set, SIGFPE);
  sigdelset(set, SIGABRT);
  sigdelset(set, SIGTRAP);
  sigdelset(set, SIGSYS);
}

int sp_container_run(const struct sp_global *g, const struct sp_create_opts *o,
                     struct sp_error *err) {
  sigset_t set, old;
  forwardable(&set);
  if (!o->detach)
    sigprocmask(SIG_BLOCK, &set, &old);
  struct ctx c = {.g = g, .o = o, .statefd = -1, .fifo_fd = -1,
                  .sock = {-1, -1}, .pidfd = -1,
                  .ns_fds = {-1, -1, -1, -1, -1, -1, -1, -1}};
  int r = do_create(&c, err);
  if (r == 0)
    r = release_fifo(c.statefd, c.pidfd, err);
  if (r < 0) {
    ctx_cleanup(&c);
    ctx_free(&c);
    return -1;
  }
  if (o->detach) {
    ctx_free(&c);
    return 0;
  }
  /* foreground: unlock the state dir so kill/state work meanwhile */
  flock(c.statefd, LOCK_UN);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  int status = 0;
  for (;;) {
    struct pollfd p[2] = {{.fd = c.pidfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
    if (poll(p, sfd >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (p[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo != SIGCHLD)
          syscall(SYS_pidfd_send_signal, c.pidfd, si.ssi_signo, NULL, 0);
        break;
      }
    }
    if (p[0].revents & POLLIN) {
      siginfo_t info = {0};
      if (waitid(P_PIDFD, (id_t)c.pidfd, &info, WEXITED) == 0) {
        status = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
        break;
      }
      if (errno != EINTR)
        break;
    }
  }
  if (sfd >= 0)
    close(sfd);
  close(c.pidfd);
  c.pidfd = -1;
  /* the container is gone: remove it as `delete` would */
  flock(c.statefd, LOCK_EX);
  c.claimed = true;
  c.cg_created = true;
  ctx_cleanup(&c);
  ctx_free(&c);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return status;
}
