#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sprout/error.h"

/* One line, always, and nothing a terminal would interpret: line breaks
 * become spaces, other control bytes (a path or a cgroupsPath quoted from
 * the user's input) '?'. */
static void one_line(char *p) {
  for (; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
    else if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = '?';
}

static void vset(struct sp_error *err, const char *fmt, va_list ap) {
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  one_line(err->msg);
}

int sp_error_set(struct sp_error *err, int code, const char *fmt, ...) {
  if (!err)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  vset(err, fmt, ap);
  va_end(ap);
  err->code = code;
  return -1;
}

static int verrno(struct sp_error *err, int code, const char *fmt, va_list ap) {
  vset(err, fmt, ap);
  size_t n = strlen(err->msg);
  if (code)
    snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(code));
  err->code = code;
  return -1;
}

int sp_error_sys(struct sp_error *err, const char *fmt, ...) {
  int code = errno;
  if (!err)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  verrno(err, code, fmt, ap);
  va_end(ap);
  errno = code;
  return -1;
}

int sp_error_errno(struct sp_error *err, int code, const char *fmt, ...) {
  if (!err)
    return -1;
  va_list ap;
  va_start(ap, fmt);
  verrno(err, code, fmt, ap);
  va_end(ap);
  return -1;
}

int sp_error_prefix(struct sp_error *err, const char *fmt, ...) {
  if (!err)
    return -1;
  char prefix[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  if (n < 0)
    return -1;
  one_line(prefix);
  size_t pl = strnlen(prefix, sizeof prefix - 1);
  size_t ml = strnlen(err->msg, sizeof err->msg - 1);
  if (pl + 2 >= sizeof err->msg)
    pl = sizeof err->msg - 3;
  if (pl + 2 + ml >= sizeof err->msg)
    ml = sizeof err->msg - pl - 3;
  memmove(err->msg + pl + 2, err->msg, ml);
  memcpy(err->msg, prefix, pl);
  err->msg[pl] = ':';
  err->msg[pl + 1] = ' ';
  err->msg[pl + 2 + ml] = '\0';
  return -1;
}

void sp_error_clear(struct sp_error *err) {
  err->code = 0;
  err->msg[0] = '\0';
}
