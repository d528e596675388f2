/* libFuzzer target: mount options -> flags (sp_mountopt_parse) and
 * propagation names (sp_propagation_parse).  The input is lines: the first
 * is the mount type (empty: none, a bind mount needs "bind" in the
 * options), the others are the options. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mount.h>

#include "fuzz_common.h"
#include "sprout/mountopt.h"

#define MAX_OPTS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fuzz_strndup(data, size);
  char *v[MAX_OPTS + 1];
  size_t n = fuzz_split(s, '\n', v, MAX_OPTS + 1);
  struct sp_mount m = {0};
  m.destination = "/mnt";
  m.type = v[0][0] ? v[0] : NULL;
  m.options = n > 1 ? &v[1] : NULL;
  m.options_len = n - 1;
  struct sp_error err = {0};
  int r = sp_mountopt_parse(&m, &err);
  fuzz_check_error(r, &err, "sp_mountopt_parse");
  if (r == 0) {
    FUZZ_ASSERT((m.flags & m.clear_flags & ~(unsigned long)(MS_BIND | MS_REC)) == 0,
                "flag 0x%lx both set and cleared", m.flags & m.clear_flags);
    FUZZ_ASSERT(!m.bind || (m.flags & MS_BIND), "bind without MS_BIND");
  }
  free(m.data);
  for (size_t i = 0; i < n; i++) {
    unsigned long flags = 0;
    if (sp_propagation_parse(v[i], &flags) == 0)
      FUZZ_ASSERT(flags & (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE),
                  "propagation \"%s\" gave no propagation flag", v[i]);
  }
  free(s);
  return 0;
}
