/* OCI hooks: fork + execve of the hook with the state JSON on stdin, its
 * output captured for the error message, a timeout enforced with SIGKILL.
 * The caller decides where (which process, which namespaces) a kind runs;
 * see include/sprout/hooks.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "sprout/hooks.h"
#include "sprout/util.h"

#define OUTPUT_MAX 4096  /* bytes of a hook's output kept */
#define OUTPUT_SHOWN 600 /* of which at most this many go into the error */

const char *sp_hook_kind_name(enum sp_hook_kind kind) {
  static const char *const names[] = {"prestart", "createRuntime", "createContainer",
                                      "startContainer", "poststart", "poststop"};
  return names[kind];
}

size_t sp_hooks_of(const struct sp_spec *spec, enum sp_hook_kind kind,
                   const struct sp_hook **list) {
  const struct sp_hooks *h = &spec->hooks;
  *list = NULL;
  if (!spec->has_hooks)
    return 0;
  switch (kind) {
  case SP_HOOK_PRESTART: *list = h->prestart; return h->prestart_len;
  case SP_HOOK_CREATE_RUNTIME: *list = h->create_runtime; return h->create_runtime_len;
  case SP_HOOK_CREATE_CONTAINER: *list = h->create_container; return h->create_container_len;
  case SP_HOOK_START_CONTAINER: *list = h->start_container; return h->start_container_len;
  case SP_HOOK_POSTSTART: *list = h->poststart; return h->poststart_len;
  case SP_HOOK_POSTSTOP: *list = h->poststop; return h->poststop_len;
  }
  return 0;
}

__attribute__((noreturn)) static void hook_child(const struct sp_hook *h, int in,
                                                 int out) {
  /* stdin: the state; stdout and stderr: the capture pipe */
  if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
      dup2(out, STDERR_FILENO) < 0)
    _exit(127);
  /* nothing of the runtime's (or the container's passed fds) leaks in */
  syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  sigset_t all;
  sigfillset(&all);
  for (int s = 1; s < NSIG; s++)
    signal(s, SIG_DFL);
  sigprocmask(SIG_UNBLOCK, &all, NULL);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  char *self[] = {h->path, NULL};
  char *noenv[] = {NULL};
  char **argv = h->args_len ? calloc(h->args_len + 1, sizeof *argv) : self;
  char **envp = h->env_len ? calloc(h->env_len + 1, sizeof *envp) : noenv;
  if (!argv || !envp)
    _exit(127);
  if (h->args_len)
    memcpy(argv, h->args, h->args_len * sizeof *argv);
  if (h->env_len)
    memcpy(envp, h->env, h->env_len * sizeof *envp);
  execve(h->path, argv, envp);
  dprintf(STDERR_FILENO, "exec %s: %s", h->path, strerror(errno));
  _exit(127);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The captured output as one line: control characters become spaces,
 * line breaks "; ", trailing white space dropped, long output cut. */
static void one_line(const char *in, size_t n, char *out, size_t size) {
  size_t o = 0;
  while (n > 0 && (in[n - 1] == '\n' || in[n - 1] == ' ' || in[n - 1] == '\r'))
    n--;
  bool cut = n > OUTPUT_SHOWN;
  if (cut)
    n = OUTPUT_SHOWN;
  for (size_t i = 0; i < n && o + 4 < size; i++) {
    unsigned char c = (unsigned char)in[i];
    if (c == '\n') {
      out[o++] = ';';
      out[o++] = ' ';
    } else {
      out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
  }
  if (cut && o + 4 < size) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o] = '\0';
}

int sp_hook_run(const struct sp_hook *h, const char *kind, size_t index,
                const char *state, struct sp_error *err) {
  char what[4200];
  snprintf(what, sizeof what, "hook %s[%zu] %s", kind, index, h->path);
  return sp_program_run(h, what, state, err);
}

int sp_program_run(const struct sp_hook *h, const char *what, const char *state,
                   struct sp_error *err) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, pidfd = -1;
  /* a socket for stdin: MSG_NOSIGNAL, no SIGPIPE when the hook does not read */
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 ||
      pipe2(out, O_CLOEXEC) < 0) {
    sp_error_sys(err, "%s: create pipes", what);
    goto fail_fds;
  }
  pid_t pid = fork();
  if (pid < 0) {
    sp_error_sys(err, "%s: fork", what);
    goto fail_fds;
  }
  if (pid == 0)
    hook_child(h, in[1], out[1]);
  close(in[1]);
  close(out[1]);
  in[1] = out[1] = -1;
  pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  fcntl(in[0], F_SETFL, O_NONBLOCK);
  fcntl(out[0], F_SETFL, O_NONBLOCK);

  const char *data = state ? state : "";
  size_t left = strlen(data);
  char buf[OUTPUT_MAX];
  size_t got = 0;
  bool exited = false, timed_out = false, out_open = true;
  long long deadline = h->has_timeout ? now_ms() + (long long)h->timeout * 1000 : -1;
  if (left == 0) {
    close(in[0]);
    in[0] = -1;
  }
  while (!exited) {
    struct pollfd p[3];
    nfds_t n = 0;
    int pi = -1, ii = -1, oi = -1;
    if (pidfd >= 0) {
      p[n] = (struct pollfd){.fd = pidfd, .events = POLLIN};
      pi = (int)n++;
    }
    if (in[0] >= 0) {
      p[n] = (struct pollfd){.fd = in[0], .events = POLLOUT};
      ii = (int)n++;
    }
    if (out_open) {
      p[n] = (struct pollfd){.fd = out[0], .events = POLLIN};
      oi = (int)n++;
    }
    int wait = -1;
    if (deadline >= 0) {
      long long rest = deadline - now_ms();
      if (rest <= 0) {
        timed_out = true;
        break;
      }
      wait = rest > 1000000 ? 1000000 : (int)rest;
    }
    if (pidfd < 0 && wait < 0)
      wait = 100; /* no pidfd: poll the child with waitpid */
    int r = poll(p, n, wait);
    if (r < 0 && errno != EINTR) {
      sp_error_sys(err, "%s: wait", what);
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      goto fail_fds;
    }
    if (r <= 0) {
      siginfo_t si = {0};
      if (pidfd < 0 && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          si.si_pid == pid)
        exited = true;
      continue;
    }
    if (ii >= 0 && p[ii].revents) {
      ssize_t w = send(in[0], data, left, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w > 0) {
        data += w;
        left -= (size_t)w;
      }
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || left == 0) {
        close(in[0]); /* written, or the hook does not read: EOF either way */
        in[0] = -1;
      }
    }
    if (oi >= 0 && p[oi].revents) {
      char tmp[1024];
      ssize_t rd = read(out[0], tmp, sizeof tmp);
      if (rd > 0) {
        size_t keep = (size_t)rd < sizeof buf - got ? (size_t)rd : sizeof buf - got;
        memcpy(buf + got, tmp, keep);
        got += keep;
      } else if (rd == 0 || (errno != EAGAIN && errno != EINTR)) {
        out_open = false;
      }
    }
    if (pi >= 0 && p[pi].revents)
      exited = true;
  }
  if (timed_out) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    sp_error_set(err, ETIMEDOUT, "%s: timed out after %d s (killed)",
                 what, (int)h->timeout);
    goto fail_fds;
  }
  /* what the hook wrote just before it exited (its own children may hold
   * the pipe open: do not wait for EOF) */
  for (;;) {
    ssize_t rd = out_open ? read(out[0], buf + got, sizeof buf - got) : 0;
    if (rd <= 0 || got + (size_t)rd >= sizeof buf) {
      if (rd > 0)
        got += (size_t)rd;
      break;
    }
    got += (size_t)rd;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (in[0] >= 0)
    close(in[0]);
  close(out[0]);
  if (pidfd >= 0)
    close(pidfd);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    if (got)
      sp_log(SP_LOG_DEBUG, "%s: %.*s", what,
             (int)(got > 512 ? 512 : got), buf);
    return 0;
  }
  char text[OUTPUT_SHOWN * 2 + 8];
  one_line(buf, got, text, sizeof text);
  char how[64];
  if (WIFEXITED(status))
    snprintf(how, sizeof how, "exited with status %d", WEXITSTATUS(status));
  else
    snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
  return sp_error_set(err, 0, "%s: %s%s%s", what, how,
                      text[0] ? ": " : "", text);

fail_fds:
  for (int i = 0; i < 2; i++) {
    if (in[i] >= 0)
      close(in[i]);
    if (out[i] >= 0)
      close(out[i]);
  }
  if (pidfd >= 0)
    close(pidfd);
  return -1;
}

int sp_hooks_run(const struct sp_spec *spec, enum sp_hook_kind kind,
                 const char *state, struct sp_error *err) {
  const struct sp_hook *list;
  size_t n = sp_hooks_of(spec, kind, &list);
  for (size_t i = 0; i < n; i++)
    if (sp_hook_run(&list[i], sp_hook_kind_name(kind), i, state, err) < 0)
      return -1;
  return 0;
}

void sp_hooks_run_warn(const struct sp_spec *spec, enum sp_hook_kind kind,
                       const char *state, const char *id) {
  const struct sp_hook *list;
  size_t n = sp_hooks_of(spec, kind, &list);
  for (size_t i = 0; i < n; i++) {
    struct sp_error e = {0};
    if (sp_hook_run(&list[i], sp_hook_kind_name(kind), i, state, &e) < 0)
      sp_log(SP_LOG_WARN, "container %s: %s", id, e.msg);
  }
}

/* ---- the state for the init's hooks -------------------------------------- */

bool sp_hooks_init_needs_state(const struct sp_spec *spec) {
  return spec->has_hooks &&
         (spec->hooks.create_container_len > 0 || spec->hooks.start_container_len > 0);
}

int sp_hooks_send_state(int fd, const char *creating, const char *created,
                        struct sp_error *err) {
  size_t a = strlen(creating), b = strlen(created);
  char *msg = malloc(a + b + 2);
  if (!msg)
    return sp_error_errno(err, ENOMEM, "state for the container's hooks");
  memcpy(msg, creating, a + 1);
  memcpy(msg + a + 1, created, b + 1);
  ssize_t r;
  do
    r = send(fd, msg, a + b + 2, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  free(msg);
  if (r < 0)
    return sp_error_sys(err, "send the state to the container's hooks");
  return 0;
}

int sp_hooks_recv_state(int fd, char **creating, char **created,
                        struct sp_error *err) {
  *creating = *created = NULL;
  ssize_t n;
  char c;
  do
    n = recv(fd, &c, 1, MSG_PEEK | MSG_TRUNC);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return sp_error_sys(err, "receive the state for the container's hooks");
  char *buf = malloc((size_t)n + 1);
  if (!buf)
    return sp_error_errno(err, ENOMEM, "state for the container's hooks");
  ssize_t r;
  do
    r = recv(fd, buf, (size_t)n, 0);
  while (r < 0 && errno == EINTR);
  if (r != n) {
    free(buf);
    return sp_error_sys(err, "receive the state for the container's hooks");
  }
  buf[n] = '\0';
  size_t a = strlen(buf);
  *creating = strdup(buf);
  *created = strdup((size_t)n > a + 1 ? buf + a + 1 : buf);
  free(buf);
  if (!*creating || !*created)
    return sp_error_errno(err, ENOMEM, "state for the container's hooks");
  return 0;
}
