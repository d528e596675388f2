/* sprout — small parsers for the command line: ids, signals, numbers. */
#ifndef SPROUT_PARSE_H
#define SPROUT_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "sprout/error.h"

/* Container ids: [A-Za-z0-9_+.-]+, not "." or "..", at most 1024 bytes. */
int sp_id_validate(const char *id, struct sp_error *err);

/* "TERM", "SIGTERM", "15", "sigterm", "RTMIN+3", "SIGRTMAX-1" -> signal
 * number.  Errors name the signal string. */
int sp_signal_parse(const char *s, int *sig, struct sp_error *err);

/* Signal number -> "SIGTERM" (static string) or NULL. */
const char *sp_signal_name(int sig);

/* Strict decimal parsers: whole string, no sign for unsigned, range checked.
 * Return -1 (errno EINVAL or ERANGE) on failure. */
int sp_parse_u64(const char *s, uint64_t *out);
int sp_parse_i64(const char *s, int64_t *out);
int sp_parse_int(const char *s, int *out);

#endif
