/* Unit tests for process.capabilities: names (spec layer and
 * sp_cap_from_name), and the five sets applied by sp_caps_apply() in
 * forked children (root only: the runner itself is never changed). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sprout/linux.h"
#include "sprout/security.h"
#include "sprout/spec.h"
#include "sprout/util.h"

#define BIT(c) (UINT64_C(1) << (c))

static char child_msg[1024];

static int cfail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int cfail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(child_msg, sizeof child_msg, fmt, ap);
  va_end(ap);
  return 1;
}

/* Run FN(ARG) in a child and assert it returned 0 (its message shown). */
static void in_child(int (*fn)(void *), void *arg) {
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
  char msg[sizeof child_msg + 1];
  ssize_t n = read(p[0], msg, sizeof msg - 1);
  msg[n > 0 ? n : 0] = '\0';
  close(p[0]);
  int st = 0;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed: %s", msg);
}

static uint64_t status_caps(const char *key) {
  FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  uint64_t v = UINT64_MAX;
  size_t kl = strlen(key);
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, key, kl) && line[kl] == ':')
      v = strtoull(line + kl + 1, NULL, 16);
  if (f)
    fclose(f);
  return v;
}

/* A process with capabilities from JSON (the "capabilities" object). */
static int parse_caps(const char *caps, struct sp_spec *s, struct sp_error *e) {
  char *j = NULL;
  if (asprintf(&j, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}, \"process\": "
                   "{\"cwd\": \"/\", \"args\": [\"sh\"]%s%s}}",
               caps ? ", \"capabilities\": " : "", caps ? caps : "") < 0)
    return -1;
  memset(s, 0, sizeof *s);
  int r = sp_spec_parse_buf(j, strlen(j), "config.json", s, e);
  free(j);
  return r;
}

/* ---- names ---------------------------------------------------------------- */

START_TEST(test_every_libcap_name) {
  for (int i = 0; i <= CAP_LAST_CAP; i++) {
    char *n = cap_to_name((cap_value_t)i);
    ck_assert_ptr_nonnull(n);
    char up[64];
    size_t k = 0;
    for (; n[k] && k < sizeof up - 1; k++)
      up[k] = (char)(n[k] >= 'a' && n[k] <= 'z' ? n[k] - 32 : n[k]);
    up[k] = '\0';
    cap_free(n);
    ck_assert_msg(sp_cap_from_name(up) == i, "%s -> %d", up, sp_cap_from_name(up));
  }
}
END_TEST

START_TEST(test_spec_unknown_name_path) {
  static const struct {
    const char *caps, *path, *name;
  } bad[] = {
      {"{\"bounding\": [\"CAP_CHOWN\", \"CAP_FOO\"]}", ".process.capabilities.bounding[1]",
       "CAP_FOO"},
      {"{\"effective\": [\"chown\"]}", ".process.capabilities.effective[0]", "chown"},
      {"{\"permitted\": [\"CAP_CHOWN \"]}", ".process.capabilities.permitted[0]", "CAP_CHOWN "},
      {"{\"inheritable\": [\"CAP_\"]}", ".process.capabilities.inheritable[0]", "CAP_"},
      {"{\"ambient\": [\"CAP_KILL\", \"CAP_KILL\", \"ALL\"]}",
       ".process.capabilities.ambient[2]", "ALL"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct sp_spec s;
    struct sp_error e = {0};
    ck_assert_int_eq(parse_caps(bad[i].caps, &s, &e), -1);
    ck_assert_msg(strstr(e.msg, bad[i].path) && strstr(e.msg, bad[i].name) &&
                      strstr(e.msg, "unknown capability"),
                  "%s", e.msg);
  }
  struct sp_spec s;
  struct sp_error e = {0};
  ck_assert_int_eq(parse_caps("{\"bounding\": [\"CAP_CHECKPOINT_RESTORE\", \"CAP_BPF\"]}", &s, &e),
                   0);
  sp_spec_free(&s);
}
END_TEST

/* ---- applying --------------------------------------------------------------- */

static int apply_json(const char *caps, struct sp_error *e) {
  struct sp_spec s;
  if (parse_caps(caps, &s, e) < 0)
    return -1;
  int r = sp_caps_apply(&s.process, e);
  sp_spec_free(&s);
  return r;
}

static int child_five_sets(void *arg) {
  (void)arg;
  struct sp_error e = {0};
  if (apply_json("{\"bounding\": [\"CAP_CHOWN\", \"CAP_KILL\", \"CAP_NET_RAW\", "
                 "\"CAP_SETPCAP\"], \"permitted\": [\"CAP_CHOWN\", \"CAP_KILL\", "
                 "\"CAP_NET_RAW\"], \"effective\": [\"CAP_CHOWN\", \"CAP_KILL\"], "
                 "\"inheritable\": [\"CAP_KILL\", \"CAP_NET_RAW\"], \"ambient\": [\"CAP_KILL\"]}",
                 &e) < 0)
    return cfail("apply: %s", e.msg);
  struct {
    const char *key;
    uint64_t want;
  } w[] = {
      {"CapBnd", BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_RAW) | BIT(CAP_SETPCAP)},
      {"CapPrm", BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_RAW)},
      {"CapEff", BIT(CAP_CHOWN) | BIT(CAP_KILL)},
      {"CapInh", BIT(CAP_KILL) | BIT(CAP_NET_RAW)},
      {"CapAmb", BIT(CAP_KILL)},
  };
  for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
    if (status_caps(w[i].key) != w[i].want)
      return cfail("%s = %#llx, expected %#llx", w[i].key,
                   (unsigned long long)status_caps(w[i].key), (unsigned long long)w[i].want);
  return 0;
}

START_TEST(test_five_sets) {
  if (geteuid() == 0)
    in_child(child_five_sets, NULL);
}
END_TEST

/* CVE-2022-29162: inheritable (and so ambient) capabilities the runtime
 * happens to hold must not reach the workload. */
static int child_no_inherited(void *arg) {
  (void)arg;
  cap_t c = cap_get_proc();
  cap_value_t v[] = {CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_KILL};
  cap_set_flag(c, CAP_INHERITABLE, 3, v, CAP_SET);
  if (cap_set_proc(c) < 0)
    return cfail("set up inheritable caps: %s", strerror(errno));
  cap_free(c);
  if (cap_set_ambient(CAP_NET_ADMIN, CAP_SET) < 0)
    return cfail("set up an ambient cap: %s", strerror(errno));
  if (status_caps("CapInh") == 0 || status_caps("CapAmb") == 0)
    return cfail("the setup did not take");
  struct sp_error e = {0};
  /* no inheritable, no ambient in the config */
  if (apply_json("{\"bounding\": [\"CAP_KILL\", \"CAP_NET_ADMIN\"], \"permitted\": "
                 "[\"CAP_KILL\"], \"effective\": [\"CAP_KILL\"]}",
                 &e) < 0)
    return cfail("apply: %s", e.msg);
  if (status_caps("CapInh") != 0)
    return cfail("CapInh = %#llx after a config without inheritable",
                 (unsigned long long)status_caps("CapInh"));
  if (status_caps("CapAmb") != 0)
    return cfail("CapAmb = %#llx after a config without ambient",
                 (unsigned long long)status_caps("CapAmb"));
  return 0;
}

START_TEST(test_no_inherited_caps) {
  if (geteuid() == 0)
    in_child(child_no_inherited, NULL);
}
END_TEST

/* Docker's and containerd's default set (no CAP_SYS_RESOURCE). */
static const char *const docker14 =
    "[\"CAP_CHOWN\", \"CAP_DAC_OVERRIDE\", \"CAP_FSETID\", \"CAP_FOWNER\", \"CAP_MKNOD\", "
    "\"CAP_NET_RAW\", \"CAP_SETGID\", \"CAP_SETUID\", \"CAP_SETFCAP\", \"CAP_SETPCAP\", "
    "\"CAP_NET_BIND_SERVICE\", \"CAP_SYS_CHROOT\", \"CAP_KILL\", \"CAP_AUDIT_WRITE\"]";

static int child_docker14(void *arg) {
  (void)arg;
  char *j = NULL;
  if (asprintf(&j, "{\"bounding\": %s, \"permitted\": %s, \"effective\": %s}", docker14,
               docker14, docker14) < 0)
    return cfail("asprintf");
  struct sp_error e = {0};
  int r = apply_json(j, &e);
  free(j);
  if (r < 0)
    return cfail("apply Docker's 14 capabilities: %s", e.msg);
  uint64_t want = BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FSETID) | BIT(CAP_FOWNER) |
                  BIT(CAP_MKNOD) | BIT(CAP_NET_RAW) | BIT(CAP_SETGID) | BIT(CAP_SETUID) |
                  BIT(CAP_SETFCAP) | BIT(CAP_SETPCAP) | BIT(CAP_NET_BIND_SERVICE) |
                  BIT(CAP_SYS_CHROOT) | BIT(CAP_KILL) | BIT(CAP_AUDIT_WRITE);
  if (status_caps("CapEff") != want || status_caps("CapBnd") != want)
    return cfail("CapEff %#llx CapBnd %#llx, expected %#llx",
                 (unsigned long long)status_caps("CapEff"),
                 (unsigned long long)status_caps("CapBnd"), (unsigned long long)want);
  return 0;
}

START_TEST(test_docker_default_caps) {
  if (geteuid() == 0)
    in_child(child_docker14, NULL);
}
END_TEST

static int child_errors(void *arg) {
  (void)arg;
  struct sp_error e = {0};
  if (apply_json("{\"permitted\": [\"CAP_KILL\"], \"effective\": [\"CAP_KILL\", "
                 "\"CAP_CHOWN\"]}",
                 &e) == 0)
    return cfail("effective outside permitted accepted");
  if (!strstr(e.msg, "CAP_CHOWN") || !strstr(e.msg, "permitted"))
    return cfail("message: %s", e.msg);
  /* a capability the runtime does not hold: named, nothing changed */
  cap_t c = cap_get_proc();
  cap_value_t v = CAP_SYS_TIME;
  cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_CLEAR);
  cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
  if (cap_set_proc(c) < 0)
    return cfail("drop CAP_SYS_TIME: %s", strerror(errno));
  cap_free(c);
  uint64_t bnd = status_caps("CapBnd");
  if (apply_json("{\"bounding\": [\"CAP_SYS_TIME\"], \"permitted\": [\"CAP_SYS_TIME\"], "
                 "\"effective\": [\"CAP_SYS_TIME\"]}",
                 &e) == 0)
    return cfail("a capability the runtime lacks was granted");
  if (!strstr(e.msg, "CAP_SYS_TIME") || !strstr(e.msg, "runtime"))
    return cfail("message: %s", e.msg);
  if (status_caps("CapBnd") != bnd)
    return cfail("the bounding set changed before the error");
  /* ambient needs permitted and inheritable */
  if (apply_json("{\"permitted\": [\"CAP_KILL\"], \"ambient\": [\"CAP_KILL\"]}", &e) == 0)
    return cfail("ambient without inheritable accepted");
  if (!strstr(e.msg, "CAP_KILL") || !strstr(e.msg, "inheritable"))
    return cfail("message: %s", e.msg);
  return 0;
}

START_TEST(test_errors_name_the_capability) {
  if (geteuid() == 0)
    in_child(child_errors, NULL);
}
END_TEST

/* No capabilities object: nothing at all. */
static int child_none(void *arg) {
  (void)arg;
  struct sp_error e = {0};
  if (apply_json(NULL, &e) < 0)
    return cfail("apply: %s", e.msg);
  const char *keys[] = {"CapBnd", "CapPrm", "CapEff", "CapInh", "CapAmb"};
  for (int i = 0; i < 5; i++)
    if (status_caps(keys[i]) != 0)
      return cfail("%s = %#llx", keys[i], (unsigned long long)status_caps(keys[i]));
  return 0;
}

START_TEST(test_no_capabilities_object) {
  if (geteuid() == 0)
    in_child(child_none, NULL);
}
END_TEST

/* Seccomp without noNewPrivileges: CAP_SYS_ADMIN stays (effective) until
 * the filter is loaded; with noNewPrivileges it does not. */
static int child_keep_sysadmin(void *arg) {
  bool nnp = arg != NULL;
  char *j = NULL;
  if (asprintf(&j, "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}, \"process\": "
                   "{\"cwd\": \"/\", \"args\": [\"sh\"], \"noNewPrivileges\": %s, "
                   "\"capabilities\": {\"bounding\": [\"CAP_KILL\"], \"permitted\": "
                   "[\"CAP_KILL\"], \"effective\": [\"CAP_KILL\"]}}, \"linux\": {\"seccomp\": "
                   "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": "
                   "[\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\"}]}, "
                   /* a user namespace that cannot write the test binary
                    * (sp_security_prepare() never re-executes it: that is
                    * sp_selfexe_protect()'s, which is not called here) */
                   "\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"mount\"}], "
                   "\"uidMappings\": [{\"containerID\": 0, \"hostID\": 3000000, \"size\": 1}], "
                   "\"gidMappings\": [{\"containerID\": 0, \"hostID\": 3000000, \"size\": 1}]}}",
               nnp ? "true" : "false") < 0)
    return cfail("asprintf");
  struct sp_spec s;
  struct sp_error e = {0};
  if (sp_spec_parse_buf(j, strlen(j), "config.json", &s, &e) < 0)
    return cfail("parse: %s", e.msg);
  free(j);
  if (sp_security_prepare(&s, &s.process, NULL, &e) < 0)
    return cfail("prepare: %s", e.msg);
  if (sp_selfexe_sealed())
    return cfail("prepare re-executed the test binary");
  if (sp_security_keep_sysadmin() == nnp)
    return cfail("keep_sysadmin %d with noNewPrivileges %d", !nnp, nnp);
  if (sp_caps_apply(&s.process, &e) < 0)
    return cfail("apply: %s", e.msg);
  uint64_t eff = status_caps("CapEff");
  bool has = eff & BIT(CAP_SYS_ADMIN);
  if (has == nnp)
    return cfail("CapEff %#llx with noNewPrivileges %d", (unsigned long long)eff, nnp);
  if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return cfail("no_new_privs");
  if (sp_security_exec_last(&s.process, &e) < 0)
    return cfail("exec_last: %s", e.msg);
  /* what execve will derive from: no CAP_SYS_ADMIN anywhere */
  uint64_t sa = BIT(CAP_SYS_ADMIN);
  if ((status_caps("CapBnd") | status_caps("CapInh") | status_caps("CapAmb")) & sa)
    return cfail("CAP_SYS_ADMIN in bounding/inheritable/ambient: %#llx %#llx %#llx",
                 (unsigned long long)status_caps("CapBnd"),
                 (unsigned long long)status_caps("CapInh"),
                 (unsigned long long)status_caps("CapAmb"));
  errno = 0;
  if (syscall(SYS_getppid) != -1 || errno != EPERM)
    return cfail("the filter is not in place");
  sp_spec_free(&s);
  return 0;
}

START_TEST(test_keep_sysadmin_for_seccomp) {
  if (geteuid() == 0) {
    in_child(child_keep_sysadmin, NULL);
    in_child(child_keep_sysadmin, (void *)1);
  }
}
END_TEST

static Suite *caps_suite(void) {
  Suite *s = suite_create("caps");
  TCase *tc = tcase_create("names");
  tcase_add_test(tc, test_every_libcap_name);
  tcase_add_test(tc, test_spec_unknown_name_path);
  suite_add_tcase(s, tc);
  tc = tcase_create("apply");
  tcase_add_test(tc, test_five_sets);
  tcase_add_test(tc, test_no_inherited_caps);
  tcase_add_test(tc, test_docker_default_caps);
  tcase_add_test(tc, test_errors_name_the_capability);
  tcase_add_test(tc, test_no_capabilities_object);
  tcase_add_test(tc, test_keep_sysadmin_for_seccomp);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(caps_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
