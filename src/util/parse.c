/* sprout — small parsers for the command line: container ids, signals and
 * decimal numbers.  All of them are strict: the whole string must match, and
 * anything a user could have mistyped is refused rather than guessed at. */
#include "sprout/parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SP_ID_MAX 1024

/* Copy `s` into `buf` for an error message: quotes are added by the caller,
 * non-printable bytes, quotes and backslashes are escaped, and a long string
 * is cut with "...".  Always NUL-terminates. */
static const char *quote(const char *s, char *buf, size_t size) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;

  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (o + 8 >= size) {
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    if (*p == '"' || *p == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)*p;
    } else if (*p < 0x20 || *p >= 0x7f) {
      buf[o++] = '\\';
      buf[o++] = 'x';
      buf[o++] = hex[*p >> 4];
      buf[o++] = hex[*p & 0xf];
    } else {
      buf[o++] = (char)*p;
    }
  }
  buf[o] = '\0';
  return buf;
}

/* ---- container ids ----------------------------------------------------- */

static bool id_char_ok(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '.' || c == '-';
}

int sp_id_validate(const char *id, struct sp_error *err) {
  char q[128];
  size_t len;

  if (id == NULL || id[0] == '\0')
    return sp_error_set(err, 0, "container id is empty");
  len = strlen(id);
  if (len > SP_ID_MAX)
    return sp_error_set(err, 0,
                        "invalid container id \"%s\": too long (%zu bytes, "
                        "at most %d)",
                        quote(id, q, 40), len, SP_ID_MAX);
  for (size_t i = 0; i < len; i++)
    if (!id_char_ok((unsigned char)id[i]))
      return sp_error_set(err, 0,
                          "invalid container id \"%s\": only [A-Za-z0-9_+.-] "
                          "allowed",
                          quote(id, q, sizeof(q)));
  if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
    return sp_error_set(err, 0, "invalid container id \"%s\": reserved name",
                        id);
  return 0;
}

/* ---- numbers ----------------------------------------------------------- */

int sp_parse_u64(const char *s, uint64_t *out) {
  unsigned long long v;
  char *end;

  /* strtoull would skip blanks, accept a sign and negate "-1" into a huge
   * value: only plain digits are a number here. */
  if (s == NULL || !isdigit((unsigned char)s[0])) {
    errno = EINVAL;
    return -1;
  }
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno == ERANGE)
    return -1;
  if (*end != '\0') {
    errno = EINVAL;
    return -1;
  }
  *out = (uint64_t)v;
  return 0;
}

int sp_parse_i64(const char *s, int64_t *out) {
  const char *digits = s;
  long long v;
  char *end;

  if (s != NULL && s[0] == '-')
    digits = s + 1;
  if (s == NULL || !isdigit((unsigned char)digits[0])) {
    errno = EINVAL;
    return -1;
  }
  errno = 0;
  v = strtoll(s, &end, 10);
  if (errno == ERANGE)
    return -1;
  if (*end != '\0') {
    errno = EINVAL;
    return -1;
  }
  *out = (int64_t)v;
  return 0;
}

int sp_parse_int(const char *s, int *out) {
  int64_t v;

  if (sp_parse_i64(s, &v) < 0)
    return -1;
  if (v < INT_MIN || v > INT_MAX) {
    errno = ERANGE;
    return -1;
  }
  *out = (int)v;
  return 0;
}

/* ---- signals ----------------------------------------------------------- */

struct sig_entry {
  const char *name;
  int sig;
};

/* The first entry for a number is its canonical name (sp_signal_name);
 * aliases (IOT, CLD, POLL) come after it. */
static const struct sig_entry signals[] = {
    {"SIGHUP", SIGHUP},       {"SIGINT", SIGINT},       {"SIGQUIT", SIGQUIT},
    {"SIGILL", SIGILL},       {"SIGTRAP", SIGTRAP},     {"SIGABRT", SIGABRT},
    {"SIGIOT", SIGIOT},       {"SIGBUS", SIGBUS},       {"SIGFPE", SIGFPE},
    {"SIGKILL", SIGKILL},     {"SIGUSR1", SIGUSR1},     {"SIGSEGV", SIGSEGV},
    {"SIGUSR2", SIGUSR2},     {"SIGPIPE", SIGPIPE},     {"SIGALRM", SIGALRM},
    {"SIGTERM", SIGTERM},
#ifdef SIGSTKFLT
    {"SIGSTKFLT", SIGSTKFLT},
#endif
    {"SIGCHLD", SIGCHLD},     {"SIGCLD", SIGCHLD},      {"SIGCONT", SIGCONT},
    {"SIGSTOP", SIGSTOP},     {"SIGTSTP", SIGTSTP},     {"SIGTTIN", SIGTTIN},
    {"SIGTTOU", SIGTTOU},     {"SIGURG", SIGURG},       {"SIGXCPU", SIGXCPU},
    {"SIGXFSZ", SIGXFSZ},     {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF},
    {"SIGWINCH", SIGWINCH},   {"SIGIO", SIGIO},         {"SIGPOLL", SIGPOLL},
#ifdef SIGPWR
    {"SIGPWR", SIGPWR},
#endif
    {"SIGSYS", SIGSYS},
};

#define N_SIGNALS (sizeof(signals) / sizeof(signals[0]))
#define SIG_MAX (_NSIG - 1)

// clang-format off
#define RT_NAMES(P, D)                                                         \
  P "",      P D "1",  P D "2",  P D "3",  P D "4",  P D "5",  P D "6",        \
  P D "7",   P D "8",  P D "9",  P D "10", P D "11", P D "12", P D "13",       \
  P D "14",  P D "15", P D "16", P D "17", P D "18", P D "19", P D "20",       \
  P D "21",  P D "22", P D "23", P D "24", P D "25", P D "26", P D "27",       \
  P D "28",  P D "29", P D "30", P D "31"
// clang-format on

static const char *const rtmin_names[] = {RT_NAMES("SIGRTMIN", "+")};
static const char *const rtmax_names[] = {RT_NAMES("SIGRTMAX", "-")};
#define N_RT_NAMES (sizeof(rtmin_names) / sizeof(rtmin_names[0]))

const char *sp_signal_name(int sig) {
  int rtmin = SIGRTMIN, rtmax = SIGRTMAX;

  for (size_t i = 0; i < N_SIGNALS; i++)
    if (signals[i].sig == sig)
      return signals[i].name;
  if (sig < rtmin || sig > rtmax)
    return NULL; /* 0, negative, too large, or reserved by the C library */
  /* Like kill -l: the lower half counts up from RTMIN, the upper half down
   * from RTMAX. */
  if (sig - rtmin <= (rtmax - rtmin) / 2)
    return (size_t)(sig - rtmin) < N_RT_NAMES ? rtmin_names[sig - rtmin] : NULL;
  return (size_t)(rtmax - sig) < N_RT_NAMES ? rtmax_names[rtmax - sig] : NULL;
}

/* "RTMIN", "RTMIN+3", "RTMAX-2" (SIG prefix already removed) -> signal
 * number, or -1 when `name` is not of that form or falls outside
 * [SIGRTMIN, SIGRTMAX]. */
static int rt_parse(const char *name) {
  int base, off = 0;

  if (strncasecmp(name, "RTMIN", 5) == 0)
    base = SIGRTMIN;
  else if (strncasecmp(name, "RTMAX", 5) == 0)
    base = SIGRTMAX;
  else
    return -1;
  name += 5;
  if (*name != '\0') {
    int sign = *name == '+' ? 1 : *name == '-' ? -1 : 0;
    int n;

    /* the offset itself is plain digits: "RTMIN+-1" and "RTMIN+" fail */
    if (sign == 0 || !isdigit((unsigned char)name[1]) ||
        sp_parse_int(name + 1, &n) < 0)
      return -1;
    if (n > SIG_MAX)
      return -1;
    off = sign * n;
  }
  if (base + off < SIGRTMIN || base + off > SIGRTMAX)
    return -1;
  return base + off;
}

int sp_signal_parse(const char *s, int *sig, struct sp_error *err) {
  char q[128];
  const char *name;
  int n;

  if (s == NULL || s[0] == '\0')
    return sp_error_set(err, 0, "signal is empty");

  if (isdigit((unsigned char)s[0])) {
    if (sp_parse_int(s, &n) < 0) {
      if (errno != ERANGE)
        return sp_error_set(err, 0, "unknown signal \"%s\"",
                            quote(s, q, sizeof(q)));
      n = -1;
    }
    if (n < 1 || n > SIG_MAX)
      return sp_error_set(err, 0,
                          "invalid signal \"%s\": number out of range 1..%d",
                          quote(s, q, sizeof(q)), SIG_MAX);
    *sig = n;
    return 0;
  }

  name = s;
  if (strncasecmp(name, "SIG", 3) == 0)
    name += 3;
  for (size_t i = 0; i < N_SIGNALS; i++) {
    if (strcasecmp(name, signals[i].name + 3) == 0) {
      *sig = signals[i].sig;
      return 0;
    }
  }
  n = rt_parse(name);
  if (n > 0) {
    *sig = n;
    return 0;
  }
  return sp_error_set(err, 0, "unknown signal \"%s\"", quote(s, q, sizeof(q)));
}
