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
 *       ../../.. of the working directory, or the error. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "write-exe"))
    return write_exe(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "cwd"))
    return cwd();
  fprintf(stderr, "usage: sprout-cve write-exe FD RESULT [NAME] | cwd\n");
  return 2;
}
