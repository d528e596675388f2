/* libFuzzer target: the small parsers of the command line and the config's
 * names: container ids, signals (and the name <-> number round trip),
 * strict numbers, capability and namespace names. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "sprout/linux.h"
#include "sprout/parse.h"
#include "sprout/spec.h"

static void one(const char *s) {
  struct sp_error err = {0};
  int r = sp_id_validate(s, &err);
  fuzz_check_error(r, &err, "sp_id_validate");
  if (r == 0)
    FUZZ_ASSERT(!strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..") && *s,
                "id \"%s\" accepted", s);

  int sig = -1;
  sp_error_clear(&err);
  r = sp_signal_parse(s, &sig, &err);
  fuzz_check_error(r, &err, "sp_signal_parse");
  if (r == 0) {
    FUZZ_ASSERT(sig > 0 && sig < NSIG, "signal %d from \"%s\"", sig, s);
    const char *name = sp_signal_name(sig);
    if (name) {
      int back = -1;
      sp_error_clear(&err);
      FUZZ_ASSERT(sp_signal_parse(name, &back, &err) == 0 && back == sig,
                  "\"%s\" -> %d -> \"%s\" -> %d", s, sig, name, back);
    }
  }

  uint64_t u;
  int64_t i;
  int n;
  if (sp_parse_u64(s, &u) == 0)
    FUZZ_ASSERT(s[0] >= '0' && s[0] <= '9', "u64 \"%s\"", s);
  else
    FUZZ_ASSERT(errno == EINVAL || errno == ERANGE, "u64 errno %d", errno);
  if (sp_parse_i64(s, &i) == 0 && sp_parse_int(s, &n) == 0)
    FUZZ_ASSERT(i == n, "int and i64 disagree on \"%s\"", s);

  int cap = sp_cap_from_name(s);
  FUZZ_ASSERT(cap >= -1 && cap <= 63, "capability %d", cap);
  int ns = sp_ns_type_from_name(s);
  FUZZ_ASSERT(ns == -1 || !strcmp(sp_ns_type_name((enum sp_ns_type)ns), s),
              "namespace \"%s\"", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fuzz_strndup(data, size);
  char *v[16];
  size_t k = fuzz_split(s, '\n', v, 16);
  for (size_t j = 0; j < k; j++)
    one(v[j]);
  free(s);
  return 0;
}
