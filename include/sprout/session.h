/* sprout — what the caller's session gets from a container's process
 * (src/runtime/notify.c, src/runtime/foreground.c): systemd socket
 * activation (LISTEN_FDS), NOTIFY_SOCKET proxying, and the foreground wait
 * that forwards signals and attaches a pty to the caller's terminal. */
#ifndef SPROUT_SESSION_H
#define SPROUT_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "sprout/error.h"
#include "sprout/spec.h"

/* ---- socket activation (notify.c) ---- */
/* The LISTEN_FDS passed to this process (only when LISTEN_PID is our pid,
 * as sd_listen_fds(3) requires); 0 when none. */
int sp_listen_fds(void);

/* ---- NOTIFY_SOCKET (notify.c) ---- */
#define SP_NOTIFY_DIR "notify"
#define SP_NOTIFY_SOCK "notify.sock"
#define SP_NOTIFY_IN_CONTAINER "/run/notify/notify.sock"

/* create/run with NOTIFY_SOCKET in the environment (else nothing): make
 * ROOT/ID/notify (STATEFD is ROOT/ID) and give SPEC a read-only bind mount
 * of it on /run/notify and NOTIFY_SOCKET=/run/notify/notify.sock. */
int sp_notify_prepare(struct sp_spec *spec, int statefd, const char *root,
                      const char *id, struct sp_error *err);
/* start/run: with NOTIFY_SOCKET set and a container prepared for it, bind
 * the container's socket (fd, O_CLOEXEC); -1 with err filled on failure;
 * -2 when there is nothing to do. */
int sp_notify_bind(int statefd, struct sp_error *err);
/* Read one datagram from FD; when it says READY=1, send it and
 * MAINPID=<mainpid> to the caller's NOTIFY_SOCKET.  Returns 1 when READY
 * was forwarded, 0 for another message, -1 on a failure (err filled). */
int sp_notify_forward(int fd, pid_t mainpid, struct sp_error *err);
/* Wait until READY=1 was forwarded or the process behind PIDFD exited. */
int sp_notify_wait(int fd, int pidfd, pid_t mainpid, struct sp_error *err);

/* ---- the pty master from the init or an exec'd process (foreground.c) ---- */
/* Pass MASTER (named NAME) on: over *CONSOLE_FD in one message, closing
 * both after; or, with no console socket, keep it in *KEEP (the caller's
 * terminal is made raw for it: sp_tty_attach_prepare). */
int sp_pty_hand_off(int *console_fd, int master, const char *name, int *keep,
                    struct sp_error *err);

/* ---- foreground (foreground.c) ---- */
struct sp_foreground {
  int pidfd;          /* the process to wait for (a child of ours) */
  const sigset_t *forward; /* blocked signals, forwarded to it */
  int master;         /* pty master to attach to our stdin/stdout, or -1 */
  int notify_fd;      /* bound notify socket to forward until READY, or -1 */
  pid_t notify_pid;   /* MAINPID to announce */
};
/* The caller's stdin is a terminal: make it raw and give MASTER its size
 * (before the workload runs).  sp_tty_restore undoes it (idempotent). */
void sp_tty_attach_prepare(int master);
void sp_tty_restore(void);
/* Wait for the process: forward signals (SIGWINCH resizes the pty
 * instead), copy stdin -> master -> stdout, forward notify messages.
 * Returns the exit status (128+N when killed by signal N), and restores
 * the caller's terminal. */
int sp_foreground_wait(const struct sp_foreground *f);
/* The signals a foreground run/exec forwards (all but synchronous faults). */
void sp_forwardable_signals(sigset_t *set);

#endif
