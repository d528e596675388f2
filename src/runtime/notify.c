/* systemd integration: socket activation (LISTEN_FDS) and NOTIFY_SOCKET.
 *
 * NOTIFY_SOCKET: the caller's socket is a host path (or an abstract name)
 * the container cannot reach, and the pid that systemd should watch is the
 * container's init as the host sees it.  So `create` gives the container a
 * socket of its own — <state dir>/notify/notify.sock, bound read-only on
 * /run/notify in the container, NOTIFY_SOCKET=/run/notify/notify.sock in its
 * environment — and `start`/`run` listen on it and pass what the workload
 * sends to the caller's socket, with MAINPID=<init's host pid> added to the
 * READY=1 message.  `start` and `run --detach` return once READY=1 has been
 * passed on (or the container exited), as systemd's Type=notify expects;
 * a foreground `run` passes messages on for as long as it runs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sprout/mountopt.h"
#include "sprout/session.h"
#include "sprout/util.h"

#define LISTEN_FDS_MAX 4096

int sp_listen_fds(void) {
  const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
  if (!pid || !fds)
    return 0;
  char *end;
  errno = 0;
  long p = strtol(pid, &end, 10);
  if (errno || *end || p != (long)getpid())
    return 0;
  long n = strtol(fds, &end, 10);
  if (errno || *end || n <= 0 || n > LISTEN_FDS_MAX)
    return 0;
  return (int)n;
}

/* ---- create: the container's side -------------------------------------- */

static int strv_append(char ***v, size_t *n, const char *s) {
  char *copy = strdup(s);
  char **nv = copy ? realloc(*v, (*n + 1) * sizeof *nv) : NULL;
  if (!nv) {
    free(copy);
    return -1;
  }
  nv[(*n)++] = copy;
  *v = nv;
  return 0;
}

static int set_env(struct sp_process *p, const char *kv) {
  size_t kl = strcspn(kv, "=");
  for (size_t i = 0; i < p->env_len; i++) {
    if (!strncmp(p->env[i], kv, kl) && p->env[i][kl] == '=') {
      char *copy = strdup(kv);
      if (!copy)
        return -1;
      free(p->env[i]);
      p->env[i] = copy;
      return 0;
    }
  }
  return strv_append(&p->env, &p->env_len, kv);
}

int sp_notify_prepare(struct sp_spec *spec, int statefd, const char *root,
                      const char *id, struct sp_error *err) {
  const char *host = getenv("NOTIFY_SOCKET");
  if (!host || !*host || !spec->has_process)
    return 0;
  if (mkdirat(statefd, SP_NOTIFY_DIR, 0755) < 0 ||
      fchmodat(statefd, SP_NOTIFY_DIR, 0755, 0) < 0)
    return sp_error_sys(err, "NOTIFY_SOCKET: create %s/%s/%s", root, id, SP_NOTIFY_DIR);
  struct sp_mount m = {0};
  static const char *const opts[] = {"bind", "nosuid", "nodev", "noexec", "ro"};
  char *abs = sp_abspath(root), *dir = abs ? sp_path_join(abs, id) : NULL;
  m.destination = strdup("/run/notify");
  m.source = dir ? sp_path_join(dir, SP_NOTIFY_DIR) : NULL;
  free(abs);
  free(dir);
  m.type = strdup("bind");
  bool ok = m.destination && m.source && m.type;
  for (size_t i = 0; ok && i < sizeof opts / sizeof opts[0]; i++)
    ok = strv_append(&m.options, &m.options_len, opts[i]) == 0;
  struct sp_mount *nm = ok ? realloc(spec->mounts, (spec->mounts_len + 1) * sizeof *nm) : NULL;
  if (!nm) {
    free(m.destination);
    free(m.source);
    free(m.type);
    for (size_t i = 0; i < m.options_len; i++)
      free(m.options[i]);
    free(m.options);
    return sp_error_errno(err, ENOMEM, "NOTIFY_SOCKET");
  }
  spec->mounts = nm;
  spec->mounts[spec->mounts_len++] = m;
  if (sp_mountopt_parse(&spec->mounts[spec->mounts_len - 1], err) < 0)
    return sp_error_prefix(err, "NOTIFY_SOCKET mount");
  if (set_env(&spec->process, "NOTIFY_SOCKET=" SP_NOTIFY_IN_CONTAINER) < 0)
    return sp_error_errno(err, ENOMEM, "NOTIFY_SOCKET");
  return 0;
}

/* ---- start/run: the caller's side -------------------------------------- */

int sp_notify_bind(int statefd, struct sp_error *err) {
  const char *host = getenv("NOTIFY_SOCKET");
  if (!host || !*host)
    return -2;
  int dir = openat(statefd, SP_NOTIFY_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0)
    return errno == ENOENT ? -2 : sp_error_sys(err, "NOTIFY_SOCKET: open the notify dir");
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    close(dir);
    return sp_error_sys(err, "NOTIFY_SOCKET: socket");
  }
  /* through the dir fd: the state dir's path may be longer than sun_path */
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dir, SP_NOTIFY_SOCK);
  unlinkat(dir, SP_NOTIFY_SOCK, 0);
  int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  /* any user of the container may notify, as with systemd's own socket */
  if (r == 0)
    r = fchmodat(dir, SP_NOTIFY_SOCK, 0777, 0);
  close(dir);
  if (r < 0) {
    sp_error_sys(err, "NOTIFY_SOCKET: bind the container's socket");
    close(fd);
    return -1;
  }
  return fd;
}

static int send_host(const char *msg, size_t len, struct sp_error *err) {
  const char *host = getenv("NOTIFY_SOCKET");
  if (!host || !*host)
    return 0;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  size_t hl = strlen(host);
  if (hl >= sizeof sa.sun_path)
    return sp_error_errno(err, ENAMETOOLONG, "NOTIFY_SOCKET %s", host);
  memcpy(sa.sun_path, host, hl);
  socklen_t sl = sizeof sa;
  if (host[0] == '@') { /* abstract: the name is not NUL-terminated */
    sa.sun_path[0] = '\0';
    sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + hl);
  }
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return sp_error_sys(err, "NOTIFY_SOCKET: socket");
  ssize_t r = sendto(fd, msg, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sl);
  close(fd);
  if (r < 0)
    return sp_error_sys(err, "NOTIFY_SOCKET %s: send", host);
  return 0;
}

int sp_notify_forward(int fd, pid_t mainpid, struct sp_error *err) {
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  /* the container's own MAINPID means nothing out here: drop it */
  struct sp_buf out = {0};
  bool ready = false;
  char *save = NULL;
  for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    if (!strncmp(l, "MAINPID=", 8))
      continue;
    if (!strcmp(l, "READY=1"))
      ready = true;
    sp_buf_printf(&out, "%s\n", l);
  }
  if (ready)
    sp_buf_printf(&out, "MAINPID=%d\n", (int)mainpid);
  int r = out.len ? send_host(out.data, out.len, err) : 0;
  sp_buf_free(&out);
  if (r < 0)
    return -1;
  return ready ? 1 : 0;
}

int sp_notify_wait(int fd, int pidfd, pid_t mainpid, struct sp_error *err) {
  for (;;) {
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return sp_error_sys(err, "NOTIFY_SOCKET: wait for READY=1");
    }
    if (p[0].revents & POLLIN) {
      int r = sp_notify_forward(fd, mainpid, err);
      if (r != 0)
        return r < 0 ? -1 : 0;
      continue;
    }
    if (p[1].revents)
      return 0; /* the container exited: nothing will be ready */
  }
}
