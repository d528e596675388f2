/* Logging: --log FILE --log-format text|json.  containerd reads the last
 * "level":"error" JSON line of the file; podman reads one error object. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sprout/util.h"

static int log_fd = -1;
static bool log_json;
static bool log_debug;

static const char *level_name[] = {"debug", "info", "warning", "error"};

int sp_log_open(const char *file, const char *format, bool debug,
                struct sp_error *err) {
  log_debug = debug;
  if (format && strcmp(format, "json") == 0)
    log_json = true;
  else if (format && strcmp(format, "text") != 0)
    return sp_error_set(err, 0, "--log-format: unknown format \"%s\" (text or json)", format);
  if (!file || !*file)
    return 0;
  log_fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0)
    return sp_error_sys(err, "open log file %s", file);
  return 0;
}

int sp_log_fd(void) { return log_fd; }

void sp_log_close(void) {
  if (log_fd >= 0)
    close(log_fd);
  log_fd = -1;
}

static void json_escape(struct sp_buf *b, const char *s) {
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      sp_buf_printf(b, "\\%c", c);
    else if (c < 0x20)
      sp_buf_printf(b, "\\u%04x", c);
    else
      sp_buf_append(b, s, 1);
  }
}

static void emit(enum sp_log_level level, const char *msg) {
  if (log_fd < 0)
    return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char when[64];
  sp_time_rfc3339(when, sizeof when, &ts);
  struct sp_buf b = {0};
  if (log_json) {
    sp_buf_printf(&b, "{\"level\":\"%s\",\"msg\":\"", level_name[level]);
    json_escape(&b, msg);
    sp_buf_printf(&b, "\",\"time\":\"%s\"}\n", when);
  } else {
    sp_buf_printf(&b, "time=\"%s\" level=%s msg=\"", when, level_name[level]);
    json_escape(&b, msg);
    sp_buf_printf(&b, "\"\n");
  }
  if (b.data)
    (void)sp_write_all(log_fd, b.data, b.len);
  sp_buf_free(&b);
}

void sp_log(enum sp_log_level level, const char *fmt, ...) {
  if (level == SP_LOG_DEBUG && !log_debug)
    return;
  int saved = errno;
  char msg[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  for (char *p = msg; *p; p++)
    if (*p == '\n')
      *p = ' ';
  if (log_fd >= 0)
    emit(level, msg);
  else if (level >= SP_LOG_WARN || log_debug)
    dprintf(STDERR_FILENO, "sprout: %s: %s\n", level_name[level], msg);
  errno = saved;
}

void sp_log_fatal(const char *msg) {
  dprintf(STDERR_FILENO, "sprout: %s\n", msg);
  emit(SP_LOG_ERROR, msg);
}
