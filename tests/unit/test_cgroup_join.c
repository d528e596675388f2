/* Unit tests for src/cgroup/join.c, the way into the cgroups without a
 * migration by pid: which files are prepared, when the preparation covers
 * every hierarchy, and what the child writes.  Directories stand in for
 * the hierarchies (a "tasks" file in a v1 one); the real cgroups are
 * tests/integration/cgroup_join.sh's. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sprout/cgroup.h"
#include "sprout/util.h"

static char tmp[64];

static void setup(void) {
  snprintf(tmp, sizeof tmp, "/tmp/sprout-test-join.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void) { sp_rm_rf(tmp); }

/* A stand-in hierarchy NAME below tmp; with a tasks file unless !TASKS. */
static char *hier(const char *name, bool tasks) {
  char *dir = sp_path_join(tmp, name);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  if (tasks) {
    char *f = sp_path_join(dir, "tasks");
    int fd = open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    close(fd);
    free(f);
  }
  return dir;
}

/* A cgroup over DIRS with CONTROLLERS ("" for a cgroup2 directory). */
static struct sp_cgroup cg_of(char **dirs, const char **ctls, size_t n) {
  struct sp_cgroup cg = {.mode = SP_CGROUP_HYBRID, .dirs_len = n};
  cg.dirs = calloc(n, sizeof *cg.dirs);
  cg.controllers = calloc(n, sizeof *cg.controllers);
  for (size_t i = 0; i < n; i++) {
    cg.dirs[i] = dirs[i];
    cg.controllers[i] = strdup(ctls[i]);
  }
  return cg;
}

static char *tasks_of(const char *dir) {
  char *f = sp_path_join(dir, "tasks"), *text = NULL;
  ck_assert_int_eq(sp_read_file(f, 64, &text, NULL, NULL), 0);
  free(f);
  return text;
}

START_TEST(test_hybrid_complete) {
  char *dirs[] = {hier("pids", true), hier("memory", true), hier("unified", false)};
  const char *ctls[] = {"pids", "memory", ""};
  struct sp_cgroup cg = cg_of(dirs, ctls, 3);
  struct sp_cgroup_join j;
  ck_assert_int_eq(sp_cgroup_join_prepare(&cg, SP_CG_ALL, &j), 0);
  ck_assert(j.complete);
  ck_assert_int_ge(j.v2_fd, 0);
  ck_assert_uint_eq(j.tasks_len, 2);
  /* the child writes "0" (itself) to every tasks file */
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    struct sp_error err = {0};
    _exit(sp_cgroup_join_self(&j, &err) == 0 && j.tasks_len == 0 && j.v2_fd == -1 ? 0 : 1);
  }
  int status;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (int i = 0; i < 2; i++) {
    char *t = tasks_of(dirs[i]);
    ck_assert_str_eq(t, "0");
    free(t);
  }
  sp_cgroup_join_close(&j);
  ck_assert_int_eq(j.v2_fd, -1);
  ck_assert_uint_eq(j.tasks_len, 0);
  sp_cgroup_free(&cg);
}
END_TEST

/* a create that makes the v1 directories after the clone: the parent
 * prepares the cgroup2 directory only, the init the tasks files only; each
 * half is complete on its own, and a v1 hierarchy without its directory
 * yet does not stop the first */
START_TEST(test_split_by_hierarchy) {
  char *dirs[] = {hier("pids", true), hier("unified", false), sp_path_join(tmp, "memory")};
  const char *ctls[] = {"pids", "", "memory"};
  struct sp_cgroup cg = cg_of(dirs, ctls, 3);
  struct sp_cgroup_join j;
  ck_assert_int_eq(sp_cgroup_join_prepare(&cg, SP_CG_UNIFIED, &j), 0);
  ck_assert(j.complete);
  ck_assert_int_ge(j.v2_fd, 0);
  ck_assert_uint_eq(j.tasks_len, 0);
  sp_cgroup_join_close(&j);
  /* the v1 half, before and after its last directory exists */
  ck_assert_int_eq(sp_cgroup_join_prepare(&cg, SP_CG_LEGACY, &j), 0);
  ck_assert(!j.complete);
  ck_assert_uint_eq(j.tasks_len, 1);
  sp_cgroup_join_close(&j);
  free(hier("memory", true));
  ck_assert_int_eq(sp_cgroup_join_prepare(&cg, SP_CG_LEGACY, &j), 0);
  ck_assert(j.complete);
  ck_assert_int_eq(j.v2_fd, -1);
  ck_assert_uint_eq(j.tasks_len, 2);
  sp_cgroup_join_close(&j);
  ck_assert(sp_cgroup_has_legacy(&cg));
  sp_cgroup_free(&cg);
}
END_TEST

START_TEST(test_missing_tasks_incomplete) {
  char *dirs[] = {hier("pids", true), hier("cpu", false)};
  const char *ctls[] = {"pids", "cpu"};
  struct sp_cgroup cg = cg_of(dirs, ctls, 2);
  struct sp_cgroup_join j;
  ck_assert_int_eq(sp_cgroup_join_prepare(&cg, SP_CG_ALL, &j), 0);
  /* sp_cgroup_enter has to do the rest */
  ck_assert(!j.complete);
  ck_assert_uint_eq(j.tasks_len, 1);
  ck_assert_int_eq(j.v2_fd, -1);
  sp_cgroup_join_close(&j);
  sp_cgroup_free(&cg);
}
END_TEST

START_TEST(test_v2_only) {
  char *dirs[] = {hier("leaf", false)};
  const char *ctls[] = {""};
  struct sp_cgroup cg = cg_of(dirs, ctls, 1);
  cg.mode = SP_CGROUP_V2;
  struct sp_cgroup_join j;
  ck_assert_int_eq(sp_cgroup_join_prepare(&cg, SP_CG_ALL, &j), 0);
  ck_assert(j.complete);
  ck_assert_int_ge(j.v2_fd, 0);
  ck_assert_uint_eq(j.tasks_len, 0);
  struct stat st;
  ck_assert_int_eq(fstat(j.v2_fd, &st), 0);
  ck_assert(S_ISDIR(st.st_mode));
  ck_assert(!sp_cgroup_has_legacy(&cg));
  ck_assert_int_ne(fcntl(j.v2_fd, F_GETFD) & FD_CLOEXEC, 0);
  sp_cgroup_join_close(&j);
  sp_cgroup_free(&cg);
}
END_TEST

START_TEST(test_nothing_to_join) {
  struct sp_cgroup cg = {.mode = SP_CGROUP_DISABLED};
  struct sp_cgroup_join j;
  ck_assert_int_eq(sp_cgroup_join_prepare(&cg, SP_CG_ALL, &j), -1);
  ck_assert(!j.complete);
  ck_assert_int_eq(j.v2_fd, -1);
  ck_assert_uint_eq(j.tasks_len, 0);
  struct sp_error err = {0};
  ck_assert_int_eq(sp_cgroup_join_self(&j, &err), 0);
  sp_cgroup_join_close(&j);
}
END_TEST

START_TEST(test_write_error_reported) {
  /* a tasks file that refuses the write: the child's error names it */
  char *dirs[] = {hier("pids", true)};
  const char *ctls[] = {"pids"};
  struct sp_cgroup cg = cg_of(dirs, ctls, 1);
  struct sp_cgroup_join j;
  ck_assert_int_eq(sp_cgroup_join_prepare(&cg, SP_CG_ALL, &j), 0);
  ck_assert_uint_eq(j.tasks_len, 1);
  close(j.tasks_fds[0]);
  j.tasks_fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
  struct sp_error err = {0};
  ck_assert_int_eq(sp_cgroup_join_self(&j, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "cgroup"));
  sp_cgroup_join_close(&j);
  sp_cgroup_free(&cg);
}
END_TEST

int main(void) {
  Suite *s = suite_create("cgroup_join");
  TCase *tc = tcase_create("join");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_hybrid_complete);
  tcase_add_test(tc, test_split_by_hierarchy);
  tcase_add_test(tc, test_missing_tasks_incomplete);
  tcase_add_test(tc, test_v2_only);
  tcase_add_test(tc, test_nothing_to_join);
  tcase_add_test(tc, test_write_error_reported);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
