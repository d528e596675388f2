/* Pure conversions from linux.resources values to what the cgroup files
 * take (unit tested in tests/unit/test_cgroup_convert.c). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_internal.h"

uint64_t sp_cg_shares_to_weight(uint64_t shares) {
  /* cpu.shares 2..262144 onto cpu.weight 1..10000, as runc maps it */
  if (shares == 0)
    return 0;
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t sp_cg_blkio_to_io_weight(uint64_t weight) {
  /* blkio.weight 10..1000 onto io.weight 1..10000 */
  if (weight == 0)
    return 0;
  if (weight < 10)
    weight = 10;
  if (weight > 1000)
    weight = 1000;
  return 1 + ((weight - 10) * 9999) / 990;
}

int sp_cg_swap_v2(int64_t swap, int64_t limit, int64_t *out, const char **why) {
  *why = NULL;
  /* memory unlimited and swap not given: both unlimited (v1 compatible) */
  if (limit == -1 && swap == 0) {
    *out = -1;
    return 0;
  }
  if (swap == 0)
    return 1; /* unset */
  if (swap < 0) {
    *out = -1;
    return 0;
  }
  if (limit <= 0) {
    *why = "a swap limit needs a memory limit";
    return -1;
  }
  if (swap < limit) {
    *why = "memory+swap is lower than the memory limit";
    return -1;
  }
  *out = swap - limit; /* swap == limit: no swap at all */
  return 0;
}

void sp_cg_limit_str(int64_t v, char *buf, size_t n) {
  if (v < 0)
    snprintf(buf, n, "max");
  else
    snprintf(buf, n, "%" PRId64, v);
}

void sp_cg_io_max_line(char *buf, size_t n, int64_t major, int64_t minor,
                       const char *key, uint64_t rate) {
  /* 0 means "no limit" in the v1 throttle files; io.max wants "max" */
  if (rate == 0)
    snprintf(buf, n, "%" PRId64 ":%" PRId64 " %s=max", major, minor, key);
  else
    snprintf(buf, n, "%" PRId64 ":%" PRId64 " %s=%" PRIu64, major, minor, key,
             rate);
}

int sp_cg_cpu_max(char *buf, size_t n, bool has_quota, int64_t quota,
                  bool has_period, uint64_t period, const char *current) {
  bool q = has_quota && quota != 0, p = has_period && period != 0;
  if (!q && !p)
    return 1;
  char qs[32] = "max";
  if (q && quota > 0)
    snprintf(qs, sizeof qs, "%" PRId64, quota);
  else if (!q && current) {
    /* only the period changes: keep the quota in force ("Q P" or "max P") */
    size_t l = strcspn(current, " \n");
    if (l > 0 && l < sizeof qs) {
      memcpy(qs, current, l);
      qs[l] = '\0';
    }
  }
  if (p)
    snprintf(buf, n, "%s %" PRIu64, qs, period);
  else
    snprintf(buf, n, "%s", qs);
  return 0;
}

void sp_cg_device_rule_str(char type, int64_t major, int64_t minor,
                           const char *access, char *buf, size_t n) {
  char ma[24] = "*", mi[24] = "*";
  if (type == 'a') {
    snprintf(buf, n, "a *:* %s", access && *access ? access : "rwm");
    return;
  }
  if (major >= 0)
    snprintf(ma, sizeof ma, "%" PRId64, major);
  if (minor >= 0)
    snprintf(mi, sizeof mi, "%" PRId64, minor);
  snprintf(buf, n, "%c %s:%s %s", type, ma, mi,
           access && *access ? access : "rwm");
}

int sp_cgroup_parse_bytes(const char *s, int64_t *out) {
  /* runc's RAMInBytes: "512", "512k", "1.5g", "2MiB", "-1" (unlimited);
   * the units are binary (k = 1024) */
  char *end;
  errno = 0;
  if (!s || !*s || isspace((unsigned char)*s))
    goto bad;
  if (strcmp(s, "-1") == 0) {
    *out = -1;
    return 0;
  }
  if (*s == '-' || *s == '+')
    goto bad;
  /* digits and a '.' only, as runc's: strtod would also take "nan" (a NaN
   * cast to int64 is undefined), "inf", hex and exponents */
  if (!isdigit((unsigned char)*s))
    goto bad;
  double v = strtod(s, &end);
  if (end == s || errno || end != s + strspn(s, "0123456789."))
    goto bad;
  uint64_t mult = 1;
  const char *u = end;
  switch (tolower((unsigned char)*u)) {
  case '\0': break;
  case 'b': break;
  case 'k': mult = 1ULL << 10; u++; break;
  case 'm': mult = 1ULL << 20; u++; break;
  case 'g': mult = 1ULL << 30; u++; break;
  case 't': mult = 1ULL << 40; u++; break;
  case 'p': mult = 1ULL << 50; u++; break;
  default: goto bad;
  }
  if (mult > 1 && tolower((unsigned char)*u) == 'i')
    u++;
  if (tolower((unsigned char)*u) == 'b')
    u++;
  if (*u)
    goto bad;
  double bytes = v * (double)mult;
  if (bytes >= 9223372036854775807.0)
    goto bad;
  *out = (int64_t)bytes;
  return 0;
bad:
  errno = EINVAL;
  return -1;
}

const char *sp_cg_file_controller(const char *file, char *buf, size_t n) {
  size_t l = strcspn(file, ".");
  if (file[l] != '.' || l == 0 || l >= n)
    return NULL;
  memcpy(buf, file, l);
  buf[l] = '\0';
  return buf;
}
