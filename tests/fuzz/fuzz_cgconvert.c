/* libFuzzer target: the cgroup value parsers and conversions
 * (src/cgroup/convert.c, devices_bpf.c) and the per-mode check of
 * linux.resources.  The first byte picks the operation:
 *   0: sp_cgroup_parse_bytes (update --memory 1g ...) on the text;
 *   1: linux.resources JSON: sp_cgroup_check for v1, v2 and hybrid, then
 *      the device rule list, its BPF program and queries on it;
 *   2: the numeric conversions on 8-byte values from the input, with
 *      cpu.max's current content from the rest. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sprout/cgroup.h"
#include "sprout/spec.h"
#include "src/cgroup/cgroup_internal.h"

static uint64_t take64(const uint8_t **p, size_t *n) {
  uint64_t v = 0;
  size_t k = *n < 8 ? *n : 8;
  memcpy(&v, *p, k);
  *p += k;
  *n -= k;
  return v;
}

static void op_bytes(const char *s) {
  int64_t v = 42;
  if (sp_cgroup_parse_bytes(s, &v) == 0)
    FUZZ_ASSERT(v >= -1, "\"%s\" -> %lld", s, (long long)v);
}

static void op_resources(const uint8_t *data, size_t size) {
  struct sp_resources res;
  struct sp_error err = {0};
  if (sp_resources_parse_buf((const char *)data, size, NULL, &res, &err) < 0)
    return;
  static const enum sp_cgroup_mode modes[] = {SP_CGROUP_V1, SP_CGROUP_V2, SP_CGROUP_HYBRID};
  for (size_t i = 0; i < 3; i++) {
    sp_error_clear(&err);
    int r = sp_cgroup_check(modes[i], &res, ".linux.resources", &err);
    fuzz_check_error(r, &err, "sp_cgroup_check");
  }
  struct sp_cg_dev_rule *rules = NULL;
  size_t n = 0;
  if (sp_cg_device_rules(res.devices, res.devices_len, &rules, &n) == 0) {
    struct bpf_insn *prog = NULL;
    size_t len = 0;
    if (sp_cg_devices_prog(rules, n, &prog, &len) == 0)
      FUZZ_ASSERT(len > 0, "empty device program for %zu rules", n);
    free(prog);
    /* /dev/null is always allowed, whatever the config said */
    FUZZ_ASSERT(sp_cg_device_allowed(rules, n, 'c', 1, 3, SP_CG_ACC_READ | SP_CG_ACC_WRITE),
                "/dev/null denied");
    for (size_t i = 0; i < res.devices_len; i++)
      (void)sp_cg_device_allowed(rules, n, res.devices[i].type == 'a' ? 'c' : res.devices[i].type,
                                 res.devices[i].major, res.devices[i].minor, SP_CG_ACC_ALL);
    free(rules);
  }
  sp_resources_free(&res);
}

static void op_numbers(const uint8_t *p, size_t n) {
  uint64_t a = take64(&p, &n), b = take64(&p, &n);
  char *current = fuzz_strndup(p, n);
  uint64_t w = sp_cg_shares_to_weight(a);
  FUZZ_ASSERT(w <= 10000 && (a == 0) == (w == 0), "shares %llu -> weight %llu",
              (unsigned long long)a, (unsigned long long)w);
  FUZZ_ASSERT(sp_cg_shares_to_weight(a + 1) >= w || a == UINT64_MAX, "shares not monotonic");
  w = sp_cg_blkio_to_io_weight(b);
  FUZZ_ASSERT(w <= 10000 && (b == 0) == (w == 0), "blkio %llu -> io %llu",
              (unsigned long long)b, (unsigned long long)w);
  int64_t out = 0;
  const char *why = NULL;
  int r = sp_cg_swap_v2((int64_t)a, (int64_t)b, &out, &why);
  FUZZ_ASSERT((r < 0) == (why != NULL), "swap: why and result disagree");
  if (r == 0)
    FUZZ_ASSERT(out >= -1, "swap.max %lld", (long long)out);
  char buf[128];
  sp_cg_limit_str((int64_t)a, buf, sizeof buf);
  FUZZ_ASSERT(buf[0] != '\0', "empty limit");
  sp_cg_io_max_line(buf, sizeof buf, (int64_t)a, (int64_t)b, "rbps", a ^ b);
  bool has_period = a & 2;
  uint64_t period = a >> 2;
  r = sp_cg_cpu_max(buf, sizeof buf, a & 1, (int64_t)b, has_period, period, *current ? current : NULL);
  if (r == 0 && has_period && period)
    FUZZ_ASSERT(strchr(buf, ' ') != NULL, "cpu.max \"%s\" without the period", buf);
  sp_cg_device_rule_str("acbx"[a & 3], (int64_t)b, (int64_t)(a >> 3), current, buf, sizeof buf);
  char ctl[64];
  const char *c = sp_cg_file_controller(current, ctl, sizeof ctl);
  FUZZ_ASSERT(!c || (strlen(c) > 0 && !strchr(c, '.')), "controller of \"%s\"", current);
  free(current);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  int op = data[0] % 3;
  if (op == 0) {
    char *s = fuzz_strndup(data + 1, size - 1);
    op_bytes(s);
    free(s);
  } else if (op == 1) {
    op_resources(data + 1, size - 1);
  } else {
    op_numbers(data + 1, size - 1);
  }
  return 0;
}
