/* Unit tests for the limits of src/cgroup on this host: linux.resources
 * written into a cgroup the test makes below its own (and nothing else),
 * read back, updated, refused by checkBeforeUpdate; freeze and thaw; the
 * stats object; the disabled manager. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/cgroup/cgroup_internal.h"
#include "sprout/cgroup.h"
#include "sprout/util.h"

static enum sp_cgroup_mode host_mode(void) {
  enum sp_cgroup_mode m;
  struct sp_error err = {0};
  ck_assert_msg(sp_cgroup_detect(NULL, &m, &err) == 0, "%s", err.msg);
  return m;
}

static void resolve_ok(enum sp_cgroup_mode mode, const char *path, const char *id,
                       struct sp_cgroup *cg) {
  struct sp_error err = {0};
  ck_assert_msg(sp_cgroup_resolve(mode, path, id, cg, &err) == 0, "%s: %s", path, err.msg);
}

static bool can_write_cgroups(void) {
  enum sp_cgroup_mode m = host_mode();
  if (geteuid() != 0 || m == SP_CGROUP_DISABLED || access("/sys/fs/cgroup", W_OK) < 0) {
    fprintf(stderr, "test_cgroup_limits: not root with writable cgroups: skipped\n");
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

/* On this host: limits written into a container cgroup made for the test,
 * read back; update; checkBeforeUpdate; freeze; stats; destroy. */
START_TEST(test_apply_cycle) {
  if (!can_write_cgroups())
    return;
  enum sp_cgroup_mode mode = host_mode();
  struct sp_cgroup cg;
  struct sp_error err = {0};
  char rel[64];
  snprintf(rel, sizeof rel, "sprout-unit-apply-%d", (int)getpid());
  resolve_ok(mode, rel, "c1", &cg);
  ck_assert_msg(sp_cgroup_create(&cg, &err) == 0, "%s", err.msg);

  struct sp_resources r;
  memset(&r, 0, sizeof r);
  r.has_memory = r.memory.has_limit = true;
  r.memory.limit = 64 << 20;
  r.has_pids = r.has_pids_limit = true;
  r.pids_limit = 17;
  ck_assert_msg(sp_cgroup_apply(&cg, &r, ".linux.resources", false, &err) == 0, "%s", err.msg);
  bool v2 = mode == SP_CGROUP_V2;
  const char *mem = v2 ? sp_cgroup_dir(&cg, NULL) : sp_cg_v1_dir(&cg, "memory");
  const char *pids = v2 ? sp_cgroup_dir(&cg, NULL) : sp_cg_v1_dir(&cg, "pids");
  uint64_t v;
  ck_assert_int_eq(sp_cg_read_u64(mem, v2 ? "memory.max" : "memory.limit_in_bytes", &v), 0);
  ck_assert_uint_eq(v, 64 << 20);
  ck_assert_int_eq(sp_cg_read_u64(pids, "pids.max", &v), 0);
  ck_assert_uint_eq(v, 17);
  if (!v2 && sp_cg_v1_dir(&cg, "devices")) {
    char *list = NULL;
    ck_assert_int_eq(sp_cg_read(sp_cg_v1_dir(&cg, "devices"), "devices.list", &list), 0);
    ck_assert_msg(strstr(list, "c 1:3 rwm") && !strstr(list, "a *:* rwm"), "%s", list);
    free(list);
  }

  /* update: only what is given changes */
  memset(&r, 0, sizeof r);
  r.has_pids = r.has_pids_limit = true;
  r.pids_limit = -1;
  ck_assert_msg(sp_cgroup_apply(&cg, &r, "", true, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(sp_cg_read_u64(pids, "pids.max", &v), 0);
  ck_assert_uint_eq(v, UINT64_MAX);
  ck_assert_int_eq(sp_cg_read_u64(mem, v2 ? "memory.max" : "memory.limit_in_bytes", &v), 0);
  ck_assert_uint_eq(v, 64 << 20);

  /* a process in it, then a limit below its usage with checkBeforeUpdate */
  pid_t a = spawn_sleeper();
  ck_assert_msg(sp_cgroup_enter(&cg, a, &err) == 0, "%s", err.msg);
  memset(&r, 0, sizeof r);
  r.has_memory = r.memory.has_limit = r.memory.has_check_before_update = true;
  r.memory.check_before_update = true;
  r.memory.limit = 4096;
  uint64_t usage = 0;
  sp_cg_read_u64(mem, v2 ? "memory.current" : "memory.usage_in_bytes", &usage);
  if (usage > 4096) {
    ck_assert_int_eq(sp_cgroup_apply(&cg, &r, "", true, &err), -1);
    ck_assert_msg(strstr(err.msg, ".memory.limit: 4096 is below the current usage"), "%s",
                  err.msg);
  }

  /* freeze and thaw */
  if (v2 || sp_cg_v1_dir(&cg, "freezer")) {
    ck_assert_msg(sp_cgroup_freeze(&cg, true, &err) == 0, "%s", err.msg);
    char path[64], *st = NULL;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)a);
    ck_assert_int_eq(sp_read_file(path, 4096, &st, NULL, NULL), 0);
    ck_assert_ptr_nonnull(strrchr(st, ')'));
    free(st);
    ck_assert_msg(sp_cgroup_freeze(&cg, false, &err) == 0, "%s", err.msg);
  }

  /* the stats object: valid JSON with the limits */
  sp_json g = sp_json_new(false);
  ck_assert_msg(sp_cgroup_stats(&cg, g, &err) == 0, "%s", err.msg);
  char *json = sp_json_finish(g, NULL);
  ck_assert_ptr_nonnull(json);
  ck_assert_msg(strstr(json, "\"memory\":{") && strstr(json, "\"pids\":{\"current\":1}") &&
                    strstr(json, "\"limit\":67108864"),
                "%s", json);
  free(json);
  uint64_t ooms = 99;
  ck_assert_int_eq(sp_cgroup_oom_kills(&cg, &ooms), 0);
  ck_assert_uint_eq(ooms, 0);

  ck_assert_msg(sp_cgroup_destroy(&cg, &err) == 0, "%s", err.msg);
  int st;
  ck_assert_int_eq(waitpid(a, &st, 0), a);
  sp_cgroup_free(&cg);
}
END_TEST

START_TEST(test_apply_disabled) {
  struct sp_cgroup cg;
  struct sp_error err = {0};
  struct sp_resources r;
  memset(&r, 0, sizeof r);
  r.has_pids = r.has_pids_limit = true;
  r.pids_limit = 5;
  ck_assert_int_eq(sp_cgroup_resolve(SP_CGROUP_DISABLED, NULL, "x", &cg, &err), 0);
  ck_assert_int_eq(sp_cgroup_apply(&cg, &r, ".linux.resources", false, &err), 0);
  ck_assert_int_eq(sp_cgroup_apply(&cg, &r, "", true, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "no cgroup"));
  ck_assert_int_eq(sp_cgroup_freeze(&cg, true, &err), -1);
  sp_cgroup_free(&cg);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("cgroup_limits");
  TCase *tc = tcase_create("host");
  tcase_add_test(tc, test_apply_cycle);
  tcase_add_test(tc, test_apply_disabled);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
