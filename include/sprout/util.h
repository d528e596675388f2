/* sprout — small shared helpers: files, logging, time, JSON output. */
#ifndef SPROUT_UTIL_H
#define SPROUT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sprout/error.h"

/* ---- logging (src/util/log.c) ---- */
enum sp_log_level { SP_LOG_DEBUG, SP_LOG_INFO, SP_LOG_WARN, SP_LOG_ERROR };

/* Open FILE for appending (O_CLOEXEC); format "text" or "json".  With no
 * file, warnings go to stderr and debug messages are dropped unless debug. */
int sp_log_open(const char *file, const char *format, bool debug,
                struct sp_error *err);
void sp_log(enum sp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The final error of a command: one line on stderr ("sprout: MSG") and, with
 * --log, one error record in the log file. */
void sp_log_fatal(const char *msg);
/* Close the log fd (before exec of the workload, or in the child). */
int sp_log_fd(void);
/* Close the log in a child (the init): later records are dropped, never
 * written to whatever file reuses the fd number. */
void sp_log_close(void);

/* ---- files (src/util/fs.c) ---- */
/* mkdir -p with MODE for every created component. */
int sp_mkdir_p(const char *path, mode_t mode, struct sp_error *err);
/* Write DATA to PATH atomically: PATH.tmp-<pid> then rename. */
int sp_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode, struct sp_error *err);
/* The pid file of create/run/exec: decimal digits only, no newline, written
 * atomically (clients read it right after the command exits). */
int sp_write_pid_file(const char *file, pid_t pid, struct sp_error *err);
/* Open + write + close, no O_CREAT (cgroup and proc files). */
int sp_write_file(const char *path, const char *data, struct sp_error *err);
int sp_write_fileat(int dirfd, const char *path, const char *data,
                    struct sp_error *err);
/* Read a whole (small) file; *out is NUL-terminated and malloc'd.  Fails
 * with EFBIG over MAX bytes. */
int sp_read_file(const char *path, size_t max, char **out, size_t *len,
                 struct sp_error *err);
int sp_read_fileat(int dirfd, const char *path, size_t max, char **out,
                   size_t *len, struct sp_error *err);
/* One sendmsg of DATA with FD in a single SCM_RIGHTS control message;
 * -1 with errno. */
int sp_send_fd(int sock, const void *data, size_t len, int fd);
/* Full write loop; returns -1 with errno. */
int sp_write_all(int fd, const void *buf, size_t len);
/* Remove a directory tree (no symlink following).  Missing is success. */
int sp_rm_rf(const char *path);
/* Join two paths with a single '/' (malloc'd). */
char *sp_path_join(const char *a, const char *b);
/* Lexically clean IN into OUT (SIZE bytes): absolute, no "//", "." or
 * ".." (which stops at "/").  OUT may be IN when IN is absolute.  -1 when
 * it does not fit. */
int sp_path_clean(const char *in, char *out, size_t size);
/* Make PATH absolute against the cwd and clean "." and "//" (malloc'd). */
char *sp_abspath(const char *path);

/* ---- time ---- */
/* RFC 3339 UTC with nanoseconds: 2026-11-22T12:00:00.123456789Z */
void sp_time_rfc3339(char *buf, size_t size, const struct timespec *ts);

/* ---- processes ---- */
/* Sanitizer builds: run LeakSanitizer's check now, not at exit (call before
 * setns(CLONE_NEWPID), after which it could not run); a no-op otherwise. */
void sp_leak_check_now(void);
/* Start time (field 22 of /proc/PID/stat), 0 when the process is gone. */
uint64_t sp_proc_start_time(pid_t pid);

/* ---- strings ---- */
void sp_strv_free(char **v, size_t n);
/* A growable byte buffer. */
struct sp_buf {
  char *data;
  size_t len, cap;
};
int sp_buf_append(struct sp_buf *b, const void *data, size_t len);
int sp_buf_printf(struct sp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sp_buf_free(struct sp_buf *b);

/* ---- JSON output (src/util/json.c): thin yajl_gen helpers ---- */
struct yajl_gen_t;
typedef struct yajl_gen_t *sp_json;
sp_json sp_json_new(bool pretty);
void sp_json_str(sp_json g, const char *s); /* NULL -> null */
void sp_json_key(sp_json g, const char *k);
void sp_json_kstr(sp_json g, const char *k, const char *v);
void sp_json_kint(sp_json g, const char *k, long long v);
void sp_json_kbool(sp_json g, const char *k, bool v);
void sp_json_int(sp_json g, long long v);
void sp_json_map_open(sp_json g);
void sp_json_map_close(sp_json g);
void sp_json_array_open(sp_json g);
void sp_json_array_close(sp_json g);
/* Finish: returns a malloc'd NUL-terminated copy (no trailing newline, pretty
 * or not) and frees the generator. */
char *sp_json_finish(sp_json g, size_t *len);

#endif
