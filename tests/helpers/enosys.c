/* sprout-enosys NAME[,NAME...] CMD [ARG...]: run CMD with the system calls
 * NAME failing with ENOSYS, as on a kernel older than they are, to exercise
 * sprout's fallbacks (tests/integration/cgroups.sh).  Host side, libseccomp. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: sprout-enosys NAME[,NAME...] CMD [ARG...]\n");
    return 2;
  }
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
    fprintf(stderr, "sprout-enosys: seccomp_init failed\n");
    return 1;
  }
  char *names = strdup(argv[1]);
  for (char *save = NULL, *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
    int nr = seccomp_syscall_resolve_name(n);
    if (nr == __NR_SCMP_ERROR || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) < 0) {
      fprintf(stderr, "sprout-enosys: unknown system call %s\n", n);
      return 1;
    }
  }
  free(names);
  int r = seccomp_load(ctx);
  seccomp_release(ctx);
  if (r < 0) {
    fprintf(stderr, "sprout-enosys: seccomp_load: %s\n", strerror(-r));
    return 1;
  }
  execvp(argv[2], argv + 2);
  fprintf(stderr, "sprout-enosys: %s: %s\n", argv[2], strerror(errno));
  return 127;
}
