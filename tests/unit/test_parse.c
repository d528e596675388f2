/* Unit tests for src/util/parse.c: container ids, signals, numbers. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sprout/parse.h"

/* ---- ids --------------------------------------------------------------- */

static int id_ok(const char *id) {
  struct sp_error err = {0};
  int r = sp_id_validate(id, &err);

  if (r == 0)
    ck_assert_str_eq(err.msg, "");
  return r;
}

START_TEST(test_id_valid) {
  static const char *const ok[] = {
      "a",  "abc", "ABC-def_1.2+3", "0",     "...", ".a", "a..",
      "-x", "x-",  "container_1",   "a.b.c",
  };
  for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
    ck_assert_msg(id_ok(ok[i]) == 0, "id \"%s\" refused", ok[i]);
}
END_TEST

START_TEST(test_id_invalid_chars) {
  static const char *const bad[] = {
      "a/b", "a b", "a:b", "/", "a\nb", "é", "a*", "a@b", "~", "$x",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct sp_error err = {0};
    ck_assert_msg(sp_id_validate(bad[i], &err) == -1, "id \"%s\" accepted",
                  bad[i]);
    ck_assert_msg(strstr(err.msg, "only [A-Za-z0-9_+.-] allowed") != NULL,
                  "message: %s", err.msg);
    ck_assert_int_eq(err.code, 0);
  }
}
END_TEST

START_TEST(test_id_message) {
  struct sp_error err = {0};

  ck_assert_int_eq(sp_id_validate("a/b", &err), -1);
  ck_assert_str_eq(
      err.msg, "invalid container id \"a/b\": only [A-Za-z0-9_+.-] allowed");
  /* control bytes are escaped, not printed raw */
  ck_assert_int_eq(sp_id_validate("a\nb", &err), -1);
  ck_assert_ptr_null(strchr(err.msg, '\n'));
  ck_assert_ptr_nonnull(strstr(err.msg, "a\\x0ab"));
}
END_TEST

START_TEST(test_id_reserved) {
  struct sp_error err = {0};

  ck_assert_int_eq(sp_id_validate(".", &err), -1);
  ck_assert_str_eq(err.msg, "invalid container id \".\": reserved name");
  ck_assert_int_eq(sp_id_validate("..", &err), -1);
  ck_assert_str_eq(err.msg, "invalid container id \"..\": reserved name");
}
END_TEST

START_TEST(test_id_empty) {
  struct sp_error err = {0};

  ck_assert_int_eq(sp_id_validate("", &err), -1);
  ck_assert_str_eq(err.msg, "container id is empty");
  ck_assert_int_eq(sp_id_validate(NULL, &err), -1);
  ck_assert_str_eq(err.msg, "container id is empty");
}
END_TEST

START_TEST(test_id_length) {
  struct sp_error err = {0};
  char id[1026];

  memset(id, 'a', 1024);
  id[1024] = '\0';
  ck_assert_int_eq(sp_id_validate(id, &err), 0); /* exactly the limit */
  id[1024] = 'a';
  id[1025] = '\0';
  ck_assert_int_eq(sp_id_validate(id, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "too long"));
  ck_assert_ptr_nonnull(strstr(err.msg, "1025"));
  ck_assert_uint_lt(strlen(err.msg), 200); /* the id is not echoed in full */
}
END_TEST

/* ---- signals ----------------------------------------------------------- */

static int sig_of(const char *s) {
  struct sp_error err = {0};
  int sig = -12345;

  if (sp_signal_parse(s, &sig, &err) < 0) {
    ck_assert_str_ne(err.msg, "");
    return -1;
  }
  return sig;
}

START_TEST(test_signal_names) {
  ck_assert_int_eq(sig_of("TERM"), SIGTERM);
  ck_assert_int_eq(sig_of("SIGTERM"), SIGTERM);
  ck_assert_int_eq(sig_of("sigterm"), SIGTERM);
  ck_assert_int_eq(sig_of("Term"), SIGTERM);
  ck_assert_int_eq(sig_of("KILL"), SIGKILL);
  ck_assert_int_eq(sig_of("SIGKILL"), SIGKILL);
  ck_assert_int_eq(sig_of("HUP"), SIGHUP);
  ck_assert_int_eq(sig_of("INT"), SIGINT);
  ck_assert_int_eq(sig_of("USR1"), SIGUSR1);
  ck_assert_int_eq(sig_of("sigusr2"), SIGUSR2);
  ck_assert_int_eq(sig_of("CHLD"), SIGCHLD);
  ck_assert_int_eq(sig_of("CLD"), SIGCHLD);
  ck_assert_int_eq(sig_of("IOT"), SIGABRT);
  ck_assert_int_eq(sig_of("POLL"), SIGIO);
  ck_assert_int_eq(sig_of("WINCH"), SIGWINCH);
  ck_assert_int_eq(sig_of("STOP"), SIGSTOP);
  ck_assert_int_eq(sig_of("CONT"), SIGCONT);
  ck_assert_int_eq(sig_of("PWR"), SIGPWR);
  ck_assert_int_eq(sig_of("SYS"), SIGSYS);
  ck_assert_int_eq(sig_of("STKFLT"), SIGSTKFLT);
}
END_TEST

START_TEST(test_signal_numbers) {
  ck_assert_int_eq(sig_of("15"), 15);
  ck_assert_int_eq(sig_of("9"), 9);
  ck_assert_int_eq(sig_of("1"), 1);
  ck_assert_int_eq(sig_of("64"), _NSIG - 1);
  ck_assert_int_eq(sig_of("0"), -1);
  ck_assert_int_eq(sig_of("65"), -1);
  ck_assert_int_eq(sig_of("99999999999999999999"), -1);
  ck_assert_int_eq(sig_of("-9"), -1);
  ck_assert_int_eq(sig_of("+9"), -1);
  ck_assert_int_eq(sig_of("15x"), -1);
  ck_assert_int_eq(sig_of(" 15"), -1);
  ck_assert_int_eq(sig_of("15 "), -1);
}
END_TEST

START_TEST(test_signal_realtime) {
  ck_assert_int_eq(sig_of("RTMIN"), SIGRTMIN);
  ck_assert_int_eq(sig_of("SIGRTMIN"), SIGRTMIN);
  ck_assert_int_eq(sig_of("RTMIN+1"), SIGRTMIN + 1);
  ck_assert_int_eq(sig_of("sigrtmin+3"), SIGRTMIN + 3);
  ck_assert_int_eq(sig_of("SIGRTMAX"), SIGRTMAX);
  ck_assert_int_eq(sig_of("RTMAX-1"), SIGRTMAX - 1);
  ck_assert_int_eq(sig_of("RTMAX-0"), SIGRTMAX);
  /* out of the real-time range */
  ck_assert_int_eq(sig_of("RTMAX+1"), -1);
  ck_assert_int_eq(sig_of("RTMIN-1"), -1);
  ck_assert_int_eq(sig_of("RTMIN+100"), -1);
  ck_assert_int_eq(sig_of("RTMIN+99999999999999999999"), -1);
  /* malformed offsets */
  ck_assert_int_eq(sig_of("RTMIN+"), -1);
  ck_assert_int_eq(sig_of("RTMIN1"), -1);
  ck_assert_int_eq(sig_of("RTMIN+-1"), -1);
  ck_assert_int_eq(sig_of("RTMIN+1x"), -1);
  ck_assert_int_eq(sig_of("RTMIN+ 1"), -1);
}
END_TEST

START_TEST(test_signal_invalid) {
  struct sp_error err = {0};
  int sig = 0;

  ck_assert_int_eq(sp_signal_parse("FOO", &sig, &err), -1);
  ck_assert_str_eq(err.msg, "unknown signal \"FOO\"");
  ck_assert_int_eq(err.code, 0);
  ck_assert_int_eq(sp_signal_parse("SIGFOO", &sig, &err), -1);
  ck_assert_str_eq(err.msg, "unknown signal \"SIGFOO\"");
  ck_assert_int_eq(sp_signal_parse("15x", &sig, &err), -1);
  ck_assert_str_eq(err.msg, "unknown signal \"15x\"");
  ck_assert_int_eq(sp_signal_parse("0", &sig, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "\"0\""));
  ck_assert_int_eq(sp_signal_parse("65", &sig, &err), -1);
  ck_assert_ptr_nonnull(strstr(err.msg, "\"65\""));
  ck_assert_int_eq(sp_signal_parse("", &sig, &err), -1);
  ck_assert_str_ne(err.msg, "");
  ck_assert_int_eq(sig_of("SIG"), -1);
  ck_assert_int_eq(sig_of("TERMX"), -1);
  ck_assert_int_eq(sig_of("SIGSIGTERM"), -1);
  ck_assert_int_eq(sig_of(" TERM"), -1);
  ck_assert_int_eq(sig_of("TERM "), -1);
  ck_assert_int_eq(sig_of("SIG TERM"), -1);
  ck_assert_int_eq(sig, 0); /* untouched by failures */
}
END_TEST

START_TEST(test_signal_name) {
  ck_assert_str_eq(sp_signal_name(SIGTERM), "SIGTERM");
  ck_assert_str_eq(sp_signal_name(SIGKILL), "SIGKILL");
  ck_assert_str_eq(sp_signal_name(SIGABRT), "SIGABRT");
  ck_assert_str_eq(sp_signal_name(SIGCHLD), "SIGCHLD");
  ck_assert_str_eq(sp_signal_name(SIGRTMIN), "SIGRTMIN");
  ck_assert_str_eq(sp_signal_name(SIGRTMIN + 1), "SIGRTMIN+1");
  ck_assert_str_eq(sp_signal_name(SIGRTMAX), "SIGRTMAX");
  ck_assert_str_eq(sp_signal_name(SIGRTMAX - 2), "SIGRTMAX-2");
  ck_assert_ptr_null(sp_signal_name(0));
  ck_assert_ptr_null(sp_signal_name(-1));
  ck_assert_ptr_null(sp_signal_name(_NSIG));
}
END_TEST

START_TEST(test_signal_roundtrip) {
  /* every name sp_signal_name gives parses back to the same number */
  for (int s = 1; s < _NSIG; s++) {
    const char *name = sp_signal_name(s);
    if (name == NULL) {
      /* only the C library's reserved real-time signals have no name */
      ck_assert_msg(s > SIGSYS && s < SIGRTMIN, "signal %d has no name", s);
      continue;
    }
    ck_assert_msg(sig_of(name) == s, "%s -> %d, want %d", name, sig_of(name),
                  s);
    ck_assert_msg(sig_of(name + 3) == s, "%s without SIG", name);
  }
}
END_TEST

/* ---- numbers ----------------------------------------------------------- */

START_TEST(test_u64) {
  uint64_t v = 7;

  ck_assert_int_eq(sp_parse_u64("0", &v), 0);
  ck_assert_uint_eq(v, 0);
  ck_assert_int_eq(sp_parse_u64("42", &v), 0);
  ck_assert_uint_eq(v, 42);
  ck_assert_int_eq(sp_parse_u64("007", &v), 0);
  ck_assert_uint_eq(v, 7);
  ck_assert_int_eq(sp_parse_u64("18446744073709551615", &v), 0);
  ck_assert_uint_eq(v, UINT64_MAX);

  v = 5;
  errno = 0;
  ck_assert_int_eq(sp_parse_u64("18446744073709551616", &v), -1);
  ck_assert_int_eq(errno, ERANGE);
  static const char *const bad[] = {
      "", " 1", "1 ", "-1", "+1", "1x", "x", "0x10", "1.5", "1e3", "-0", "\t1",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    errno = 0;
    ck_assert_msg(sp_parse_u64(bad[i], &v) == -1, "\"%s\" accepted", bad[i]);
    ck_assert_int_eq(errno, EINVAL);
  }
  ck_assert_uint_eq(v, 5); /* untouched by failures */
  errno = 0;
  ck_assert_int_eq(sp_parse_u64(NULL, &v), -1);
  ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_i64) {
  int64_t v = 0;

  ck_assert_int_eq(sp_parse_i64("-1", &v), 0);
  ck_assert_int_eq(v, -1);
  ck_assert_int_eq(sp_parse_i64("123", &v), 0);
  ck_assert_int_eq(v, 123);
  ck_assert_int_eq(sp_parse_i64("-0", &v), 0);
  ck_assert_int_eq(v, 0);
  ck_assert_int_eq(sp_parse_i64("9223372036854775807", &v), 0);
  ck_assert_int_eq(v, INT64_MAX);
  ck_assert_int_eq(sp_parse_i64("-9223372036854775808", &v), 0);
  ck_assert_int_eq(v, INT64_MIN);

  v = 5;
  errno = 0;
  ck_assert_int_eq(sp_parse_i64("9223372036854775808", &v), -1);
  ck_assert_int_eq(errno, ERANGE);
  errno = 0;
  ck_assert_int_eq(sp_parse_i64("-9223372036854775809", &v), -1);
  ck_assert_int_eq(errno, ERANGE);
  static const char *const bad[] = {
      "", "-", "+1", " 1", "1 ", "--1", "- 1", "1x", "0x1", "1.0",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    errno = 0;
    ck_assert_msg(sp_parse_i64(bad[i], &v) == -1, "\"%s\" accepted", bad[i]);
    ck_assert_int_eq(errno, EINVAL);
  }
  ck_assert_int_eq(v, 5);
}
END_TEST

START_TEST(test_int) {
  int v = 0;

  ck_assert_int_eq(sp_parse_int("2147483647", &v), 0);
  ck_assert_int_eq(v, INT_MAX);
  ck_assert_int_eq(sp_parse_int("-2147483648", &v), 0);
  ck_assert_int_eq(v, INT_MIN);
  ck_assert_int_eq(sp_parse_int("10", &v), 0);
  ck_assert_int_eq(v, 10);

  errno = 0;
  ck_assert_int_eq(sp_parse_int("2147483648", &v), -1);
  ck_assert_int_eq(errno, ERANGE);
  errno = 0;
  ck_assert_int_eq(sp_parse_int("-2147483649", &v), -1);
  ck_assert_int_eq(errno, ERANGE);
  errno = 0;
  ck_assert_int_eq(sp_parse_int("99999999999999999999", &v), -1);
  ck_assert_int_eq(errno, ERANGE);
  errno = 0;
  ck_assert_int_eq(sp_parse_int("", &v), -1);
  ck_assert_int_eq(errno, EINVAL);
  errno = 0;
  ck_assert_int_eq(sp_parse_int("3 ", &v), -1);
  ck_assert_int_eq(errno, EINVAL);
  ck_assert_int_eq(v, 10);
}
END_TEST

static Suite *parse_suite(void) {
  Suite *s = suite_create("parse");
  TCase *tc;

  tc = tcase_create("ids");
  tcase_add_test(tc, test_id_valid);
  tcase_add_test(tc, test_id_invalid_chars);
  tcase_add_test(tc, test_id_message);
  tcase_add_test(tc, test_id_reserved);
  tcase_add_test(tc, test_id_empty);
  tcase_add_test(tc, test_id_length);
  suite_add_tcase(s, tc);

  tc = tcase_create("signals");
  tcase_add_test(tc, test_signal_names);
  tcase_add_test(tc, test_signal_numbers);
  tcase_add_test(tc, test_signal_realtime);
  tcase_add_test(tc, test_signal_invalid);
  tcase_add_test(tc, test_signal_name);
  tcase_add_test(tc, test_signal_roundtrip);
  suite_add_tcase(s, tc);

  tc = tcase_create("numbers");
  tcase_add_test(tc, test_u64);
  tcase_add_test(tc, test_i64);
  tcase_add_test(tc, test_int);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(parse_suite());
  int failures;

  srunner_run_all(sr, CK_NORMAL);
  failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures ? 1 : 0;
}
