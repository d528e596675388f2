/* Unit tests for src/linux/{selfexe,lsm,sched,security}.c and the procfs
 * mount check: when the runtime binary needs the CVE-2019-5736 re-exec (and
 * that what it re-executes from cannot be written: a detached read-only
 * mount, or a sealed copy without the privilege for one), LSM requests on a host without the LSM, scheduler /
 * I/O priority / affinity in forked children. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sprout/linux.h"
#include "sprout/security.h"
#include "sprout/spec.h"
#include "sprout/util.h"

static int parse(const char *process_extra, const char *linux_json, struct sp_spec *s,
                 struct sp_error *e) {
  char *j = NULL;
  if (asprintf(&j, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}, \"process\": "
                   "{\"cwd\": \"/\", \"args\": [\"sh\"]%s}, \"linux\": %s}",
               process_extra ? process_extra : "", linux_json ? linux_json : "{}") < 0)
    return -1;
  memset(s, 0, sizeof *s);
  int r = sp_spec_parse_buf(j, strlen(j), "config.json", s, e);
  free(j);
  return r;
}

static int wait_child(pid_t pid) {
  int st = 0;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the runtime binary (CVE-2019-5736) ---------------------------------------- */

START_TEST(test_selfexe_decision) {
  /* this test binary is what /proc/self/exe is here */
  struct stat st;
  ck_assert_int_eq(stat("/proc/self/exe", &st), 0);
  struct sp_spec s;
  struct sp_error e = {0};
  ck_assert(!sp_selfexe_sealed());
  /* no user namespace: writable unless on a read-only mount */
  ck_assert_int_eq(parse(NULL, NULL, &s, &e), 0);
  const char *r = sp_selfexe_status(&s);
  ck_assert_msg(strstr(r, "writable") || strstr(r, "on a read-only mount"), "%s", r);
  sp_spec_free(&s);
  if (strstr(r, "on a read-only mount"))
    return; /* a read-only build dir: the userns rules are not reached */
  /* a user namespace that maps neither the owner nor the group */
  char *lin = NULL;
  uint32_t far = (uint32_t)(st.st_uid > 200000 ? 0 : 300000);
  ck_assert_int_ge(asprintf(&lin, "{\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"mount\"}],"
                                  " \"uidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 65536}],"
                                  " \"gidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 65536}]}",
                           far, far),
                   0);
  ck_assert_int_eq(parse(NULL, lin, &s, &e), 0);
  r = sp_selfexe_status(&s);
  if (st.st_mode & S_IWOTH)
    ck_assert_msg(strstr(r, "writable"), "%s", r);
  else
    ck_assert_msg(strstr(r, "no uid or gid"), "%s", r);
  sp_spec_free(&s);
  free(lin);
  /* the owner mapped: it could chmod the binary */
  ck_assert_int_ge(asprintf(&lin, "{\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"mount\"}],"
                                  " \"uidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}],"
                                  " \"gidMappings\": [{\"containerID\": 0, \"hostID\": %u, \"size\": 1}]}",
                           (unsigned)st.st_uid, far),
                   0);
  ck_assert_int_eq(parse(NULL, lin, &s, &e), 0);
  r = sp_selfexe_status(&s);
  ck_assert_msg(strstr(r, "writable"), "%s", r);
  sp_spec_free(&s);
  free(lin);
}
END_TEST

static int selfexe_child_main(const char *mode);

/* After the in-place move: no mapping may still name the binary's path on
 * disk (the kernel only swaps the exe link once none is left), and the
 * moved code and data must still work. */
static int moved_image_check(const char *disk_path) {
  char *maps = NULL;
  size_t len = 0;
  struct sp_error e = {0};
  if (sp_read_file("/proc/self/maps", 1 << 20, &maps, &len, &e) < 0)
    return 95;
  char needle[4200];
  snprintf(needle, sizeof needle, " %s\n", disk_path);
  bool left = strstr(maps, needle) != NULL;
  free(maps);
  if (left)
    return 94;
  struct sp_spec s;
  if (parse(", \"noNewPrivileges\": true", "{\"namespaces\": [{\"type\": \"pid\"}]}", &s, &e) < 0 ||
      !s.process.no_new_privileges)
    return 96;
  sp_spec_free(&s);
  return 0;
}

/* Fork a child that protects this binary through sp_selfexe_protect():
 * "view" moves the running image onto a read-only view (protect returns),
 * "reexec" and "sealed" re-execute it, and main() sees the marker MODE and
 * runs selfexe_child_main(). */
static int reexec_child(const char *mode, bool new_userns) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    /* in a new user namespace there is no CAP_SYS_ADMIN over our mount
     * namespace: no read-only view can be made, only the sealed copy */
    if (new_userns && unshare(CLONE_NEWUSER) < 0)
      _exit(89);
    setenv("SPROUT_TEST_SELFEXE", mode, 1);
    if (!strcmp(mode, "reexec"))
      setenv("SPROUT_SELFEXE_REEXEC", "1", 1);
    char disk[4096] = "";
    if (readlink("/proc/self/exe", disk, sizeof disk - 1) < 0)
      _exit(88);
    struct sp_error e = {0};
    if (sp_selfexe_protect(NULL, &e) == 0 && !strcmp(mode, "view")) {
      int r = selfexe_child_main(mode);
      _exit(r ? r : moved_image_check(disk));
    }
    _exit(90); /* no protection was needed, it failed, or it did not re-execute */
  }
  return wait_child(pid);
}

START_TEST(test_selfexe_view) {
  if (geteuid() != 0)
    return; /* open_tree needs CAP_SYS_ADMIN */
  if (strstr(sp_selfexe_status(NULL), "on a read-only mount"))
    return; /* the build dir is read-only: nothing to protect */
  if (getenv("LD_PRELOAD") && strstr(getenv("LD_PRELOAD"), "vgpreload"))
    return; /* valgrind: its loader maps the image, sprout re-executes */
  int code = reexec_child("view", false);
  ck_assert_msg(code == 0, "moved child: %d (91: not on a read-only mount, 92: writable, "
                "93: the exe is the file on disk, 94: a mapping of the file on disk is "
                "left, 96: the moved image misbehaves, 90: not moved)", code);
}
END_TEST

START_TEST(test_selfexe_reexec_view) {
  if (geteuid() != 0)
    return;
  if (strstr(sp_selfexe_status(NULL), "on a read-only mount"))
    return;
  int code = reexec_child("reexec", false);
  ck_assert_msg(code == 0, "re-executed child: %d (91: not on a read-only mount, 92: "
                "writable, 93: the exe is the file on disk, 90: no re-exec)", code);
}
END_TEST

START_TEST(test_selfexe_reexec_sealed) {
  if (strstr(sp_selfexe_status(NULL), "on a read-only mount"))
    return;
  int code = reexec_child("sealed", true);
  ck_assert_msg(code == 0, "re-executed child: %d (91: not sealed, 92: writable, 89: no "
                "user namespace, 90: no re-exec)", code);
}
END_TEST

/* In the re-executed child: /proc/self/exe must be a read-only view of the
 * binary ("view") or a sealed copy ("sealed"), and refuse writes. */
static int selfexe_child_main(const char *mode) {
  if (!strcmp(mode, "sealed") ? !sp_selfexe_sealed()
                              : !strstr(sp_selfexe_status(NULL), "on a read-only mount"))
    return 91;
  int fd = open("/proc/self/exe", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = write(fd, "x", 1);
    close(fd);
    if (n == 1)
      return 92;
  } else if (errno != EROFS && errno != ETXTBSY) {
    return 92; /* while we run it: busy; and the mount is read-only */
  }
  /* the view is of the file itself, on a mount nobody can look up: the
   * link does not name the path on disk */
  char buf[4096] = "";
  if (strcmp(mode, "sealed") && readlink("/proc/self/exe", buf, sizeof buf - 1) > 1)
    return 93;
  return 0;
}

/* ---- LSM --------------------------------------------------------------------- */

START_TEST(test_lsm_refused_when_off) {
  unsigned on = sp_lsm_enabled();
  struct sp_spec s;
  struct sp_error e = {0};
  ck_assert_int_eq(parse(", \"apparmorProfile\": \"sprout-x\"", NULL, &s, &e), 0);
  int r = sp_lsm_check(&s, &s.process, &e);
  if (on & SP_LSM_APPARMOR)
    ck_assert_int_eq(r, 0);
  else
    ck_assert_msg(r < 0 && strstr(e.msg, ".process.apparmorProfile") &&
                      strstr(e.msg, "AppArmor is not enabled"),
                  "%s", e.msg);
  sp_spec_free(&s);
  ck_assert_int_eq(parse(", \"selinuxLabel\": \"system_u:system_r:container_t:s0\"",
                         "{\"mountLabel\": \"system_u:object_r:container_file_t:s0\"}", &s, &e),
                   0);
  r = sp_lsm_check(&s, &s.process, &e);
  if (on & SP_LSM_SELINUX)
    ck_assert_int_eq(r, 0);
  else
    ck_assert_msg(r < 0 && strstr(e.msg, ".process.selinuxLabel") &&
                      strstr(e.msg, "SELinux is not enabled"),
                  "%s", e.msg);
  sp_spec_free(&s);
  /* nothing asked: nothing to refuse */
  ck_assert_int_eq(parse(NULL, NULL, &s, &e), 0);
  ck_assert_int_eq(sp_lsm_check(&s, &s.process, &e), 0);
  ck_assert_int_eq(sp_lsm_exec_attrs(&s.process, &e), 0);
  sp_spec_free(&s);
  if (!(on & SP_LSM_SELINUX))
    ck_assert_ptr_null(sp_lsm_mount_data("mode=755", "system_u:object_r:x:s0", "tmpfs"));
  ck_assert_ptr_null(sp_lsm_mount_data("mode=755", NULL, "tmpfs"));
  ck_assert_ptr_null(sp_lsm_mount_data(NULL, "l", "proc"));
}
END_TEST

/* ---- scheduling ----------------------------------------------------------------- */

START_TEST(test_sched_apply) {
  if (geteuid() != 0)
    return;
  pid_t pid = fork();
  if (pid == 0) {
    struct sp_spec s;
    struct sp_error e = {0};
    if (parse(", \"scheduler\": {\"policy\": \"SCHED_BATCH\", \"nice\": 5}, \"ioPriority\": "
              "{\"class\": \"IOPRIO_CLASS_IDLE\"}",
              NULL, &s, &e) < 0)
      _exit(10);
    if (sp_sched_apply(&s.process, &e) < 0)
      _exit(11);
    if (sched_getscheduler(0) != SCHED_BATCH)
      _exit(12);
    errno = 0;
    if (getpriority(PRIO_PROCESS, 0) != 5)
      _exit(13);
    long io = syscall(SYS_ioprio_get, 1, 0);
    if (io != (3 << 13))
      _exit(14);
    _exit(0);
  }
  ck_assert_int_eq(wait_child(pid), 0);
}
END_TEST

START_TEST(test_affinity) {
  pid_t pid = fork();
  if (pid == 0) {
    struct sp_error e = {0};
    cpu_set_t set;
    if (sp_affinity_apply("0", &e) < 0)
      _exit(10);
    if (sched_getaffinity(0, sizeof set, &set) < 0 || CPU_COUNT(&set) != 1 || !CPU_ISSET(0, &set))
      _exit(11);
    if (sp_affinity_apply(NULL, &e) < 0)
      _exit(12);
    if (sched_getaffinity(0, sizeof set, &set) < 0 ||
        CPU_COUNT(&set) != (int)sysconf(_SC_NPROCESSORS_ONLN))
      _exit(13);
    if (sp_affinity_apply("4000", &e) == 0) /* no such CPU */
      _exit(14);
    if (!strstr(e.msg, "4000"))
      _exit(15);
    _exit(0);
  }
  ck_assert_int_eq(wait_child(pid), 0);
}
END_TEST

/* ---- mounts onto procfs -------------------------------------------------------------- */

START_TEST(test_procfs_mount_check) {
  struct sp_mount bind = {.destination = "/x", .type = "bind", .bind = true};
  struct sp_mount proc = {.destination = "/proc", .type = "proc"};
  struct sp_error e = {0};
  int fd = open("/proc/self/oom_score_adj", O_PATH | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(sp_procfs_mount_check(fd, "", &bind, &e), -1);
  ck_assert_msg(strstr(e.msg, "inside /proc"), "%s", e.msg);
  close(fd);
  fd = open("/proc", O_PATH | O_CLOEXEC);
  ck_assert_int_eq(sp_procfs_mount_check(fd, "", &proc, &e), 0);
  ck_assert_int_eq(sp_procfs_mount_check(fd, "", &bind, &e), -1);
  struct sp_mount tmpfs = {.destination = "/proc/x", .type = "tmpfs"};
  ck_assert_int_eq(sp_procfs_mount_check(fd, "", &tmpfs, &e), 0);
  close(fd);
  fd = open("/proc/cpuinfo", O_PATH | O_CLOEXEC);
  ck_assert_int_eq(sp_procfs_mount_check(fd, "", &bind, &e), 0); /* lxcfs */
  close(fd);
  fd = open("/tmp", O_PATH | O_CLOEXEC);
  ck_assert_int_eq(sp_procfs_mount_check(fd, "", &bind, &e), 0);
  close(fd);
}
END_TEST

static Suite *security_suite(void) {
  Suite *s = suite_create("security");
  TCase *tc = tcase_create("selfexe");
  tcase_add_test(tc, test_selfexe_decision);
  tcase_add_test(tc, test_selfexe_view);
  tcase_add_test(tc, test_selfexe_reexec_view);
  tcase_add_test(tc, test_selfexe_reexec_sealed);
  suite_add_tcase(s, tc);
  tc = tcase_create("lsm");
  tcase_add_test(tc, test_lsm_refused_when_off);
  suite_add_tcase(s, tc);
  tc = tcase_create("sched");
  tcase_add_test(tc, test_sched_apply);
  tcase_add_test(tc, test_affinity);
  suite_add_tcase(s, tc);
  tc = tcase_create("procfs");
  tcase_add_test(tc, test_procfs_mount_check);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  /* the re-executed child of test_selfexe_reexec_view / _sealed */
  if (getenv("SPROUT_TEST_SELFEXE")) /* "view" must not come here: it moves, not re-executes */
    return strcmp(getenv("SPROUT_TEST_SELFEXE"), "view") ? selfexe_child_main(getenv("SPROUT_TEST_SELFEXE")) : 90;
  SRunner *sr = srunner_create(security_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
