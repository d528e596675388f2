/* Terminals: a pty from the container's own devpts, made the controlling
 * terminal and stdio of the workload, /dev/console bound to it, and the
 * master handed to a console socket with one SCM_RIGHTS message.
 *
 * Everything that touches the container's files runs inside it (after
 * pivot_root, or after an exec'd process joined the root): /dev/pts/ptmx is
 * opened without following symlinks and checked to be on a devpts; the
 * slave comes from TIOCGPTPEER, never from a path; /dev/console is mounted
 * on through fds. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "sprout/linux.h"
#include "sprout/util.h"

#ifndef DEVPTS_SUPER_MAGIC
#define DEVPTS_SUPER_MAGIC 0x1cd1
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

void sp_pty_close(struct sp_pty *pty) {
  if (pty->master >= 0)
    close(pty->master);
  if (pty->slave >= 0)
    close(pty->slave);
  pty->master = pty->slave = -1;
}

int sp_pty_open(struct sp_pty *pty, struct sp_error *err) {
  pty->master = pty->slave = -1;
  pty->name[0] = '\0';
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return sp_error_sys(err, "terminal: open /");
  int m = sp_open_in_root(root, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW, err);
  close(root);
  if (m < 0)
    return sp_error_prefix(err, "terminal (is devpts mounted on /dev/pts?)");
  pty->master = m;
  struct statfs sfs;
  struct stat st;
  if (fstatfs(m, &sfs) < 0 || sfs.f_type != DEVPTS_SUPER_MAGIC || fstat(m, &st) < 0 ||
      !S_ISCHR(st.st_mode)) {
    sp_pty_close(pty);
    return sp_error_set(err, EINVAL, "terminal: /dev/pts/ptmx is not the ptmx of a devpts");
  }
  int unlock = 0, n = -1;
  if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &n) < 0) {
    sp_error_sys(err, "terminal: unlock the pty");
    sp_pty_close(pty);
    return -1;
  }
  snprintf(pty->name, sizeof pty->name, "/dev/pts/%d", n);
  pty->slave = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (pty->slave < 0) {
    sp_error_sys(err, "terminal: open the peer of %s", pty->name);
    sp_pty_close(pty);
    return -1;
  }
  return 0;
}

int sp_pty_resize(int fd, unsigned rows, unsigned cols, struct sp_error *err) {
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0)
    return sp_error_sys(err, "terminal: set the size to %ux%u", rows, cols);
  return 0;
}

int sp_console_bind(int slave, struct sp_error *err) {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0)
    return sp_error_sys(err, "/dev/console: open /");
  /* an existing /dev/console must be a file or a device, never a link */
  int t = sp_open_in_root(root, "/dev/console", O_PATH | O_NOFOLLOW, NULL);
  struct stat st;
  if (t >= 0 && (fstat(t, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)))) {
    close(t);
    close(root);
    return sp_error_set(err, EINVAL, "/dev/console in the container is not a file "
                                     "or a device: refusing to mount the terminal on it");
  }
  if (t < 0)
    t = sp_mkdir_in_root(root, "/dev/console", 0755, true, err);
  close(root);
  if (t < 0)
    return sp_error_prefix(err, "/dev/console");
  char src[64], dst[64];
  snprintf(src, sizeof src, "/proc/self/fd/%d", slave);
  snprintf(dst, sizeof dst, "/proc/self/fd/%d", t);
  int r = 0;
  if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
    r = sp_error_sys(err, "bind the terminal on /dev/console");
  close(t);
  return r;
}

int sp_pty_become_ctty(int slave, struct sp_error *err) {
  if (setsid() < 0)
    return sp_error_sys(err, "terminal: setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    return sp_error_sys(err, "terminal: make it the controlling terminal");
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0)
      return sp_error_sys(err, "terminal: make it fd %d", fd);
  return 0;
}

int sp_console_connect(const char *path, struct sp_error *err) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path)
    return sp_error_errno(err, ENAMETOOLONG, "--console-socket %s", path);
  memcpy(sa.sun_path, path, strlen(path));
  /* a stream socket as runc's clients make; a seqpacket one works too */
  static const int types[] = {SOCK_STREAM, SOCK_SEQPACKET};
  for (size_t i = 0; i < 2; i++) {
    int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return sp_error_sys(err, "--console-socket %s: socket", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
      return fd;
    int e = errno;
    close(fd);
    if (e != EPROTOTYPE)
      return sp_error_errno(err, e, "--console-socket %s: connect", path);
  }
  return sp_error_errno(err, EPROTOTYPE, "--console-socket %s: connect", path);
}

int sp_console_send(int sock, int master, const char *name, struct sp_error *err) {
  const char *payload = name && *name ? name : "/dev/ptmx";
  int r = sp_send_fd(sock, payload, strlen(payload), master);
  if (r < 0)
    return sp_error_sys(err, "send the terminal to the console socket");
  return 0;
}

int sp_pty_setup_child(const struct sp_process *proc, bool console,
                       struct sp_pty *pty, struct sp_error *err) {
  if (sp_pty_open(pty, err) < 0)
    return -1;
  if (proc->has_console_size &&
      sp_pty_resize(pty->slave, proc->console_height, proc->console_width, err) < 0)
    goto fail;
  /* the workload's own terminal, as login(1) would leave it */
  if (fchown(pty->slave, proc->user.uid, (gid_t)-1) < 0) {
    sp_error_sys(err, "terminal: chown %s to uid %u", pty->name, proc->user.uid);
    goto fail;
  }
  if (console && sp_console_bind(pty->slave, err) < 0)
    goto fail;
  return 0;
fail:
  sp_pty_close(pty);
  return -1;
}
