/* Unit tests for src/runtime/hooks.c, record.c and the overlay options
 * (src/linux/overlay.c): running a hook (stdin, args, env, status, output,
 * timeout), the runtime.json record, and --overlay / annotations. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sprout/hooks.h"
#include "sprout/overlay.h"
#include "sprout/state.h"
#include "sprout/userns.h"
#include "sprout/util.h"

static struct sp_hook sh_hook(char **args, size_t n, char **env, size_t ne) {
  struct sp_hook h = {.path = "/bin/sh", .args = args, .args_len = n, .env = env,
                      .env_len = ne};
  return h;
}

START_TEST(test_hook_stdin_args_env) {
  char *args[] = {"sh", "-c",
                  "read s; [ \"$s\" = '{\"id\":\"x\"}' ] && [ \"$1\" = one ] && "
                  "[ \"$FOO\" = bar ] && [ -z \"$HOME\" ]",
                  "sh", "one"};
  char *env[] = {"FOO=bar"};
  struct sp_hook h = sh_hook(args, 5, env, 1);
  struct sp_error err = {0};
  ck_assert_msg(sp_hook_run(&h, "prestart", 0, "{\"id\":\"x\"}\n", &err) == 0, "%s",
                err.msg);
}
END_TEST

START_TEST(test_hook_failure_output) {
  char *args[] = {"sh", "-c", "echo first line; echo second >&2; exit 7"};
  struct sp_hook h = sh_hook(args, 3, NULL, 0);
  struct sp_error err = {0};
  ck_assert_int_eq(sp_hook_run(&h, "createRuntime", 2, "{}", &err), -1);
  ck_assert_msg(strstr(err.msg, "hook createRuntime[2] /bin/sh") != NULL, "%s", err.msg);
  ck_assert_msg(strstr(err.msg, "exited with status 7") != NULL, "%s", err.msg);
  ck_assert_msg(strstr(err.msg, "first line; second") != NULL, "%s", err.msg);
  ck_assert_msg(strchr(err.msg, '\n') == NULL, "one line: %s", err.msg);
}
END_TEST

START_TEST(test_hook_signal) {
  char *args[] = {"sh", "-c", "kill -9 $$"};
  struct sp_hook h = sh_hook(args, 3, NULL, 0);
  struct sp_error err = {0};
  ck_assert_int_eq(sp_hook_run(&h, "poststop", 0, "{}", &err), -1);
  ck_assert_msg(strstr(err.msg, "killed by signal 9") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_hook_timeout) {
  char *args[] = {"sh", "-c", "sleep 20"};
  struct sp_hook h = sh_hook(args, 3, NULL, 0);
  h.has_timeout = true;
  h.timeout = 1;
  struct sp_error err = {0};
  time_t t0 = time(NULL);
  ck_assert_int_eq(sp_hook_run(&h, "prestart", 0, "{}", &err), -1);
  ck_assert_int_le(time(NULL) - t0, 5);
  ck_assert_int_eq(err.code, ETIMEDOUT);
  ck_assert_msg(strstr(err.msg, "timed out after 1 s") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_hook_big_state_not_read) {
  /* a hook that never reads a state larger than any pipe buffer */
  size_t n = 1 << 20;
  char *state = malloc(n + 1);
  ck_assert_ptr_nonnull(state);
  memset(state, 'x', n);
  state[n] = '\0';
  char *args[] = {"sh", "-c", "exit 0"};
  struct sp_hook h = sh_hook(args, 3, NULL, 0);
  struct sp_error err = {0};
  ck_assert_msg(sp_hook_run(&h, "poststart", 0, state, &err) == 0, "%s", err.msg);
  free(state);
}
END_TEST

START_TEST(test_hook_missing) {
  struct sp_hook h = {.path = "/nonexistent/hook"};
  struct sp_error err = {0};
  ck_assert_int_eq(sp_hook_run(&h, "prestart", 0, "{}", &err), -1);
  ck_assert_msg(strstr(err.msg, "/nonexistent/hook") != NULL, "%s", err.msg);
  ck_assert_msg(strstr(err.msg, "status 127") != NULL, "%s", err.msg);
}
END_TEST

static const char *CONFIG =
    "{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"},"
    " \"hooks\": {\"poststart\": [{\"path\": \"/bin/a\", \"args\": [\"a\", \"b\"],"
    " \"env\": [\"X=1\"], \"timeout\": 3}],"
    " \"poststop\": [{\"path\": \"/bin/b\"}], \"prestart\": [{\"path\": \"/bin/c\"}]},"
    " \"linux\": {\"namespaces\": [{\"type\": \"network\"}, {\"type\": \"mount\"}],"
    " \"netDevices\": {\"veth0\": {\"name\": \"eth0\"}}}}";

START_TEST(test_record_roundtrip) {
  struct sp_spec spec, rec;
  struct sp_error err = {0};
  ck_assert_msg(sp_spec_parse_buf(CONFIG, strlen(CONFIG), "config.json", &spec, &err) == 0,
                "%s", err.msg);
  char dir[] = "/tmp/sprout-test-record.XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  ck_assert_msg(sp_record_save(fd, &spec, &err) == 0, "%s", err.msg);
  ck_assert_msg(sp_record_load(fd, &rec, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(rec.hooks.poststart_len, 1);
  ck_assert_str_eq(rec.hooks.poststart[0].path, "/bin/a");
  ck_assert_int_eq(rec.hooks.poststart[0].args_len, 2);
  ck_assert_str_eq(rec.hooks.poststart[0].env[0], "X=1");
  ck_assert_int_eq(rec.hooks.poststart[0].timeout, 3);
  ck_assert_int_eq(rec.hooks.poststop_len, 1);
  ck_assert_int_eq(rec.hooks.prestart_len, 0); /* not needed after create */
  ck_assert_int_eq(rec.linux_.net_devices_len, 1);
  ck_assert_str_eq(rec.linux_.net_devices[0].host_name, "veth0");
  ck_assert_str_eq(rec.linux_.net_devices[0].name, "eth0");
  sp_spec_free(&rec);
  sp_spec_free(&spec);
  unlinkat(fd, SP_RECORD_FILE, 0);
  /* no record: an empty spec, no error */
  ck_assert_int_eq(sp_record_load(fd, &rec, &err), 0);
  ck_assert_int_eq(rec.hooks.poststart_len, 0);
  sp_spec_free(&rec);
  close(fd);
  rmdir(dir);
}
END_TEST

/* ---- overlay options ---------------------------------------------------- */

static void parse(const char *json, struct sp_spec *spec) {
  struct sp_error err = {0};
  ck_assert_msg(sp_spec_parse_buf(json, strlen(json), "config.json", spec, &err) == 0,
                "%s", err.msg);
}

START_TEST(test_overlay_flags) {
  struct sp_spec spec;
  parse("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}}", &spec);
  struct sp_overlay ov;
  struct sp_error err = {0};
  ck_assert_int_eq(sp_overlay_resolve(&spec, "/b", false, NULL, NULL, 0, &ov, &err), 0);
  ck_assert(!ov.enabled);
  sp_overlay_free(&ov);
  ck_assert_int_eq(sp_overlay_resolve(&spec, "/b", true, NULL, NULL, 0, &ov, &err), 0);
  ck_assert(ov.enabled);
  ck_assert_ptr_null(ov.dir);
  sp_overlay_free(&ov);
  const char *lower[] = {"/tmp", "/"};
  ck_assert_int_eq(sp_overlay_resolve(&spec, "/b", true, "/tmp/newdir-x", lower, 2, &ov, &err),
                   0);
  ck_assert_str_eq(ov.dir, "/tmp/newdir-x");
  ck_assert_int_eq(ov.lower_len, 2);
  ck_assert_str_eq(ov.lower[0], "/tmp");
  sp_overlay_free(&ov);
  /* --lower without --overlay */
  ck_assert_int_eq(sp_overlay_resolve(&spec, "/b", false, NULL, lower, 1, &ov, &err), -1);
  ck_assert_msg(strstr(err.msg, "--overlay") != NULL, "%s", err.msg);
  sp_overlay_free(&ov);
  /* a missing layer is named */
  const char *missing[] = {"/nonexistent-layer"};
  ck_assert_int_eq(sp_overlay_resolve(&spec, "/b", true, NULL, missing, 1, &ov, &err), -1);
  ck_assert_msg(strstr(err.msg, "/nonexistent-layer") != NULL, "%s", err.msg);
  sp_overlay_free(&ov);
  /* an upper dir whose parent is missing */
  ck_assert_int_eq(sp_overlay_resolve(&spec, "/b", true, "/nonexistent/up", NULL, 0, &ov, &err),
                   -1);
  ck_assert_msg(strstr(err.msg, "/nonexistent") != NULL, "%s", err.msg);
  sp_overlay_free(&ov);
  sp_spec_free(&spec);
}
END_TEST

START_TEST(test_overlay_annotations) {
  struct sp_spec spec;
  parse("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"annotations\":"
        " {\"org.sprout.overlay\": \"up\", \"org.sprout.overlay.lower\": \"/tmp:.\"}}",
        &spec);
  struct sp_overlay ov;
  struct sp_error err = {0};
  ck_assert_msg(sp_overlay_resolve(&spec, "/tmp", false, NULL, NULL, 0, &ov, &err) == 0, "%s",
                err.msg);
  ck_assert(ov.enabled);
  ck_assert_str_eq(ov.dir, "/tmp/up"); /* relative to the bundle */
  ck_assert_int_eq(ov.lower_len, 2);
  ck_assert_str_eq(ov.lower[1], "/tmp");
  sp_overlay_free(&ov);
  /* the flag wins: a tmpfs */
  ck_assert_int_eq(sp_overlay_resolve(&spec, "/tmp", true, NULL, NULL, 0, &ov, &err), 0);
  ck_assert_ptr_null(ov.dir);
  sp_overlay_free(&ov);
  sp_spec_free(&spec);
  parse("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"annotations\":"
        " {\"org.sprout.overlay\": \"false\"}}",
        &spec);
  ck_assert_int_eq(sp_overlay_resolve(&spec, "/tmp", false, NULL, NULL, 0, &ov, &err), 0);
  ck_assert(!ov.enabled);
  sp_overlay_free(&ov);
  sp_spec_free(&spec);
}
END_TEST

START_TEST(test_host_ids) {
  struct sp_spec spec;
  parse("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"linux\":"
        " {\"namespaces\": [{\"type\": \"user\"}, {\"type\": \"mount\"}],"
        " \"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1},"
        " {\"containerID\": 1, \"hostID\": 100000, \"size\": 65536}],"
        " \"gidMappings\": [{\"containerID\": 0, \"hostID\": 2000, \"size\": 10}]}}",
        &spec);
  ck_assert_int_eq(sp_userns_host_uid(&spec, 0), 1000);
  ck_assert_int_eq(sp_userns_host_uid(&spec, 5), 100004);
  ck_assert_int_eq(sp_userns_host_uid(&spec, 70000), (uid_t)-1);
  ck_assert_int_eq(sp_userns_host_gid(&spec, 9), 2009);
  sp_spec_free(&spec);
}
END_TEST

/* state.json is replaced whole: a reader that opened the old file reads it
 * complete, the new one is another file, and no side file is left. */
START_TEST(test_state_save_replace) {
  char dir[] = "/tmp/sprout-state-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ck_assert_int_ge(dfd, 0);
  struct sp_state st = {.id = "c1", .pid = 11, .bundle = "/b", .rootfs = "/r",
                        .created = "", .owner = "root", .cgroup_mode = "v2",
                        .cgroup_path = ""};
  struct sp_error err = {0};
  ck_assert_int_eq(sp_state_save(dfd, &st, &err), 0);
  int old = openat(dfd, "state.json", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(old, 0);
  struct stat a, b;
  ck_assert_int_eq(fstat(old, &a), 0);
  st.pid = 22;
  st.created = "2026-12-06T00:00:00.000000000Z";
  ck_assert_int_eq(sp_state_save(dfd, &st, &err), 0);
  ck_assert_int_eq(fstatat(dfd, "state.json", &b, 0), 0);
  ck_assert(a.st_ino != b.st_ino);
  char buf[4096];
  ssize_t n = read(old, buf, sizeof buf - 1);
  ck_assert_int_gt(n, 0);
  buf[n] = '\0';
  ck_assert_ptr_nonnull(strstr(buf, "\"pid\":11"));
  ck_assert_ptr_null(strstr(buf, "\"pid\":22"));
  close(old);
  struct sp_state got;
  ck_assert_int_eq(sp_state_load(dfd, "c1", &got, &err), 0);
  ck_assert_int_eq(got.pid, 22);
  ck_assert_str_eq(got.created, "2026-12-06T00:00:00.000000000Z");
  sp_state_free(&got);
  /* only state.json in the directory */
  DIR *d = fdopendir(dup(dfd));
  ck_assert_ptr_nonnull(d);
  int files = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (e->d_name[0] != '.') {
      ck_assert_str_eq(e->d_name, "state.json");
      files++;
    }
  closedir(d);
  ck_assert_int_eq(files, 1);
  ck_assert_int_eq(unlinkat(dfd, "state.json", 0), 0);
  close(dfd);
  ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *hooks_suite(void) {
  Suite *s = suite_create("hooks");
  TCase *tc = tcase_create("hooks");
  tcase_add_test(tc, test_hook_stdin_args_env);
  tcase_add_test(tc, test_hook_failure_output);
  tcase_add_test(tc, test_hook_signal);
  tcase_add_test(tc, test_hook_timeout);
  tcase_add_test(tc, test_hook_big_state_not_read);
  tcase_add_test(tc, test_hook_missing);
  tcase_add_test(tc, test_record_roundtrip);
  tcase_add_test(tc, test_state_save_replace);
  suite_add_tcase(s, tc);
  TCase *to = tcase_create("overlay");
  tcase_add_test(to, test_overlay_flags);
  tcase_add_test(to, test_overlay_annotations);
  tcase_add_test(to, test_host_ids);
  suite_add_tcase(s, to);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(hooks_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failures = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
