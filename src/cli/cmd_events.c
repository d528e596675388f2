/* ps and events: what runs in a container's cgroup, and its statistics. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_cgroup.h"
#include "sprout/util.h"

/* ---- ps ------------------------------------------------------------------------------ */

struct proc {
  int pid, ppid;
  unsigned uid;
  unsigned long long utime, stime, start; /* clock ticks */
  int tty;
  char cmd[4096];
};

static int read_proc(int pid, struct proc *p) {
  char path[64], *stat = NULL, *status = NULL, *cmdline = NULL;
  size_t cl = 0;
  memset(p, 0, sizeof *p);
  p->pid = pid;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if (sp_read_file(path, 8192, &stat, NULL, NULL) < 0)
    return -1;
  char *rp = strrchr(stat, ')'), *lp = strchr(stat, '(');
  int r = -1;
  if (rp && lp) {
    char comm[64];
    snprintf(comm, sizeof comm, "%.*s", (int)(rp - lp - 1), lp + 1);
    if (sscanf(rp + 2, "%*c %d %*d %*d %d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d "
                       "%*d %*d %*d %llu",
               &p->ppid, &p->tty, &p->utime, &p->stime, &p->start) == 5)
      r = 0;
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    if (sp_read_file(path, sizeof p->cmd - 1, &cmdline, &cl, NULL) == 0 && cl > 0) {
      for (size_t i = 0; i + 1 < cl; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      snprintf(p->cmd, sizeof p->cmd, "%s", cmdline);
    } else {
      snprintf(p->cmd, sizeof p->cmd, "[%s]", comm);
    }
  }
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  if (sp_read_file(path, 65536, &status, NULL, NULL) == 0) {
    char *u = strstr(status, "\nUid:");
    unsigned ruid, euid;
    if (u && sscanf(u + 5, "%u %u", &ruid, &euid) == 2)
      p->uid = euid;
  }
  free(stat);
  free(status);
  free(cmdline);
  return r;
}

static unsigned long long boot_time(void) {
  char *s = NULL;
  unsigned long long bt = 0;
  if (sp_read_file("/proc/stat", 1 << 20, &s, NULL, NULL) == 0) {
    char *b = strstr(s, "\nbtime ");
    if (b)
      bt = strtoull(b + 7, NULL, 10);
  }
  free(s);
  return bt;
}

static void print_table(const int *pids, size_t n) {
  long hz = sysconf(_SC_CLK_TCK);
  unsigned long long bt = boot_time();
  time_t now = time(NULL);
  printf("%-8s %5s %5s %2s %5s %-8s %8s %s\n", "UID", "PID", "PPID", "C", "STIME",
         "TTY", "TIME", "CMD");
  for (size_t i = 0; i < n; i++) {
    struct proc p;
    if (read_proc(pids[i], &p) < 0)
      continue; /* gone meanwhile */
    char user[32], stime[16], tty[16], cpu[32];
    struct passwd *pw = getpwuid(p.uid);
    if (pw && strlen(pw->pw_name) <= 8)
      snprintf(user, sizeof user, "%s", pw->pw_name);
    else
      snprintf(user, sizeof user, "%u", p.uid);
    time_t started = (time_t)(bt + p.start / (unsigned long long)hz);
    struct tm tm_s, tm_n;
    localtime_r(&started, &tm_s);
    localtime_r(&now, &tm_n);
    if (now - started < 24 * 3600)
      strftime(stime, sizeof stime, "%H:%M", &tm_s);
    else if (tm_s.tm_year == tm_n.tm_year)
      strftime(stime, sizeof stime, "%b%d", &tm_s);
    else
      strftime(stime, sizeof stime, "%Y", &tm_s);
    unsigned maj = ((unsigned)p.tty >> 8) & 0xfff, min = ((unsigned)p.tty & 0xff) |
                                                         (((unsigned)p.tty >> 12) & 0xfff00);
    if (p.tty == 0)
      snprintf(tty, sizeof tty, "?");
    else if (maj >= 136 && maj <= 143)
      snprintf(tty, sizeof tty, "pts/%u", (maj - 136) * 256 + min);
    else if (maj == 4 && min < 64)
      snprintf(tty, sizeof tty, "tty%u", min);
    else
      snprintf(tty, sizeof tty, "?");
    unsigned long long secs = (p.utime + p.stime) / (unsigned long long)hz;
    double elapsed = difftime(now, started);
    int c = elapsed > 0 ? (int)((double)secs * 100.0 / elapsed) : 0;
    if (secs >= 86400)
      snprintf(cpu, sizeof cpu, "%llu-%02llu:%02llu:%02llu", secs / 86400,
               secs / 3600 % 24, secs / 60 % 60, secs % 60);
    else
      snprintf(cpu, sizeof cpu, "%02llu:%02llu:%02llu", secs / 3600, secs / 60 % 60,
               secs % 60);
    printf("%-8s %5d %5d %2d %5s %-8s %8s %s\n", user, p.pid, p.ppid, c > 99 ? 99 : c,
           stime, tty, cpu, p.cmd);
  }
}

static int ps_flag(int opt, const char *arg, void *data, struct sp_error *err) {
  bool *json = data;
  if (opt == 'f') {
    if (!strcmp(arg, "json"))
      *json = true;
    else if (!strcmp(arg, "table"))
      *json = false;
    else
      return sp_error_set(err, 0, "--format: expected table or json, got \"%s\"", arg);
  }
  return 0;
}

int cmd_ps(const struct sp_global *g, int argc, char **argv, const char **id,
           struct sp_error *err) {
  static const struct option lo[] = {{"format", required_argument, NULL, 'f'}, {0}};
  bool json = false;
  int first;
  int r = cli_parse("ps", argc, argv, "f:", lo, ps_flag, &json, &first, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (first >= argc)
    return sp_error_set(err, 0, "a container id is required (see 'sprout ps --help')");
  *id = argv[first];
  if (first + 1 < argc)
    return sp_error_set(err, 0, "ps(1) options (\"%s\") are not supported: sprout "
                        "reads /proc itself (use --format json for the pids)",
                        argv[first + 1]);
  if (cli_want_id("ps", first + 1, argv, first, id, err) < 0)
    return -1;
  struct cli_ctr c;
  if (cli_ctr_open(g, *id, SP_LOCK_SH, &c, err) < 0)
    return -1;
  pid_t *pids = NULL;
  size_t n = 0;
  if (c.status == SP_STATUS_STOPPED || c.status == SP_STATUS_CREATING)
    r = sp_error_set(err, 0, "container \"%s\" is not running", *id);
  else if (c.cg.dirs_len == 0) {
    /* no cgroup (--cgroup-manager disabled): the init is all we know */
    pids = malloc(sizeof *pids);
    if (pids) {
      pids[0] = c.st.pid;
      n = 1;
    }
  } else {
    r = sp_cgroup_pids(&c.cg, &pids, &n, err);
  }
  cli_ctr_close(&c);
  if (r < 0)
    return -1;
  if (json) {
    sp_json j = sp_json_new(false);
    sp_json_array_open(j);
    for (size_t i = 0; i < n; i++)
      sp_json_int(j, pids[i]);
    sp_json_array_close(j);
    char *s = sp_json_finish(j, NULL);
    printf("%s\n", s ? s : "[]");
    free(s);
  } else {
    int *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; v && i < n; i++)
      v[i] = pids[i];
    if (v)
      print_table(v, n);
    free(v);
  }
  free(pids);
  return fflush(stdout) == 0 ? 0 : sp_error_sys(err, "write the process list");
}

/* ---- events --------------------------------------------------------------------------- */

/* A Go duration ("5s", "100ms", "1m30s", "1.5h"); > 0.  Milliseconds. */
static int cli_parse_duration(const char *s, long long *ms) {
  static const struct { const char *unit; double ms; } units[] = {
      {"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1}, {"s", 1e3},
      {"m", 6e4}, {"h", 3.6e6}};
  double total = 0;
  const char *p = s;
  if (!*p)
    return -1;
  while (*p) {
    char *end;
    if (!((*p >= '0' && *p <= '9') || *p == '.'))
      return -1;
    double v = strtod(p, &end);
    if (end == p)
      return -1;
    p = end;
    size_t best = 0, bl = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
      size_t l = strlen(units[i].unit);
      if (strncmp(p, units[i].unit, l) == 0 && l > bl) {
        best = i;
        bl = l;
      }
    }
    if (!bl)
      return -1;
    total += v * units[best].ms;
    p += bl;
  }
  if (total < 1 || total > 1e12)
    return -1;
  *ms = (long long)total;
  return 0;
}

struct events_opts {
  bool stats;
  long long interval_ms;
};

static int events_flag(int opt, const char *arg, void *data, struct sp_error *err) {
  struct events_opts *o = data;
  if (opt == 's')
    o->stats = true;
  else if (opt == 'i' && cli_parse_duration(arg, &o->interval_ms) < 0)
    return sp_error_set(err, 0, "--interval: expected a duration such as 5s, 500ms "
                        "or 1m (at least 1ms), got \"%s\"", arg);
  return 0;
}

static int print_event(const char *type, const char *id, const struct sp_cgroup *cg,
                       struct sp_error *err) {
  sp_json j = sp_json_new(false);
  sp_json_map_open(j);
  sp_json_kstr(j, "type", type);
  sp_json_kstr(j, "id", id);
  if (cg) {
    sp_json_key(j, "data");
    if (sp_cgroup_stats(cg, j, err) < 0) {
      free(sp_json_finish(j, NULL));
      return -1;
    }
  }
  sp_json_map_close(j);
  char *s = sp_json_finish(j, NULL);
  if (!s)
    return sp_error_errno(err, ENOMEM, "encode the %s event", type);
  int r = printf("%s\n", s) < 0 || fflush(stdout) != 0 ? -1 : 0;
  free(s);
  return r < 0 ? sp_error_sys(err, "write the %s event", type) : 0;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Something that wakes us up on an OOM: inotify on memory.events (v2), an
 * eventfd registered for memory.oom_control (v1).  -1 when neither. */
static int oom_notifier(const struct sp_cgroup *cg) {
  char file[4096];
  if (!sp_cgroup_oom_file(cg, file, sizeof file))
    return -1;
  if (cg->mode == SP_CGROUP_V2) {
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd >= 0 && inotify_add_watch(fd, file, IN_MODIFY) < 0) {
      close(fd);
      fd = -1;
    }
    return fd;
  }
  int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int ofd = open(file, O_RDONLY | O_CLOEXEC);
  char ctl[4096], line[64];
  snprintf(ctl, sizeof ctl, "%.*s/cgroup.event_control",
           (int)(strrchr(file, '/') - file), file);
  snprintf(line, sizeof line, "%d %d", efd, ofd);
  if (efd < 0 || ofd < 0 || sp_write_file(ctl, line, NULL) < 0) {
    if (efd >= 0)
      close(efd);
    efd = -1;
  }
  if (ofd >= 0)
    close(ofd);
  return efd;
}

int cmd_events(const struct sp_global *g, int argc, char **argv, const char **id,
               struct sp_error *err) {
  static const struct option lo[] = {{"stats", no_argument, NULL, 's'},
                                     {"interval", required_argument, NULL, 'i'},
                                     {0}};
  struct events_opts o = {.interval_ms = 5000};
  int first;
  int r = cli_parse("events", argc, argv, "", lo, events_flag, &o, &first, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (cli_want_id("events", argc, argv, first, id, err) < 0)
    return -1;
  struct cli_ctr c;
  if (cli_ctr_open(g, *id, SP_LOCK_SH, &c, err) < 0)
    return -1;
  /* the state lock is not held while events runs */
  close(c.fd);
  c.fd = -1;
  if (c.status == SP_STATUS_STOPPED || c.status == SP_STATUS_CREATING) {
    sp_error_set(err, 0, "container \"%s\" is not running", *id);
    goto fail;
  }
  if (c.cg.dirs_len == 0) {
    sp_error_set(err, 0, "the container has no cgroup (created with "
                 "--cgroup-manager disabled): no events");
    goto fail;
  }
  if (o.stats) {
    r = print_event("stats", *id, &c.cg, err);
    cli_ctr_close(&c);
    return r;
  }
  signal(SIGPIPE, SIG_DFL);
  int pidfd = (int)syscall(SYS_pidfd_open, c.st.pid, 0);
  if (pidfd >= 0 && sp_proc_start_time(c.st.pid) != c.st.pid_start) {
    close(pidfd);
    pidfd = -1;
  }
  if (pidfd < 0) {
    sp_error_set(err, 0, "container \"%s\" is not running", *id);
    goto fail;
  }
  int nfd = oom_notifier(&c.cg);
  uint64_t ooms = 0, n;
  /* a created container's workload has not run yet: every OOM kill from
   * now on is news (no race with `start`) */
  if (c.status != SP_STATUS_CREATED)
    sp_cgroup_oom_kills(&c.cg, &ooms);
  long long next = now_ms() + o.interval_ms;
  r = 0;
  for (bool alive = true, first = true; alive && r == 0; first = false) {
    struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = nfd, .events = POLLIN}};
    long long wait = next - now_ms();
    /* look for OOM kills at once (one may have come before the notifier
     * was set up), then every 100 ms without a notifier, every second with */
    long long most = first ? 0 : nfd < 0 ? 100 : 1000;
    int timeout = (int)(wait < 0 ? 0 : wait > most ? most : wait);
    int k = poll(p, nfd >= 0 ? 2 : 1, timeout);
    if (k < 0 && errno != EINTR) {
      r = sp_error_sys(err, "wait for events");
      break;
    }
    if (k > 0 && (p[0].revents & POLLIN))
      alive = false;
    if (nfd >= 0 && k > 0 && (p[1].revents & POLLIN)) {
      char buf[4096];
      while (read(nfd, buf, sizeof buf) > 0)
        ;
    }
    if (sp_cgroup_oom_kills(&c.cg, &n) == 0 && n > ooms) {
      ooms = n;
      r = print_event("oom", *id, NULL, err);
    }
    if (r == 0 && alive && now_ms() >= next) {
      if (access(c.cg.dirs[0], F_OK) < 0)
        break; /* deleted meanwhile */
      r = print_event("stats", *id, &c.cg, err);
      next += o.interval_ms;
      if (next < now_ms())
        next = now_ms() + o.interval_ms;
    }
  }
  if (nfd >= 0)
    close(nfd);
  close(pidfd);
  cli_ctr_close(&c);
  return r;
fail:
  cli_ctr_close(&c);
  return -1;
}
