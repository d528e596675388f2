/* sprout — helpers shared by the libFuzzer targets in tests/fuzz.
 *
 * Besides "no crash, no leak, no sanitizer report", every target checks the
 * error contract of include/sprout/error.h on each input: a function that
 * fails fills a non-empty message of one line (no control characters that
 * would break the "sprout: ..." line a client parses), and a function that
 * succeeds leaves the message empty.  A violation aborts, which libFuzzer
 * reports as a crash with the input saved. */
#ifndef SPROUT_FUZZ_COMMON_H
#define SPROUT_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sprout/error.h"

#define FUZZ_ASSERT(cond, ...)                                   \
  do {                                                           \
    if (!(cond)) {                                               \
      fprintf(stderr, "fuzz invariant failed: %s: ", #cond);     \
      fprintf(stderr, __VA_ARGS__);                              \
      fputc('\n', stderr);                                       \
      abort();                                                   \
    }                                                            \
  } while (0)

/* The error contract for a call that returned R with ERR. */
static inline void fuzz_check_error(int r, const struct sp_error *err,
                                    const char *what) {
  size_t len = strnlen(err->msg, sizeof err->msg);
  FUZZ_ASSERT(len < sizeof err->msg, "%s: message not terminated", what);
  if (r < 0) {
    FUZZ_ASSERT(len > 0, "%s failed with an empty message", what);
    for (size_t i = 0; i < len; i++) {
      unsigned char c = (unsigned char)err->msg[i];
      FUZZ_ASSERT(c >= 0x20 && c != 0x7f,
                  "%s: control byte 0x%02x at %zu in the message: %s", what, c, i,
                  err->msg);
    }
  } else {
    FUZZ_ASSERT(len == 0, "%s succeeded but left a message: %s", what, err->msg);
  }
}

/* A NUL-terminated heap copy of the input (the input itself is not). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s)
    abort();
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* Split S in place at SEP: up to MAX pieces into V; returns the count. */
static inline size_t fuzz_split(char *s, char sep, char **v, size_t max) {
  size_t n = 0;
  while (n < max) {
    v[n++] = s;
    char *e = strchr(s, sep);
    if (!e)
      break;
    *e = '\0';
    s = e + 1;
  }
  return n;
}

#endif
