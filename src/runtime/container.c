/* The container lifecycle: create, start, run, kill, delete, state.
 *
 * create: parse and check everything the user gave (no side effect yet),
 * claim the state dir, make exec.fifo and the cgroup, clone3 the init into
 * its namespaces, write the id maps, place it in the cgroup, let it set up,
 * save state.json and the pid file.  On v1 and hybrid hosts the v1 cgroup
 * directories and the limits are made after clone3, while the init mounts,
 * and the init joins them on a second GO (cgroups_later).  Any failure
 * undoes all of it. */
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
#include "sprout/hooks.h"
#include "sprout/init.h"
#include "sprout/linux.h"
#include "sprout/netdev.h"
#include "sprout/overlay.h"
#include "sprout/parse.h"
#include "sprout/security.h"
#include "sprout/session.h"
#include "sprout/spec.h"
#include "sprout/state.h"
#include "sprout/sync.h"
#include "sprout/timeline.h"
#include "sprout/userns.h"
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
  struct sp_overlay ov;   /* --overlay / annotations */
  int *mount_fds;         /* idmapped mounts, made before clone3 */
  int netns_fd;           /* the container's netns (netDevices), -1 */
  size_t netdevs_moved;
  bool hook_failed;       /* poststop hooks run after the cleanup */
  int console_fd;         /* --console-socket, connected (process.terminal) */
  int pty_master;         /* a foreground run's terminal (no console socket) */
  bool run_fg;            /* a foreground run: attaches the terminal itself */
  bool run;               /* `run`: the ready state is saved after the release */
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
  /* the poststop hooks' state, while state.json is there */
  char *stopped = c->hook_failed && c->claimed
                      ? sp_hooks_state_json(c->statefd, c->o->id, SP_STATUS_STOPPED)
                      : NULL;
  if (c->pidfd >= 0) {
    syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
    waitpid(c->pid, NULL, 0);
  }
  /* the netns lives on through netns_fd: its devices go home */
  sp_netdevs_leave(&c->spec, c->netns_fd, c->netdevs_moved);
  c->netdevs_moved = 0;
  if (c->cg_created)
    sp_cgroup_destroy(&c->cg, &ignored);
  sp_overlay_unprepare(&c->ov);
  if (c->claimed)
    sp_state_remove(root_of(c->g), c->o->id, &ignored);
  if (stopped)
    sp_hooks_run_warn(&c->spec, SP_HOOK_POSTSTOP, stopped, c->o->id);
  free(stopped);
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
  if (c->netns_fd >= 0)
    close(c->netns_fd);
  if (c->console_fd >= 0)
    close(c->console_fd);
  if (c->pty_master >= 0) {
    sp_tty_restore();
    close(c->pty_master);
  }
  sp_idmap_mounts_close(c->mount_fds, c->spec.mounts_len);
  sp_overlay_free(&c->ov);
  sp_cgroup_free(&c->cg);
  sp_spec_free(&c->spec);
  free(c->bundle);
  free(c->rootfs);
}

/* Everything that can be wrong with the user's input, before any effect. */
/* A sysctl of a namespace joined by path that is sprout's own (the host's):
 * setting it would change the host (runc: "not allowed in host network
 * namespace").  FDS: the namespaces opened from their paths. */
static int sysctl_in_host_ns(const struct sp_spec *s, const int fds[SP_NS_COUNT],
                             struct sp_error *err) {
  for (size_t i = 0; i < s->linux_.sysctl_len; i++) {
    const char *key = s->linux_.sysctl[i].key;
    int t = sp_sysctl_namespace(key);
    if (t < 0 || fds[t] < 0)
      continue;
    const char *file = t == SP_NS_NETWORK ? "net" : t == SP_NS_IPC ? "ipc" : "uts";
    char own[32];
    snprintf(own, sizeof own, "/proc/self/ns/%s", file);
    struct stat theirs, ours;
    if (fstat(fds[t], &theirs) == 0 && stat(own, &ours) == 0 &&
        theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev)
      return sp_error_set(err, 0, ".linux.sysctl[\"%s\"]: the %s namespace joined by path "
                          "is the host's: setting it would change the host", key,
                          sp_ns_type_name((enum sp_ns_type)t));
  }
  return 0;
}

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
  /* CVE-2019-5736 first: it may re-execute this command from a read-only
   * view of the binary, so it comes before anything is opened or made,
   * and the checks below run once, in the re-executed process */
  if (sp_selfexe_protect(s, err) < 0)
    return -1;
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
  /* a root.path through symlinks (as runc, which evaluates them): the
   * mounts on it, the overlay's among them, need the real directory */
  char *real = realpath(c->rootfs, NULL);
  if (!real)
    return sp_error_sys(err, "rootfs %s (.root.path)", c->rootfs);
  free(c->rootfs);
  c->rootfs = real;
  if (!sp_spec_namespace(s, SP_NS_MOUNT))
    return sp_error_set(err, 0, "config.json: .linux.namespaces: a mount namespace is required");
  /* a foreground run attaches the terminal to its own */
  if (s->process.terminal && !o->console_socket && !c->run_fg)
    return sp_error_set(err, 0, "config.json: .process.terminal is true but no "
                                "--console-socket was given");
  /* as runc: the receiver would wait for a terminal that never comes */
  if (!s->process.terminal && o->console_socket)
    return sp_error_set(err, 0, "--console-socket given, but config.json's "
                                ".process.terminal is false");
  if (o->preserve_fds < 0)
    return sp_error_set(err, 0, "--preserve-fds: must not be negative");
  if (sp_ns_open_paths(s, c->ns_fds, err) < 0 || sysctl_in_host_ns(s, c->ns_fds, err) < 0)
    return sp_error_prefix(err, "config.json");
  enum sp_cgroup_mode mode;
  if (sp_cgroup_detect(c->g->cgroup_manager, &mode, err) < 0)
    return -1;
  if (sp_cgroup_resolve(mode, s->linux_.cgroups_path, o->id, &c->cg, err) < 0)
    return -1;
  if (sp_rootless_active(c->g->rootless))
    sp_rootless_cgroup_filter(&c->cg);
  if (s->linux_.has_resources &&
      sp_cgroup_check(c->cg.mode, &s->linux_.resources, ".linux.resources", err) < 0)
    return sp_error_prefix(err, "config.json");
  if (sp_overlay_resolve(s, c->bundle, o->overlay, o->overlay_dir, o->lower,
                         o->lower_len, &c->ov, err) < 0 ||
      sp_netdevs_check(s, err) < 0)
    return -1;
  /* seccomp compiled or cached, LSM labels and flags checked */
  if (sp_security_prepare(s, &s->process, root_of(c->g), err) < 0)
    return sp_error_prefix(err, "config.json");
  /* last: the receiver sees the connection */
  if (s->process.terminal && o->console_socket) {
    c->console_fd = sp_console_connect(o->console_socket, err);
    if (c->console_fd < 0)
      return -1;
  }
  return 0;
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

/* state.json.  Until the init is READY, "created" is empty: the status reads
 * "creating" (shown as stopped), never "created", so a create killed before
 * its init was set up does not pass for a container that `start` could run. */
static int save_state_as(struct ctx *c, bool ready, struct sp_error *err) {
  struct sp_state st = {0};
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  char created[64] = "";
  if (ready)
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

static int save_state(struct ctx *c, struct sp_error *err) {
  return save_state_as(c, false, err);
}

/* The parent's own part of joining or creating pid and time namespaces:
 * both apply to the children of the caller, so they happen before clone3. */
static int parent_namespaces(struct ctx *c, struct sp_error *err) {
  if (c->ns_fds[SP_NS_PID] >= 0)
    sp_leak_check_now();
  if (c->ns_fds[SP_NS_PID] >= 0 && setns(c->ns_fds[SP_NS_PID], CLONE_NEWPID) < 0)
    return sp_error_sys(err, "join pid namespace");
  if (c->ns_fds[SP_NS_TIME] >= 0 && setns(c->ns_fds[SP_NS_TIME], CLONE_NEWTIME) < 0)
    return sp_error_sys(err, "join time namespace");
  const struct sp_namespace *t = sp_spec_namespace(&c->spec, SP_NS_TIME);
  /* with a new user namespace the init makes it (owned by that namespace) */
  if (t && !t->path && !(sp_ns_new_flags(&c->spec) & CLONE_NEWUSER) &&
      sp_timens_prepare(&c->spec, err) < 0)
    return -1;
  return 0;
}

/* createContainer / startContainer hooks run in the init: their state. */
static int send_hooks_state(struct ctx *c, struct sp_error *err) {
  char *a = sp_hooks_state_json(c->statefd, c->o->id, SP_STATUS_CREATING);
  char *b = sp_hooks_state_json(c->statefd, c->o->id, SP_STATUS_CREATED);
  int r = a && b ? sp_hooks_send_state(c->sock[0], a, b, err)
                 : sp_error_errno(err, ENOMEM, "state for the hooks");
  free(a);
  free(b);
  return r;
}

/* prestart, then createRuntime: in the runtime's namespaces. */
static int run_create_hooks(struct ctx *c, struct sp_error *err) {
  char *st = sp_hooks_state_json(c->statefd, c->o->id, SP_STATUS_CREATING);
  if (!st)
    return sp_error_errno(err, ENOMEM, "state for the hooks");
  int r = sp_hooks_run(&c->spec, SP_HOOK_PRESTART, st, err);
  if (r == 0)
    r = sp_hooks_run(&c->spec, SP_HOOK_CREATE_RUNTIME, st, err);
  free(st);
  c->hook_failed = r < 0;
  return r;
}

/* The init's next message.  Its terminal (process.terminal) comes on the
 * way: passed on to the console socket in one message, or kept for a
 * foreground run to attach to the caller's terminal. */
static int recv_init(struct ctx *c, enum sp_sync_type *t, char **text,
                     struct sp_error *err) {
  for (;;) {
    int fd = -1;
    if (sp_sync_recv_fd(c->sock[0], t, text, &fd, err) < 0)
      return -1;
    if (*t != SP_SYNC_PTY) {
      if (fd >= 0)
        close(fd);
      return 0;
    }
    int r = sp_pty_hand_off(&c->console_fd, fd, *text, &c->pty_master, err);
    free(*text);
    *text = NULL;
    if (r < 0)
      return -1;
  }
}

/* The cgroup directories in WHICH (SP_CG_*) and, once the v1 ones are
 * there, the limits. */
static int make_cgroups(struct ctx *c, unsigned which, struct sp_error *err) {
  if (sp_cgroup_create_in(&c->cg, which, err) < 0)
    return -1;
  c->cg_created = true;
  if (!(which & SP_CG_LEGACY) && sp_cgroup_has_legacy(&c->cg))
    return 0;
  if (sp_cgroup_apply(&c->cg, c->spec.linux_.has_resources ? &c->spec.linux_.resources : NULL,
                      ".linux.resources", false, err) < 0)
    return sp_error_prefix(err, "config.json");
  return 0;
}

/* v1 and hybrid hosts: make the v1 directories (0.45 ms for 10
 * hierarchies here) after clone3, while the init sets up its mounts on the
 * other CPU, instead of before it.  The init opens their tasks files
 * itself, so not with a user namespace (its credentials), a mount or
 * cgroup namespace of the config's (its paths), or hooks that need their
 * state in the init (its first messages). */
static bool cgroups_later(const struct ctx *c, unsigned long all) {
  if (!sp_cgroup_has_legacy(&c->cg) || (all & CLONE_NEWUSER) || !(all & CLONE_NEWNS))
    return false;
  if (c->ns_fds[SP_NS_USER] >= 0 || c->ns_fds[SP_NS_MOUNT] >= 0 ||
      c->ns_fds[SP_NS_CGROUP] >= 0)
    return false;
  return !sp_hooks_init_needs_state(&c->spec);
}

/* The init's SP_SYNC_ERROR: its text is the error. */
static void init_failed(struct ctx *c, const char *text, struct sp_error *err) {
  sp_error_set(err, 0, "%s", text ? text : "container init failed");
  /* a createContainer hook failed: poststop hooks run after the cleanup */
  c->hook_failed = text && !strncmp(text, "hook ", 5);
}

static int create_steps(struct ctx *c, struct sp_error *err) {
  if (check_input(c, err) < 0)
    return -1;
  SP_MARK("checked");
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
  /* state.json (pid 0, the cgroup paths) before any cgroup exists: a create
   * killed from here on leaves what `delete --force` needs to undo it */
  if (save_state(c, err) < 0)
    return -1;
  /* NOTIFY_SOCKET: the container's own socket, bound on /run/notify */
  if (sp_notify_prepare(&c->spec, c->statefd, root, c->o->id, err) < 0)
    return -1;
  if (sp_overlay_prepare(&c->ov, c->rootfs, sp_userns_host_uid(&c->spec, 0),
                         sp_userns_host_gid(&c->spec, 0), err) < 0 ||
      sp_record_save(c->statefd, &c->spec, err) < 0)
    return -1;
  if (c->o->no_new_keyring) {
    int k = openat(c->statefd, SP_NO_NEW_KEYRING,
                   O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (k < 0)
      return sp_error_sys(err, "state: %s", SP_NO_NEW_KEYRING);
    close(k);
  }
  SP_MARK("state");
  unsigned long all = sp_ns_new_flags(&c->spec);
  bool later = cgroups_later(c, all);
  /* the limits before the init can enter: a bad one fails the create */
  if (make_cgroups(c, later ? SP_CG_UNIFIED : SP_CG_ALL, err) < 0)
    return -1;
  SP_MARK("cgroups");
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sock) < 0)
    return sp_error_sys(err, "socketpair");
  if (parent_namespaces(c, err) < 0)
    return -1;

  if (sp_security_connect(c->o->id, c->bundle, err) < 0)
    return -1;
  unsigned long flags = all & ~(unsigned long)(CLONE_NEWTIME | CLONE_NEWCGROUP);
  struct sp_init_args a = {
      .spec = &c->spec, .rootfs = c->rootfs, .bundle = c->bundle,
      .sync_fd = c->sock[1], .fifo_fd = c->fifo_fd,
      .close_fds = {c->statefd, c->sock[0], sp_selfexe_view_fd(), -1},
      .new_ns = all, .new_cgroupns = all & CLONE_NEWCGROUP,
      .no_pivot = c->o->no_pivot, .no_new_keyring = c->o->no_new_keyring,
      .preserve_fds = c->o->preserve_fds, .listen_fds = sp_listen_fds(),
      .cgroup_later = later ? &c->cg : NULL,
      /* not in a new user namespace: the init's own there */
      .lo_by_parent = (all & CLONE_NEWNET) && !(all & CLONE_NEWUSER)};
  memcpy(a.ns_fds, c->ns_fds, sizeof a.ns_fds);
  if (sp_idmap_mounts_prepare(&c->spec, c->bundle, &c->mount_fds, err) < 0)
    return -1;
  a.overlay = c->ov.enabled ? &c->ov : NULL;
  a.mount_fds = c->mount_fds;
  a.new_timens = (all & CLONE_NEWTIME) && (all & CLONE_NEWUSER);
  int pidfd = -1;
  struct clone_args ca = {.flags = flags | CLONE_PIDFD,
                          .pidfd = (uint64_t)(uintptr_t)&pidfd,
                          .exit_signal = SIGCHLD};
  pid_t pid;
  struct sp_cgroup_join cj;
  bool cg_joined = false;
  sp_cgroup_join_init(&cj);
  if (sp_userns_needs_helper(flags, c->ns_fds)) {
    /* join first, then the new user namespace: see userns.h */
    for (int i = 0; i < SP_NS_COUNT; i++)
      a.ns_fds[i] = -1;
    pid = sp_clone_after_joins(flags, c->ns_fds, &pidfd, err);
    if (pid < 0)
      return -1;
  } else {
    /* no migration by pid (an RCU grace period): the init is born in its
     * cgroup2 (CLONE_INTO_CGROUP) and moves itself into the v1 ones */
    sp_cgroup_join_prepare(&c->cg, later ? SP_CG_UNIFIED : SP_CG_ALL, &cj);
    a.cgroup_join = &cj;
    if (cj.v2_fd >= 0) {
      ca.flags |= CLONE_INTO_CGROUP;
      ca.cgroup = (uint64_t)cj.v2_fd;
    }
    SP_MARK("clone3");
    pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0 && (ca.flags & CLONE_INTO_CGROUP)) {
      /* an older kernel, or a cgroup that refuses: sp_cgroup_enter says why */
      ca.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
      pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    }
    cg_joined = cj.complete && (cj.v2_fd < 0 || (ca.flags & CLONE_INTO_CGROUP));
    if (pid > 0 && (ca.flags & CLONE_INTO_CGROUP))
      sp_log(SP_LOG_DEBUG, "init %d born in %s (CLONE_INTO_CGROUP)", (int)pid,
             sp_cgroup_dir(&c->cg, NULL));
    if (pid != 0)
      sp_cgroup_join_close(&cj);
  }
  if (pid < 0)
    return sp_error_sys(err, "clone3 into new namespaces");
  if (pid == 0)
    sp_init_main(&a);
  SP_MARK("cloned");
  c->pid = pid;
  c->pidfd = pidfd;
  sp_security_parent_done();
  close(c->sock[1]);
  c->sock[1] = -1;
  sp_ns_close_fds(c->ns_fds);

  if ((all & CLONE_NEWUSER) && sp_userns_map(pid, &c->spec, err) < 0)
    return -1;
  if (sp_netdevs_enter(&c->spec, pid, &c->netns_fd, &c->netdevs_moved, err) < 0)
    return -1;
  if (!later && !cg_joined && sp_cgroup_enter(&c->cg, pid, err) < 0)
    return -1;
  if (sp_sync_send(c->sock[0], SP_SYNC_GO, NULL) < 0)
    return sp_error_sys(err, "start container init");
  /* the v1 cgroups and the limits while the init mounts; it joins them on
   * this GO, before its cgroup mounts and device nodes */
  if (later && (make_cgroups(c, SP_CG_LEGACY, err) < 0 ||
                (!cg_joined && sp_cgroup_enter(&c->cg, pid, err) < 0)))
    return -1;
  if (later && sp_sync_send(c->sock[0], SP_SYNC_GO, NULL) < 0)
    return sp_error_sys(err, "let the container init into its cgroups");
  /* state.json with the pid while the init sets up (its mounts take far
   * longer than the write).  A create killed before this leaves pid 0:
   * the init dies with it (PDEATHSIG until READY, or the closed sync
   * socket before it has set that), and `delete --force` removes the rest */
  if (save_state(c, err) < 0)
    return -1;
  /* the init closed its copy first thing: this last close (a grace period)
   * overlaps its setup */
  sp_selfexe_release();
  /* lo up while the init mounts (0.2 ms off its path), before any hook
   * sees the namespace and long before the workload runs */
  if (a.lo_by_parent && sp_net_loopback_up_in(pidfd, pid, err) < 0)
    return -1;
  SP_MARK("wait_init");
  if (sp_hooks_init_needs_state(&c->spec) && send_hooks_state(c, err) < 0)
    return -1;
  enum sp_sync_type t;
  char *text = NULL;
  if (recv_init(c, &t, &text, err) < 0)
    return -1;
  if (t == SP_SYNC_HOOKS) {
    /* mounts done, before pivot_root: the runtime's hooks */
    free(text);
    text = NULL;
    if (run_create_hooks(c, err) < 0)
      return -1;
    if (sp_sync_send(c->sock[0], SP_SYNC_GO, NULL) < 0)
      return sp_error_sys(err, "resume container init");
    if (recv_init(c, &t, &text, err) < 0)
      return -1;
  }
  if (t == SP_SYNC_ERROR) {
    init_failed(c, text, err);
    free(text);
    return -1;
  }
  SP_MARK("ready");
  free(text);
  /* `run` records the ready state once the workload was let go */
  if (!c->run && save_state_as(c, true, err) < 0)
    return -1;
  if (c->o->pid_file && sp_write_pid_file(c->o->pid_file, pid, err) < 0)
    return -1;
  sp_overlay_keep(&c->ov); /* a created container's UPPERDIR stays */
  return 0;
}

/* A step of the parent's after clone3 failed.  When the init failed first,
 * its error is waiting on the sync socket (it sends it, then exits), and
 * the parent's failure is only the consequence: EPIPE on a GO, ESRCH on
 * the setns into its netns or on its pid in a tasks file.  The init's
 * error says what was wrong; nothing pending (an init alive, or killed
 * without a word) leaves the parent's.  Never blocks. */
static void prefer_init_error(struct ctx *c, struct sp_error *err) {
  for (;;) {
    struct pollfd p = {.fd = c->sock[0], .events = POLLIN};
    if (c->sock[0] < 0 || poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
      return;
    enum sp_sync_type t;
    char *text = NULL;
    struct sp_error ignored = {0};
    if (sp_sync_recv(c->sock[0], &t, &text, &ignored) < 0)
      return; /* EOF: the init said nothing more */
    if (t == SP_SYNC_ERROR) {
      sp_log(SP_LOG_DEBUG, "after the container init's error: %s", err->msg);
      init_failed(c, text, err);
      free(text);
      return;
    }
    free(text);
  }
}

static int do_create(struct ctx *c, struct sp_error *err) {
  int r = create_steps(c, err);
  if (r < 0 && c->pid > 0)
    prefer_init_error(c, err);
  return r;
}

int sp_container_create(const struct sp_global *g,
                        const struct sp_create_opts *o, struct sp_error *err) {
  struct ctx c = {.g = g, .o = o, .statefd = -1, .fifo_fd = -1,
                  .sock = {-1, -1}, .pidfd = -1, .netns_fd = -1,
                  .console_fd = -1, .pty_master = -1, .run_fg = false,
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
      /* "0", or "E" and the error of a startContainer hook */
      char b[SP_ERROR_MAX + 2];
      ssize_t n = read(fd, b, sizeof b - 1);
      if (n > 1 && b[0] == 'E') {
        b[n] = '\0';
        r = sp_error_set(err, 0, "%s", b + 1);
      } else {
        r = n >= 1 ? 0 : sp_error_set(err, EIO, "container init did not start");
      }
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
        /* NOTIFY_SOCKET: listen before the workload runs */
        int nfd = sp_notify_bind(fd, err);
        r = nfd == -1 ? -1 : release_fifo(fd, pidfd, err);
        if (r == 0)
          sp_hooks_after_start(fd, &st);
        if (r == 0 && nfd >= 0) { /* until READY=1, unlocked meanwhile */
          flock(fd, LOCK_UN);
          r = sp_notify_wait(nfd, pidfd, st.pid, err);
        }
        if (nfd >= 0)
          close(nfd);
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
  /* netDevices to take back and poststop hooks: from runtime.json */
  struct sp_teardown td;
  sp_teardown_begin(statefd, st, pidfd >= 0, &td);
  struct sp_cgroup cg = {0};
  bool have_cg = load_cgroup(st, &cg, err) == 0;
  if (pidfd >= 0) {
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    /* a paused container's init dies only once thawed */
    if (have_cg && cg.dirs_len)
      sp_cgroup_freeze(&cg, false, NULL);
    wait_exit(pidfd, 10000);
    close(pidfd);
  }
  int r = 0;
  if (have_cg) {
    r = sp_cgroup_destroy(&cg, err);
    sp_cgroup_free(&cg);
  }
  sp_teardown_devices(&td);
  if (sp_state_remove(root_of(g), id, r < 0 ? NULL : err) < 0)
    r = -1;
  sp_teardown_end(&td, st);
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
    /* "container not running" is the text containerd's shim matches to
     * tell a finished process from a failure; --all still reaches what is
     * left in the cgroup of a stopped container (the shim's cleanup of a
     * container sharing the host's pid namespace), as with runc */
    if (s == SP_STATUS_CREATING || (s == SP_STATUS_STOPPED && !all)) {
      r = sp_error_set(err, ESRCH, "container not running (status %s)", sp_status_name(s));
    } else if (s != SP_STATUS_STOPPED) {
      int pidfd = pidfd_open_checked(st.pid, st.pid_start);
      if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
        r = sp_error_sys(err, "signal container \"%s\"", id);
      if (pidfd >= 0)
        close(pidfd);
    }
    if (r == 0) {
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

static bool has_hooks(const struct sp_spec *spec, enum sp_hook_kind kind) {
  const struct sp_hook *list;
  return sp_hooks_of(spec, kind, &list) > 0;
}

int sp_container_run(const struct sp_global *g, const struct sp_create_opts *o,
                     struct sp_error *err) {
  sigset_t set, old;
  forwardable(&set);
  if (!o->detach)
    sigprocmask(SIG_BLOCK, &set, &old);
  struct ctx c = {.g = g, .o = o, .statefd = -1, .fifo_fd = -1,
                  .sock = {-1, -1}, .pidfd = -1, .netns_fd = -1,
                  .console_fd = -1, .pty_master = -1, .run_fg = !o->detach, .run = true,
                  .ns_fds = {-1, -1, -1, -1, -1, -1, -1, -1}};
  int r = do_create(&c, err);
  int nfd = -2; /* NOTIFY_SOCKET: listen before the workload runs */
  if (r == 0 && (nfd = sp_notify_bind(c.statefd, err)) == -1)
    r = -1;
  SP_MARK("release");
  if (r == 0)
    r = release_fifo(c.statefd, c.pidfd, err);
  /* the workload starts while the state is written */
  if (r == 0)
    r = save_state_as(&c, true, err);
  if (r < 0) {
    if (nfd >= 0)
      close(nfd);
    ctx_cleanup(&c);
    ctx_free(&c);
    return -1;
  }
  SP_MARK("running");
  if (has_hooks(&c.spec, SP_HOOK_POSTSTART)) {
    char *running = sp_hooks_state_json(c.statefd, o->id, SP_STATUS_RUNNING);
    sp_hooks_run_warn(&c.spec, SP_HOOK_POSTSTART, running, o->id);
    free(running);
  }
  if (o->detach) {
    if (nfd >= 0) { /* return once the workload is ready */
      flock(c.statefd, LOCK_UN);
      r = sp_notify_wait(nfd, c.pidfd, c.pid, err);
      close(nfd);
    }
    ctx_free(&c);
    return r;
  }
  /* foreground: unlock the state dir so kill/state work meanwhile */
  flock(c.statefd, LOCK_UN);
  /* signals forwarded, the terminal attached, notify messages passed on */
  struct sp_foreground f = {.pidfd = c.pidfd, .forward = &set, .master = c.pty_master,
                            .notify_fd = nfd, .notify_pid = c.pid};
  int status = sp_foreground_wait(&f);
  SP_MARK("exited");
  if (nfd >= 0)
    close(nfd);
  close(c.pidfd);
  c.pidfd = -1;
  /* the container is gone: remove it as `delete` would */
  flock(c.statefd, LOCK_EX);
  c.claimed = true;
  c.cg_created = true;
  char *stopped = has_hooks(&c.spec, SP_HOOK_POSTSTOP)
                      ? sp_hooks_state_json(c.statefd, o->id, SP_STATUS_STOPPED)
                      : NULL;
  ctx_cleanup(&c);
  SP_MARK("cleaned");
  sp_hooks_run_warn(&c.spec, SP_HOOK_POSTSTOP, stopped, o->id);
  free(stopped);
  ctx_free(&c);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return status;
}
