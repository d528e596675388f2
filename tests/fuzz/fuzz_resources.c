/* libFuzzer target: the LinuxResources parser of `update --resources`
 * (sp_resources_parse_buf): memory, cpu, blockIO, hugepages, pids, rdma,
 * network, unified, device rules. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "sprout/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct sp_resources res;
  struct sp_error err = {0};
  int r = sp_resources_parse_buf((const char *)data, size, "resources.json", &res, &err);
  fuzz_check_error(r, &err, "sp_resources_parse_buf");
  if (r == 0)
    for (size_t i = 0; i < res.devices_len; i++)
      FUZZ_ASSERT(res.devices[i].type == 'a' || res.devices[i].type == 'b' ||
                      res.devices[i].type == 'c',
                  "device rule type '%c'", res.devices[i].type);
  sp_resources_free(&res);
  return 0;
}
