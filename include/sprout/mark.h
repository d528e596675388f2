/* Throw-away timeline marks (not committed). */
#ifndef SPROUT_MARK_H
#define SPROUT_MARK_H
#ifdef SP_MARKS
#include <stdio.h>
#include <time.h>
#include <unistd.h>
static inline void sp_mark(const char *n) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  char b[96];
  int l = snprintf(b, sizeof b, "%s %ld.%09ld\n", n, (long)t.tv_sec, t.tv_nsec);
  (void)!write(900, b, (size_t)l);
}
#else
#define sp_mark(n) ((void)0)
#endif
#endif
