/* The parent <-> init protocol: one SEQPACKET message per step. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sprout/sync.h"
#include "sprout/util.h"

struct msg {
  uint32_t type;
  char text[SP_ERROR_MAX];
};

int sp_sync_send(int fd, enum sp_sync_type type, const char *text) {
  struct msg m = {.type = type};
  size_t n = 0;
  if (text) {
    n = strnlen(text, sizeof m.text - 1);
    memcpy(m.text, text, n);
  }
  m.text[n] = '\0';
  ssize_t r;
  do
    r = send(fd, &m, sizeof m.type + n + 1, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}

int sp_sync_send_fd(int fd, enum sp_sync_type type, const char *text, int passfd) {
  struct msg m = {.type = type};
  size_t n = text ? strnlen(text, sizeof m.text - 1) : 0;
  if (n)
    memcpy(m.text, text, n);
  m.text[n] = '\0';
  int r = sp_send_fd(fd, &m, sizeof m.type + n + 1, passfd);
  return r < 0 ? -1 : 0;
}

int sp_sync_recv_fd(int fd, enum sp_sync_type *type, char **text, int *passfd,
                    struct sp_error *err) {
  struct msg m;
  ssize_t r;
  if (text)
    *text = NULL;
  if (passfd)
    *passfd = -1;
  struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
  union {
    char buf[CMSG_SPACE(sizeof(int) * 4)];
    struct cmsghdr align;
  } u;
  struct msghdr mh;
  /* ECONNRESET: the peer exited with a message of ours unread (an init
   * that failed before it read our GO).  The kernel reports that once,
   * ahead of what the peer sent before it exited, which is still queued:
   * the init's error */
  bool reset = false;
  do {
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    if (r < 0 && errno == ECONNRESET && !reset) {
      reset = true;
      errno = EINTR; /* once more */
    }
  } while (r < 0 && errno == EINTR);
  if (r < 0)
    return sp_error_sys(err, "read from container init");
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
      continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int got;
      memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
      if (passfd && *passfd < 0)
        *passfd = got;
      else
        close(got);
    }
  }
  if (r < (ssize_t)sizeof m.type) {
    if (passfd && *passfd >= 0) {
      close(*passfd);
      *passfd = -1;
    }
    return sp_error_set(err, EPIPE, "container init exited during setup");
  }
  m.text[sizeof m.text - 1] = '\0';
  if ((size_t)r < sizeof m)
    ((char *)&m)[r] = '\0';
  *type = m.type;
  if (text && r > (ssize_t)sizeof m.type)
    *text = strdup(m.text);
  return 0;
}

int sp_sync_recv(int fd, enum sp_sync_type *type, char **text,
                 struct sp_error *err) {
  return sp_sync_recv_fd(fd, type, text, NULL, err);
}
