/* Regressions found by the fuzzers (tests/fuzz), one named test each, and a
 * replay of every fuzz seed and every input that once crashed through the
 * fuzz harnesses themselves (linked in as fuzz_replay_<target>, see
 * tests/fuzz/meson.build), so the harness invariants (no crash, one-line
 * errors, results that make sense) hold in the plain, sanitizer and valgrind
 * runs of the unit suite, not only under libFuzzer.
 *
 * Adding a crash: save the input as tests/fuzz/regressions/<target>/<name>
 * (the replay picks it up) and write a test below that states what the
 * fixed code does with it. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sprout/cgroup.h"
#include "sprout/error.h"
#include "sprout/spec.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

typedef int (*replay_fn)(const uint8_t *data, size_t size);
int fuzz_replay_fuzz_spec(const uint8_t *data, size_t size);
int fuzz_replay_fuzz_process(const uint8_t *data, size_t size);
int fuzz_replay_fuzz_resources(const uint8_t *data, size_t size);
int fuzz_replay_fuzz_seccomp(const uint8_t *data, size_t size);
int fuzz_replay_fuzz_mountopt(const uint8_t *data, size_t size);
int fuzz_replay_fuzz_parse(const uint8_t *data, size_t size);
int fuzz_replay_fuzz_cgroup(const uint8_t *data, size_t size);
int fuzz_replay_fuzz_cgconvert(const uint8_t *data, size_t size);

static const struct {
  const char *name;
  replay_fn fn;
} targets[] = {
    {"fuzz_spec", fuzz_replay_fuzz_spec},
    {"fuzz_process", fuzz_replay_fuzz_process},
    {"fuzz_resources", fuzz_replay_fuzz_resources},
    {"fuzz_seccomp", fuzz_replay_fuzz_seccomp},
    {"fuzz_mountopt", fuzz_replay_fuzz_mountopt},
    {"fuzz_parse", fuzz_replay_fuzz_parse},
    {"fuzz_cgroup", fuzz_replay_fuzz_cgroup},
    {"fuzz_cgconvert", fuzz_replay_fuzz_cgconvert},
};
#define NTARGETS (sizeof targets / sizeof targets[0])

/* ---- helpers --------------------------------------------------------- */

static void assert_one_line(const char *msg) {
  for (const char *p = msg; *p; p++)
    ck_assert_msg((unsigned char)*p >= 0x20 && *p != 0x7f,
                  "control byte 0x%02x at %zu in \"%s\"", (unsigned char)*p,
                  (size_t)(p - msg), msg);
}

static const char *current_input = "";

static void on_abort(int sig) {
  /* async-signal-safe: name the input that broke a harness invariant */
  static const char pre[] = "test_regressions: harness failed on ";
  (void)!write(STDERR_FILENO, pre, sizeof pre - 1);
  (void)!write(STDERR_FILENO, current_input, strlen(current_input));
  (void)!write(STDERR_FILENO, "\n", 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

static uint8_t *read_all(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
  struct stat st;
  ck_assert_int_eq(fstat(fd, &st), 0);
  uint8_t *buf = malloc((size_t)st.st_size + 1);
  ck_assert_ptr_nonnull(buf);
  ssize_t n = read(fd, buf, (size_t)st.st_size);
  ck_assert_int_eq(n, st.st_size);
  close(fd);
  *len = (size_t)n;
  return buf;
}

/* Replay every file of DIR through FN; returns how many. */
static size_t replay_dir(const char *dir, replay_fn fn) {
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  size_t n = 0;
  struct dirent *e;
  char path[4096];
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t len;
    uint8_t *buf = read_all(path, &len);
    current_input = path;
    fn(buf, len);
    current_input = "";
    free(buf);
    n++;
  }
  closedir(d);
  return n;
}

/* ---- replays ----------------------------------------------------------- */

START_TEST(test_replay_seeds) {
  signal(SIGABRT, on_abort);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", SRCDIR, targets[_i].name);
  size_t n = replay_dir(dir, targets[_i].fn);
  ck_assert_msg(n > 0, "no seed corpus in %s", dir);
}
END_TEST

START_TEST(test_replay_regressions) {
  signal(SIGABRT, on_abort);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions/%s", SRCDIR, targets[_i].name);
  replay_dir(dir, targets[_i].fn); /* may be empty for a target */
}
END_TEST

/* ---- named regressions ------------------------------------------------- */

/* fuzz_cgroup, first run: a stored cgroup string with a control byte
 * ("\x02" from a corrupted state.json, or "\n" in a cgroupsPath) was quoted
 * raw in the error, so the "sprout: ..." line a client parses could be
 * broken or carry terminal escapes.  Now every sp_error message is one line
 * with control bytes shown as '?'.
 * (tests/fuzz/regressions/fuzz_cgroup/control-byte-in-stored-path) */
START_TEST(test_cgroup_stored_control_byte) {
  struct sp_cgroup cg;
  struct sp_error err = {0};
  ck_assert_int_eq(sp_cgroup_from_string(SP_CGROUP_HYBRID, "\x02" "1\x1b[2J", &cg, &err), -1);
  assert_one_line(err.msg);
  ck_assert_msg(strstr(err.msg, "\"?1?[2J\"") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_error_messages_one_line) {
  struct sp_error err = {0};
  sp_error_set(&err, 0, "open %s", "a\nb\rc\td\x1b" "e\x7f");
  ck_assert_str_eq(err.msg, "open a b c?d?e?");
  errno = ENOENT;
  sp_error_sys(&err, "stat \x01x");
  ck_assert_str_eq(err.msg, "stat ?x: No such file or directory");
  sp_error_prefix(&err, "create %s", "\x1b[31mred");
  ck_assert_str_eq(err.msg, "create ?[31mred: stat ?x: No such file or directory");
}
END_TEST

/* fuzz_cgconvert, first run: sp_cgroup_parse_bytes (update --memory VALUE)
 * handed strtod's "nan" to an int64 cast, undefined behaviour that UBSan
 * reports; "inf", hex and exponents were taken too, unlike runc.  Now the
 * number is digits and one '.', as in runc's RAMInBytes.
 * (tests/fuzz/regressions/fuzz_cgconvert/parse-bytes-*) */
START_TEST(test_parse_bytes_not_a_number) {
  static const char *const bad[] = {"nan", "NaN", "inf", "infinity", "0x10", "1e3",
                                    "1e3k", "1.5.5", ".5", "-0", "+1", " 1", "1 g"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t v = 7;
    ck_assert_msg(sp_cgroup_parse_bytes(bad[i], &v) == -1, "\"%s\" accepted as %lld", bad[i],
                  (long long)v);
    ck_assert_int_eq(v, 7);
  }
  int64_t v = 0;
  ck_assert_int_eq(sp_cgroup_parse_bytes("1.5g", &v), 0);
  ck_assert_int_eq(v, 1536LL << 20);
  ck_assert_int_eq(sp_cgroup_parse_bytes("2MiB", &v), 0);
  ck_assert_int_eq(v, 2LL << 20);
  ck_assert_int_eq(sp_cgroup_parse_bytes("-1", &v), 0);
  ck_assert_int_eq(v, -1);
}
END_TEST

static Suite *regressions_suite(void) {
  Suite *s = suite_create("regressions");
  TCase *tc = tcase_create("replay");
  tcase_add_loop_test(tc, test_replay_seeds, 0, NTARGETS);
  tcase_add_loop_test(tc, test_replay_regressions, 0, NTARGETS);
  suite_add_tcase(s, tc);

  tc = tcase_create("found");
  tcase_add_test(tc, test_cgroup_stored_control_byte);
  tcase_add_test(tc, test_error_messages_one_line);
  tcase_add_test(tc, test_parse_bytes_not_a_number);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(regressions_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures ? 1 : 0;
}
