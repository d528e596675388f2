/* sprout-seccomp-agent: a seccomp notify listener for the tests (host side).
 *
 *   sprout-seccomp-agent SOCKET OUTDIR [NAME=ANSWER...]
 *
 * Listens on the unix socket SOCKET (it appears once the agent listens),
 * accepts one connection, reads the container process state JSON and the
 * seccomp fd that comes with it (SCM_RIGHTS), writes the JSON to
 * OUTDIR/state.json and the number of fds received to OUTDIR/fds, then
 * answers notifications until the filter has no process left (or 30 s):
 * a system call NAME (getppid, getpid, mkdirat, getuid or a number) with an
 * ANSWER returns it (a number N, or eN for the errno N) without running;
 * any other is let through (SECCOMP_USER_NOTIF_FLAG_CONTINUE).  Every
 * notification is appended to OUTDIR/log as "nr=N pid=P answer=...". */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

static const struct {
  const char *name;
  long nr;
} names[] = {{"getppid", SYS_getppid}, {"getpid", SYS_getpid},
             {"mkdirat", SYS_mkdirat}, {"getuid", SYS_getuid}};

struct answer {
  long nr;
  long long value;
  int error;
};

static void die(const char *what) {
  fprintf(stderr, "sprout-seccomp-agent: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void write_file(const char *dir, const char *name, const char *data, const char *mode) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, mode);
  if (!f)
    die(path);
  fputs(data, f);
  fclose(f);
}

static int parse_answer(const char *s, struct answer *a) {
  const char *eq = strchr(s, '=');
  if (!eq)
    return -1;
  char name[64];
  snprintf(name, sizeof name, "%.*s", (int)(eq - s), s);
  a->nr = -1;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(names[i].name, name))
      a->nr = names[i].nr;
  if (a->nr < 0)
    a->nr = strtol(name, NULL, 0);
  a->error = eq[1] == 'e';
  a->value = strtoll(eq + 1 + a->error, NULL, 0);
  return 0;
}

static int recv_state(int conn, const char *outdir) {
  char buf[65536];
  size_t len = 0;
  int fd = -1, nfds = 0;
  for (;;) {
    union {
      struct cmsghdr h;
      char b[CMSG_SPACE(sizeof(int) * 4)];
    } c;
    struct iovec iov = {.iov_base = buf + len, .iov_len = sizeof buf - 1 - len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b,
                       .msg_controllen = sizeof c.b};
    ssize_t n = recvmsg(conn, &m, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      die("recvmsg");
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
      if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
        int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        for (int i = 0; i < k; i++) {
          int f;
          memcpy(&f, CMSG_DATA(h) + i * sizeof(int), sizeof f);
          if (fd < 0)
            fd = f;
          else
            close(f);
          nfds++;
        }
      }
    }
    if (n == 0 || len + (size_t)n >= sizeof buf - 1)
      break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  write_file(outdir, "state.json", buf, "w");
  char count[16];
  snprintf(count, sizeof count, "%d\n", nfds);
  write_file(outdir, "fds", count, "w");
  return fd;
}

static void serve(int nfd, const char *outdir, struct answer *ans, int nans) {
  struct seccomp_notif_sizes sizes;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0)
    die("SECCOMP_GET_NOTIF_SIZES");
  struct seccomp_notif *req = calloc(1, sizes.seccomp_notif);
  struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp);
  time_t end = time(NULL) + 30;
  while (time(NULL) < end) {
    struct pollfd p = {.fd = nfd, .events = POLLIN};
    int r = poll(&p, 1, 1000);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      die("poll");
    if (r == 0)
      continue;
    if (p.revents & POLLHUP)
      break; /* no process uses the filter any more */
    memset(req, 0, sizes.seccomp_notif);
    if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0) {
      if (errno == EINTR || errno == ENOENT)
        continue;
      break;
    }
    memset(resp, 0, sizes.seccomp_notif_resp);
    resp->id = req->id;
    char line[128];
    int i = 0;
    while (i < nans && ans[i].nr != req->data.nr)
      i++;
    if (i < nans) {
      if (ans[i].error)
        resp->error = (int)-ans[i].value;
      else
        resp->val = ans[i].value;
      snprintf(line, sizeof line, "nr=%d pid=%u answer=%s%lld\n", req->data.nr, req->pid,
               ans[i].error ? "e" : "", ans[i].value);
    } else {
      resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      snprintf(line, sizeof line, "nr=%d pid=%u answer=continue\n", req->data.nr, req->pid);
    }
    ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, resp); /* ENOENT: the caller died */
    write_file(outdir, "log", line, "a");
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: sprout-seccomp-agent SOCKET OUTDIR [NAME=ANSWER...]\n");
    return 2;
  }
  int nans = argc - 3;
  struct answer *ans = calloc((size_t)nans + 1, sizeof *ans);
  for (int i = 0; i < nans; i++)
    if (parse_answer(argv[3 + i], &ans[i]) < 0) {
      fprintf(stderr, "sprout-seccomp-agent: bad answer \"%s\"\n", argv[3 + i]);
      return 2;
    }
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  char tmp[sizeof sa.sun_path];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]) >= (int)sizeof tmp)
    return 2;
  strcpy(sa.sun_path, tmp);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  unlink(tmp);
  if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 4) < 0)
    die("listen");
  if (rename(tmp, argv[1]) < 0) /* the socket appears once it listens */
    die("rename");
  struct pollfd p = {.fd = s, .events = POLLIN};
  if (poll(&p, 1, 30000) <= 0)
    die("no connection within 30 s");
  int conn = accept4(s, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    die("accept");
  int nfd = recv_state(conn, argv[2]);
  close(conn);
  if (nfd < 0) {
    fprintf(stderr, "sprout-seccomp-agent: no fd came with the state\n");
    return 1;
  }
  serve(nfd, argv[2], ans, nans);
  return 0;
}
