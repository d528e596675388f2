/* The foreground wait of `run` and `exec`: signals sent to sprout go to the
 * process; with a pty and no console socket, the pty is attached to the
 * caller's own terminal (raw mode, window size followed through SIGWINCH,
 * restored at the end); NOTIFY_SOCKET messages are passed on.  Returns the
 * process's exit status. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "sprout/linux.h"
#include "sprout/session.h"
#include "sprout/util.h"

static struct termios saved_tty;
static bool tty_saved;

void sp_forwardable_signals(sigset_t *set) {
  sigfillset(set);
  /* synchronous faults stay ours */
  sigdelset(set, SIGSEGV);
  sigdelset(set, SIGBUS);
  sigdelset(set, SIGILL);
  sigdelset(set, SIGFPE);
  sigdelset(set, SIGABRT);
  sigdelset(set, SIGTRAP);
  sigdelset(set, SIGSYS);
}

static void copy_winsize(int master) {
  struct winsize ws;
  if (master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
    ioctl(master, TIOCSWINSZ, &ws);
}

void sp_tty_attach_prepare(int master) {
  if (tty_saved || !isatty(STDIN_FILENO))
    return;
  copy_winsize(master);
  if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
    return;
  struct termios raw = saved_tty;
  cfmakeraw(&raw);
  if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
    tty_saved = true;
}

void sp_tty_restore(void) {
  if (!tty_saved)
    return;
  tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
  tty_saved = false;
}

int sp_pty_hand_off(int *console_fd, int master, const char *name, int *keep,
                    struct sp_error *err) {
  if (master < 0)
    return sp_error_set(err, EPROTO, "the terminal did not come");
  if (*console_fd >= 0) {
    int r = sp_console_send(*console_fd, master, name, err);
    close(master);
    close(*console_fd); /* done: the receiver sees EOF */
    *console_fd = -1;
    return r;
  }
  if (*keep >= 0) {
    close(master);
    return 0;
  }
  *keep = master;
  sp_tty_attach_prepare(master);
  return 0;
}

/* Copy what is readable on FROM to TO.  Returns false at EOF or an error
 * on FROM (a pty master reads EIO once every slave is closed). */
static bool pump(int from, int to) {
  char buf[8192];
  ssize_t n;
  do
    n = read(from, buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    return true;
  if (n <= 0)
    return false;
  sp_write_all(to, buf, (size_t)n); /* a closed stdout only loses output */
  return true;
}

/* Our stdin ended: tell the terminal's reader as a keyboard would, with
 * the EOF character when the terminal is in canonical mode (termios
 * requests on a master act on its slave). */
static void send_eof(int master) {
  struct termios t;
  if (tcgetattr(master, &t) == 0 && (t.c_lflag & ICANON))
    sp_write_all(master, &t.c_cc[VEOF], 1);
}

/* After the exit: what the workload wrote last is still in the pty. */
static void drain(int master) {
  int fl = fcntl(master, F_GETFL);
  if (fl >= 0)
    fcntl(master, F_SETFL, fl | O_NONBLOCK);
  for (int i = 0; i < 4096; i++) {
    struct pollfd p = {.fd = master, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN))
      break;
    char buf[8192];
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0)
      break;
    sp_write_all(STDOUT_FILENO, buf, (size_t)n);
  }
}

static int exit_status(const siginfo_t *info) {
  return info->si_code == CLD_EXITED ? info->si_status : 128 + info->si_status;
}

int sp_foreground_wait(const struct sp_foreground *f) {
  int master = f->master, notify = f->notify_fd;
  bool master_open = master >= 0, stdin_open = master >= 0;
  int sfd = f->forward ? signalfd(-1, f->forward, SFD_CLOEXEC | SFD_NONBLOCK) : -1;
  int status = 255;
  for (;;) {
    struct pollfd p[5];
    int n = 0, ipid = n++, isig = -1, iin = -1, imaster = -1, inotify = -1;
    p[ipid] = (struct pollfd){.fd = f->pidfd, .events = POLLIN};
    if (sfd >= 0)
      p[isig = n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
    if (stdin_open)
      p[iin = n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
    if (master_open)
      p[imaster = n++] = (struct pollfd){.fd = master, .events = POLLIN};
    if (notify >= 0)
      p[inotify = n++] = (struct pollfd){.fd = notify, .events = POLLIN};
    if (poll(p, (nfds_t)n, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    if (imaster >= 0 && p[imaster].revents)
      master_open = pump(master, STDOUT_FILENO);
    if (iin >= 0 && p[iin].revents && !(stdin_open = pump(STDIN_FILENO, master)))
      send_eof(master);
    if (inotify >= 0 && (p[inotify].revents & POLLIN)) {
      struct sp_error ignored;
      sp_notify_forward(notify, f->notify_pid, &ignored);
    }
    if (isig >= 0 && (p[isig].revents & POLLIN)) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD)
          continue;
        if (si.ssi_signo == SIGWINCH && master >= 0) {
          if (isatty(STDIN_FILENO))
            copy_winsize(master);
          continue;
        }
        syscall(SYS_pidfd_send_signal, f->pidfd, si.ssi_signo, NULL, 0);
      }
    }
    if (p[ipid].revents & POLLIN) {
      siginfo_t info = {0};
      if (waitid(P_PIDFD, (id_t)f->pidfd, &info, WEXITED) == 0) {
        status = exit_status(&info);
        break;
      }
      if (errno != EINTR)
        break;
    }
  }
  if (master_open)
    drain(master);
  sp_tty_restore();
  if (sfd >= 0)
    close(sfd);
  return status;
}
