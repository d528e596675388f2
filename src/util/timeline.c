/* SP_MARK's writer (include/sprout/timeline.h), built with -Dtimeline=true. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "sprout/timeline.h"

static int timeline_fd = -2; /* -2: not opened yet, -1: no SPROUT_TIMELINE */

void sp_timeline_mark(const char *step) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  int saved = errno; /* a mark never changes what a caller sees */
  if (timeline_fd == -2) {
    const char *path = getenv("SPROUT_TIMELINE");
    timeline_fd = path && *path
                      ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)
                      : -1;
  }
  if (timeline_fd >= 0) {
    char line[128];
    int n = snprintf(line, sizeof line, "%s %lld.%09ld\n", step, (long long)t.tv_sec,
                     t.tv_nsec);
    /* one write with O_APPEND: lines of the command and its init never mix */
    if (n > 0 && write(timeline_fd, line, (size_t)n) < 0)
      timeline_fd = -1;
  }
  errno = saved;
}
