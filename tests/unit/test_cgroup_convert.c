/* Unit tests for src/cgroup/convert.c and devices_bpf.c: the value
 * conversions (shares -> weight, swap, blkio -> io.max lines, cpu.max,
 * sizes), the checks of values a cgroup version cannot honour, and the
 * device rules -> BPF program, run here by a small
 * interpreter against the reference semantics, and loaded into the kernel
 * where the verifier can check it. */
#include <check.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/cgroup/cgroup_internal.h"
#include "sprout/cgroup.h"

/* ---- conversions ------------------------------------------------------------------ */

START_TEST(test_shares_to_weight) {
  ck_assert_uint_eq(sp_cg_shares_to_weight(0), 0);
  ck_assert_uint_eq(sp_cg_shares_to_weight(2), 1);
  ck_assert_uint_eq(sp_cg_shares_to_weight(1024), 39);
  ck_assert_uint_eq(sp_cg_shares_to_weight(512), 20);
  ck_assert_uint_eq(sp_cg_shares_to_weight(262144), 10000);
  /* out of range: clamped like the kernel clamps cpu.shares */
  ck_assert_uint_eq(sp_cg_shares_to_weight(1), 1);
  ck_assert_uint_eq(sp_cg_shares_to_weight(1000000), 10000);
}
END_TEST

START_TEST(test_blkio_weight) {
  ck_assert_uint_eq(sp_cg_blkio_to_io_weight(0), 0);
  ck_assert_uint_eq(sp_cg_blkio_to_io_weight(10), 1);
  ck_assert_uint_eq(sp_cg_blkio_to_io_weight(500), 4950);
  ck_assert_uint_eq(sp_cg_blkio_to_io_weight(1000), 10000);
}
END_TEST

START_TEST(test_swap) {
  int64_t out = 12345;
  const char *why;
  /* memory unlimited, swap not given: both unlimited */
  ck_assert_int_eq(sp_cg_swap_v2(0, -1, &out, &why), 0);
  ck_assert_int_eq(out, -1);
  /* swap not given: nothing to write */
  ck_assert_int_eq(sp_cg_swap_v2(0, 1000, &out, &why), 1);
  /* -1: unlimited swap */
  ck_assert_int_eq(sp_cg_swap_v2(-1, 1000, &out, &why), 0);
  ck_assert_int_eq(out, -1);
  /* memory+swap - memory */
  ck_assert_int_eq(sp_cg_swap_v2(3000, 1000, &out, &why), 0);
  ck_assert_int_eq(out, 2000);
  /* equal: no swap at all */
  ck_assert_int_eq(sp_cg_swap_v2(1000, 1000, &out, &why), 0);
  ck_assert_int_eq(out, 0);
  /* impossible pairs */
  ck_assert_int_eq(sp_cg_swap_v2(500, 1000, &out, &why), -1);
  ck_assert_ptr_nonnull(strstr(why, "lower than the memory limit"));
  ck_assert_int_eq(sp_cg_swap_v2(500, 0, &out, &why), -1);
  ck_assert_ptr_nonnull(strstr(why, "needs a memory limit"));
  ck_assert_int_eq(sp_cg_swap_v2(500, -1, &out, &why), -1);
}
END_TEST

START_TEST(test_limit_str) {
  char b[32];
  sp_cg_limit_str(-1, b, sizeof b);
  ck_assert_str_eq(b, "max");
  sp_cg_limit_str(-5, b, sizeof b);
  ck_assert_str_eq(b, "max");
  sp_cg_limit_str(0, b, sizeof b);
  ck_assert_str_eq(b, "0");
  sp_cg_limit_str(9223372036854775807LL, b, sizeof b);
  ck_assert_str_eq(b, "9223372036854775807");
}
END_TEST

START_TEST(test_io_max_lines) {
  char b[128];
  sp_cg_io_max_line(b, sizeof b, 8, 0, "rbps", 1048576);
  ck_assert_str_eq(b, "8:0 rbps=1048576");
  sp_cg_io_max_line(b, sizeof b, 253, 16, "wiops", 300);
  ck_assert_str_eq(b, "253:16 wiops=300");
  /* 0 means "no limit" in the spec (as in v1): io.max wants "max" */
  sp_cg_io_max_line(b, sizeof b, 8, 16, "wbps", 0);
  ck_assert_str_eq(b, "8:16 wbps=max");
}
END_TEST

START_TEST(test_cpu_max) {
  char b[64];
  ck_assert_int_eq(sp_cg_cpu_max(b, sizeof b, true, 50000, true, 100000, NULL), 0);
  ck_assert_str_eq(b, "50000 100000");
  ck_assert_int_eq(sp_cg_cpu_max(b, sizeof b, true, 20000, false, 0, NULL), 0);
  ck_assert_str_eq(b, "20000");
  ck_assert_int_eq(sp_cg_cpu_max(b, sizeof b, true, -1, false, 0, NULL), 0);
  ck_assert_str_eq(b, "max");
  ck_assert_int_eq(sp_cg_cpu_max(b, sizeof b, true, -1, true, 250000, NULL), 0);
  ck_assert_str_eq(b, "max 250000");
  /* only the period: the quota in force stays */
  ck_assert_int_eq(sp_cg_cpu_max(b, sizeof b, false, 0, true, 50000, "30000 100000\n"), 0);
  ck_assert_str_eq(b, "30000 50000");
  ck_assert_int_eq(sp_cg_cpu_max(b, sizeof b, false, 0, true, 50000, "max 100000\n"), 0);
  ck_assert_str_eq(b, "max 50000");
  /* zero quota and period are unset */
  ck_assert_int_eq(sp_cg_cpu_max(b, sizeof b, true, 0, true, 0, NULL), 1);
  ck_assert_int_eq(sp_cg_cpu_max(b, sizeof b, false, 0, false, 0, NULL), 1);
}
END_TEST

START_TEST(test_device_rule_str) {
  char b[64];
  sp_cg_device_rule_str('c', 1, 3, "rwm", b, sizeof b);
  ck_assert_str_eq(b, "c 1:3 rwm");
  sp_cg_device_rule_str('b', -1, -1, "m", b, sizeof b);
  ck_assert_str_eq(b, "b *:* m");
  sp_cg_device_rule_str('c', 136, -1, NULL, b, sizeof b);
  ck_assert_str_eq(b, "c 136:* rwm");
  sp_cg_device_rule_str('a', 5, 5, "r", b, sizeof b);
  ck_assert_str_eq(b, "a *:* r");
}
END_TEST

START_TEST(test_parse_bytes) {
  int64_t v;
  ck_assert_int_eq(sp_cgroup_parse_bytes("1024", &v), 0);
  ck_assert_int_eq(v, 1024);
  ck_assert_int_eq(sp_cgroup_parse_bytes("512m", &v), 0);
  ck_assert_int_eq(v, 512LL << 20);
  ck_assert_int_eq(sp_cgroup_parse_bytes("1G", &v), 0);
  ck_assert_int_eq(v, 1LL << 30);
  ck_assert_int_eq(sp_cgroup_parse_bytes("2MiB", &v), 0);
  ck_assert_int_eq(v, 2LL << 20);
  ck_assert_int_eq(sp_cgroup_parse_bytes("1.5k", &v), 0);
  ck_assert_int_eq(v, 1536);
  ck_assert_int_eq(sp_cgroup_parse_bytes("100kb", &v), 0);
  ck_assert_int_eq(v, 102400);
  ck_assert_int_eq(sp_cgroup_parse_bytes("-1", &v), 0);
  ck_assert_int_eq(v, -1);
  ck_assert_int_eq(sp_cgroup_parse_bytes("", &v), -1);
  ck_assert_int_eq(sp_cgroup_parse_bytes("-2", &v), -1);
  ck_assert_int_eq(sp_cgroup_parse_bytes("12x", &v), -1);
  ck_assert_int_eq(sp_cgroup_parse_bytes("m", &v), -1);
  ck_assert_int_eq(sp_cgroup_parse_bytes("99999999p", &v), -1);
}
END_TEST

START_TEST(test_file_controller) {
  char b[32];
  ck_assert_str_eq(sp_cg_file_controller("memory.high", b, sizeof b), "memory");
  ck_assert_str_eq(sp_cg_file_controller("io.bfq.weight", b, sizeof b), "io");
  ck_assert_ptr_null(sp_cg_file_controller("nodot", b, sizeof b));
  ck_assert_ptr_null(sp_cg_file_controller(".hidden", b, sizeof b));
}
END_TEST

/* ---- checks before any side effect ------------------------------------------------ */

/* sp_cgroup_check's message for RES under MODE ("" when accepted). */
static const char *check_msg(enum sp_cgroup_mode mode, const struct sp_resources *res) {
  static struct sp_error err;
  memset(&err, 0, sizeof err);
  if (sp_cgroup_check(mode, res, ".linux.resources", &err) == 0)
    return "";
  return err.msg;
}

START_TEST(test_check_refusals) {
  struct sp_resources r;
  memset(&r, 0, sizeof r);
  ck_assert_str_eq(check_msg(SP_CGROUP_V2, &r), "");

  r.has_memory = true;
  r.memory.has_disable_oom_killer = r.memory.disable_oom_killer = true;
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_V2, &r),
                               ".linux.resources.memory.disableOOMKiller: "));
  ck_assert_str_eq(check_msg(SP_CGROUP_V1, &r), ""); /* v1 can */
  ck_assert_str_eq(check_msg(SP_CGROUP_DISABLED, &r), "");
  memset(&r, 0, sizeof r);
  r.has_memory = r.memory.has_swappiness = true;
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_V2, &r), ".memory.swappiness: "));
  memset(&r, 0, sizeof r);
  r.has_memory = r.memory.has_limit = r.memory.has_swap = true;
  r.memory.limit = 2000000;
  r.memory.swap = 1000000;
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_HYBRID, &r),
                               ".linux.resources.memory.swap: memory+swap 1000000 is lower"));
  r.memory.swap = 0;
  r.memory.limit = -7;
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_V1, &r), ".memory.limit: -7 "));

  memset(&r, 0, sizeof r);
  r.has_cpu = r.cpu.has_realtime_runtime = true;
  r.cpu.realtime_runtime = 950000;
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_V2, &r), ".cpu.realtimeRuntime: "));
  ck_assert_str_eq(check_msg(SP_CGROUP_V1, &r), "");
  memset(&r, 0, sizeof r);
  r.has_cpu = r.cpu.has_quota = true;
  r.cpu.quota = 10;
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_V1, &r), ".cpu.quota: 10 "));
  memset(&r, 0, sizeof r);
  r.has_cpu = r.cpu.has_period = true;
  r.cpu.period = 5000000;
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_V2, &r), ".cpu.period: "));

  memset(&r, 0, sizeof r);
  r.has_network = r.has_class_id = true;
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_V2, &r), ".linux.resources.network: "));
  memset(&r, 0, sizeof r);
  r.has_block_io = r.block_io.has_leaf_weight = true;
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_V2, &r), ".blockIO.leafWeight: "));

  struct sp_hugepage_limit h = {.page_size = "3MB", .limit = 0};
  memset(&r, 0, sizeof r);
  r.hugepage_limits = &h;
  r.hugepage_limits_len = 1;
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_V1, &r),
                               ".hugepageLimits[0].pageSize: huge page size 3MB"));

  struct sp_kv kv = {.key = "memory.high", .value = "1"};
  memset(&r, 0, sizeof r);
  r.unified = &kv;
  r.unified_len = 1;
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_V1, &r), ".unified: needs cgroup v2"));
  kv.key = "nodot";
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_V2, &r), ".unified.nodot: "));

  struct sp_device_cgroup d = {.allow = true, .type = 'c', .has_major = true,
                               .major = 1LL << 40};
  memset(&r, 0, sizeof r);
  r.devices = &d;
  r.devices_len = 1;
  ck_assert_ptr_nonnull(strstr(check_msg(SP_CGROUP_V2, &r), ".devices[0]: "));
}
END_TEST

/* ---- device rules -> BPF ------------------------------------------------------------- */

/* Run PROG (the instructions sp_cg_devices_prog emits) on one request. */
static int run_prog(const struct bpf_insn *p, size_t n, uint32_t access_type,
                    uint32_t major, uint32_t minor) {
  uint64_t r[11] = {0};
  struct bpf_cgroup_dev_ctx ctx = {access_type, major, minor};
  for (size_t pc = 0, steps = 0; pc < n && steps < 1000000; pc++, steps++) {
    const struct bpf_insn *i = &p[pc];
    uint8_t cls = BPF_CLASS(i->code);
    if (cls == BPF_LDX) {
      ck_assert_int_eq(i->code, BPF_LDX | BPF_MEM | BPF_W);
      ck_assert_int_eq(i->src_reg, BPF_REG_1);
      ck_assert(i->off >= 0 && (size_t)i->off + 4 <= sizeof ctx);
      uint32_t v;
      memcpy(&v, (const char *)&ctx + i->off, 4);
      r[i->dst_reg] = v;
    } else if (cls == BPF_ALU) {
      uint32_t src = BPF_SRC(i->code) == BPF_X ? (uint32_t)r[i->src_reg] : (uint32_t)i->imm;
      uint32_t d = (uint32_t)r[i->dst_reg];
      switch (BPF_OP(i->code)) {
      case BPF_MOV: d = src; break;
      case BPF_AND: d &= src; break;
      case BPF_RSH: d >>= src; break;
      default: ck_abort_msg("unexpected ALU op %#x", i->code);
      }
      r[i->dst_reg] = d; /* 32-bit ops zero-extend */
    } else if (cls == BPF_JMP) {
      switch (BPF_OP(i->code)) {
      case BPF_EXIT: return (int)r[0];
      case BPF_JA: pc += (size_t)i->off; break;
      case BPF_JEQ:
        if (r[i->dst_reg] == (uint64_t)(int64_t)i->imm)
          pc += (size_t)i->off;
        break;
      case BPF_JNE:
        if (r[i->dst_reg] != (uint64_t)(int64_t)i->imm)
          pc += (size_t)i->off;
        break;
      default: ck_abort_msg("unexpected jump op %#x", i->code);
      }
    } else {
      ck_abort_msg("unexpected instruction class %#x", cls);
    }
  }
  ck_abort_msg("program ran off its end");
  return -1;
}

/* Every request on a grid of devices agrees with the reference semantics. */
static void check_agrees(const struct sp_cg_dev_rule *rules, size_t n) {
  struct bpf_insn *prog;
  size_t len;
  ck_assert_int_eq(sp_cg_devices_prog(rules, n, &prog, &len), 0);
  static const int64_t majors[] = {1, 5, 10, 136, 254};
  static const int64_t minors[] = {0, 1, 2, 3, 5, 9, 11, 229};
  for (int t = 0; t < 2; t++) {
    char type = t ? 'b' : 'c';
    uint32_t tbits = t ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    for (size_t a = 0; a < 5; a++)
      for (size_t b = 0; b < 8; b++)
        for (unsigned acc = 1; acc <= 7; acc++) {
          bool want = sp_cg_device_allowed(rules, n, type, majors[a], minors[b], acc);
          int got = run_prog(prog, len, (acc << 16) | tbits, (uint32_t)majors[a],
                             (uint32_t)minors[b]);
          ck_assert_msg(got == (int)want, "%c %lld:%lld access %u: program %d, rules %d",
                        type, (long long)majors[a], (long long)minors[b], acc, got, want);
        }
  }
  free(prog);
}

START_TEST(test_default_rules) {
  struct sp_device_cgroup cfg[] = {{.allow = false, .type = 'a', .access = "rwm"}};
  struct sp_cg_dev_rule *r;
  size_t n;
  ck_assert_int_eq(sp_cg_device_rules(cfg, 1, &r, &n), 0);
  /* what the spec's default devices need */
  ck_assert(sp_cg_device_allowed(r, n, 'c', 1, 3, SP_CG_ACC_READ | SP_CG_ACC_WRITE));
  ck_assert(sp_cg_device_allowed(r, n, 'c', 1, 5, SP_CG_ACC_READ));
  ck_assert(sp_cg_device_allowed(r, n, 'c', 5, 2, SP_CG_ACC_ALL));
  ck_assert(sp_cg_device_allowed(r, n, 'c', 136, 7, SP_CG_ACC_READ | SP_CG_ACC_WRITE));
  /* mknod of anything, but not opening it */
  ck_assert(sp_cg_device_allowed(r, n, 'b', 8, 0, SP_CG_ACC_MKNOD));
  ck_assert(!sp_cg_device_allowed(r, n, 'b', 8, 0, SP_CG_ACC_READ));
  ck_assert(!sp_cg_device_allowed(r, n, 'c', 1, 11, SP_CG_ACC_WRITE));
  ck_assert(!sp_cg_device_allowed(r, n, 'c', 10, 229, SP_CG_ACC_READ | SP_CG_ACC_WRITE));
  check_agrees(r, n);
  free(r);
}
END_TEST

START_TEST(test_rule_order) {
  struct sp_device_cgroup cfg[] = {
      {.allow = true, .type = 'c', .has_major = true, .major = 10, .access = "rw"},
      {.allow = false, .type = 'c', .has_major = true, .major = 10, .has_minor = true,
       .minor = 229, .access = "w"},
      {.allow = true, .type = 'b', .has_major = true, .major = 254, .has_minor = true,
       .minor = 0, .access = "r"},
  };
  struct sp_cg_dev_rule *r;
  size_t n;
  ck_assert_int_eq(sp_cg_device_rules(cfg, 3, &r, &n), 0);
  ck_assert(sp_cg_device_allowed(r, n, 'c', 10, 200, SP_CG_ACC_READ | SP_CG_ACC_WRITE));
  /* the later deny of w wins for w only */
  ck_assert(sp_cg_device_allowed(r, n, 'c', 10, 229, SP_CG_ACC_READ));
  ck_assert(!sp_cg_device_allowed(r, n, 'c', 10, 229, SP_CG_ACC_WRITE));
  ck_assert(!sp_cg_device_allowed(r, n, 'c', 10, 229, SP_CG_ACC_READ | SP_CG_ACC_WRITE));
  ck_assert(sp_cg_device_allowed(r, n, 'b', 254, 0, SP_CG_ACC_READ));
  ck_assert(!sp_cg_device_allowed(r, n, 'b', 254, 0, SP_CG_ACC_WRITE));
  ck_assert(!sp_cg_device_allowed(r, n, 'b', 254, 1, SP_CG_ACC_READ));
  check_agrees(r, n);
  free(r);

  /* an allow-all rule makes everything allowed; a later deny cuts it back */
  struct sp_device_cgroup all[] = {
      {.allow = true, .type = 'a', .access = "rwm"},
      {.allow = false, .type = 'c', .has_major = true, .major = 1, .has_minor = true,
       .minor = 11, .access = "rw"},
  };
  ck_assert_int_eq(sp_cg_device_rules(all, 2, &r, &n), 0);
  ck_assert(sp_cg_device_allowed(r, n, 'b', 8, 0, SP_CG_ACC_ALL));
  ck_assert(!sp_cg_device_allowed(r, n, 'c', 1, 11, SP_CG_ACC_READ));
  check_agrees(r, n);
  free(r);
}
END_TEST

START_TEST(test_random_rules) {
  srand(4242);
  for (int round = 0; round < 200; round++) {
    struct sp_device_cgroup cfg[12];
    char acc[12][4];
    size_t nc = (size_t)(rand() % 12);
    for (size_t i = 0; i < nc; i++) {
      static const char types[] = "acb";
      static const int64_t majors[] = {1, 5, 10, 136};
      static const int64_t minors[] = {0, 3, 11, 229};
      memset(&cfg[i], 0, sizeof cfg[i]);
      cfg[i].allow = rand() % 2;
      cfg[i].type = types[rand() % 3];
      cfg[i].has_major = rand() % 3 != 0;
      cfg[i].major = majors[rand() % 4];
      cfg[i].has_minor = rand() % 3 != 0;
      cfg[i].minor = minors[rand() % 4];
      size_t k = 0;
      if (rand() % 2) acc[i][k++] = 'r';
      if (rand() % 2) acc[i][k++] = 'w';
      if (rand() % 2) acc[i][k++] = 'm';
      acc[i][k] = '\0';
      cfg[i].access = k ? acc[i] : NULL;
    }
    struct sp_cg_dev_rule *r;
    size_t n;
    ck_assert_int_eq(sp_cg_device_rules(cfg, nc, &r, &n), 0);
    check_agrees(r, n);
    free(r);
  }
}
END_TEST

/* The kernel's verifier accepts the programs (where this process may load
 * BPF: root with CAP_BPF or CAP_SYS_ADMIN). */
START_TEST(test_verifier) {
  struct sp_device_cgroup cfg[] = {
      {.allow = false, .type = 'a', .access = "rwm"},
      {.allow = true, .type = 'c', .has_major = true, .major = 1, .has_minor = true,
       .minor = 11, .access = "w"},
      {.allow = true, .type = 'a', .access = "m"},
  };
  for (size_t nc = 0; nc <= 3; nc++) {
    struct sp_cg_dev_rule *r;
    size_t n;
    struct bpf_insn *prog;
    size_t len;
    char log[8192];
    ck_assert_int_eq(sp_cg_device_rules(cfg, nc, &r, &n), 0);
    ck_assert_int_eq(sp_cg_devices_prog(r, n, &prog, &len), 0);
    int fd = sp_cg_devices_load(prog, len, log, sizeof log);
    if (fd < 0 && (errno == EPERM || errno == ENOSYS)) {
      free(prog);
      free(r);
      return; /* not allowed to load BPF here */
    }
    ck_assert_msg(fd >= 0, "verifier refused %zu rules: %s: %s", nc, strerror(errno), log);
    close(fd);
    free(prog);
    free(r);
  }
  /* an allow-all list: no deny path at all (no unreachable code either) */
  struct sp_device_cgroup all[] = {{.allow = true, .type = 'a', .access = "rwm"}};
  struct sp_cg_dev_rule *r;
  size_t n;
  struct bpf_insn *prog;
  size_t len;
  char log[8192];
  ck_assert_int_eq(sp_cg_device_rules(all, 1, &r, &n), 0);
  ck_assert_int_eq(sp_cg_devices_prog(r, n, &prog, &len), 0);
  int fd = sp_cg_devices_load(prog, len, log, sizeof log);
  ck_assert_msg(fd >= 0, "verifier refused allow-all: %s", log);
  close(fd);
  free(prog);
  free(r);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("cgroup_convert");
  TCase *tc = tcase_create("convert");
  tcase_add_test(tc, test_shares_to_weight);
  tcase_add_test(tc, test_blkio_weight);
  tcase_add_test(tc, test_swap);
  tcase_add_test(tc, test_limit_str);
  tcase_add_test(tc, test_io_max_lines);
  tcase_add_test(tc, test_cpu_max);
  tcase_add_test(tc, test_device_rule_str);
  tcase_add_test(tc, test_parse_bytes);
  tcase_add_test(tc, test_file_controller);
  tcase_add_test(tc, test_check_refusals);
  suite_add_tcase(s, tc);
  tc = tcase_create("devices");
  tcase_add_test(tc, test_default_rules);
  tcase_add_test(tc, test_rule_order);
  tcase_add_test(tc, test_random_rules);
  tcase_add_test(tc, test_verifier);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}
