/* sprout-sys: make one system call from inside a container and report its
 * result, for the seccomp tests.  Static (libc only).
 *
 *   sprout-sys NAME [ARG...]     NAME from the table below, or a number
 *
 * ARG: an integer (strtoull base 0: 42, 0x2a, 052, -1), "@TEXT" (a pointer
 * to the string TEXT) or "buf" (a pointer to 4096 zeroed bytes).
 * Output: "NAME=RET" on success, "NAME=-1 errno=N" on failure, one line.
 * A filter that kills the caller leaves no line at all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
  const char *name;
  long nr;
} calls[] = {
    {"getpid", SYS_getpid},           {"getppid", SYS_getppid},
    {"getuid", SYS_getuid},           {"getgid", SYS_getgid},
    {"umask", SYS_umask},             {"personality", SYS_personality},
    {"getpriority", SYS_getpriority}, {"setpriority", SYS_setpriority},
    {"kill", SYS_kill},               {"mkdirat", SYS_mkdirat},
    {"unlinkat", SYS_unlinkat},       {"keyctl", SYS_keyctl},
    {"unshare", SYS_unshare},         {"chdir", SYS_chdir},
    {"sync", SYS_sync},               {"getcwd", SYS_getcwd},
    {"socket", SYS_socket},           {"uname", SYS_uname},
    {"sethostname", SYS_sethostname}, {"mount", SYS_mount},
    {"acct", SYS_acct},               {"reboot", SYS_reboot},
    {"swapon", SYS_swapon},           {"add_key", SYS_add_key},
    {"sched_yield", SYS_sched_yield}, {"getrandom", SYS_getrandom},
    /* newer than Linux 5.2 (clone3 435 .. faccessat2 439) */
    {"clone3", SYS_clone3},           {"close_range", SYS_close_range},
    {"openat2", SYS_openat2},         {"faccessat2", SYS_faccessat2},
};

static char buffer[4096];

static unsigned long arg(const char *s) {
  if (s[0] == '@')
    return (unsigned long)(s + 1);
  if (!strcmp(s, "buf"))
    return (unsigned long)buffer;
  return (unsigned long)strtoull(s, NULL, 0);
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 8) {
    fprintf(stderr, "usage: sprout-sys NAME|NR [ARG...] (at most 6 arguments)\n");
    return 2;
  }
  long nr = -1;
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
    if (!strcmp(calls[i].name, argv[1]))
      nr = calls[i].nr;
  if (nr < 0) {
    char *end;
    nr = strtol(argv[1], &end, 0);
    if (*end || nr < 0) {
      fprintf(stderr, "sprout-sys: unknown system call \"%s\"\n", argv[1]);
      return 2;
    }
  }
  unsigned long a[6] = {0};
  for (int i = 2; i < argc; i++)
    a[i - 2] = arg(argv[i]);
  fflush(stdout);
  errno = 0;
  long r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  if (r == -1)
    printf("%s=-1 errno=%d\n", argv[1], errno);
  else
    printf("%s=%ld\n", argv[1], r);
  return 0;
}
