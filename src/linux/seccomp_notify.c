/* SCMP_ACT_NOTIFY: the listener fd goes to linux.seccomp.listenerPath.
 *
 * runtime-spec: one connection (AF_UNIX, SOCK_STREAM) per container
 * process; the runtime sends the container process state as JSON with the
 * seccomp fd attached (SCM_RIGHTS) to the first sendmsg(), then closes
 * the connection:
 *   {"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state": {...}}
 * The runtime connects (from the host, where listenerPath resolves) before
 * the container's init exists; the init sends once it loaded the filter. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sprout/security.h"
#include "sprout/util.h"

int sp_seccomp_listener_connect(const char *path, struct sp_error *err) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path)
    return sp_error_set(err, ENAMETOOLONG, "config.json: .linux.seccomp.listenerPath %s: longer than %zu "
                        "bytes", path, sizeof sa.sun_path - 1);
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return sp_error_sys(err, "seccomp listener: socket");
  int r;
  do
    r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    int e = errno;
    close(fd);
    return sp_error_errno(err, e, "connect to the seccomp listener %s "
                          "(.linux.seccomp.listenerPath)", path);
  }
  return fd;
}

char *sp_seccomp_process_state(const char *id, pid_t pid, const char *bundle,
                               const char *status, const struct sp_spec *spec) {
  sp_json g = sp_json_new(false);
  if (!g)
    return NULL;
  const char *version = spec->oci_version ? spec->oci_version : SP_SPEC_VERSION;
  sp_json_map_open(g);
  sp_json_kstr(g, "ociVersion", version);
  sp_json_key(g, "fds");
  sp_json_array_open(g);
  sp_json_str(g, "seccompFd");
  sp_json_array_close(g);
  sp_json_kint(g, "pid", pid);
  const char *md = spec->linux_.seccomp.listener_metadata;
  if (md && *md)
    sp_json_kstr(g, "metadata", md);
  sp_json_key(g, "state");
  sp_json_map_open(g);
  sp_json_kstr(g, "ociVersion", version);
  sp_json_kstr(g, "id", id);
  sp_json_kstr(g, "status", status);
  sp_json_kint(g, "pid", pid);
  sp_json_kstr(g, "bundle", bundle);
  if (spec->annotations_len) {
    sp_json_key(g, "annotations");
    sp_json_map_open(g);
    for (size_t i = 0; i < spec->annotations_len; i++)
      sp_json_kstr(g, spec->annotations[i].key, spec->annotations[i].value);
    sp_json_map_close(g);
  }
  sp_json_map_close(g);
  sp_json_map_close(g);
  return sp_json_finish(g, NULL);
}

int sp_seccomp_listener_send(int sock, int notify_fd, const char *json,
                             struct sp_error *err) {
  size_t len = strlen(json), off = 0;
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } c;
  memset(&c, 0, sizeof c);
  while (off < len) {
    struct iovec iov = {.iov_base = (char *)json + off, .iov_len = len - off};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (off == 0) { /* the fd travels with the first part only */
      m.msg_control = c.buf;
      m.msg_controllen = sizeof c.buf;
      struct cmsghdr *h = CMSG_FIRSTHDR(&m);
      h->cmsg_level = SOL_SOCKET;
      h->cmsg_type = SCM_RIGHTS;
      h->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(h), &notify_fd, sizeof(int));
    }
    ssize_t n = sendmsg(sock, &m, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return sp_error_sys(err, "send the seccomp fd to the listener");
    off += (size_t)n;
  }
  return 0;
}
