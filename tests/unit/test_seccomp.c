/* Unit tests for src/linux/seccomp*.c: OCI -> libseccomp translation,
 * the compiled program's behaviour (loaded in forked children), the
 * digest and the cache, the notify listener message. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "sprout/security.h"
#include "sprout/spec.h"
#include "sprout/util.h"

/* ---- helpers ------------------------------------------------------------- */

/* A config whose linux.seccomp is SECCOMP (a JSON object). */
static void parse(const char *seccomp, struct sp_spec *s) {
  char *j = NULL;
  ck_assert_int_ge(asprintf(&j,
                            "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
                            " \"process\": {\"cwd\": \"/\", \"args\": [\"sh\"]},"
                            " \"annotations\": {\"a\": \"b\"},"
                            " \"linux\": {\"seccomp\": %s}}",
                            seccomp),
                   0);
  struct sp_error e = {0};
  memset(s, 0, sizeof *s);
  int r = sp_spec_parse_buf(j, strlen(j), "config.json", s, &e);
  ck_assert_msg(r == 0, "parse: %s", e.msg);
  free(j);
}

static void compile(const char *seccomp, struct sp_seccomp_prog *p) {
  struct sp_spec s;
  parse(seccomp, &s);
  struct sp_error e = {0};
  int r = sp_seccomp_compile(&s.linux_.seccomp, p, &e);
  ck_assert_msg(r == 0, "compile: %s", e.msg);
  sp_spec_free(&s);
}

/* compile() of a printf-formatted profile */
static void compile_fmt(struct sp_seccomp_prog *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void compile_fmt(struct sp_seccomp_prog *p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *j = NULL;
  ck_assert_int_ge(vasprintf(&j, fmt, ap), 0);
  va_end(ap);
  compile(j, p);
  free(j);
}

/* Fork; in the child set no_new_privs, load P, run FN; return the wait
 * status.  FN returns the child's exit code. */
static int run_filtered(const struct sp_seccomp_prog *p, int (*fn)(void)) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    struct sp_error e;
    int nfd;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sp_seccomp_load(p, &nfd, &e) < 0)
      _exit(100);
    _exit(fn());
  }
  int st = 0;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  return st;
}

static void assert_exit(int st, int code) {
  ck_assert_msg(WIFEXITED(st), "child killed by signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  ck_assert_msg(WEXITSTATUS(st) == code, "child exit %d, expected %d", WEXITSTATUS(st), code);
}

/* errno of a raw system call, 0 on success */
static int sys_errno(long nr, long a0, long a1) {
  errno = 0;
  long r = syscall(nr, a0, a1, 0, 0, 0, 0);
  return r == -1 ? errno : 0;
}

/* What a filtered child needs to exit (sanitizer builds do more on _exit),
 * as a JSON list; all of it older than Linux 2.6.36 (largest x86_64
 * number: prlimit64, 302). */
#define EXIT_NAMES                                                                          \
  "\"exit\", \"exit_group\", \"wait4\", \"write\", \"writev\", \"rt_sigprocmask\", "             \
  "\"rt_sigaction\", \"sigaltstack\", \"mmap\", \"munmap\", \"mprotect\", \"madvise\", "         \
  "\"futex\", \"getpid\", \"gettid\", \"tgkill\", \"prctl\", \"readlink\", \"readlinkat\", "      \
  "\"open\", \"openat\", \"close\", \"read\", \"pread64\", \"fstat\", \"newfstatat\", \"lseek\", "  \
  "\"sched_yield\", \"getrlimit\", \"prlimit64\", \"brk\", \"clock_gettime\", "              \
  "\"nanosleep\", \"ioctl\""

/* ---- sha256 ------------------------------------------------------------ */

START_TEST(test_sha256_vectors) {
  static const struct {
    size_t n;
    char fill;
    const char *text;
    const char *hex;
  } v[] = {
      {0, 0, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {0, 0, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {0, 0, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {55, 'a', NULL, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
      {56, 'a', NULL, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
      {64, 'a', NULL, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
      {1000, 'a', NULL, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"},
  };
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    char buf[1000], hex[65];
    const char *d = v[i].text;
    size_t n = d ? strlen(d) : v[i].n;
    if (!d) {
      memset(buf, v[i].fill, n);
      d = buf;
    }
    for (int accel = 1; accel >= 0; accel--) {
      sp_sha256_set_accel(accel);
      sp_sha256_hex(d, n, hex);
      ck_assert_str_eq(hex, v[i].hex);
    }
  }
  sp_sha256_set_accel(true);
}
END_TEST

/* The CPU's SHA extensions (where it has them) and the portable code agree
 * on every length around the block and padding boundaries, and on long
 * inputs. */
START_TEST(test_sha256_accel_matches) {
  static uint8_t buf[70000 + 8];
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < sizeof buf; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    buf[i] = (uint8_t)x;
  }
  if (!sp_sha256_accelerated())
    fprintf(stderr, "# sha256: no SHA extensions here: the portable code only\n");
  static const size_t big[] = {1000, 4096, 10056, 65536, 69999, 70000};
  for (size_t n = 0; n < 300 + sizeof big / sizeof big[0]; n++) {
    size_t len = n < 300 ? n : big[n - 300];
    uint8_t a[32], b[32];
    sp_sha256_set_accel(true);
    sp_sha256(buf + n % 7, len, a);
    sp_sha256_set_accel(false);
    sp_sha256(buf + n % 7, len, b);
    ck_assert_msg(memcmp(a, b, 32) == 0, "sha256 of %zu bytes differs", len);
  }
  sp_sha256_set_accel(true);
}
END_TEST

/* ---- translation ----------------------------------------------------------- */

START_TEST(test_actions) {
  uint32_t a;
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_KILL, false, 0, &a), 0);
  ck_assert_uint_eq(a, SCMP_ACT_KILL);
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_KILL_PROCESS, false, 0, &a), 0);
  ck_assert_uint_eq(a, SCMP_ACT_KILL_PROCESS);
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_KILL_THREAD, false, 0, &a), 0);
  ck_assert_uint_eq(a, SCMP_ACT_KILL_THREAD);
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_TRAP, false, 0, &a), 0);
  ck_assert_uint_eq(a, SCMP_ACT_TRAP);
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_ALLOW, false, 0, &a), 0);
  ck_assert_uint_eq(a, SCMP_ACT_ALLOW);
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_LOG, false, 0, &a), 0);
  ck_assert_uint_eq(a, SCMP_ACT_LOG);
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_NOTIFY, false, 0, &a), 0);
  ck_assert_uint_eq(a, SCMP_ACT_NOTIFY);
  /* errno: EPERM unless errnoRet says otherwise */
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_ERRNO, false, 0, &a), 0);
  ck_assert_uint_eq(a, SCMP_ACT_ERRNO(EPERM));
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_ERRNO, true, 38, &a), 0);
  ck_assert_uint_eq(a, SCMP_ACT_ERRNO(38));
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_ERRNO, true, 0, &a), 0);
  ck_assert_uint_eq(a, SCMP_ACT_ERRNO(0));
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_TRACE, false, 0, &a), 0);
  ck_assert_uint_eq(a, SCMP_ACT_TRACE(EPERM));
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_TRACE, true, 7, &a), 0);
  ck_assert_uint_eq(a, SCMP_ACT_TRACE(7));
  ck_assert_int_eq(sp_seccomp_action(SP_SCMP_ERRNO, true, 70000, &a), -1);
}
END_TEST

START_TEST(test_operators_arches) {
  ck_assert_int_eq(sp_seccomp_op(SP_SCMP_CMP_NE), SCMP_CMP_NE);
  ck_assert_int_eq(sp_seccomp_op(SP_SCMP_CMP_LT), SCMP_CMP_LT);
  ck_assert_int_eq(sp_seccomp_op(SP_SCMP_CMP_LE), SCMP_CMP_LE);
  ck_assert_int_eq(sp_seccomp_op(SP_SCMP_CMP_EQ), SCMP_CMP_EQ);
  ck_assert_int_eq(sp_seccomp_op(SP_SCMP_CMP_GE), SCMP_CMP_GE);
  ck_assert_int_eq(sp_seccomp_op(SP_SCMP_CMP_GT), SCMP_CMP_GT);
  ck_assert_int_eq(sp_seccomp_op(SP_SCMP_CMP_MASKED_EQ), SCMP_CMP_MASKED_EQ);
  ck_assert_uint_eq(sp_seccomp_arch("SCMP_ARCH_X86_64"), SCMP_ARCH_X86_64);
  ck_assert_uint_eq(sp_seccomp_arch("SCMP_ARCH_X86"), SCMP_ARCH_X86);
  ck_assert_uint_eq(sp_seccomp_arch("SCMP_ARCH_X32"), SCMP_ARCH_X32);
  ck_assert_uint_eq(sp_seccomp_arch("SCMP_ARCH_AARCH64"), SCMP_ARCH_AARCH64);
  ck_assert_uint_eq(sp_seccomp_arch("SCMP_ARCH_PPC64LE"), SCMP_ARCH_PPC64LE);
  ck_assert_uint_eq(sp_seccomp_arch("SCMP_ARCH_FOO"), 0);
  ck_assert_uint_eq(sp_seccomp_arch("x86_64"), 0);
  ck_assert_uint_eq(sp_seccomp_arch(NULL), 0);
}
END_TEST

START_TEST(test_flags) {
  struct sp_spec s;
  struct sp_error e = {0};
  unsigned int f = 0;
  parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\","
        " \"SECCOMP_FILTER_FLAG_SPEC_ALLOW\", \"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]}",
        &s);
  /* no listener: WAIT_KILLABLE_RECV means nothing and is left out */
  ck_assert_int_eq(sp_seccomp_flags(&s.linux_.seccomp, false, &f, &e), 0);
  ck_assert_uint_eq(f, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  ck_assert_int_eq(sp_seccomp_flags(&s.linux_.seccomp, true, &f, &e), 0);
  ck_assert_uint_eq(f, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
                           (1U << 5) | SECCOMP_FILTER_FLAG_NEW_LISTENER);
  sp_spec_free(&s);
  parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_TSYNC\"]}",
        &s);
  ck_assert_int_eq(sp_seccomp_flags(&s.linux_.seccomp, true, &f, &e), 0);
  ck_assert_uint_eq(f, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER |
                           (1U << 4) /* TSYNC_ESRCH */);
  sp_spec_free(&s);
  ck_assert(sp_seccomp_flag_supported(SECCOMP_FILTER_FLAG_LOG));
  ck_assert(!sp_seccomp_flag_supported(1U << 30));
}
END_TEST

/* ---- digest ----------------------------------------------------------------- */

static void digest_of(const char *seccomp, char out[65]) {
  struct sp_spec s;
  parse(seccomp, &s);
  char *c = sp_seccomp_canonical(&s.linux_.seccomp);
  ck_assert_ptr_nonnull(c);
  sp_sha256_hex(c, strlen(c), out);
  free(c);
  sp_spec_free(&s);
}

START_TEST(test_canonical_digest) {
  const char *base = "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                     "[\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]}";
  char a[65], b[65];
  digest_of(base, a);
  digest_of(base, b);
  ck_assert_str_eq(a, b);
  /* what does not shape the program does not change the digest */
  digest_of("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/x\", \"flags\": "
            "[\"SECCOMP_FILTER_FLAG_LOG\"], \"syscalls\": [{\"names\": [\"getppid\"], "
            "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]}",
            b);
  ck_assert_str_eq(a, b);
  static const char *const changed[] = {
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getppid\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 39}]}",
      "{\"defaultAction\": \"SCMP_ACT_LOG\", \"syscalls\": [{\"names\": [\"getppid\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]}",
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]}",
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86\"], "
      "\"syscalls\": [{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", "
      "\"errnoRet\": 38}]}",
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getppid\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38, \"args\": [{\"index\": 0, "
      "\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}",
      /* a name cannot pretend to be two */
      "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getppid 1:x\"], "
      "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]}",
  };
  for (size_t i = 0; i < sizeof changed / sizeof changed[0]; i++) {
    digest_of(changed[i], b);
    ck_assert_msg(strcmp(a, b) != 0, "profile %zu has the same digest", i);
  }
}
END_TEST

/* ---- compile + behaviour -------------------------------------------------------- */

static int call_getppid(void) { return sys_errno(SYS_getppid, 0, 0); }

START_TEST(test_errno_rule) {
  struct sp_seccomp_prog p;
  compile("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
          "[\"no_such_syscall_xyz\", \"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", "
          "\"errnoRet\": 38}]}",
          &p);
  ck_assert_uint_gt(p.len, 0);
  ck_assert(!p.notify);
  assert_exit(run_filtered(&p, call_getppid), 38);
  sp_seccomp_prog_free(&p);
  /* without errnoRet: EPERM */
  compile("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
          "[\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
          &p);
  assert_exit(run_filtered(&p, call_getppid), EPERM);
  sp_seccomp_prog_free(&p);
  /* default errno */
  compile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 77, \"syscalls\": "
          "[{\"names\": [" EXIT_NAMES "], \"action\": \"SCMP_ACT_ALLOW\"}]}",
          &p);
  assert_exit(run_filtered(&p, call_getppid), 77);
  sp_seccomp_prog_free(&p);
}
END_TEST

START_TEST(test_kill_actions) {
  static const char *const acts[] = {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                                     "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"};
  for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
    struct sp_seccomp_prog p;
    compile_fmt(&p, "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                    "[\"getppid\"], \"action\": \"%s\"}]}",
                acts[i]);
    int st = run_filtered(&p, call_getppid);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "%s: status %#x", acts[i], st);
    sp_seccomp_prog_free(&p);
  }
}
END_TEST

START_TEST(test_trace_without_tracer) {
  struct sp_seccomp_prog p;
  compile("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
          "[\"getppid\"], \"action\": \"SCMP_ACT_TRACE\"}]}",
          &p);
  /* no tracer attached: the kernel fails the call with ENOSYS */
  assert_exit(run_filtered(&p, call_getppid), ENOSYS);
  sp_seccomp_prog_free(&p);
}
END_TEST

/* umask(arg) under argument rules: exit code = errno of umask(022) and
 * umask(077) packed as 10*a + b (each 0 or 1..9). */
static int umask_pair(void) {
  int a = sys_errno(SYS_umask, 022, 0), b = sys_errno(SYS_umask, 077, 0);
  return (a ? a % 10 : 0) * 10 + (b ? b % 10 : 0);
}

static void umask_case(const char *args, int want) {
  struct sp_seccomp_prog p;
  compile_fmt(&p, "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                  "[\"umask\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 5, \"args\": %s}]}",
              args);
  int st = run_filtered(&p, umask_pair);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == want, "args %s: exit %d, expected %d",
                args, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), want);
  sp_seccomp_prog_free(&p);
}

#define ARG(op, v) "{\"index\": 0, \"value\": " #v ", \"op\": \"" op "\"}"

START_TEST(test_arg_operators) {
  /* 022 = 18, 077 = 63; 5 is the errno of a match */
  umask_case("[" ARG("SCMP_CMP_EQ", 63) "]", 5);
  umask_case("[" ARG("SCMP_CMP_NE", 63) "]", 50);
  umask_case("[" ARG("SCMP_CMP_LT", 63) "]", 50);
  umask_case("[" ARG("SCMP_CMP_LE", 63) "]", 55);
  umask_case("[" ARG("SCMP_CMP_GT", 18) "]", 5);
  umask_case("[" ARG("SCMP_CMP_GE", 18) "]", 55);
  /* masked: (arg & 040) == 040 holds for 077 only */
  umask_case("[{\"index\": 0, \"value\": 32, \"valueTwo\": 32, \"op\": \"SCMP_CMP_MASKED_EQ\"}]",
             5);
  umask_case("[{\"index\": 0, \"value\": 32, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\"}]",
             50);
  /* two conditions on the same argument: either one matches (runc) */
  umask_case("[" ARG("SCMP_CMP_EQ", 18) ", " ARG("SCMP_CMP_EQ", 63) "]", 55);
  /* a condition on another argument is ANDed: umask ignores arg 1 (0) */
  umask_case("[" ARG("SCMP_CMP_EQ", 63) ", {\"index\": 1, \"value\": 0, \"op\": "
             "\"SCMP_CMP_EQ\"}]",
             5);
  umask_case("[" ARG("SCMP_CMP_EQ", 63) ", {\"index\": 1, \"value\": 9, \"op\": "
             "\"SCMP_CMP_EQ\"}]",
             0);
}
END_TEST

START_TEST(test_default_action_rule_skipped) {
  /* a rule with the default action is left out (libseccomp refuses it) */
  struct sp_seccomp_prog p;
  compile("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
          "[\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"}, {\"names\": [\"getppid\"], "
          "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 9}]}",
          &p);
  assert_exit(run_filtered(&p, call_getppid), 9);
  sp_seccomp_prog_free(&p);
}
END_TEST

START_TEST(test_compile_errors) {
  struct sp_spec s;
  struct sp_seccomp_prog p;
  struct sp_error e = {0};
  parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], "
        "\"action\": \"SCMP_ACT_ALLOW\"}, {\"names\": [\"getppid\"], \"action\": "
        "\"SCMP_ACT_ERRNO\", \"errnoRet\": 70000}]}",
        &s);
  ck_assert_int_eq(sp_seccomp_compile(&s.linux_.seccomp, &p, &e), -1);
  ck_assert_msg(strstr(e.msg, ".linux.seccomp.syscalls[1].errnoRet"), "%s", e.msg);
  sp_spec_free(&s);
  /* an argument index libseccomp refuses for the call is an error that
   * names the rule and the call */
  parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getppid\"], "
        "\"action\": \"SCMP_ACT_ERRNO\"}, {\"names\": [\"getppid\"], \"action\": "
        "\"SCMP_ACT_KILL\"}]}",
        &s);
  int r = sp_seccomp_compile(&s.linux_.seccomp, &p, &e);
  if (r == 0) {
    sp_seccomp_prog_free(&p); /* libseccomp may merge it: nothing to check */
  } else {
    ck_assert_msg(strstr(e.msg, ".linux.seccomp.syscalls[1]") && strstr(e.msg, "getppid"),
                  "%s", e.msg);
  }
  sp_spec_free(&s);
}
END_TEST

/* ---- -ENOSYS for syscalls newer than the profile ------------------------------------ */

/* the call a filtered child makes: syscall(call_nr, call_a0, call_a1, ...) */
static long call_nr, call_a0, call_a1;
static int call_one(void) { return sys_errno(call_nr, call_a0, call_a1); }

/* errno of NR(A0, A1) under P; -signal when the child was killed */
static int errno_under(const struct sp_seccomp_prog *p, long nr, long a0, long a1) {
  call_nr = nr;
  call_a0 = a0;
  call_a1 = a1;
  int st = run_filtered(p, call_one);
  ck_assert_msg(!WIFEXITED(st) || WEXITSTATUS(st) != 100, "the filter did not load");
  return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

#define ERRNO_UNDER(p, nr, a0, a1, want)                                                   \
  do {                                                                                      \
    int got_ = errno_under(p, nr, a0, a1);                                                  \
    ck_assert_msg(got_ == (want), "syscall %ld: %d, expected %d", (long)(nr), got_, (want)); \
  } while (0)

#define NR_CLONE3 435
#define NR_CLOSE_RANGE 436
#define NR_OPENAT2 437
#define NR_FACCESSAT2 439
#define NR_PROCESS_MADVISE 440

START_TEST(test_enosys_stub_shape) {
  /* The stub jumps into libseccomp's program with the syscall number in
   * the accumulator: that works because the program loads what it needs
   * first (the architecture) */
  struct sp_seccomp_prog p;
  compile("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
          "[\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\"}]}",
          &p);
  ck_assert_uint_eq(p.insns[0].code, BPF_LD | BPF_W | BPF_ABS);
  ck_assert_uint_eq(p.insns[0].k, 4);
  size_t plain = p.len;
  sp_seccomp_prog_free(&p);
  /* with a deny default: the stub, in front, starts the same way and
   * ends with ret ERRNO(ENOSYS) right before libseccomp's program */
  compile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
          "[\"getppid\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
          &p);
  ck_assert_uint_gt(p.len, plain);
  ck_assert_uint_eq(p.insns[0].code, BPF_LD | BPF_W | BPF_ABS);
  ck_assert_uint_eq(p.insns[0].k, 4);
  size_t stub = 0;
  while (stub < p.len && !(p.insns[stub].code == (BPF_RET | BPF_K) &&
                           p.insns[stub].k == SCMP_ACT_ERRNO(ENOSYS)))
    stub++;
  ck_assert_uint_lt(stub + 1, p.len);
  ck_assert_uint_eq(p.insns[stub + 1].code, BPF_LD | BPF_W | BPF_ABS);
  ck_assert_uint_eq(p.insns[stub + 1].k, 4);
  sp_seccomp_prog_free(&p);
}
END_TEST

START_TEST(test_enosys_newer) {
  /* only old syscalls named: everything above prlimit64 (302) is "newer" */
  struct sp_seccomp_prog p;
  compile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [" EXIT_NAMES
          "], \"action\": \"SCMP_ACT_ALLOW\"}]}",
          &p);
  ERRNO_UNDER(&p, NR_FACCESSAT2, AT_FDCWD, (long)"/", ENOSYS);
  ERRNO_UNDER(&p, NR_OPENAT2, AT_FDCWD, (long)"/", ENOSYS);
  ERRNO_UNDER(&p, NR_CLOSE_RANGE, 1000, 1000, ENOSYS);
  ERRNO_UNDER(&p, NR_CLONE3, 0, 0, ENOSYS);
  ERRNO_UNDER(&p, 1000, 0, 0, ENOSYS);
  /* older and not named: the default action */
  ERRNO_UNDER(&p, SYS_getppid, 0, 0, EPERM);
  ERRNO_UNDER(&p, SYS_pipe2, 0, 0, EPERM);
  sp_seccomp_prog_free(&p);
  /* the same with a deny default action that is not an errno */
  compile("{\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\", \"syscalls\": [{\"names\": ["
          EXIT_NAMES "], \"action\": \"SCMP_ACT_ALLOW\"}]}",
          &p);
  ERRNO_UNDER(&p, NR_FACCESSAT2, AT_FDCWD, (long)"/", ENOSYS);
  ERRNO_UNDER(&p, SYS_getppid, 0, 0, -SIGSYS);
  sp_seccomp_prog_free(&p);
}
END_TEST

START_TEST(test_enosys_named) {
  /* naming faccessat2 (439) raises the limit: 436..439 get the default
   * action, except clone3 (435), which is never EPERM unless named */
  struct sp_seccomp_prog p;
  compile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [" EXIT_NAMES
          ", \"faccessat2\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
          &p);
  ERRNO_UNDER(&p, NR_FACCESSAT2, AT_FDCWD, (long)"/", 0);
  ERRNO_UNDER(&p, NR_CLOSE_RANGE, 1000, 1000, EPERM);
  ERRNO_UNDER(&p, NR_OPENAT2, AT_FDCWD, (long)"/", EPERM);
  ERRNO_UNDER(&p, NR_CLONE3, 0, 0, ENOSYS);
  ERRNO_UNDER(&p, NR_PROCESS_MADVISE, 0, 0, ENOSYS);
  sp_seccomp_prog_free(&p);
  /* a named syscall keeps its rule, even one with the default action
   * (left out of libseccomp's program, still "named") */
  compile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [" EXIT_NAMES
          "], \"action\": \"SCMP_ACT_ALLOW\"}, {\"names\": [\"openat2\"], \"action\": "
          "\"SCMP_ACT_ERRNO\", \"errnoRet\": 5}, {\"names\": [\"clone3\", \"faccessat2\"], "
          "\"action\": \"SCMP_ACT_ERRNO\"}]}",
          &p);
  ERRNO_UNDER(&p, NR_OPENAT2, AT_FDCWD, (long)"/", 5);
  ERRNO_UNDER(&p, NR_FACCESSAT2, AT_FDCWD, (long)"/", EPERM);
  ERRNO_UNDER(&p, NR_CLONE3, 0, 0, EPERM);
  ERRNO_UNDER(&p, NR_CLOSE_RANGE, 1000, 1000, EPERM);
  ERRNO_UNDER(&p, NR_PROCESS_MADVISE, 0, 0, ENOSYS);
  sp_seccomp_prog_free(&p);
}
END_TEST

START_TEST(test_enosys_permissive_default) {
  /* allow / log by default: no stub, the kernel answers (clone3 with no
   * arguments: EINVAL).  (Trace: without a tracer the kernel answers
   * ENOSYS to everything, so there is nothing to see here.) */
  static const char *const defs[] = {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG"};
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
    struct sp_seccomp_prog p;
    compile_fmt(&p, "{\"defaultAction\": \"%s\", \"syscalls\": [{\"names\": [\"getppid\"], "
                    "\"action\": \"SCMP_ACT_ERRNO\"}]}",
                defs[i]);
    ERRNO_UNDER(&p, NR_CLONE3, 0, 0, EINVAL);
    ERRNO_UNDER(&p, NR_CLOSE_RANGE, 1000, 1000, 0);
    ERRNO_UNDER(&p, SYS_getppid, 0, 0, EPERM);
    sp_seccomp_prog_free(&p);
  }
  /* defaultErrnoRet ENOSYS: everything unnamed is ENOSYS anyway */
  struct sp_seccomp_prog p;
  compile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38, \"syscalls\": "
          "[{\"names\": [" EXIT_NAMES "], \"action\": \"SCMP_ACT_ALLOW\"}]}",
          &p);
  ERRNO_UNDER(&p, NR_FACCESSAT2, AT_FDCWD, (long)"/", ENOSYS);
  ERRNO_UNDER(&p, SYS_getppid, 0, 0, ENOSYS);
  sp_seccomp_prog_free(&p);
}
END_TEST

#if defined(__x86_64__)
#define X32 0x40000000L
/* a 32-bit (i386 ABI) system call from this 64-bit process: seccomp sees
 * AUDIT_ARCH_I386 and the i386 numbers; errno, or 0 */
static long i386_nr;
static int call_i386(void) {
  long r;
  __asm__ volatile("int $0x80"
                   : "=a"(r)
                   : "a"(i386_nr), "b"(0L), "c"(0L), "d"(0L)
                   : "memory", "r8", "r9", "r10", "r11");
  return r < 0 && r > -4096 ? (int)-r : 0;
}

/* int $0x80 works (ia32 emulation): a child calls getpid through it */
static bool i386_available(void) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    /* without ia32 emulation int $0x80 faults: die quietly (no
     * sanitizer report) */
    signal(SIGSEGV, SIG_DFL);
    i386_nr = 20; /* getpid */
    _exit(call_i386());
  }
  int st = 0;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int errno_i386(const struct sp_seccomp_prog *p, long nr) {
  i386_nr = nr;
  int st = run_filtered(p, call_i386);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

START_TEST(test_enosys_compat_abis) {
  struct sp_seccomp_prog p;
  compile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\", "
          "\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"], \"syscalls\": [{\"names\": [" EXIT_NAMES
          "], \"action\": \"SCMP_ACT_ALLOW\"}]}",
          &p);
  /* x32: the same kernel architecture as x86_64, numbers with bit 30;
   * seccomp sees them whether or not the kernel runs x32 */
  ERRNO_UNDER(&p, X32 | 1000, 0, 0, ENOSYS);
  ERRNO_UNDER(&p, X32 | SYS_getppid, 0, 0, EPERM);
  /* i386 (when the kernel runs 32-bit code): largest named prlimit64 = 340 */
  if (i386_available()) {
    ck_assert_int_eq(errno_i386(&p, 439), ENOSYS); /* faccessat2 */
    ck_assert_int_eq(errno_i386(&p, 435), ENOSYS); /* clone3 */
    ck_assert_int_eq(errno_i386(&p, 64), EPERM);   /* getppid */
  }
  sp_seccomp_prog_free(&p);
  /* x86_64 only: an x32 call is not "a big x86_64 number" but another
   * ABI, which libseccomp's program kills (bad architecture) */
  compile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\"], "
          "\"syscalls\": [{\"names\": [" EXIT_NAMES "], \"action\": \"SCMP_ACT_ALLOW\"}]}",
          &p);
  ERRNO_UNDER(&p, X32 | 0, 0, 0, -SIGSYS);
  ERRNO_UNDER(&p, 1000, 0, 0, ENOSYS);
  sp_seccomp_prog_free(&p);
}
END_TEST
#endif

/* ---- cache ------------------------------------------------------------------------ */

START_TEST(test_cache) {
  char dir[] = "/tmp/sprout-seccomp-cache-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char *cache = sp_path_join(dir, "sub/seccomp");
  struct sp_spec s;
  parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getppid\"], "
        "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}]}",
        &s);
  struct sp_error e = {0};
  struct sp_seccomp_prog a, b;
  ck_assert_int_eq(sp_seccomp_prepare(&s.linux_.seccomp, cache, &a, &e), 0);
  ck_assert(!a.cache_hit);
  char *file = NULL;
  ck_assert_int_ge(asprintf(&file, "%s/%s.bpf", cache, a.digest), 0);
  struct stat st1, st2;
  ck_assert_int_eq(stat(file, &st1), 0);
  ck_assert_uint_eq(st1.st_mode & 0777, 0600);
  ck_assert_int_eq(sp_seccomp_prepare(&s.linux_.seccomp, cache, &b, &e), 0);
  ck_assert(b.cache_hit);
  ck_assert_uint_eq(a.len, b.len);
  ck_assert(memcmp(a.insns, b.insns, a.len * sizeof *a.insns) == 0);
  ck_assert_int_eq(stat(file, &st2), 0);
  ck_assert_uint_eq(st1.st_ino, st2.st_ino); /* read, not rewritten */
  assert_exit(run_filtered(&b, call_getppid), 38);
  sp_seccomp_prog_free(&b);
  /* a damaged file is not used: compiled again and replaced */
  int fd = open(file, O_WRONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pwrite(fd, "\xff\xff\xff\xff", 4, 60), 4);
  close(fd);
  ck_assert_int_eq(sp_seccomp_prepare(&s.linux_.seccomp, cache, &b, &e), 0);
  ck_assert(!b.cache_hit);
  ck_assert(memcmp(a.insns, b.insns, a.len * sizeof *a.insns) == 0);
  sp_seccomp_prog_free(&b);
  ck_assert_int_eq(sp_seccomp_prepare(&s.linux_.seccomp, cache, &b, &e), 0);
  ck_assert(b.cache_hit);
  sp_seccomp_prog_free(&b);
  sp_spec_free(&s);
  /* another profile, another file */
  parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getppid\"], "
        "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 39}]}",
        &s);
  ck_assert_int_eq(sp_seccomp_prepare(&s.linux_.seccomp, cache, &b, &e), 0);
  ck_assert(!b.cache_hit);
  ck_assert_str_ne(a.digest, b.digest);
  assert_exit(run_filtered(&b, call_getppid), 39);
  sp_seccomp_prog_free(&b);
  sp_spec_free(&s);
  sp_seccomp_prog_free(&a);
  free(file);
  free(cache);
  sp_rm_rf(dir);
}
END_TEST

/* mtime of DIR/NAME, seconds; -1 when it does not exist */
static long long mtime_of(const char *dir, const char *name) {
  char *f = sp_path_join(dir, name);
  struct stat st;
  int r = stat(f, &st);
  free(f);
  return r < 0 ? -1 : (long long)st.st_mtime;
}

static void set_mtime(const char *dir, const char *name, time_t t) {
  char *f = sp_path_join(dir, name);
  struct timespec ts[2] = {{.tv_sec = t}, {.tv_sec = t}};
  ck_assert_int_eq(utimensat(AT_FDCWD, f, ts, 0), 0);
  free(f);
}

/* prepare the profile "getppid gets errno E" through CACHE; its file name */
static void prepare_errno(const char *cache, int e, bool want_hit, char name[69]) {
  char *j = NULL;
  ck_assert_int_ge(asprintf(&j, "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
                                "[{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", "
                                "\"errnoRet\": %d}]}",
                            e),
                   0);
  struct sp_spec s;
  parse(j, &s);
  free(j);
  struct sp_seccomp_prog p;
  struct sp_error err = {0};
  ck_assert_int_eq(sp_seccomp_prepare(&s.linux_.seccomp, cache, &p, &err), 0);
  ck_assert_msg(p.cache_hit == want_hit, "errno %d: cache_hit %d", e, p.cache_hit);
  snprintf(name, 69, "%s.bpf", p.digest);
  sp_seccomp_prog_free(&p);
  sp_spec_free(&s);
}

static size_t count_files(const char *dir) {
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

START_TEST(test_cache_eviction) {
  char dir[] = "/tmp/sprout-seccomp-evict-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char *cache = sp_path_join(dir, "seccomp");
  char a[69], b[69], c[69], n2[69];
  time_t now = time(NULL);
  prepare_errno(cache, 40, false, a);
  prepare_errno(cache, 41, false, b);
  prepare_errno(cache, 42, false, c);
  set_mtime(cache, a, now - 300); /* oldest */
  set_mtime(cache, b, now - 200);
  set_mtime(cache, c, now - 100);
  /* a hit makes A the most recently used */
  prepare_errno(cache, 40, true, a);
  ck_assert_int_ge(mtime_of(cache, a), now - 5);
  /* two entries at most: B, now the least recently used, goes */
  ck_assert_uint_eq(sp_seccomp_cache_trim(cache, 2, 1U << 20, NULL), 1);
  ck_assert_int_eq(mtime_of(cache, b), -1);
  ck_assert_int_ge(mtime_of(cache, a), 0);
  ck_assert_int_ge(mtime_of(cache, c), 0);
  /* within the bounds: nothing goes */
  ck_assert_uint_eq(sp_seccomp_cache_trim(cache, 2, 1U << 20, NULL), 0);
  /* a byte bound of one file keeps the newest (A) */
  struct stat st;
  char *fa = sp_path_join(cache, a);
  ck_assert_int_eq(stat(fa, &st), 0);
  free(fa);
  ck_assert_uint_eq(sp_seccomp_cache_trim(cache, 10, (size_t)st.st_size, NULL), 1);
  ck_assert_int_eq(mtime_of(cache, c), -1);
  ck_assert_int_ge(mtime_of(cache, a), 0);
  /* KEEP survives any bound */
  ck_assert_uint_eq(sp_seccomp_cache_trim(cache, 0, 0, a), 0);
  ck_assert_int_ge(mtime_of(cache, a), 0);

  /* writing a new file applies the default bound: fill the directory with
   * old entries, one more write evicts the oldest and keeps the new one */
  for (int i = 0; i < SP_SECCOMP_CACHE_MAX_ENTRIES + 5; i++) {
    char name[69];
    snprintf(name, sizeof name, "%064x.bpf", i);
    char *f = sp_path_join(cache, name);
    FILE *fp = fopen(f, "we");
    ck_assert_ptr_nonnull(fp);
    fputs("x", fp);
    fclose(fp);
    free(f);
    set_mtime(cache, name, now - 10000 + i); /* 0 is the oldest */
  }
  set_mtime(cache, a, now - 20000); /* older than all of them */
  /* a temporary file whose writer died long ago, and a live one */
  for (int i = 0; i < 2; i++) {
    char *f = sp_path_join(cache, i ? "y.bpf.tmp-2" : "x.bpf.tmp-1");
    FILE *fp = fopen(f, "we");
    ck_assert_ptr_nonnull(fp);
    fclose(fp);
    free(f);
  }
  set_mtime(cache, "x.bpf.tmp-1", now - 3600);
  prepare_errno(cache, 43, false, n2);
  ck_assert_uint_eq(count_files(cache), SP_SECCOMP_CACHE_MAX_ENTRIES + 1 /* y.bpf.tmp-2 */);
  ck_assert_int_ge(mtime_of(cache, n2), now - 5);
  ck_assert_int_eq(mtime_of(cache, a), -1);
  ck_assert_int_eq(mtime_of(cache, "x.bpf.tmp-1"), -1);
  ck_assert_int_ge(mtime_of(cache, "y.bpf.tmp-2"), 0);
  for (int i = 0; i < SP_SECCOMP_CACHE_MAX_ENTRIES + 5; i++) {
    char name[69];
    snprintf(name, sizeof name, "%064x.bpf", i);
    /* A, 69 old ones and the new one: the 7 oldest (A, 0..5) go */
    ck_assert_msg((mtime_of(cache, name) >= 0) == (i >= 6), "%s", name);
  }
  free(cache);
  sp_rm_rf(dir);
}
END_TEST

/* ---- notify ------------------------------------------------------------------------- */

START_TEST(test_process_state_json) {
  struct sp_spec s;
  parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/run/x.sock\", "
        "\"listenerMetadata\": \"MKNOD=/dev/null\", \"syscalls\": [{\"names\": [\"mkdirat\"], "
        "\"action\": \"SCMP_ACT_NOTIFY\"}]}",
        &s);
  char *j = sp_seccomp_process_state("c1", 4242, "/b", "creating", &s);
  ck_assert_ptr_nonnull(j);
  char eb[256];
  yajl_val v = yajl_tree_parse(j, eb, sizeof eb);
  ck_assert_msg(v != NULL, "not JSON: %s", j);
  const char *p_version[] = {"ociVersion", NULL}, *p_fds[] = {"fds", NULL},
             *p_pid[] = {"pid", NULL}, *p_md[] = {"metadata", NULL},
             *p_id[] = {"state", "id", NULL}, *p_st[] = {"state", "status", NULL},
             *p_spid[] = {"state", "pid", NULL}, *p_b[] = {"state", "bundle", NULL},
             *p_an[] = {"state", "annotations", "a", NULL};
  ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, p_version, yajl_t_string)), "1.0.2");
  yajl_val fds = yajl_tree_get(v, p_fds, yajl_t_array);
  ck_assert_ptr_nonnull(fds);
  ck_assert_uint_eq(YAJL_GET_ARRAY(fds)->len, 1);
  ck_assert_str_eq(YAJL_GET_STRING(YAJL_GET_ARRAY(fds)->values[0]), "seccompFd");
  ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(v, p_pid, yajl_t_number)), 4242);
  ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, p_md, yajl_t_string)), "MKNOD=/dev/null");
  ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, p_id, yajl_t_string)), "c1");
  ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, p_st, yajl_t_string)), "creating");
  ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(v, p_spid, yajl_t_number)), 4242);
  ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, p_b, yajl_t_string)), "/b");
  ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, p_an, yajl_t_string)), "b");
  yajl_tree_free(v);
  free(j);
  sp_spec_free(&s);
}
END_TEST

START_TEST(test_listener_send) {
  int sv[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  int pass = open("/dev/null", O_RDONLY | O_CLOEXEC);
  struct sp_error e = {0};
  char big[20000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  pid_t pid = fork();
  if (pid == 0) {
    close(sv[0]);
    _exit(sp_seccomp_listener_send(sv[1], pass, big, &e) == 0 ? 0 : 1);
  }
  close(sv[1]);
  size_t got = 0;
  int fds = 0;
  static char buf[sizeof big];
  for (;;) {
    union {
      struct cmsghdr h;
      char b[CMSG_SPACE(sizeof(int))];
    } c;
    struct iovec iov = {.iov_base = buf + got, .iov_len = sizeof buf - got};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b,
                       .msg_controllen = sizeof c.b};
    ssize_t n = recvmsg(sv[0], &m, MSG_CMSG_CLOEXEC);
    ck_assert_int_ge(n, 0);
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
      if (h->cmsg_type == SCM_RIGHTS) {
        int f;
        memcpy(&f, CMSG_DATA(h), sizeof f);
        struct stat a, b;
        ck_assert_int_eq(fstat(f, &a), 0);
        ck_assert_int_eq(fstat(pass, &b), 0);
        ck_assert_uint_eq(a.st_rdev, b.st_rdev);
        close(f);
        ck_assert_msg(got == 0, "the fd did not come with the first part");
        fds++;
      }
    if (n == 0)
      break;
    got += (size_t)n;
  }
  ck_assert_int_eq(fds, 1);
  ck_assert_uint_eq(got, strlen(big));
  int st;
  waitpid(pid, &st, 0);
  assert_exit(st, 0);
  close(sv[0]);
  close(pass);
}
END_TEST

START_TEST(test_listener_connect_error) {
  struct sp_error e = {0};
  ck_assert_int_eq(sp_seccomp_listener_connect("/nonexistent/sprout.sock", &e), -1);
  ck_assert_msg(strstr(e.msg, "/nonexistent/sprout.sock") && strstr(e.msg, "listenerPath"),
                "%s", e.msg);
}
END_TEST

START_TEST(test_notify_load) {
  struct sp_seccomp_prog p;
  compile("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/x\", \"syscalls\": "
          "[{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
          &p);
  ck_assert(p.notify);
  struct sp_spec s;
  parse("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"/x\", \"syscalls\": "
        "[{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
        &s);
  struct sp_error e = {0};
  ck_assert_int_eq(sp_seccomp_flags(&s.linux_.seccomp, true, &p.flags, &e), 0);
  sp_spec_free(&s);
  int sv[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  pid_t pid = fork();
  if (pid == 0) {
    int nfd;
    struct sp_error ce;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sp_seccomp_load(&p, &nfd, &ce) < 0 ||
        nfd < 0)
      _exit(100);
    if (sp_seccomp_listener_send(sv[1], nfd, "{}", &ce) < 0)
      _exit(101);
    close(nfd);
    long r = syscall(SYS_getppid);
    _exit(r == 4242 ? 0 : 102);
  }
  close(sv[1]);
  /* receive the fd and answer one notification */
  char b[8];
  union {
    struct cmsghdr h;
    char c[CMSG_SPACE(sizeof(int))];
  } c;
  struct iovec iov = {.iov_base = b, .iov_len = sizeof b};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.c,
                     .msg_controllen = sizeof c.c};
  ck_assert_int_gt(recvmsg(sv[0], &m, MSG_CMSG_CLOEXEC), 0);
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  ck_assert_ptr_nonnull(h);
  int nfd;
  memcpy(&nfd, CMSG_DATA(h), sizeof nfd);
  struct seccomp_notif_sizes sz;
  ck_assert_int_eq(syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz), 0);
  struct seccomp_notif *req = calloc(1, sz.seccomp_notif);
  struct seccomp_notif_resp *resp = calloc(1, sz.seccomp_notif_resp);
  ck_assert_int_eq(ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req), 0);
  ck_assert_int_eq(req->data.nr, SYS_getppid);
  resp->id = req->id;
  resp->val = 4242;
  ck_assert_int_eq(ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp), 0);
  int st;
  waitpid(pid, &st, 0);
  assert_exit(st, 0);
  free(req);
  free(resp);
  close(nfd);
  close(sv[0]);
  sp_seccomp_prog_free(&p);
}
END_TEST

static Suite *seccomp_suite(void) {
  Suite *s = suite_create("seccomp");
  TCase *tc = tcase_create("translate");
  tcase_add_test(tc, test_sha256_vectors);
  tcase_add_test(tc, test_sha256_accel_matches);
  tcase_add_test(tc, test_actions);
  tcase_add_test(tc, test_operators_arches);
  tcase_add_test(tc, test_flags);
  tcase_add_test(tc, test_canonical_digest);
  suite_add_tcase(s, tc);
  tc = tcase_create("filter");
  tcase_add_test(tc, test_errno_rule);
  tcase_add_test(tc, test_kill_actions);
  tcase_add_test(tc, test_trace_without_tracer);
  tcase_add_test(tc, test_arg_operators);
  tcase_add_test(tc, test_default_action_rule_skipped);
  tcase_add_test(tc, test_compile_errors);
  suite_add_tcase(s, tc);
  tc = tcase_create("enosys");
  tcase_add_test(tc, test_enosys_stub_shape);
  tcase_add_test(tc, test_enosys_newer);
  tcase_add_test(tc, test_enosys_named);
  tcase_add_test(tc, test_enosys_permissive_default);
#if defined(__x86_64__)
  tcase_add_test(tc, test_enosys_compat_abis);
#endif
  suite_add_tcase(s, tc);
  tc = tcase_create("cache");
  tcase_add_test(tc, test_cache);
  tcase_add_test(tc, test_cache_eviction);
  suite_add_tcase(s, tc);
  tc = tcase_create("notify");
  tcase_add_test(tc, test_process_state_json);
  tcase_add_test(tc, test_listener_send);
  tcase_add_test(tc, test_listener_connect_error);
  tcase_add_test(tc, test_notify_load);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(seccomp_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
