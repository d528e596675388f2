/* sprout — error reporting.
 *
 * Every fallible function returns 0 (or a value >= 0) on success and -1 on
 * failure, filling a struct sp_error: the errno (0 when the cause is the
 * user's input, not the system) and a message saying what was being done to
 * what.  Only main() prints.  Callers add context from the outside in with
 * sp_error_prefix(), so the final line reads
 *   create abc: config.json: .linux.namespaces[2].type: unknown namespace "pidd"
 */
#ifndef SPROUT_ERROR_H
#define SPROUT_ERROR_H

#include <stdarg.h>

#define SP_ERROR_MAX 2048

struct sp_error {
  int code;               /* errno, or 0 for an input error */
  char msg[SP_ERROR_MAX]; /* empty when nothing failed */
};

/* Set the message (printf-style); code is an errno or 0.  Returns -1 so a
 * caller can write `return sp_error_set(err, 0, "...")`. */
int sp_error_set(struct sp_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like sp_error_set with code = errno, and ": strerror(errno)" appended. */
int sp_error_sys(struct sp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Same as sp_error_sys with an explicit errno value. */
int sp_error_errno(struct sp_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepend "PREFIX: " to the message already set.  Returns -1. */
int sp_error_prefix(struct sp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void sp_error_clear(struct sp_error *err);

#endif
