/* libFuzzer target: the standalone process.json parser of `exec --process`
 * (sp_process_parse_buf). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "sprout/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct sp_process proc;
  struct sp_error err = {0};
  int r = sp_process_parse_buf((const char *)data, size, "process.json", &proc, &err);
  fuzz_check_error(r, &err, "sp_process_parse_buf");
  if (r == 0)
    FUZZ_ASSERT(proc.args_len > 0 && proc.args[0] && proc.cwd, "process validated");
  sp_process_free(&proc);
  return 0;
}
