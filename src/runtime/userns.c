/* User namespaces and rootless operation: the id maps (directly, or through
 * newuidmap/newgidmap for an unprivileged caller), the default state root
 * of an unprivileged user, the cgroups it may use, the helper that joins
 * path namespaces before a new user namespace is made, and a time
 * namespace owned by the container's user namespace. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#include "sprout/hooks.h"
#include "sprout/linux.h"
#include "sprout/state.h"
#include "sprout/userns.h"
#include "sprout/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

bool sp_rootless_active(enum sp_rootless mode) {
  if (mode == SP_ROOTLESS_TRUE)
    return true;
  if (mode == SP_ROOTLESS_FALSE)
    return false;
  return geteuid() != 0;
}

/* ---- state root -------------------------------------------------------- */

int sp_state_root_default(char **out, struct sp_error *err) {
  *out = NULL;
  if (geteuid() == 0) {
    *out = strdup(SP_DEFAULT_ROOT);
    return *out ? 0 : sp_error_errno(err, ENOMEM, "state root");
  }
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  if (xdg && xdg[0] == '/') {
    *out = sp_path_join(xdg, "sprout");
    return *out ? 0 : sp_error_errno(err, ENOMEM, "state root");
  }
  /* /run/sprout, if this user can use it (or create it) */
  if (access(SP_DEFAULT_ROOT, W_OK | X_OK) == 0 ||
      (access(SP_DEFAULT_ROOT, F_OK) < 0 && errno == ENOENT &&
       access("/run", W_OK | X_OK) == 0)) {
    *out = strdup(SP_DEFAULT_ROOT);
    return *out ? 0 : sp_error_errno(err, ENOMEM, "state root");
  }
  return sp_error_set(err, EACCES,
                      "no state directory for uid %u: XDG_RUNTIME_DIR is not set and "
                      SP_DEFAULT_ROOT " is not writable (set XDG_RUNTIME_DIR or pass "
                      "--root DIR)", (unsigned)geteuid());
}

/* ---- cgroups ----------------------------------------------------------- */

void sp_rootless_cgroup_filter(struct sp_cgroup *cg) {
  size_t o = 0;
  for (size_t i = 0; i < cg->dirs_len; i++) {
    /* the deepest directory that exists already: sprout creates below it */
    char *parent = strndup(cg->dirs[i], cg->keep ? cg->keep[i] : 0);
    bool ok = parent && parent[0] && access(parent, W_OK | X_OK) == 0;
    if (ok) {
      cg->dirs[o] = cg->dirs[i];
      if (cg->controllers)
        cg->controllers[o] = cg->controllers[i];
      if (cg->keep)
        cg->keep[o] = cg->keep[i];
      o++;
    } else {
      sp_log(SP_LOG_DEBUG, "rootless: cgroup %s (%s) is not delegated to uid %u: skipped",
             cg->dirs[i], cg->controllers && cg->controllers[i][0] ? cg->controllers[i]
                                                                    : "cgroup2",
             (unsigned)geteuid());
      free(cg->dirs[i]);
      if (cg->controllers)
        free(cg->controllers[i]);
    }
    free(parent);
  }
  cg->dirs_len = o;
  if (o == 0) {
    sp_log(SP_LOG_DEBUG, "rootless: no cgroup hierarchy is delegated: cgroups disabled");
    cg->mode = SP_CGROUP_DISABLED;
  }
}

/* ---- id maps ----------------------------------------------------------- */

static bool self_only(const struct sp_idmap *m, size_t n, unsigned id) {
  return n == 1 && m[0].size == 1 && m[0].host_id == id;
}

static int write_proc(pid_t pid, const char *file, const char *data,
                      struct sp_error *err) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return sp_error_sys(err, "open %s", path);
  ssize_t w = write(fd, data, strlen(data));
  int e = errno;
  close(fd);
  if (w < 0)
    return sp_error_errno(err, e, "write \"%s\" to %s", data, path);
  return 0;
}

static char *map_text(const struct sp_idmap *m, size_t n) {
  struct sp_buf b = {0};
  for (size_t i = 0; i < n; i++)
    sp_buf_printf(&b, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
  if (sp_buf_append(&b, "", 1) < 0) {
    sp_buf_free(&b);
    return NULL;
  }
  return b.data;
}

/* newuidmap / newgidmap: PATH first, then where Debian installs them. */
static char *find_helper(const char *name) {
  const char *path = getenv("PATH");
  char *copy = strdup(path && *path ? path : "/usr/bin:/bin"), *save = NULL;
  for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
    if (d[0] != '/')
      continue;
    char *cand = sp_path_join(d, name);
    if (cand && access(cand, X_OK) == 0) {
      free(copy);
      return cand;
    }
    free(cand);
  }
  free(copy);
  char *dflt = sp_path_join("/usr/bin", name);
  if (dflt && access(dflt, X_OK) == 0)
    return dflt;
  free(dflt);
  return NULL;
}

static int map_with_helper(pid_t pid, const char *name, const char *key,
                           const struct sp_idmap *m, size_t n, struct sp_error *err) {
  char *exe = find_helper(name);
  if (!exe)
    return sp_error_set(err, ENOENT,
                        "%s: mapping ids other than your own needs %s (Debian package "
                        "uidmap) and entries in /etc/sub%cid", key, name,
                        name[3] == 'u' ? 'u' : 'g');
  size_t argc = 2 + 3 * n;
  char **argv = calloc(argc + 1, sizeof *argv);
  char (*nums)[16] = calloc(1 + 3 * n, sizeof *nums);
  int r = -1;
  if (!argv || !nums) {
    sp_error_errno(err, ENOMEM, "%s", name);
    goto out;
  }
  argv[0] = (char *)name;
  snprintf(nums[0], sizeof nums[0], "%d", (int)pid);
  argv[1] = nums[0];
  for (size_t i = 0; i < n; i++) {
    snprintf(nums[1 + 3 * i], 16, "%u", m[i].container_id);
    snprintf(nums[2 + 3 * i], 16, "%u", m[i].host_id);
    snprintf(nums[3 + 3 * i], 16, "%u", m[i].size);
    for (int k = 0; k < 3; k++)
      argv[2 + 3 * i + (size_t)k] = nums[1 + 3 * i + (size_t)k];
  }
  struct sp_hook h = {.path = exe, .args = argv, .args_len = argc};
  char what[128];
  snprintf(what, sizeof what, "%s (%s)", key, name);
  r = sp_program_run(&h, what, NULL, err);
out:
  free(argv);
  free(nums);
  free(exe);
  return r;
}

int sp_userns_map(pid_t pid, const struct sp_spec *spec, struct sp_error *err) {
  const struct sp_linux *l = &spec->linux_;
  if (geteuid() == 0)
    return sp_idmap_write(pid, spec, err);
  bool uid_self = self_only(l->uid_mappings, l->uid_mappings_len, (unsigned)geteuid());
  bool gid_self = self_only(l->gid_mappings, l->gid_mappings_len, (unsigned)getegid());
  if (l->uid_mappings_len) {
    if (uid_self) {
      char *t = map_text(l->uid_mappings, l->uid_mappings_len);
      int r = t ? write_proc(pid, "uid_map", t, err) : sp_error_errno(err, ENOMEM, "uid_map");
      free(t);
      if (r < 0)
        return sp_error_prefix(err, ".linux.uidMappings");
    } else if (map_with_helper(pid, "newuidmap", ".linux.uidMappings", l->uid_mappings,
                               l->uid_mappings_len, err) < 0) {
      return -1;
    }
  }
  if (l->gid_mappings_len) {
    if (gid_self) {
      /* an unprivileged gid_map write needs setgroups denied first (and
       * then the container cannot call setgroups: additionalGids fail) */
      if (write_proc(pid, "setgroups", "deny", err) < 0)
        return sp_error_prefix(err, ".linux.gidMappings");
      char *t = map_text(l->gid_mappings, l->gid_mappings_len);
      int r = t ? write_proc(pid, "gid_map", t, err) : sp_error_errno(err, ENOMEM, "gid_map");
      free(t);
      if (r < 0)
        return sp_error_prefix(err, ".linux.gidMappings");
    } else if (map_with_helper(pid, "newgidmap", ".linux.gidMappings", l->gid_mappings,
                               l->gid_mappings_len, err) < 0) {
      return -1;
    }
  }
  return 0;
}

/* ---- joins before a new user namespace ---------------------------------- */

bool sp_userns_needs_helper(unsigned long flags, const int fds[SP_NS_COUNT]) {
  if (!(flags & CLONE_NEWUSER))
    return false;
  static const enum sp_ns_type joined[] = {SP_NS_NETWORK, SP_NS_MOUNT, SP_NS_IPC,
                                           SP_NS_UTS, SP_NS_CGROUP};
  for (size_t i = 0; i < sizeof joined / sizeof joined[0]; i++)
    if (fds[joined[i]] >= 0)
      return true;
  return false;
}

static pid_t pidfd_pid(int pidfd) {
  char path[64], line[128];
  snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd);
  FILE *f = fopen(path, "re");
  pid_t pid = -1;
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Pid: %d", &pid) == 1)
      break;
  fclose(f);
  return pid;
}

/* One message: TEXT and, when FD >= 0, the fd (SCM_RIGHTS). */
static void send_fd(int sock, const char *text, int fd) {
  struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text) + 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
  if (fd >= 0) {
    memset(&u, 0, sizeof u);
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR)
    ;
}

static int recv_fd(int sock, char *text, size_t size, int *fd) {
  struct iovec iov = {.iov_base = text, .iov_len = size - 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
  *fd = -1;
  ssize_t n;
  while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
    ;
  if (n <= 0)
    return -1;
  text[n] = '\0';
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy(fd, CMSG_DATA(c), sizeof *fd);
  return 0;
}

pid_t sp_clone_after_joins(unsigned long flags, int fds[SP_NS_COUNT], int *pidfd,
                           struct sp_error *err) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return sp_error_sys(err, "socketpair");
  pid_t helper = fork();
  if (helper < 0) {
    close(sv[0]);
    close(sv[1]);
    return sp_error_sys(err, "fork namespace helper");
  }
  if (helper == 0) {
    close(sv[0]);
    struct sp_error e = {0};
    int fd = -1;
    if (sp_ns_join(fds, true, &e) < 0) {
      sp_error_prefix(&e, "before creating the user namespace");
      send_fd(sv[1], e.msg, -1);
      _exit(1);
    }
    struct clone_args ca = {.flags = flags | CLONE_PIDFD | CLONE_PARENT,
                            .pidfd = (uint64_t)(uintptr_t)&fd,
                            /* CLONE_PARENT: the helper's own (SIGCHLD) */
                            .exit_signal = 0};
    pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    if (pid == 0) {
      close(sv[1]);
      return 0; /* the init */
    }
    if (pid < 0) {
      sp_error_sys(&e, "clone3 into new namespaces");
      send_fd(sv[1], e.msg, -1);
      _exit(1);
    }
    send_fd(sv[1], "", fd);
    _exit(0);
  }
  close(sv[1]);
  char text[SP_ERROR_MAX];
  int fd = -1;
  int r = recv_fd(sv[0], text, sizeof text, &fd);
  close(sv[0]);
  int status;
  while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
    ;
  if (r < 0)
    return sp_error_set(err, EPIPE, "namespace helper died before it cloned the init");
  if (fd < 0)
    return sp_error_set(err, 0, "%s", text);
  pid_t pid = pidfd_pid(fd);
  if (pid <= 0) {
    close(fd);
    return sp_error_set(err, ESRCH, "container init: no pid for its pidfd");
  }
  *pidfd = fd;
  return pid;
}

/* ---- time namespace ------------------------------------------------------ */

int sp_timens_enter_new(const struct sp_spec *spec, struct sp_error *err) {
  /* after the uid change the init is not dumpable: its /proc/self files
   * belong to the host's root, and timens_offsets could not be opened */
  int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
  int r = sp_timens_prepare(spec, err);
  prctl(PR_SET_DUMPABLE, dumpable > 0 ? dumpable : 0, 0, 0, 0);
  if (r < 0)
    return -1;
  int fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return sp_error_sys(err, "open /proc/self/ns/time_for_children");
  r = setns(fd, CLONE_NEWTIME);
  int e = errno;
  close(fd);
  if (r < 0)
    return sp_error_errno(err, e, "enter the new time namespace");
  return 0;
}

/* ---- host ids ------------------------------------------------------------ */

static uint32_t host_of(const struct sp_spec *spec, const struct sp_idmap *m, size_t n,
                        uint32_t id, bool *found) {
  *found = false;
  if (!(sp_ns_new_flags(spec) & CLONE_NEWUSER))
    return 0;
  for (size_t i = 0; i < n; i++)
    if (id >= m[i].container_id && id - m[i].container_id < m[i].size) {
      *found = true;
      return m[i].host_id + (id - m[i].container_id);
    }
  return 0;
}

uid_t sp_userns_host_uid(const struct sp_spec *spec, uint32_t id) {
  bool found;
  uint32_t h = host_of(spec, spec->linux_.uid_mappings, spec->linux_.uid_mappings_len, id,
                       &found);
  return found ? (uid_t)h : (uid_t)-1;
}

gid_t sp_userns_host_gid(const struct sp_spec *spec, uint32_t id) {
  bool found;
  uint32_t h = host_of(spec, spec->linux_.gid_mappings, spec->linux_.gid_mappings_len, id,
                       &found);
  return found ? (gid_t)h : (gid_t)-1;
}
