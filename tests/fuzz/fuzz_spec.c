/* libFuzzer target: config.json parser and validator (sp_spec_parse_buf),
 * then the lookups a runtime does on a parsed spec. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "sprout/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct sp_spec spec;
  struct sp_error err = {0};
  int r = sp_spec_parse_buf((const char *)data, size, "config.json", &spec, &err);
  fuzz_check_error(r, &err, "sp_spec_parse_buf");
  if (r == 0) {
    FUZZ_ASSERT(spec.oci_version && spec.root_path, "required fields missing");
    for (int t = 0; t < SP_NS_COUNT; t++) {
      const struct sp_namespace *ns = sp_spec_namespace(&spec, (enum sp_ns_type)t);
      FUZZ_ASSERT(!ns || ns->type == (enum sp_ns_type)t, "namespace lookup");
    }
    for (size_t i = 0; i < spec.annotations_len; i++)
      FUZZ_ASSERT(sp_spec_annotation(&spec, spec.annotations[i].key) != NULL,
                  "annotation lookup");
    if (spec.has_process)
      FUZZ_ASSERT(spec.process.args_len > 0 && spec.process.cwd &&
                      spec.process.cwd[0] == '/',
                  "process validated");
  } else {
    /* on error the struct is left zeroed: freeing it again is harmless */
    FUZZ_ASSERT(spec.oci_version == NULL && spec.mounts == NULL, "spec not reset on error");
  }
  sp_spec_free(&spec);
  return 0;
}
