/* Unit tests for src/linux/{caps,rlimit,user,procfs,devices,net}.c.
 *
 * Everything that changes the process (capabilities, uid, rlimits, mount
 * namespace) runs in a fork()ed child, so the test runner itself is never
 * touched: the child reports a message through a pipe and exits 0 when all
 * its checks held.  Tests that need root (mount namespaces, uid switch)
 * pass trivially when not run as root. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sprout/linux.h"
#include "sprout/util.h"

/* ---- child harness ------------------------------------------------------ */

static char child_msg[1024];

/* In the child: record why a check failed; returns 1 for `return cfail(..)`. */
static int cfail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int cfail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(child_msg, sizeof child_msg, fmt, ap);
  va_end(ap);
  return 1;
}

/* Run FN(ARG) in a child: its wait status, its message in MSG. */
static int run_child(int (*fn)(void *), void *arg, char *msg, size_t size) {
  int p[2];
  ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(p[0]);
    child_msg[0] = '\0';
    int r = fn(arg);
    if (write(p[1], child_msg, strlen(child_msg)) < 0)
      r = 2;
    _exit(r);
  }
  close(p[1]);
  size_t got = 0;
  ssize_t n;
  while (got < size - 1 && (n = read(p[0], msg + got, size - 1 - got)) > 0)
    got += (size_t)n;
  msg[got] = '\0';
  close(p[0]);
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  return status;
}

static void assert_child_ok(int status, const char *msg) {
  ck_assert_msg(WIFEXITED(status), "child killed by signal %d (%s)",
                WIFSIGNALED(status) ? WTERMSIG(status) : 0, msg);
  ck_assert_msg(WEXITSTATUS(status) == 0, "child failed (%d): %s", WEXITSTATUS(status), msg);
}

/* Run FN(ARG) in a child; assert it returned 0, showing its message. */
static void in_child(int (*fn)(void *), void *arg) {
  char msg[sizeof child_msg + 1];
  int status = run_child(fn, arg, msg, sizeof msg);
  assert_child_ok(status, msg);
}

/* A test running FN in a child (when ROOT_ONLY, only as root). */
#define CHILD_TEST(name, fn, root_only)                                                    \
  START_TEST(name) {                                                                      \
    if (!(root_only) || geteuid() == 0)                                                   \
      in_child(fn, NULL);                                                                 \
  }                                                                                       \
  END_TEST

/* A CapXxx: line of /proc/self/status. */
static uint64_t status_caps(const char *key) {
  FILE *f = fopen("/proc/self/status", "re");
  if (!f)
    return UINT64_MAX;
  char line[256];
  size_t kl = strlen(key);
  uint64_t v = UINT64_MAX;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
      v = strtoull(line + kl + 1, NULL, 16);
      break;
    }
  fclose(f);
  return v;
}

static int read_small(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return 0;
}

/* Drop CAP from effective (and permitted too when perm) in this process. */
static int drop_cap(cap_value_t cap, bool perm) {
  cap_t c = cap_get_proc();
  if (!c)
    return -1;
  cap_set_flag(c, CAP_EFFECTIVE, 1, &cap, CAP_CLEAR);
  if (perm)
    cap_set_flag(c, CAP_PERMITTED, 1, &cap, CAP_CLEAR);
  int r = cap_set_proc(c);
  cap_free(c);
  return r;
}

/* Run FN(path) in a child, PATH a temp file holding "canary". */
static void with_canary(int (*fn)(void *)) {
  char file[] = "/tmp/sprout-procfs-XXXXXX", msg[sizeof child_msg + 1];
  int fd = mkstemp(file);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(sp_write_all(fd, "canary", 6), 0);
  close(fd);
  int status = run_child(fn, file, msg, sizeof msg);
  unlink(file);
  assert_child_ok(status, msg);
}

#define BIT(c) (UINT64_C(1) << (c))

/* ---- capability names --------------------------------------------------- */

START_TEST(test_cap_from_name) {
  ck_assert_int_eq(sp_cap_from_name("CAP_CHOWN"), CAP_CHOWN);
  ck_assert_int_eq(sp_cap_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  ck_assert_int_eq(sp_cap_from_name("cap_net_raw"), CAP_NET_RAW);
  ck_assert_int_eq(sp_cap_from_name("Cap_Kill"), CAP_KILL);
  ck_assert_int_eq(sp_cap_from_name("CAP_AUDIT_WRITE"), CAP_AUDIT_WRITE);
  ck_assert_int_eq(sp_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
  static const char *const bad[] = {"CAP_FOO", "CHOWN", "chown", "", "CAP_", "12",
                                    "CAP_CHOWN ", " CAP_CHOWN", "CAP_12", "all"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(sp_cap_from_name(bad[i]) == -1, "\"%s\" accepted", bad[i]);
  ck_assert_int_eq(sp_cap_from_name(NULL), -1);
}
END_TEST

/* ---- procfs ------------------------------------------------------------- */

START_TEST(test_is_procfs) {
  int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  ck_assert(sp_is_procfs(fd));
  close(fd);
  fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  ck_assert(sp_is_procfs(fd));
  close(fd);
  fd = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  ck_assert(!sp_is_procfs(fd));
  close(fd);
  ck_assert(!sp_is_procfs(-1));
}
END_TEST

START_TEST(test_procfs_write_refuses_other_paths) {
  static const char *const bad[] = {"/tmp/sprout-x", "/etc/passwd", "proc/self/comm",
                                    "/proc", "/proc/", "/procfoo/x", "/sys/kernel/x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct sp_error err = {0};
    ck_assert_msg(sp_procfs_write(bad[i], "1", &err) == -1, "%s accepted", bad[i]);
    ck_assert_msg(strstr(err.msg, bad[i]) != NULL, "message does not name %s: %s", bad[i],
                  err.msg);
  }
}
END_TEST

static int child_procfs_escape(void *arg) {
  const char *file = arg; /* /tmp/..., holds "canary" */
  char path[PATH_MAX], buf[64];
  struct sp_error err = {0};
  snprintf(path, sizeof path, "/proc/..%s", file);
  if (sp_procfs_write(path, "owned", &err) == 0)
    return cfail("write to %s went through", path);
  if (read_small(file, buf, sizeof buf) < 0 || strcmp(buf, "canary") != 0)
    return cfail("%s changed to \"%s\"", file, buf);
  if (!strstr(err.msg, path))
    return cfail("message does not name the path: %s", err.msg);
  return 0;
}

START_TEST(test_procfs_write_no_escape) { with_canary(child_procfs_escape); }
END_TEST

static int child_procfs_ok(void *arg) {
  (void)arg;
  struct sp_error err = {0};
  char buf[64];
  if (sp_procfs_write("/proc/self/comm", "sprout-probe", &err) < 0)
    return cfail("%s", err.msg);
  if (read_small("/proc/self/comm", buf, sizeof buf) < 0 || strcmp(buf, "sprout-probe\n"))
    return cfail("comm is \"%s\"", buf);
  return 0;
}

CHILD_TEST(test_procfs_write_ok, child_procfs_ok, false)

/* A private mount namespace where / does not propagate back to the host. */
static int private_mntns(void) {
  if (unshare(CLONE_NEWNS) < 0)
    return cfail("unshare(CLONE_NEWNS): %s", strerror(errno));
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return cfail("make / private: %s", strerror(errno));
  return 0;
}

static int child_fake_proc(void *arg) {
  (void)arg;
  struct sp_error err = {0};
  char buf[64];
  if (private_mntns())
    return 1;
  if (mount("tmpfs", "/proc", "tmpfs", 0, "size=64k") < 0)
    return cfail("mount tmpfs on /proc: %s", strerror(errno));
  if (mkdir("/proc/self", 0755) < 0)
    return cfail("mkdir /proc/self: %s", strerror(errno));
  int fd = open("/proc/self/oom_score_adj", O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, "0", 1) != 1)
    return cfail("create fake oom_score_adj: %s", strerror(errno));
  close(fd);
  if (sp_procfs_write("/proc/self/oom_score_adj", "999", &err) == 0)
    return cfail("write to a tmpfs /proc went through");
  if (!strstr(err.msg, "not a procfs"))
    return cfail("unexpected message: %s", err.msg);
  if (read_small("/proc/self/oom_score_adj", buf, sizeof buf) < 0 || strcmp(buf, "0"))
    return cfail("fake file changed to \"%s\"", buf);
  return 0;
}

CHILD_TEST(test_procfs_write_fake_proc, child_fake_proc, true)

static int child_overmount(void *arg) {
  const char *file = arg;
  struct sp_error err = {0};
  char buf[64];
  if (private_mntns())
    return 1;
  /* a regular file over the proc file */
  if (mount(file, "/proc/self/oom_score_adj", NULL, MS_BIND, NULL) < 0)
    return cfail("bind %s over oom_score_adj: %s", file, strerror(errno));
  if (sp_procfs_write("/proc/self/oom_score_adj", "999", &err) == 0)
    return cfail("write through an over-mounted oom_score_adj went through");
  if (read_small(file, buf, sizeof buf) < 0 || strcmp(buf, "canary"))
    return cfail("%s changed to \"%s\"", file, buf);
  if (umount2("/proc/self/oom_score_adj", MNT_DETACH) < 0)
    return cfail("umount: %s", strerror(errno));
  /* another procfs file over it: still a mount crossing */
  if (mount("/proc/self/comm", "/proc/self/oom_score_adj", NULL, MS_BIND, NULL) < 0)
    return cfail("bind comm over oom_score_adj: %s", strerror(errno));
  if (sp_procfs_write("/proc/self/oom_score_adj", "xyz", &err) == 0)
    return cfail("write through a procfs over-mount went through");
  if (read_small("/proc/self/comm", buf, sizeof buf) < 0 || strstr(buf, "xyz"))
    return cfail("comm changed to \"%s\"", buf);
  return 0;
}

START_TEST(test_procfs_write_overmount) {
  if (geteuid() == 0)
    with_canary(child_overmount);
}
END_TEST

/* ---- rlimits ------------------------------------------------------------ */

static int child_rlimits(void *arg) {
  (void)arg;
  struct sp_rlimit rl[] = {
      {.type = "RLIMIT_NOFILE", .resource = RLIMIT_NOFILE, .soft = 1024, .hard = 2048},
      {.type = "RLIMIT_CORE", .resource = RLIMIT_CORE, .soft = 0, .hard = 4096},
  };
  struct sp_process proc = {.rlimits = rl, .rlimits_len = 2, .has_oom_score_adj = true,
                            .oom_score_adj = 123};
  struct sp_error err = {0};
  if (sp_rlimits_apply(&proc, &err) < 0)
    return cfail("%s", err.msg);
  struct rlimit r;
  getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur != 1024 || r.rlim_max != 2048)
    return cfail("RLIMIT_NOFILE is %llu/%llu", (unsigned long long)r.rlim_cur,
                (unsigned long long)r.rlim_max);
  getrlimit(RLIMIT_CORE, &r);
  if (r.rlim_cur != 0 || r.rlim_max != 4096)
    return cfail("RLIMIT_CORE is %llu/%llu", (unsigned long long)r.rlim_cur,
                (unsigned long long)r.rlim_max);
  char buf[32];
  if (read_small("/proc/self/oom_score_adj", buf, sizeof buf) < 0 || strcmp(buf, "123\n"))
    return cfail("oom_score_adj is \"%s\"", buf);
  return 0;
}

CHILD_TEST(test_rlimits_apply, child_rlimits, false)

static int child_rlimit_too_high(void *arg) {
  (void)arg;
  struct sp_error err = {0};
  /* whatever this machine allows: without CAP_SYS_RESOURCE, a lowered hard
   * limit cannot come back up */
  if (drop_cap(CAP_SYS_RESOURCE, false) < 0)
    return cfail("drop CAP_SYS_RESOURCE: %s", strerror(errno));
  struct rlimit low = {1024, 2048};
  if (setrlimit(RLIMIT_NOFILE, &low) < 0)
    return cfail("setrlimit: %s", strerror(errno));
  struct sp_rlimit rl = {.type = "RLIMIT_NOFILE", .resource = RLIMIT_NOFILE,
                         .soft = 4096, .hard = 30000};
  struct sp_process proc = {.rlimits = &rl, .rlimits_len = 1};
  if (sp_rlimits_apply(&proc, &err) == 0)
    return cfail("raising the hard limit went through");
  const char *want = "setrlimit RLIMIT_NOFILE (soft 4096, hard 30000): Operation not permitted";
  if (strncmp(err.msg, want, strlen(want)) != 0 || !strstr(err.msg, "2048") ||
      err.code != EPERM)
    return cfail("unexpected message: %s", err.msg);
  /* soft above hard */
  rl.soft = 2000;
  rl.hard = 1000;
  if (sp_rlimits_apply(&proc, &err) == 0 || !strstr(err.msg, "soft 2000, hard 1000"))
    return cfail("soft > hard: %s", err.msg);
  /* unlimited is spelled out */
  rl.soft = rl.hard = UINT64_MAX;
  if (sp_rlimits_apply(&proc, &err) == 0 || !strstr(err.msg, "hard unlimited"))
    return cfail("unlimited: %s", err.msg);
  return 0;
}

CHILD_TEST(test_rlimit_raise_hard_fails, child_rlimit_too_high, false)

/* ---- capabilities ------------------------------------------------------- */

static char *caps_bnd[] = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
static char *caps_prm[] = {"CAP_CHOWN", "CAP_KILL"};
static char *caps_kill[] = {"CAP_KILL"};

static struct sp_process caps_proc(void) {
  struct sp_process p = {.has_capabilities = true};
  p.capabilities = (struct sp_capabilities){
      .bounding = caps_bnd, .bounding_len = 3, .has_bounding = true,
      .permitted = caps_prm, .permitted_len = 2, .has_permitted = true,
      .effective = caps_kill, .effective_len = 1, .has_effective = true,
      .inheritable = caps_kill, .inheritable_len = 1, .has_inheritable = true,
      .ambient = caps_kill, .ambient_len = 1, .has_ambient = true,
  };
  return p;
}

static int check_caps(uint64_t bnd, uint64_t prm, uint64_t eff, uint64_t inh, uint64_t amb) {
  static const char *const keys[] = {"CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"};
  uint64_t want[] = {bnd, prm, eff, inh, amb};
  for (int i = 0; i < 5; i++) {
    uint64_t got = status_caps(keys[i]);
    if (got != want[i])
      return cfail("%s is %#llx, want %#llx", keys[i], (unsigned long long)got,
                  (unsigned long long)want[i]);
  }
  return 0;
}

static int child_caps_minimal(void *arg) {
  (void)arg;
  struct sp_process p = caps_proc();
  struct sp_error err = {0};
  if (sp_caps_apply(&p, &err) < 0)
    return cfail("%s", err.msg);
  return check_caps(BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
                    BIT(CAP_CHOWN) | BIT(CAP_KILL), BIT(CAP_KILL), BIT(CAP_KILL),
                    BIT(CAP_KILL));
}

CHILD_TEST(test_caps_minimal, child_caps_minimal, true)

static int child_caps_absent(void *arg) {
  (void)arg;
  struct sp_process p = {.has_capabilities = false};
  struct sp_error err = {0};
  if (sp_caps_apply(&p, &err) < 0)
    return cfail("%s", err.msg);
  return check_caps(0, 0, 0, 0, 0);
}

CHILD_TEST(test_caps_absent_drops_all, child_caps_absent, true)

static int child_caps_errors(void *arg) {
  (void)arg;
  struct sp_error err = {0};
  uint64_t bnd = status_caps("CapBnd");
  /* ambient without inheritable: refused before anything changes */
  struct sp_process p = caps_proc();
  p.capabilities.inheritable_len = 0;
  if (sp_caps_apply(&p, &err) == 0)
    return cfail("ambient CAP_KILL without inheritable accepted");
  if (!strstr(err.msg, "CAP_KILL") || !strstr(err.msg, "inheritable"))
    return cfail("ambient message: %s", err.msg);
  if (status_caps("CapBnd") != bnd)
    return cfail("bounding set changed by a refused request");
  /* an unknown name */
  char *unknown[] = {"CAP_CHOWN", "CAP_FLY"};
  p = caps_proc();
  p.capabilities.bounding = unknown;
  p.capabilities.bounding_len = 2;
  if (sp_caps_apply(&p, &err) == 0 || !strstr(err.msg, "\"CAP_FLY\""))
    return cfail("unknown name: %s", err.msg);
  /* effective outside permitted */
  char *eff[] = {"CAP_NET_BIND_SERVICE"};
  p = caps_proc();
  p.capabilities.effective = eff;
  p.capabilities.ambient_len = 0;
  if (sp_caps_apply(&p, &err) == 0 || !strstr(err.msg, "CAP_NET_BIND_SERVICE"))
    return cfail("effective not permitted: %s", err.msg);
  /* inheritable outside the bounding set */
  char *inh[] = {"CAP_SYS_ADMIN"};
  p = caps_proc();
  p.capabilities.inheritable = inh;
  p.capabilities.ambient_len = 0;
  if (sp_caps_apply(&p, &err) == 0 || !strstr(err.msg, "CAP_SYS_ADMIN") ||
      !strstr(err.msg, "bounding"))
    return cfail("inheritable not in bounding: %s", err.msg);
  if (status_caps("CapBnd") != bnd)
    return cfail("bounding set changed by a refused request");
  /* a cap the runtime itself does not hold */
  if (drop_cap(CAP_SYS_RESOURCE, true) < 0)
    return cfail("drop CAP_SYS_RESOURCE: %s", strerror(errno));
  char *res[] = {"CAP_SYS_RESOURCE"};
  p = caps_proc();
  p.capabilities.permitted = res;
  p.capabilities.permitted_len = 1;
  p.capabilities.effective_len = p.capabilities.ambient_len = 0;
  p.capabilities.inheritable_len = 0;
  if (sp_caps_apply(&p, &err) == 0 || !strstr(err.msg, "CAP_SYS_RESOURCE"))
    return cfail("permitted beyond the runtime's: %s", err.msg);
  return 0;
}

CHILD_TEST(test_caps_errors, child_caps_errors, true)

/* ---- user --------------------------------------------------------------- */

struct user_case {
  uint32_t gids[2];
  size_t ngids;
  bool has_umask;
  mode_t umask, want_umask;
};

static int child_user(void *arg) {
  const struct user_case *c = arg;
  struct sp_process p = caps_proc();
  p.capabilities.ambient_len = 0;
  p.capabilities.effective = caps_prm;
  p.capabilities.effective_len = 2;
  p.user = (struct sp_user){.uid = 1000, .gid = 1000, .has_umask = c->has_umask,
                            .umask = c->umask, .additional_gids = (uint32_t *)c->gids,
                            .additional_gids_len = c->ngids};
  struct sp_error err = {0};
  if (sp_user_apply(&p, &err) < 0)
    return cfail("sp_user_apply: %s", err.msg);
  uid_t r, e, s;
  gid_t gr, ge, gs;
  getresuid(&r, &e, &s);
  getresgid(&gr, &ge, &gs);
  if (r != 1000 || e != 1000 || s != 1000 || gr != 1000 || ge != 1000 || gs != 1000)
    return cfail("ids %u/%u/%u %u/%u/%u", r, e, s, gr, ge, gs);
  gid_t groups[8];
  int n = getgroups(8, groups);
  if (n != (int)c->ngids)
    return cfail("%d supplementary groups, want %zu", n, c->ngids);
  for (int i = 0; i < n; i++)
    if (groups[i] != c->gids[i])
      return cfail("group %d is %u", i, groups[i]);
  mode_t m = umask(0);
  if (m != c->want_umask)
    return cfail("umask %04o, want %04o", (unsigned)m, (unsigned)c->want_umask);
  /* the permitted set survived the uid switch; caps re-raise effective */
  if (sp_caps_apply(&p, &err) < 0)
    return cfail("sp_caps_apply after the uid switch: %s", err.msg);
  return check_caps(BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE),
                    BIT(CAP_CHOWN) | BIT(CAP_KILL), BIT(CAP_CHOWN) | BIT(CAP_KILL),
                    BIT(CAP_KILL), 0);
}

START_TEST(test_user_then_caps) {
  if (geteuid() != 0)
    return;
  struct user_case c = {.gids = {1001, 1002}, .ngids = 2, .has_umask = true,
                        .umask = 027, .want_umask = 027};
  in_child(child_user, &c);
  struct user_case d = {.ngids = 0, .has_umask = false, .want_umask = 022};
  in_child(child_user, &d);
}
END_TEST

/* In a user namespace where setgroups is denied (the rootless case):
 * skipped when no groups are asked for, a clear error when some are. */
static int child_setgroups_denied(void *arg) {
  (void)arg;
  struct sp_error err = {0};
  char map[32];
  snprintf(map, sizeof map, "0 %u 1", (unsigned)geteuid());
  if (unshare(CLONE_NEWUSER) < 0 || sp_procfs_write("/proc/self/setgroups", "deny", &err) ||
      sp_procfs_write("/proc/self/uid_map", map, &err) ||
      sp_procfs_write("/proc/self/gid_map", "0 0 1", &err))
    return cfail("user namespace: %s %s", strerror(errno), err.msg);
  struct sp_process p = {.user = {.uid = 0, .gid = 0}};
  if (sp_user_apply(&p, &err) < 0)
    return cfail("no additional gids: %s", err.msg);
  uint32_t gids[] = {0};
  p.user.additional_gids = gids;
  p.user.additional_gids_len = 1;
  if (sp_user_apply(&p, &err) == 0)
    return cfail("setgroups [0] went through with setgroups denied");
  if (!strstr(err.msg, "setgroups [0]") || !strstr(err.msg, "denied"))
    return cfail("unexpected message: %s", err.msg);
  return 0;
}

CHILD_TEST(test_user_setgroups_denied, child_setgroups_denied, true)

/* ---- network ------------------------------------------------------------ */

static int lo_flags(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return -1;
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  int r = ioctl(s, SIOCGIFFLAGS, &ifr);
  close(s);
  return r < 0 ? -1 : ifr.ifr_flags;
}

static int child_loopback(void *arg) {
  (void)arg;
  struct sp_error err = {0};
  if (unshare(CLONE_NEWNET) < 0)
    return cfail("unshare(CLONE_NEWNET): %s", strerror(errno));
  int f = lo_flags();
  if (f < 0 || (f & IFF_UP))
    return cfail("lo in a new namespace: flags %#x", f);
  if (sp_net_loopback_up(&err) < 0)
    return cfail("%s", err.msg);
  f = lo_flags();
  if (f < 0 || !(f & IFF_UP))
    return cfail("lo is not up: flags %#x", f);
  /* idempotent */
  if (sp_net_loopback_up(&err) < 0)
    return cfail("second call: %s", err.msg);
  return 0;
}

CHILD_TEST(test_loopback_up, child_loopback, true)

static int child_loopback_denied(void *arg) {
  (void)arg;
  struct sp_error err = {0};
  if (unshare(CLONE_NEWNET) < 0)
    return cfail("unshare(CLONE_NEWNET): %s", strerror(errno));
  if (drop_cap(CAP_NET_ADMIN, true) < 0)
    return cfail("drop CAP_NET_ADMIN: %s", strerror(errno));
  if (sp_net_loopback_up(&err) == 0)
    return cfail("bringing lo up without CAP_NET_ADMIN went through");
  if (err.code != EPERM || !strstr(err.msg, "lo"))
    return cfail("unexpected error (%d): %s", err.code, err.msg);
  return 0;
}

CHILD_TEST(test_loopback_error, child_loopback_denied, true)

/* ---- devices ------------------------------------------------------------ */

struct dev_case {
  char root[64];
  bool userns;
  bool bind_dev;
  bool symlink_null;
};

static int check_node(const char *root, const char *rel, mode_t type, unsigned maj,
                      unsigned min, mode_t mode, uid_t uid, gid_t gid) {
  char p[PATH_MAX];
  struct stat st;
  snprintf(p, sizeof p, "%s%s", root, rel);
  if (lstat(p, &st) < 0)
    return cfail("%s: %s", rel, strerror(errno));
  if ((st.st_mode & S_IFMT) != type)
    return cfail("%s has type %o", rel, (unsigned)(st.st_mode & S_IFMT));
  if (type != S_IFIFO && (major(st.st_rdev) != maj || minor(st.st_rdev) != min))
    return cfail("%s is %u:%u", rel, major(st.st_rdev), minor(st.st_rdev));
  if (mode != (mode_t)-1 && (st.st_mode & 07777) != mode)
    return cfail("%s has mode %04o", rel, (unsigned)(st.st_mode & 07777));
  if (uid != (uid_t)-1 && (st.st_uid != uid || st.st_gid != gid))
    return cfail("%s is owned by %u:%u", rel, st.st_uid, st.st_gid);
  return 0;
}

static int check_link(const char *root, const char *rel, const char *want) {
  char p[PATH_MAX], buf[PATH_MAX];
  snprintf(p, sizeof p, "%s%s", root, rel);
  ssize_t n = readlink(p, buf, sizeof buf - 1);
  if (n < 0)
    return cfail("readlink %s: %s", rel, strerror(errno));
  buf[n] = '\0';
  if (strcmp(buf, want))
    return cfail("%s -> %s, want %s", rel, buf, want);
  return 0;
}

/* REL is the host's node mounted there: same inode as the host path. */
static int check_bind(const char *root, const char *rel) {
  char p[PATH_MAX];
  struct stat in, host;
  snprintf(p, sizeof p, "%s%s", root, rel);
  if (stat(p, &in) < 0 || stat(rel, &host) < 0)
    return cfail("stat %s: %s", rel, strerror(errno));
  if (in.st_dev != host.st_dev || in.st_ino != host.st_ino)
    return cfail("%s is not a bind mount of the host's node", rel);
  return 0;
}

static int child_devices(void *arg) {
  const struct dev_case *c = arg;
  char dev[PATH_MAX];
  if (private_mntns())
    return 1;
  snprintf(dev, sizeof dev, "%s/dev", c->root);
  if (mount("tmpfs", dev, "tmpfs", 0, "mode=755,size=64k") < 0)
    return cfail("mount tmpfs on %s: %s", dev, strerror(errno));
  if (c->symlink_null) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/dev/null", c->root);
    if (symlink("../canary", p) < 0)
      return cfail("symlink: %s", strerror(errno));
  }
  struct sp_mount mounts[] = {
      {.destination = "/dev", .type = "tmpfs"},
      {.destination = "/dev/pts/", .type = "devpts"},
  };
  if (c->bind_dev) {
    mounts[0].type = "bind";
    mounts[0].bind = true;
  }
  struct sp_device devs[] = {
      {.path = "/dev/null", .type = 'c', .major = 1, .minor = 3, .has_file_mode = true,
       .file_mode = 0600, .has_uid = true, .uid = 1000, .has_gid = true, .gid = 1001},
      {.path = "/dev/sub/dir/myzero", .type = 'c', .major = 1, .minor = 5,
       .has_file_mode = true, .file_mode = 0640},
      {.path = "/dev/myfifo", .type = 'p'},
  };
  if (c->userns) /* bind mounts need the node on the host */
    devs[1] = (struct sp_device){.path = "/dev/full", .type = 'c', .major = 1, .minor = 7};
  struct sp_spec spec = {.mounts = mounts, .mounts_len = 2, .has_linux = true};
  spec.linux_.devices = devs;
  spec.linux_.devices_len = 3;
  int rootfd = open(c->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return cfail("open %s: %s", c->root, strerror(errno));
  struct sp_error err = {0};
  int r = sp_devices_setup(rootfd, &spec, c->userns, &err);
  close(rootfd);
  char buf[64];
  snprintf(dev, sizeof dev, "%s/canary", c->root);
  if (read_small(dev, buf, sizeof buf) < 0 || strcmp(buf, "canary"))
    return cfail("the canary file changed to \"%s\"", buf);
  if (c->symlink_null) {
    if (r == 0)
      return cfail("a symlinked /dev/null was accepted");
    if (!strstr(err.msg, "/dev/null") || !strstr(err.msg, "symlink"))
      return cfail("symlink message: %s", err.msg);
    return check_link(c->root, "/dev/null", "../canary");
  }
  if (r < 0)
    return cfail("sp_devices_setup: %s", err.msg);
  snprintf(dev, sizeof dev, "%s/dev/zero", c->root);
  if (c->bind_dev) /* the host's /dev is what was asked for */
    return access(dev, F_OK) == 0 ? cfail("devices created on a bind-mounted /dev") : 0;
  if (c->userns) /* bind mounts of the host's nodes: the host's modes */
    return check_bind(c->root, "/dev/null") || check_bind(c->root, "/dev/full") ||
           check_node(c->root, "/dev/null", S_IFCHR, 1, 3, (mode_t)-1, (uid_t)-1, 0) ||
           check_node(c->root, "/dev/full", S_IFCHR, 1, 7, (mode_t)-1, (uid_t)-1, 0) ||
           check_node(c->root, "/dev/tty", S_IFCHR, 5, 0, (mode_t)-1, (uid_t)-1, 0) ||
           check_node(c->root, "/dev/myfifo", S_IFIFO, 0, 0, 0666, 0, 0) ||
           check_link(c->root, "/dev/fd", "/proc/self/fd");
  return check_node(c->root, "/dev/null", S_IFCHR, 1, 3, 0600, 1000, 1001) ||
         check_node(c->root, "/dev/zero", S_IFCHR, 1, 5, 0666, 0, 0) ||
         check_node(c->root, "/dev/full", S_IFCHR, 1, 7, 0666, 0, 0) ||
         check_node(c->root, "/dev/random", S_IFCHR, 1, 8, 0666, 0, 0) ||
         check_node(c->root, "/dev/urandom", S_IFCHR, 1, 9, 0666, 0, 0) ||
         check_node(c->root, "/dev/tty", S_IFCHR, 5, 0, 0666, 0, 0) ||
         check_node(c->root, "/dev/sub/dir/myzero", S_IFCHR, 1, 5, 0640, 0, 0) ||
         check_node(c->root, "/dev/myfifo", S_IFIFO, 0, 0, 0666, 0, 0) ||
         check_link(c->root, "/dev/fd", "/proc/self/fd") ||
         check_link(c->root, "/dev/stdin", "/proc/self/fd/0") ||
         check_link(c->root, "/dev/stdout", "/proc/self/fd/1") ||
         check_link(c->root, "/dev/stderr", "/proc/self/fd/2") ||
         check_link(c->root, "/dev/ptmx", "pts/ptmx");
}

#define DEV_TEST(name, ...)                                                                \
  START_TEST(name) { run_devices(&(struct dev_case){__VA_ARGS__}); }                       \
  END_TEST

static void run_devices(struct dev_case *c) {
  if (geteuid() != 0)
    return;
  snprintf(c->root, sizeof c->root, "/tmp/sprout-devices-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(c->root));
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/dev", c->root);
  ck_assert_int_eq(mkdir(p, 0755), 0);
  snprintf(p, sizeof p, "%s/canary", c->root);
  int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(sp_write_all(fd, "canary", 6), 0);
  close(fd);
  char msg[sizeof child_msg + 1];
  int status = run_child(child_devices, c, msg, sizeof msg);
  sp_rm_rf(c->root);
  assert_child_ok(status, msg);
}

DEV_TEST(test_devices_mknod, .userns = false)

DEV_TEST(test_devices_userns_bind, .userns = true)

DEV_TEST(test_devices_symlink_refused, .symlink_null = true)

DEV_TEST(test_devices_bind_dev_untouched, .bind_dev = true)

static void add_case(Suite *s, const char *name, const TTest *const *t, size_t n) {
  TCase *tc = tcase_create(name);
  for (size_t i = 0; i < n; i++)
    tcase_add_test(tc, t[i]);
  suite_add_tcase(s, tc);
}

#define ADD_CASE(s, name, ...)                                                             \
  do {                                                                                    \
    const TTest *const t_[] = {__VA_ARGS__};                                              \
    add_case(s, name, t_, sizeof t_ / sizeof t_[0]);                                      \
  } while (0)

static Suite *linux_suite(void) {
  Suite *s = suite_create("linux");
  ADD_CASE(s, "caps", test_cap_from_name, test_caps_minimal, test_caps_absent_drops_all,
           test_caps_errors);
  ADD_CASE(s, "procfs", test_is_procfs, test_procfs_write_refuses_other_paths,
           test_procfs_write_no_escape, test_procfs_write_ok, test_procfs_write_fake_proc,
           test_procfs_write_overmount);
  ADD_CASE(s, "rlimit", test_rlimits_apply, test_rlimit_raise_hard_fails);
  ADD_CASE(s, "user", test_user_then_caps, test_user_setgroups_denied);
  ADD_CASE(s, "net", test_loopback_up, test_loopback_error);
  ADD_CASE(s, "devices", test_devices_mknod, test_devices_userns_bind,
           test_devices_symlink_refused, test_devices_bind_dev_untouched);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(linux_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
