/* Unit tests for exec's process (src/runtime/exec_process.c), environment
 * lists (process.c), NOTIFY_SOCKET forwarding and LISTEN_FDS
 * (notify.c), the fd-carrying sync messages (sync.c) and the console
 * socket message (src/linux/terminal.c). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sprout/exec.h"
#include "sprout/linux.h"
#include "sprout/process.h"
#include "sprout/session.h"
#include "sprout/sync.h"

static const char *CONFIG =
    "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
    " \"process\": {\"cwd\": \"/\", \"args\": [\"sh\"],"
    "  \"env\": [\"PATH=/bin\", \"TERM=xterm\", \"A=1\"],"
    "  \"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": [10]},"
    "  \"terminal\": true, \"noNewPrivileges\": false,"
    "  \"apparmorProfile\": \"container-default\","
    "  \"oomScoreAdj\": 100,"
    "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 1024}],"
    "  \"capabilities\": {\"bounding\": [\"CAP_KILL\"], \"effective\": [\"CAP_KILL\"],"
    "   \"permitted\": [\"CAP_KILL\"], \"inheritable\": [\"CAP_NET_RAW\"]}}}";

static struct sp_spec spec;

static void setup(void) {
  struct sp_error err = {0};
  memset(&spec, 0, sizeof spec);
  ck_assert_msg(sp_spec_parse_buf(CONFIG, strlen(CONFIG), "config.json", &spec, &err) == 0,
                "%s", err.msg);
}

static void teardown(void) { sp_spec_free(&spec); }

static bool has(char **v, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(v[i], s))
      return true;
  return false;
}

START_TEST(args_mode_inherits_the_container) {
  struct sp_exec_opts o = {0};
  char *args[] = {"ps", "aux"};
  o.args = args;
  o.args_len = 2;
  struct sp_process p;
  struct sp_exec_owned ow;
  struct sp_error err = {0};
  ck_assert_msg(sp_exec_process(&spec, NULL, &o, &p, &ow, &err) == 0, "%s", err.msg);
  ck_assert_int_eq(p.args_len, 2);
  ck_assert_str_eq(p.args[0], "ps");
  ck_assert(!p.terminal); /* only with --tty */
  ck_assert_int_eq(p.env_len, 3);
  ck_assert_str_eq(p.cwd, "/");
  ck_assert_int_eq(p.rlimits_len, 1);
  ck_assert_str_eq(p.apparmor_profile, "container-default");
  ck_assert(p.has_capabilities && has(p.capabilities.bounding, p.capabilities.bounding_len, "CAP_KILL"));
  sp_exec_process_free(&ow);
}
END_TEST

START_TEST(options_override) {
  struct sp_exec_opts o = {0};
  char *args[] = {"id"};
  char *env[] = {"A=2", "B=x=y", "A=3"};
  uint32_t gids[] = {2000, 3000};
  o.args = args;
  o.args_len = 1;
  o.env = env;
  o.env_len = 3;
  o.tty = o.tty_set = true;
  o.cwd = "/tmp";
  o.has_user = true;
  o.uid = 1000;
  o.additional_gids = gids;
  o.additional_gids_len = 2;
  o.no_new_privs = true;
  o.apparmor = "other";
  struct sp_process p;
  struct sp_exec_owned ow;
  struct sp_error err = {0};
  ck_assert_msg(sp_exec_process(&spec, NULL, &o, &p, &ow, &err) == 0, "%s", err.msg);
  ck_assert(p.terminal);
  ck_assert_str_eq(p.cwd, "/tmp");
  ck_assert_int_eq(p.user.uid, 1000);
  ck_assert_int_eq(p.user.gid, 0); /* no :GID: the config's */
  ck_assert_int_eq(p.user.additional_gids_len, 2);
  ck_assert_int_eq(p.user.additional_gids[1], 3000);
  ck_assert(p.no_new_privileges);
  ck_assert_str_eq(p.apparmor_profile, "other");
  /* the last value of A wins, in A's first position */
  ck_assert_int_eq(p.env_len, 4);
  ck_assert_str_eq(p.env[2], "A=3");
  ck_assert_str_eq(p.env[3], "B=x=y");
  ck_assert_str_eq(sp_env_get(p.env, "B"), "x=y");
  sp_exec_process_free(&ow);
}
END_TEST

START_TEST(caps_added_never_inheritable) {
  struct sp_exec_opts o = {0};
  char *args[] = {"id"};
  char *caps[] = {"CAP_SYS_ADMIN", "CAP_NET_RAW", "CAP_KILL"};
  o.args = args;
  o.args_len = 1;
  o.caps = caps;
  o.caps_len = 3;
  struct sp_process p;
  struct sp_exec_owned ow;
  struct sp_error err = {0};
  ck_assert_msg(sp_exec_process(&spec, NULL, &o, &p, &ow, &err) == 0, "%s", err.msg);
  const struct sp_capabilities *c = &p.capabilities;
  ck_assert(has(c->bounding, c->bounding_len, "CAP_SYS_ADMIN"));
  ck_assert(has(c->effective, c->effective_len, "CAP_NET_RAW"));
  ck_assert(has(c->permitted, c->permitted_len, "CAP_SYS_ADMIN"));
  ck_assert_int_eq(c->bounding_len, 3); /* CAP_KILL not twice */
  ck_assert_int_eq(c->inheritable_len, 1);
  /* ambient only for what was inheritable already */
  ck_assert_int_eq(c->ambient_len, 1);
  ck_assert_str_eq(c->ambient[0], "CAP_NET_RAW");
  /* the container's own arrays are untouched */
  ck_assert_int_eq(spec.process.capabilities.bounding_len, 1);
  sp_exec_process_free(&ow);

  char *bad[] = {"CAP_NOPE"};
  o.caps = bad;
  o.caps_len = 1;
  ck_assert_int_eq(sp_exec_process(&spec, NULL, &o, &p, &ow, &err), -1);
  ck_assert_msg(strstr(err.msg, "CAP_NOPE") != NULL, "%s", err.msg);
  sp_exec_process_free(&ow);
}
END_TEST

START_TEST(process_file_keeps_the_confinement) {
  const char *json = "{\"cwd\": \"/srv\", \"args\": [\"top\"], \"terminal\": true,"
                     " \"user\": {\"uid\": 5, \"gid\": 6}}";
  struct sp_process fp = {0};
  struct sp_error err = {0};
  ck_assert_msg(sp_process_parse_buf(json, strlen(json), "process.json", &fp, &err) == 0,
                "%s", err.msg);
  struct sp_exec_opts o = {.process_file = "process.json"};
  struct sp_process p;
  struct sp_exec_owned ow;
  ck_assert_msg(sp_exec_process(&spec, &fp, &o, &p, &ow, &err) == 0, "%s", err.msg);
  ck_assert_str_eq(p.args[0], "top");
  ck_assert(p.terminal);
  ck_assert_int_eq(p.user.uid, 5);
  ck_assert_int_eq(p.env_len, 0); /* the file's env, none */
  /* left out of the file: the container's */
  ck_assert(p.has_capabilities);
  ck_assert_int_eq(p.rlimits_len, 1);
  ck_assert_str_eq(p.apparmor_profile, "container-default");
  ck_assert(p.has_oom_score_adj && p.oom_score_adj == 100);
  sp_exec_process_free(&ow);
  sp_process_free(&fp);
}
END_TEST

START_TEST(bad_options) {
  struct sp_exec_opts o = {0};
  char *args[] = {"id"};
  char *env[] = {"NOEQUALS"};
  o.args = args;
  o.args_len = 1;
  o.env = env;
  o.env_len = 1;
  struct sp_process p;
  struct sp_exec_owned ow;
  struct sp_error err = {0};
  ck_assert_int_eq(sp_exec_process(&spec, NULL, &o, &p, &ow, &err), -1);
  ck_assert_msg(strstr(err.msg, "NOEQUALS") != NULL, "%s", err.msg);
  sp_exec_process_free(&ow);
  o.env_len = 0;
  o.cwd = "relative";
  ck_assert_int_eq(sp_exec_process(&spec, NULL, &o, &p, &ow, &err), -1);
  ck_assert_msg(strstr(err.msg, "--cwd") != NULL, "%s", err.msg);
  sp_exec_process_free(&ow);
  o.cwd = NULL;
  o.args_len = 0;
  ck_assert_int_eq(sp_exec_process(&spec, NULL, &o, &p, &ow, &err), -1);
  sp_exec_process_free(&ow);
}
END_TEST

START_TEST(env_helpers) {
  char *in[] = {"A=1", "B=2", "A=3", "C"};
  char **e = sp_env_build(in, 4);
  ck_assert_ptr_nonnull(e);
  ck_assert_str_eq(e[0], "A=3");
  ck_assert_str_eq(e[1], "B=2");
  ck_assert_str_eq(e[2], "C");
  ck_assert_ptr_null(e[3]);
  ck_assert_int_eq(sp_env_set(&e, "B", "9"), 0);
  ck_assert_int_eq(sp_env_set(&e, "LISTEN_PID", "1"), 0);
  ck_assert_str_eq(e[1], "B=9");
  ck_assert_str_eq(sp_env_get(e, "LISTEN_PID"), "1");
  ck_assert_ptr_null(sp_env_get(e, "LISTEN"));
  sp_env_free(e);
}
END_TEST

START_TEST(listen_fds_only_for_our_pid) {
  char pid[16];
  snprintf(pid, sizeof pid, "%d", (int)getpid());
  setenv("LISTEN_FDS", "2", 1);
  setenv("LISTEN_PID", pid, 1);
  ck_assert_int_eq(sp_listen_fds(), 2);
  setenv("LISTEN_PID", "1", 1);
  ck_assert_int_eq(sp_listen_fds(), 0);
  setenv("LISTEN_PID", pid, 1);
  setenv("LISTEN_FDS", "x", 1);
  ck_assert_int_eq(sp_listen_fds(), 0);
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_PID");
  ck_assert_int_eq(sp_listen_fds(), 0);
}
END_TEST

static int dgram_at(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  ck_assert_uint_lt(strlen(path), sizeof sa.sun_path);
  memcpy(sa.sun_path, path, strlen(path) + 1);
  unlink(path);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  return fd;
}

START_TEST(notify_forward_adds_mainpid) {
  char dir[] = "/tmp/sprout-test-notify.XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char host[256], inner[256];
  snprintf(host, sizeof host, "%s/host.sock", dir);
  snprintf(inner, sizeof inner, "%s/inner.sock", dir);
  int h = dgram_at(host), in = dgram_at(inner);
  setenv("NOTIFY_SOCKET", host, 1);
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  ck_assert_uint_lt(strlen(inner), sizeof sa.sun_path);
  memcpy(sa.sun_path, inner, strlen(inner) + 1);
  struct sp_error err = {0};
  const char *m1 = "STATUS=working";
  ck_assert_int_ge(sendto(s, m1, strlen(m1), 0, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(sp_notify_forward(in, 4242, &err), 0);
  const char *m2 = "MAINPID=7\nREADY=1";
  ck_assert_int_ge(sendto(s, m2, strlen(m2), 0, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(sp_notify_forward(in, 4242, &err), 1);
  char buf[512];
  ssize_t n = recv(h, buf, sizeof buf - 1, MSG_DONTWAIT);
  ck_assert_int_gt(n, 0);
  buf[n] = '\0';
  ck_assert_str_eq(buf, "STATUS=working\n");
  n = recv(h, buf, sizeof buf - 1, MSG_DONTWAIT);
  ck_assert_int_gt(n, 0);
  buf[n] = '\0';
  ck_assert_str_eq(buf, "READY=1\nMAINPID=4242\n"); /* the container's MAINPID dropped */
  unsetenv("NOTIFY_SOCKET");
  close(s);
  close(h);
  close(in);
  unlink(host);
  unlink(inner);
  rmdir(dir);
}
END_TEST

START_TEST(sync_carries_an_fd) {
  int sv[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  ck_assert_int_eq(sp_sync_send_fd(sv[0], SP_SYNC_PTY, "/dev/pts/3", p[1]), 0);
  ck_assert_int_eq(sp_sync_send(sv[0], SP_SYNC_READY, NULL), 0);
  enum sp_sync_type t;
  char *text = NULL;
  int fd = -1;
  struct sp_error err = {0};
  ck_assert_int_eq(sp_sync_recv_fd(sv[1], &t, &text, &fd, &err), 0);
  ck_assert_int_eq(t, SP_SYNC_PTY);
  ck_assert_str_eq(text, "/dev/pts/3");
  ck_assert_int_ge(fd, 0);
  ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  ck_assert_int_eq(write(fd, "x", 1), 1);
  char c;
  ck_assert_int_eq(read(p[0], &c, 1), 1);
  free(text);
  close(fd);
  /* a plain message: no fd */
  ck_assert_int_eq(sp_sync_recv_fd(sv[1], &t, NULL, &fd, &err), 0);
  ck_assert_int_eq(t, SP_SYNC_READY);
  ck_assert_int_eq(fd, -1);
  /* EOF: EPIPE */
  close(sv[0]);
  ck_assert_int_eq(sp_sync_recv_fd(sv[1], &t, NULL, &fd, &err), -1);
  ck_assert_int_eq(err.code, EPIPE);
  close(sv[1]);
  close(p[0]);
  close(p[1]);
}
END_TEST

START_TEST(console_message_is_one_fd) {
  int sv[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  struct sp_error err = {0};
  ck_assert_int_eq(sp_console_send(sv[0], 0, "/dev/pts/1", &err), 0);
  close(sv[0]);
  char data[64];
  union {
    char buf[CMSG_SPACE(sizeof(int) * 4)];
    struct cmsghdr align;
  } u;
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                      .msg_controllen = sizeof u.buf};
  ssize_t n = recvmsg(sv[1], &mh, MSG_CMSG_CLOEXEC);
  ck_assert_int_eq(n, 10);
  struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(c->cmsg_type, SCM_RIGHTS);
  ck_assert_int_eq(c->cmsg_len, CMSG_LEN(sizeof(int)));
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  close(fd);
  ck_assert_ptr_null(CMSG_NXTHDR(&mh, c));
  ck_assert_int_eq(recv(sv[1], data, sizeof data, 0), 0); /* nothing else */
  close(sv[1]);
}
END_TEST

START_TEST(console_connect_errors_name_the_socket) {
  struct sp_error err = {0};
  ck_assert_int_eq(sp_console_connect("/nonexistent/console.sock", &err), -1);
  ck_assert_msg(strstr(err.msg, "/nonexistent/console.sock") != NULL, "%s", err.msg);
}
END_TEST

int main(void) {
  Suite *s = suite_create("exec");
  TCase *tc = tcase_create("process");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, args_mode_inherits_the_container);
  tcase_add_test(tc, options_override);
  tcase_add_test(tc, caps_added_never_inheritable);
  tcase_add_test(tc, process_file_keeps_the_confinement);
  tcase_add_test(tc, bad_options);
  suite_add_tcase(s, tc);
  TCase *io = tcase_create("session");
  tcase_add_test(io, env_helpers);
  tcase_add_test(io, listen_fds_only_for_our_pid);
  tcase_add_test(io, notify_forward_adds_mainpid);
  tcase_add_test(io, sync_carries_an_fd);
  tcase_add_test(io, console_message_is_one_fd);
  tcase_add_test(io, console_connect_errors_name_the_socket);
  suite_add_tcase(s, io);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
