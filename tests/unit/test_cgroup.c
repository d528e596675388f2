/* Unit tests for src/cgroup: mode detection and names, cgroupsPath forms,
 * the state.json form, and a real create/enter/pids/destroy cycle on this
 * host in sub-trees of the test's own (nothing outside them is touched). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/cgroup/cgroup_internal.h"
#include "sprout/cgroup.h"
#include "sprout/util.h"

/* ---- helpers ---------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* This process's cgroup in the hierarchy with controller CTL ("" for
 * cgroup2), straight from /proc/self/cgroup. */
static char *own_cgroup(const char *ctl) {
  char *text = NULL, *save = NULL, *res = NULL;
  ck_assert_int_eq(sp_read_file("/proc/self/cgroup", 1 << 16, &text, NULL, NULL), 0);
  for (char *l = strtok_r(text, "\n", &save); l && !res; l = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(l, ':'), *c2 = strchr(c1 + 1, ':');
    *c2 = '\0';
    if (*ctl ? sp_cg_list_has(c1 + 1, ctl) : c1[1] == '\0')
      res = strdup(c2 + 1);
  }
  free(text);
  return res;
}

/* This process's cgroup for CTL, on v2 the one cgroup. */
static char *own_for(enum sp_cgroup_mode mode, const char *ctl) {
  return own_cgroup(mode == SP_CGROUP_V2 ? "" : ctl);
}

/* Where the hierarchy of CTL is mounted ("" cgroup2). */
static const char *mount_for(enum sp_cgroup_mode mode, const char *ctl) {
  static char buf[64];
  if (mode == SP_CGROUP_V2)
    return "/sys/fs/cgroup";
  if (!*ctl)
    return "/sys/fs/cgroup/unified";
  snprintf(buf, sizeof buf, "/sys/fs/cgroup/%s", ctl);
  return buf;
}

static size_t dir_index(const struct sp_cgroup *cg, const char *ctl) {
  const char *d = sp_cgroup_dir(cg, ctl);
  ck_assert_ptr_nonnull(d);
  for (size_t i = 0; i < cg->dirs_len; i++)
    if (cg->dirs[i] == d)
      return i;
  ck_abort();
  return 0;
}

/* The mode this host's cgroupfs manager picks (the cycle tests use it). */
static enum sp_cgroup_mode host_mode(void) {
  enum sp_cgroup_mode m;
  struct sp_error err = {0};
  ck_assert_msg(sp_cgroup_detect(NULL, &m, &err) == 0, "%s", err.msg);
  return m;
}

static void resolve_ok(enum sp_cgroup_mode mode, const char *path, const char *id,
                       struct sp_cgroup *cg) {
  struct sp_error err = {0};
  ck_assert_msg(sp_cgroup_resolve(mode, path, id, cg, &err) == 0, "%s: %s",
                path ? path : "(null)", err.msg);
  ck_assert_str_eq(err.msg, "");
}

static void resolve_fails(const char *path, const char *want) {
  struct sp_cgroup cg;
  struct sp_error err = {0};
  ck_assert_msg(sp_cgroup_resolve(host_mode(), path, "c1", &cg, &err) == -1,
                "\"%s\" accepted", path);
  ck_assert_msg(strstr(err.msg, want) != NULL, "\"%s\": %s", path, err.msg);
  ck_assert_int_eq(err.code, 0);
  ck_assert_uint_eq(cg.dirs_len, 0);
  ck_assert_ptr_null(cg.dirs);
}

/* ---- modes ---------------------------------------------------------------- */

START_TEST(test_mode_names) {
  static const struct { enum sp_cgroup_mode m; const char *name; } t[] = {
      {SP_CGROUP_V2, "v2"}, {SP_CGROUP_HYBRID, "hybrid"},
      {SP_CGROUP_V1, "v1"}, {SP_CGROUP_DISABLED, "disabled"}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    enum sp_cgroup_mode m = SP_CGROUP_V1;
    ck_assert_str_eq(sp_cgroup_mode_name(t[i].m), t[i].name);
    ck_assert_int_eq(sp_cgroup_mode_from_name(t[i].name, &m), 0);
    ck_assert_int_eq(m, t[i].m);
  }
  enum sp_cgroup_mode m;
  ck_assert_int_eq(sp_cgroup_mode_from_name("V2", &m), -1);
  ck_assert_int_eq(sp_cgroup_mode_from_name("", &m), -1);
  ck_assert_int_eq(sp_cgroup_mode_from_name(NULL, &m), -1);
}
END_TEST

START_TEST(test_detect) {
  struct sp_error err = {0};
  enum sp_cgroup_mode m = SP_CGROUP_V2, host;
  ck_assert_int_eq(sp_cgroup_detect("disabled", &m, &err), 0);
  ck_assert_int_eq(m, SP_CGROUP_DISABLED);

  ck_assert_int_eq(sp_cgroup_detect("x", &m, &err), -1);
  ck_assert_str_eq(err.msg, "--cgroup-manager: unknown manager \"x\" (cgroupfs or disabled)");
  ck_assert_int_eq(sp_cgroup_detect("systemd", &m, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "systemd driver is not supported"));

  /* what statfs says about this host */
  struct statfs root, uni;
  ck_assert_int_eq(statfs("/sys/fs/cgroup", &root), 0);
  if (root.f_type == CGROUP2_SUPER_MAGIC)
    host = SP_CGROUP_V2;
  else if (statfs("/sys/fs/cgroup/unified", &uni) == 0 && uni.f_type == CGROUP2_SUPER_MAGIC)
    host = SP_CGROUP_HYBRID;
  else
    host = SP_CGROUP_V1;
  ck_assert_int_eq(sp_cgroup_detect(NULL, &m, &err), 0);
  ck_assert_int_eq(m, host);
  ck_assert_int_eq(sp_cgroup_detect("cgroupfs", &m, &err), 0);
  ck_assert_int_eq(m, host);
}
END_TEST

/* ---- hierarchy discovery on fixed text ------------------------------------- */

static const char mountinfo[] =
    "22 1 0:5 / /sys rw - sysfs sysfs rw\n"
    "31 22 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
    "33 31 0:30 /outer /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "34 31 0:31 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
    "35 31 0:32 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
    "36 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
    "37 31 0:33 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate\n"
    "38 1 0:29 / /mnt/elsewhere rw - cgroup cgroup rw,cpu,cpuacct\n"
    "39 31 0:34 / /sys/fs/cgroup/with\\040space rw - cgroup cgroup rw,freezer\n";

static const char proc_cgroup[] =
    "9:name=systemd:/init.scope\n"
    "8:pids:/\n"
    "4:memory:/outer/me\n"
    "2:cpuacct,cpu:/a:b\n"
    "0::/u\n";

START_TEST(test_parse_hierarchies) {
  struct sp_cg_hier *h;
  size_t n;
  struct sp_error err = {0};
  ck_assert_int_eq(sp_cg_parse_mountinfo(mountinfo, SP_CGROUP_HYBRID, &h, &n, &err), 0);
  ck_assert_int_eq(sp_cg_fill_own(h, n, proc_cgroup), 0);
  /* primary first (pids, memory), co-mounted and twice-mounted count once,
   * named after controllers, cgroup2 last; outside /sys/fs/cgroup ignored */
  static const char *const want[][3] = {
      {"/sys/fs/cgroup/pids", "pids", "/"},
      {"/sys/fs/cgroup/memory", "memory", "/me"}, /* less the mount root */
      {"/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct", "/a:b"},
      {"/sys/fs/cgroup/with space", "freezer", "/"},
      {"/sys/fs/cgroup/systemd", "name=systemd", "/init.scope"},
      {"/sys/fs/cgroup/unified", "", "/u"},
  };
  ck_assert_uint_eq(n, 6);
  for (size_t i = 0; i < n; i++) {
    ck_assert_str_eq(h[i].mount, want[i][0]);
    ck_assert_str_eq(h[i].controllers, want[i][1]);
    ck_assert_str_eq(h[i].own, want[i][2]);
    ck_assert(h[i].v2 == (i == 5));
  }
  sp_cg_hier_free(h, n);

  ck_assert_int_eq(sp_cg_parse_mountinfo(mountinfo, SP_CGROUP_V1, &h, &n, &err), 0);
  ck_assert_uint_eq(n, 5);
  ck_assert(!h[4].v2);
  sp_cg_hier_free(h, n);

  ck_assert_int_eq(sp_cg_parse_mountinfo(mountinfo, SP_CGROUP_V2, &h, &n, &err), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(h[0].mount, "/sys/fs/cgroup");
  sp_cg_hier_free(h, n);

  ck_assert_int_eq(sp_cg_parse_mountinfo("1 0 0:1 / / rw - ext4 x rw\n", SP_CGROUP_V1,
                                         &h, &n, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "no cgroup v1 hierarchy"));
  ck_assert(sp_cg_same_set("cpu,cpuacct", "cpuacct,cpu"));
  ck_assert(!sp_cg_same_set("cpu", "cpu,cpuacct"));
}
END_TEST

/* ---- path forms ---------------------------------------------------------------- */

START_TEST(test_resolve_absolute) {
  struct sp_cgroup cg;
  struct sp_cg_hier *h;
  size_t n;
  struct sp_error err = {0};
  enum sp_cgroup_mode mode = host_mode();
  if (mode == SP_CGROUP_DISABLED)
    return;
  ck_assert_int_eq(sp_cg_hierarchies(mode, &h, &n, &err), 0);
  resolve_ok(mode, "/a//b/./c/", "c1", &cg);
  ck_assert_str_eq(cg.path, "/a/b/c");
  ck_assert_uint_eq(cg.dirs_len, n);
  for (size_t i = 0; i < n; i++) {
    char want[PATH_MAX];
    snprintf(want, sizeof want, "%s/a/b/c", h[i].mount);
    ck_assert_str_eq(cg.dirs[i], want);
    ck_assert_str_eq(cg.controllers[i], h[i].controllers);
    ck_assert_str_eq(cg.dirs[i] + cg.keep[i], "/c"); /* only the leaf */
  }
  sp_cgroup_free(&cg);
  sp_cg_hier_free(h, n);
}
END_TEST

START_TEST(test_resolve_hybrid_set) {
  struct sp_cgroup cg;
  if (host_mode() != SP_CGROUP_HYBRID)
    return; /* the set of this (hybrid) build host */
  resolve_ok(SP_CGROUP_HYBRID, "/x", "c1", &cg);
  /* every v1 hierarchy of this host once, plus unified, and nothing else */
  const char *mem = sp_cgroup_dir(&cg, "memory");
  ck_assert_ptr_nonnull(mem);
  ck_assert_str_eq(mem, "/sys/fs/cgroup/memory/x");
  ck_assert_str_eq(sp_cgroup_dir(&cg, NULL), "/sys/fs/cgroup/unified/x");
  ck_assert_str_eq(sp_cgroup_dir(&cg, "name=systemd"), "/sys/fs/cgroup/systemd/x");
  ck_assert_str_eq(sp_cgroup_dir(&cg, "cpuacct"), "/sys/fs/cgroup/cpuacct/x");
  ck_assert_str_eq(sp_cgroup_dir(&cg, "hugetlb"), "/sys/fs/cgroup/unified/x");
  ck_assert_ptr_null(sp_cgroup_dir(&cg, "name=nosuch"));
  ck_assert_str_eq(cg.dirs[0], "/sys/fs/cgroup/pids/x"); /* primary first */
  ck_assert_str_eq(cg.dirs[cg.dirs_len - 1], "/sys/fs/cgroup/unified/x");
  for (size_t i = 0; i < cg.dirs_len; i++)
    for (size_t j = i + 1; j < cg.dirs_len; j++)
      ck_assert_str_ne(cg.dirs[i], cg.dirs[j]);
  sp_cgroup_free(&cg);

  resolve_ok(SP_CGROUP_V1, "/x", "c1", &cg);
  ck_assert_ptr_null(sp_cgroup_dir(&cg, NULL));
  for (size_t i = 0; i < cg.dirs_len; i++)
    ck_assert(strncmp(cg.dirs[i], "/sys/fs/cgroup/unified", 22) != 0);
  sp_cgroup_free(&cg);

  resolve_ok(SP_CGROUP_V2, "/x/y", "c1", &cg);
  ck_assert_uint_eq(cg.dirs_len, 1);
  ck_assert_str_eq(cg.dirs[0], "/sys/fs/cgroup/x/y");
  ck_assert_str_eq(sp_cgroup_dir(&cg, "memory"), "/sys/fs/cgroup/x/y");
  sp_cgroup_free(&cg);

  resolve_ok(SP_CGROUP_DISABLED, "/x", "c1", &cg);
  ck_assert_uint_eq(cg.dirs_len, 0);
  ck_assert_int_eq(cg.mode, SP_CGROUP_DISABLED);
  sp_cgroup_free(&cg);
}
END_TEST

START_TEST(test_resolve_relative) {
  struct sp_cgroup cg;
  char want[PATH_MAX];
  enum sp_cgroup_mode mode = host_mode();
  char *mem = own_for(mode, "memory"), *pids = own_for(mode, "pids");
  ck_assert_ptr_nonnull(mem);
  ck_assert_ptr_nonnull(pids);
  resolve_ok(mode, "a/b", "c1", &cg);
  /* under the runtime's own cgroup, per hierarchy */
  snprintf(want, sizeof want, "%s%s/a/b", mount_for(mode, "memory"),
           strcmp(mem, "/") ? mem : "");
  ck_assert_str_eq(sp_cgroup_dir(&cg, "memory"), want);
  size_t m = dir_index(&cg, "memory");
  ck_assert_str_eq(cg.dirs[m] + cg.keep[m], "/b");
  snprintf(want, sizeof want, "%s%s/a/b", mount_for(mode, "pids"),
           strcmp(pids, "/") ? pids : "");
  ck_assert_str_eq(sp_cgroup_dir(&cg, "pids"), want);
  if (mode == SP_CGROUP_HYBRID) {
    char *uni = own_cgroup("");
    snprintf(want, sizeof want, "/sys/fs/cgroup/unified%s/a/b", strcmp(uni, "/") ? uni : "");
    ck_assert_str_eq(sp_cgroup_dir(&cg, NULL), want);
    free(uni);
  }
  snprintf(want, sizeof want, "%s/a/b", strcmp(pids, "/") ? pids : "");
  ck_assert_str_eq(cg.path, want); /* the primary (pids) hierarchy's path */
  sp_cgroup_free(&cg);

  /* default: <id> below our own cgroup, as runc; only the leaf removable */
  for (int k = 0; k < 2; k++) {
    resolve_ok(mode, k ? "" : NULL, "abc", &cg);
    snprintf(want, sizeof want, "%s%s/abc", mount_for(mode, "memory"),
             strcmp(mem, "/") ? mem : "");
    ck_assert_str_eq(sp_cgroup_dir(&cg, "memory"), want);
    for (size_t i = 0; i < cg.dirs_len; i++) {
      ck_assert(ends_with(cg.dirs[i], "/abc"));
      ck_assert(!strstr(cg.dirs[i], "/sprout/"));
      ck_assert_str_eq(cg.dirs[i] + cg.keep[i], "/abc");
    }
    ck_assert(cg.by_id);
    sp_cgroup_free(&cg);
  }
  free(mem);
  free(pids);
}
END_TEST

START_TEST(test_resolve_slice) {
  static const char *const t[][2] = {
      {"system.slice:docker:abc", "/system.slice/docker-abc.scope"},
      {"a-b.slice:p:n", "/a.slice/a-b.slice/p-n.scope"},
      {"a-b-c.slice:p:n", "/a.slice/a-b.slice/a-b-c.slice/p-n.scope"},
      {":crio:x1", "/system.slice/crio-x1.scope"},
      {"-.slice:p:n", "/p-n.scope"},
      {"-:p:n", "/p-n.scope"},
      {"user.slice::n", "/user.slice/n.scope"},
      {"machine.slice:p:sub.slice", "/machine.slice/sub.slice"},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    struct sp_cgroup cg;
    char want[PATH_MAX];
    resolve_ok(host_mode(), t[i][0], "c1", &cg);
    ck_assert_str_eq(cg.path, t[i][1]);
    /* absolute: not under the runtime's own memory cgroup */
    snprintf(want, sizeof want, "%s%s", mount_for(host_mode(), "memory"), t[i][1]);
    ck_assert_str_eq(sp_cgroup_dir(&cg, "memory"), want);
    for (size_t j = 0; j < cg.dirs_len; j++)
      ck_assert_str_eq(cg.dirs[j] + cg.keep[j], strrchr(t[i][1], '/'));
    sp_cgroup_free(&cg);
  }
  resolve_fails("foo:bar:baz", "slice \"foo\" is not a systemd slice name");
  resolve_fails("a--b.slice:p:n", "empty '-'-separated part");
  resolve_fails("-a.slice:p:n", "empty '-'-separated part");
  resolve_fails("a-.slice:p:n", "empty '-'-separated part");
  resolve_fails("system.slice:p:", "non-empty name");
  resolve_fails("system.slice:p:a/b", "no '/'");
  resolve_fails("a/b.slice:p:n", "no '/'");
}
END_TEST

START_TEST(test_resolve_refused) {
  struct sp_cgroup cg;
  struct sp_error err = {0};
  enum sp_cgroup_mode mode = host_mode();
  ck_assert_int_eq(sp_cgroup_resolve(mode, "a/../b", "c1", &cg, &err), -1);
  ck_assert_str_eq(err.msg, ".linux.cgroupsPath: \"..\" is not allowed in \"a/../b\"");
  resolve_fails("..", "\"..\" is not allowed in \"..\"");
  resolve_fails("/x/..", "\"..\" is not allowed");
  resolve_fails("../x", "\"..\" is not allowed");
  resolve_fails("/", "names the root cgroup");
  resolve_fails("//./", "names the root cgroup");
  resolve_fails(".", "names the root cgroup");
  ck_assert_int_eq(sp_cgroup_resolve(mode, NULL, "..", &cg, &err), -1);
  ck_assert_int_eq(sp_cgroup_resolve(mode, NULL, "a/b", &cg, &err), -1);
  ck_assert_int_eq(sp_cgroup_resolve(mode, NULL, NULL, &cg, &err), -1);
  /* a name that merely starts with dots is fine */
  resolve_ok(mode, "/..a/b..", "c1", &cg);
  ck_assert_str_eq(cg.path, "/..a/b..");
  sp_cgroup_free(&cg);
}
END_TEST

START_TEST(test_resolve_no_side_effects) {
  struct sp_cgroup cg;
  char name[64];
  snprintf(name, sizeof name, "sprout-unit-noop-%d/x", (int)getpid());
  resolve_ok(host_mode(), name, "c1", &cg);
  for (size_t i = 0; i < cg.dirs_len; i++) {
    ck_assert(!exists(cg.dirs[i]));
    *strrchr(cg.dirs[i], '/') = '\0';
    ck_assert(!exists(cg.dirs[i]));
  }
  sp_cgroup_free(&cg);
}
END_TEST

/* ---- state.json form ----------------------------------------------------------- */

START_TEST(test_string_roundtrip) {
  static const char *const paths[] = {"/a/b:c\\d/e", "rel/x", NULL, "system.slice:p:n"};
  for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
    struct sp_cgroup cg, back;
    struct sp_error err = {0};
    char *s = NULL, *s2 = NULL;
    resolve_ok(host_mode(), paths[k], "id1", &cg);
    ck_assert_int_eq(sp_cgroup_to_string(&cg, &s), 0);
    ck_assert_ptr_nonnull(strstr(s, "//"));
    ck_assert_msg(sp_cgroup_from_string(host_mode(), s, &back, &err) == 0, "%s: %s",
                  s, err.msg);
    ck_assert_uint_eq(back.dirs_len, cg.dirs_len);
    ck_assert_str_eq(back.path, cg.path);
    for (size_t i = 0; i < cg.dirs_len; i++) {
      ck_assert_str_eq(back.dirs[i], cg.dirs[i]);
      ck_assert_str_eq(back.controllers[i], cg.controllers[i]);
      ck_assert_uint_eq(back.keep[i], cg.keep[i]);
    }
    ck_assert_int_eq(sp_cgroup_to_string(&back, &s2), 0);
    ck_assert_str_eq(s, s2);
    free(s);
    free(s2);
    sp_cgroup_free(&cg);
    sp_cgroup_free(&back);
  }
  struct sp_cgroup cg;
  struct sp_error err = {0};
  char *s = NULL;
  resolve_ok(SP_CGROUP_DISABLED, NULL, "id1", &cg);
  ck_assert_int_eq(sp_cgroup_to_string(&cg, &s), 0);
  ck_assert_str_eq(s, "");
  free(s);
  ck_assert_int_eq(sp_cgroup_from_string(SP_CGROUP_DISABLED, "", &cg, &err), 0);
  ck_assert_uint_eq(cg.dirs_len, 0);
  /* without the "//" marker only the leaf is sprout's */
  char one[PATH_MAX];
  snprintf(one, sizeof one, "%s/a/b", mount_for(host_mode(), "memory"));
  ck_assert_int_eq(sp_cgroup_from_string(host_mode(), one, &cg, &err), 0);
  ck_assert_str_eq(cg.dirs[0] + cg.keep[0], "/b");
  ck_assert_str_eq(cg.path, "/a/b");
  ck_assert_str_eq(cg.controllers[0], host_mode() == SP_CGROUP_V2 ? "" : "memory");
  sp_cgroup_free(&cg);
}
END_TEST

START_TEST(test_string_refused) {
  if (host_mode() == SP_CGROUP_V2)
    return; /* the list below names v1 hierarchies */
  static const char *const bad[] = {
      "/tmp/x",                          /* not a cgroup */
      "/sys/fs/cgroup/memory",           /* a hierarchy's root */
      "/sys/fs/cgroup/memory//",         /* the same */
      "/sys/fs/cgroup/memory/a/../../b", /* a way out */
      "/sys/fs/cgroup/memory/./a",
      "/sys/fs/cgroup/memoryx/a",
      "/sys/fs/cgroup/memory/a:/etc/x",
      "/sys/fs/cgroup/nosuch/a",
      "relative/x",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct sp_cgroup cg;
    struct sp_error err = {0};
    ck_assert_msg(sp_cgroup_from_string(host_mode(), bad[i], &cg, &err) == -1,
                  "\"%s\" accepted", bad[i]);
    ck_assert_ptr_nonnull(strstr(err.msg, "is not a cgroup below a hierarchy"));
    ck_assert_uint_eq(cg.dirs_len, 0);
  }
}
END_TEST

/* ---- a real cycle on this host --------------------------------------------------- */

static bool can_write_cgroups(void) {
  enum sp_cgroup_mode m = host_mode();
  if (geteuid() != 0 || m == SP_CGROUP_DISABLED || access("/sys/fs/cgroup", W_OK) < 0) {
    fprintf(stderr, "test_cgroup: not root with writable cgroups: cycle skipped\n");
    return false;
  }
  return true;
}

static pid_t spawn_sleeper(void) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    for (;;)
      pause();
  }
  return pid;
}

/* The cgroup of PID in the hierarchy of CTL ("" cgroup2). */
static char *cgroup_of(pid_t pid, const char *ctl) {
  char path[64], *text = NULL, *save = NULL, *res = NULL;
  snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
  ck_assert_int_eq(sp_read_file(path, 1 << 16, &text, NULL, NULL), 0);
  for (char *l = strtok_r(text, "\n", &save); l && !res; l = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(l, ':'), *c2 = strchr(c1 + 1, ':');
    *c2 = '\0';
    if (*ctl ? sp_cg_same_set(c1 + 1, ctl) : c1[1] == '\0')
      res = strdup(c2 + 1);
  }
  free(text);
  return res;
}

START_TEST(test_cycle) {
  if (!can_write_cgroups())
    return;
  enum sp_cgroup_mode mode = host_mode();
  struct sp_cgroup cg, stored;
  struct sp_error err = {0};
  char rel[64], *s = NULL;
  snprintf(rel, sizeof rel, "sprout-unit-test-%d/ctr", (int)getpid());
  resolve_ok(mode, rel, "c1", &cg);
  ck_assert_msg(sp_cgroup_create(&cg, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < cg.dirs_len; i++) {
    ck_assert_msg(exists(cg.dirs[i]), "%s missing", cg.dirs[i]);
    /* the parent was made too: both components are sprout's now */
    ck_assert(ends_with(cg.dirs[i] + cg.keep[i], rel));
    ck_assert_int_eq(strlen(cg.dirs[i] + cg.keep[i]), strlen(rel) + 1);
  }
  const char *cpuset = NULL;
  for (size_t i = 0; i < cg.dirs_len; i++)
    if (sp_cg_list_has(cg.controllers[i], "cpuset"))
      cpuset = cg.dirs[i];
  if (cpuset) { /* inherited, or no task could join */
    char path[PATH_MAX], *v = NULL;
    snprintf(path, sizeof path, "%s/cpuset.cpus", cpuset);
    ck_assert_int_eq(sp_read_file(path, 4096, &v, NULL, NULL), 0);
    ck_assert_msg(v[0] != '\n' && v[0] != '\0', "cpuset.cpus empty");
    free(v);
  }

  /* delete is another process: it only has the stored string */
  ck_assert_int_eq(sp_cgroup_to_string(&cg, &s), 0);
  ck_assert_msg(sp_cgroup_from_string(mode, s, &stored, &err) == 0, "%s", err.msg);
  free(s);

  pid_t a = spawn_sleeper(), b = spawn_sleeper();
  ck_assert_msg(sp_cgroup_enter(&cg, a, &err) == 0, "%s", err.msg);
  ck_assert_msg(sp_cgroup_enter(&cg, b, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < cg.dirs_len; i++) {
    char *c = cgroup_of(a, cg.controllers[i]);
    ck_assert_ptr_nonnull(c);
    ck_assert_msg(ends_with(cg.dirs[i], c), "%s not in %s", c, cg.dirs[i]);
    ck_assert(ends_with(c, rel));
    free(c);
  }
  /* the memory cgroup stays below this process's own: accounting kept */
  char *mine = own_cgroup("memory"), *its = cgroup_of(a, "memory");
  if (mine && its && strcmp(mine, "/") != 0)
    ck_assert(strncmp(its, mine, strlen(mine)) == 0);
  free(mine);
  free(its);

  pid_t *pids;
  size_t n;
  ck_assert_msg(sp_cgroup_pids(&cg, &pids, &n, &err) == 0, "%s", err.msg);
  ck_assert_uint_eq(n, 2);
  ck_assert((pids[0] == a && pids[1] == b) || (pids[0] == b && pids[1] == a));
  free(pids);

  /* B moves on into a cgroup of its own below the container's (what a
   * nested manager does): destroy must find it and remove that too */
  char sub[PATH_MAX], procs[PATH_MAX + 16], num[16];
  snprintf(sub, sizeof sub, "%s/nested", cg.dirs[0]);
  ck_assert_int_eq(mkdir(sub, 0755), 0);
  snprintf(procs, sizeof procs, "%s/cgroup.procs", sub);
  snprintf(num, sizeof num, "%d", (int)b);
  ck_assert_int_eq(sp_write_file(procs, num, NULL), 0);

  ck_assert_msg(sp_cgroup_destroy(&stored, &err) == 0, "%s", err.msg);
  int st;
  ck_assert_int_eq(waitpid(a, &st, 0), a);
  ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  ck_assert_int_eq(waitpid(b, &st, 0), b);
  ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  for (size_t i = 0; i < cg.dirs_len; i++) {
    ck_assert_msg(!exists(cg.dirs[i]), "%s left", cg.dirs[i]);
    *strrchr(cg.dirs[i], '/') = '\0';
    ck_assert_msg(!exists(cg.dirs[i]), "parent %s left", cg.dirs[i]);
    *strrchr(cg.dirs[i], '/') = '\0'; /* the runtime's own: kept */
    ck_assert_msg(exists(cg.dirs[i]), "%s removed", cg.dirs[i]);
  }
  /* again: missing is success */
  ck_assert_msg(sp_cgroup_destroy(&stored, &err) == 0, "%s", err.msg);
  sp_cgroup_free(&cg);
  sp_cgroup_free(&stored);
}
END_TEST

/* a create on a v1 or hybrid host makes the cgroup2 directory before the
 * clone and the v1 ones after it: each call makes its own hierarchies
 * only, and both record the parents they made for destroy */
START_TEST(test_create_in_halves) {
  if (!can_write_cgroups())
    return;
  enum sp_cgroup_mode mode = host_mode();
  struct sp_cgroup cg;
  struct sp_error err = {0};
  char rel[64];
  snprintf(rel, sizeof rel, "sprout-unit-half-%d/ctr", (int)getpid());
  resolve_ok(mode, rel, "c1", &cg);
  bool legacy = sp_cgroup_has_legacy(&cg);
  ck_assert(legacy == (mode == SP_CGROUP_HYBRID || mode == SP_CGROUP_V1));
  ck_assert_msg(sp_cgroup_create_in(&cg, SP_CG_UNIFIED, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < cg.dirs_len; i++)
    ck_assert_msg(exists(cg.dirs[i]) == !*cg.controllers[i], "%s after the cgroup2 half",
                  cg.dirs[i]);
  ck_assert_msg(sp_cgroup_create_in(&cg, SP_CG_LEGACY, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < cg.dirs_len; i++) {
    ck_assert_msg(exists(cg.dirs[i]), "%s missing", cg.dirs[i]);
    ck_assert_int_eq(strlen(cg.dirs[i] + cg.keep[i]), strlen(rel) + 1);
  }
  ck_assert_msg(sp_cgroup_destroy(&cg, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < cg.dirs_len; i++) {
    *strrchr(cg.dirs[i], '/') = '\0';
    ck_assert_msg(!exists(cg.dirs[i]), "parent %s left", cg.dirs[i]);
  }
  sp_cgroup_free(&cg);
}
END_TEST

START_TEST(test_cycle_keeps_foreign_parents) {
  if (!can_write_cgroups())
    return;
  enum sp_cgroup_mode mode = host_mode();
  struct sp_cgroup cg, again;
  struct sp_error err = {0};
  char abs[128], parent[64];
  /* an absolute path whose parent exists already: only the leaf goes */
  snprintf(parent, sizeof parent, "sprout-unit-pre-%d", (int)getpid());
  snprintf(abs, sizeof abs, "%s/ctr", parent);
  resolve_ok(mode, parent, "c1", &again);
  ck_assert_msg(sp_cgroup_create(&again, &err) == 0, "%s", err.msg);
  resolve_ok(mode, abs, "c1", &cg);
  ck_assert_msg(sp_cgroup_create(&cg, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(cg.dirs[0] + cg.keep[0], "/ctr");
  ck_assert_msg(sp_cgroup_destroy(&cg, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < cg.dirs_len; i++) {
    ck_assert(!exists(cg.dirs[i]));
    ck_assert(exists(again.dirs[i]));
  }
  ck_assert_msg(sp_cgroup_destroy(&again, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < again.dirs_len; i++)
    ck_assert(!exists(again.dirs[i]));
  sp_cgroup_free(&cg);
  sp_cgroup_free(&again);

  /* an absolute path at the hierarchy roots, made and removed whole (no
   * process is moved there: that would leave this process's accounting) */
  snprintf(abs, sizeof abs, "/sprout-unit-test-%d/a/b", (int)getpid());
  resolve_ok(mode, abs, "c1", &cg);
  ck_assert_msg(sp_cgroup_create(&cg, &err) == 0, "%s", err.msg);
  ck_assert_msg(sp_cgroup_destroy(&cg, &err) == 0, "%s", err.msg);
  for (size_t i = 0; i < cg.dirs_len; i++) {
    char *top = strchr(cg.dirs[i] + sizeof "/sys/fs/cgroup", '/');
    if (mode == SP_CGROUP_V2)
      top = cg.dirs[i] + sizeof "/sys/fs/cgroup" - 1;
    *strchr(top + 1, '/') = '\0';
    ck_assert_msg(!exists(cg.dirs[i]), "%s left", cg.dirs[i]);
  }
  sp_cgroup_free(&cg);
}
END_TEST

START_TEST(test_create_undone) {
  if (!can_write_cgroups())
    return;
  enum sp_cgroup_mode mode = host_mode();
  if (mode != SP_CGROUP_HYBRID && mode != SP_CGROUP_V2)
    return;
  struct sp_cgroup pre, cg;
  struct sp_error err = {0};
  char parent[64], rel[80], path[PATH_MAX];
  /* the cgroup2 parent allows no children: the last hierarchy fails */
  snprintf(parent, sizeof parent, "sprout-unit-fail-%d", (int)getpid());
  snprintf(rel, sizeof rel, "%s/deep/ctr", parent);
  resolve_ok(mode, parent, "c1", &pre);
  const char *v2 = sp_cgroup_dir(&pre, NULL);
  ck_assert_int_eq(sp_mkdir_p(v2, 0755, NULL), 0);
  snprintf(path, sizeof path, "%s/cgroup.max.depth", v2);
  ck_assert_int_eq(sp_write_file(path, "0", NULL), 0);

  resolve_ok(mode, rel, "c1", &cg);
  ck_assert_int_eq(sp_cgroup_create(&cg, &err), -1);
  snprintf(path, sizeof path, "cgroup: mkdir %s/deep", v2);
  ck_assert_msg(strncmp(err.msg, path, strlen(path)) == 0, "%s", err.msg);
  ck_assert_int_ne(err.code, 0);
  for (size_t i = 0; i < cg.dirs_len; i++) { /* nothing of it is left */
    ck_assert(!exists(cg.dirs[i]));
    ck_assert_int_eq(exists(pre.dirs[i]), pre.dirs[i] == v2);
  }
  ck_assert_int_eq(rmdir(v2), 0);
  sp_cgroup_free(&cg);
  sp_cgroup_free(&pre);
}
END_TEST

START_TEST(test_disabled_noop) {
  struct sp_cgroup cg;
  struct sp_error err = {0};
  pid_t *pids = (pid_t *)&err;
  size_t n = 7;
  resolve_ok(SP_CGROUP_DISABLED, NULL, "c1", &cg);
  ck_assert_int_eq(sp_cgroup_create(&cg, &err), 0);
  ck_assert_int_eq(sp_cgroup_enter(&cg, getpid(), &err), 0);
  ck_assert_int_eq(sp_cgroup_pids(&cg, &pids, &n, &err), 0);
  ck_assert_uint_eq(n, 0);
  ck_assert_ptr_null(pids);
  ck_assert_int_eq(sp_cgroup_destroy(&cg, &err), 0);
  sp_cgroup_free(&cg);
}
END_TEST

START_TEST(test_destroy_refuses_non_cgroup) {
  char dir[] = "/tmp/sprout-unit-cg-XXXXXX", leaf[64];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(leaf, sizeof leaf, "%s/leaf", dir);
  ck_assert_int_eq(mkdir(leaf, 0755), 0);
  char *dirs[] = {leaf};
  char *ctl[] = {"memory"};
  size_t keep[] = {strlen(dir)};
  struct sp_cgroup cg = {.mode = SP_CGROUP_V1, .dirs = dirs, .dirs_len = 1,
                         .controllers = ctl, .keep = keep};
  struct sp_error err = {0};
  ck_assert_int_eq(sp_cgroup_destroy(&cg, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "refusing to destroy"));
  ck_assert(exists(leaf));
  rmdir(leaf);
  rmdir(dir);
}
END_TEST

static Suite *cgroup_suite(void) {
  Suite *s = suite_create("cgroup");
  TCase *tc = tcase_create("modes");
  tcase_add_test(tc, test_mode_names);
  tcase_add_test(tc, test_detect);
  tcase_add_test(tc, test_parse_hierarchies);
  suite_add_tcase(s, tc);

  tc = tcase_create("paths");
  tcase_add_test(tc, test_resolve_absolute);
  tcase_add_test(tc, test_resolve_hybrid_set);
  tcase_add_test(tc, test_resolve_relative);
  tcase_add_test(tc, test_resolve_slice);
  tcase_add_test(tc, test_resolve_refused);
  tcase_add_test(tc, test_resolve_no_side_effects);
  tcase_add_test(tc, test_string_roundtrip);
  tcase_add_test(tc, test_string_refused);
  suite_add_tcase(s, tc);

  tc = tcase_create("host");
  tcase_add_test(tc, test_cycle);
  tcase_add_test(tc, test_cycle_keeps_foreign_parents);
  tcase_add_test(tc, test_create_in_halves);
  tcase_add_test(tc, test_create_undone);
  tcase_add_test(tc, test_disabled_noop);
  tcase_add_test(tc, test_destroy_refuses_non_cgroup);
  suite_add_tcase(s, tc);

  return s;
}

int main(void) {
  SRunner *sr = srunner_create(cgroup_suite());
  int failures;
  srunner_run_all(sr, CK_NORMAL);
  failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures ? 1 : 0;
}
