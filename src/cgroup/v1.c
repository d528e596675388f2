/* The cgroup v1 driver (v1 and hybrid hosts): linux.resources written to the
 * container's directory in each controller's own hierarchy: memory,
 * cpu/cpuacct, cpuset, pids, blkio, hugetlb, net_cls, net_prio, rdma and
 * devices.  A group whose controller no v1 hierarchy has is left to the
 * caller (cgroup2 on a hybrid host, an error on a v1 one). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_internal.h"
#include "sprout/util.h"

const char *sp_cg_v1_dir(const struct sp_cgroup *cg, const char *controller) {
  for (size_t i = 0; i < cg->dirs_len; i++)
    if (cg->controllers && sp_cg_list_has(cg->controllers[i], controller))
      return cg->dirs[i];
  return NULL;
}

struct v1 {
  const char *dir;
  const struct sp_cg_apply *a;
  struct sp_error *err;
  char field[512];
};

static const char *F(struct v1 *v, const char *name) {
  if (snprintf(v->field, sizeof v->field, "%s.%s", v->a->prefix, name) >=
      (int)sizeof v->field)
    v->field[sizeof v->field - 1] = '\0';
  return v->field;
}

static int put(struct v1 *v, const char *file, const char *value, const char *field) {
  return sp_cg_write(v->dir, file, value, field, v->err);
}

static int put_i64(struct v1 *v, const char *file, int64_t x, const char *field) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, x);
  return put(v, file, buf, field);
}

static int put_u64(struct v1 *v, const char *file, uint64_t x, const char *field) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRIu64, x);
  return put(v, file, buf, field);
}

/* A file that may be mounted without the controller's prefix (noprefix). */
static const char *file_of(struct v1 *v, const char *name) {
  if (sp_cg_has_file(v->dir, name))
    return name;
  const char *dot = strchr(name, '.');
  return dot && sp_cg_has_file(v->dir, dot + 1) ? dot + 1 : name;
}

/* ---- memory ---------------------------------------------------------------------- */

static int memory(struct v1 *v, const struct sp_memory *m) {
  int64_t limit = m->has_limit ? m->limit : 0;
  /* memory unlimited and swap not given: both unlimited, as on v2 */
  int64_t swap = m->has_swap ? m->swap : limit == -1 ? -1 : 0;
  if (v->a->update && m->check_before_update && limit > 0) {
    uint64_t cur;
    if (sp_cg_read_u64(v->dir, "memory.usage_in_bytes", &cur) == 0 &&
        cur > (uint64_t)limit)
      return sp_error_set(v->err, 0,
                          "%s: %" PRId64 " is below the current usage %" PRIu64
                          " (checkBeforeUpdate)",
                          F(v, "memory.limit"), limit, cur);
  }
  bool memsw = sp_cg_has_file(v->dir, "memory.memsw.limit_in_bytes");
  if (swap != 0 && swap != -1 && !memsw)
    return sp_error_set(v->err, 0,
                        "%s: swap accounting is not enabled (no "
                        "memory.memsw.limit_in_bytes in %s)",
                        F(v, "memory.swap"), v->dir);
  if (swap > 0 && limit == 0) {
    /* update of the swap alone: it must still cover the limit in force */
    uint64_t cur;
    if (sp_cg_read_u64(v->dir, "memory.limit_in_bytes", &cur) == 0 &&
        (uint64_t)swap < cur)
      return sp_error_set(v->err, 0,
                          "%s: memory+swap %" PRId64 " is lower than the memory "
                          "limit in force %" PRIu64,
                          F(v, "memory.swap"), swap, cur);
  }
  /* memsw >= limit at every step: raise memsw first when it grows */
  bool swap_first = false;
  if (swap != 0 && memsw) {
    uint64_t cur;
    swap_first = swap == -1 ||
                 (sp_cg_read_u64(v->dir, "memory.memsw.limit_in_bytes", &cur) == 0 &&
                  cur != UINT64_MAX && (uint64_t)swap > cur);
  }
  if (swap_first && put_i64(v, "memory.memsw.limit_in_bytes", swap, F(v, "memory.swap")) < 0)
    return -1;
  if (limit != 0 && put_i64(v, "memory.limit_in_bytes", limit, F(v, "memory.limit")) < 0) {
    uint64_t sw;
    if (v->err->code == EBUSY)
      return sp_error_set(v->err, EBUSY,
                          "%s: %" PRId64 " is below what the container uses "
                          "and cannot be reclaimed",
                          F(v, "memory.limit"), limit);
    if (v->err->code == EINVAL && memsw && limit > 0 &&
        sp_cg_read_u64(v->dir, "memory.memsw.limit_in_bytes", &sw) == 0 &&
        sw < (uint64_t)limit)
      return sp_error_set(v->err, EINVAL,
                          "%s: %" PRId64 " is above the memory+swap limit in "
                          "force (%" PRIu64 "): raise memory.swap as well",
                          F(v, "memory.limit"), limit, sw);
    return -1;
  }
  if (!swap_first && swap != 0 && memsw &&
      put_i64(v, "memory.memsw.limit_in_bytes", swap, F(v, "memory.swap")) < 0)
    return -1;
  if (m->has_reservation && m->reservation != 0 &&
      put_i64(v, "memory.soft_limit_in_bytes", m->reservation, F(v, "memory.reservation")) < 0)
    return -1;
  if (m->has_kernel && m->kernel != 0)
    sp_log(SP_LOG_WARN, "%s is deprecated and ignored", F(v, "memory.kernel"));
  if (m->has_kernel_tcp && m->kernel_tcp != 0) {
    if (!sp_cg_has_file(v->dir, "memory.kmem.tcp.limit_in_bytes"))
      return sp_error_set(v->err, 0, "%s: not supported by this kernel (no "
                          "memory.kmem.tcp.limit_in_bytes)", F(v, "memory.kernelTCP"));
    if (put_i64(v, "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp, F(v, "memory.kernelTCP")) < 0)
      return -1;
  }
  if (m->has_swappiness &&
      put_u64(v, "memory.swappiness", m->swappiness, F(v, "memory.swappiness")) < 0)
    return -1;
  if (m->has_disable_oom_killer && (m->disable_oom_killer || v->a->update) &&
      put(v, "memory.oom_control", m->disable_oom_killer ? "1" : "0",
          F(v, "memory.disableOOMKiller")) < 0)
    return -1;
  if (m->has_use_hierarchy) {
    uint64_t cur;
    /* always 1 on current kernels, where writing 0 fails */
    if (!(sp_cg_read_u64(v->dir, "memory.use_hierarchy", &cur) == 0 &&
          cur == (uint64_t)m->use_hierarchy) &&
        put(v, "memory.use_hierarchy", m->use_hierarchy ? "1" : "0",
            F(v, "memory.useHierarchy")) < 0)
      return -1;
  }
  return 0;
}

/* ---- cpu, cpuset -------------------------------------------------------------------------- */

static int cpu(struct v1 *v, const struct sp_cpu *c) {
  if (c->has_shares && c->shares != 0 &&
      put_u64(v, "cpu.shares", c->shares, F(v, "cpu.shares")) < 0)
    return -1;
  if (c->has_period && c->period != 0 &&
      put_u64(v, "cpu.cfs_period_us", c->period, F(v, "cpu.period")) < 0)
    return -1;
  if (c->has_quota && c->quota != 0 &&
      put_i64(v, "cpu.cfs_quota_us", c->quota < 0 ? -1 : c->quota, F(v, "cpu.quota")) < 0)
    return -1;
  if (c->has_burst && put_u64(v, "cpu.cfs_burst_us", c->burst, F(v, "cpu.burst")) < 0)
    return -1;
  if (c->has_realtime_period && c->realtime_period != 0 &&
      put_u64(v, "cpu.rt_period_us", c->realtime_period, F(v, "cpu.realtimePeriod")) < 0)
    return -1;
  if (c->has_realtime_runtime && c->realtime_runtime != 0 &&
      put_i64(v, "cpu.rt_runtime_us", c->realtime_runtime, F(v, "cpu.realtimeRuntime")) < 0)
    return -1;
  if (c->has_idle && put_i64(v, "cpu.idle", c->idle, F(v, "cpu.idle")) < 0)
    return -1;
  return 0;
}

static int cpuset(struct v1 *v, const struct sp_cpu *c) {
  if (c->cpus && *c->cpus && put(v, file_of(v, "cpuset.cpus"), c->cpus, F(v, "cpu.cpus")) < 0)
    return -1;
  if (c->mems && *c->mems && put(v, file_of(v, "cpuset.mems"), c->mems, F(v, "cpu.mems")) < 0)
    return -1;
  return 0;
}

/* ---- blkio ---------------------------------------------------------------------------------- */

/* blkio.weight (CFQ, gone since 5.0) or blkio.bfq.weight (BFQ). */
static const char *weight_file(struct v1 *v, const char *suffix) {
  static char name[64];
  snprintf(name, sizeof name, "blkio.weight%s", suffix);
  if (sp_cg_has_file(v->dir, name))
    return name;
  snprintf(name, sizeof name, "blkio.bfq.weight%s", suffix);
  return sp_cg_has_file(v->dir, name) ? name : NULL;
}

static int blkio(struct v1 *v, const struct sp_block_io *b) {
  char line[128], f[96];
  if (b->has_weight && b->weight) {
    const char *file = weight_file(v, "");
    if (!file)
      return sp_error_set(v->err, 0, "%s: no blkio.weight or blkio.bfq.weight "
                          "in %s (no I/O scheduler with weights)",
                          F(v, "blockIO.weight"), v->dir);
    if (put_u64(v, file, b->weight, F(v, "blockIO.weight")) < 0)
      return -1;
  }
  if (b->has_leaf_weight && b->leaf_weight) {
    if (!sp_cg_has_file(v->dir, "blkio.leaf_weight"))
      return sp_error_set(v->err, 0, "%s: not supported by this kernel (no "
                          "blkio.leaf_weight)", F(v, "blockIO.leafWeight"));
    if (put_u64(v, "blkio.leaf_weight", b->leaf_weight, F(v, "blockIO.leafWeight")) < 0)
      return -1;
  }
  for (size_t i = 0; i < b->weight_device_len; i++) {
    const struct sp_weight_device *d = &b->weight_device[i];
    if (d->has_weight) {
      snprintf(f, sizeof f, "blockIO.weightDevice[%zu].weight", i);
      const char *file = weight_file(v, "_device");
      if (!file)
        return sp_error_set(v->err, 0, "%s: no blkio.weight_device or "
                            "blkio.bfq.weight_device in %s", F(v, f), v->dir);
      snprintf(line, sizeof line, "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
               (unsigned)d->weight);
      if (put(v, file, line, F(v, f)) < 0)
        return -1;
    }
    if (d->has_leaf_weight) {
      snprintf(f, sizeof f, "blockIO.weightDevice[%zu].leafWeight", i);
      if (!sp_cg_has_file(v->dir, "blkio.leaf_weight_device"))
        return sp_error_set(v->err, 0, "%s: not supported by this kernel (no "
                            "blkio.leaf_weight_device)", F(v, f));
      snprintf(line, sizeof line, "%" PRId64 ":%" PRId64 " %u", d->major, d->minor,
               (unsigned)d->leaf_weight);
      if (put(v, "blkio.leaf_weight_device", line, F(v, f)) < 0)
        return -1;
    }
  }
  static const struct {
    const char *file, *name;
    size_t off, lenoff;
  } th[] = {
      {"blkio.throttle.read_bps_device", "throttleReadBpsDevice",
       offsetof(struct sp_block_io, throttle_read_bps),
       offsetof(struct sp_block_io, throttle_read_bps_len)},
      {"blkio.throttle.write_bps_device", "throttleWriteBpsDevice",
       offsetof(struct sp_block_io, throttle_write_bps),
       offsetof(struct sp_block_io, throttle_write_bps_len)},
      {"blkio.throttle.read_iops_device", "throttleReadIOPSDevice",
       offsetof(struct sp_block_io, throttle_read_iops),
       offsetof(struct sp_block_io, throttle_read_iops_len)},
      {"blkio.throttle.write_iops_device", "throttleWriteIOPSDevice",
       offsetof(struct sp_block_io, throttle_write_iops),
       offsetof(struct sp_block_io, throttle_write_iops_len)},
  };
  for (size_t k = 0; k < sizeof th / sizeof th[0]; k++) {
    const struct sp_throttle_device *t =
        *(struct sp_throttle_device *const *)((const char *)b + th[k].off);
    size_t n = *(const size_t *)((const char *)b + th[k].lenoff);
    for (size_t i = 0; i < n; i++) {
      snprintf(f, sizeof f, "blockIO.%s[%zu]", th[k].name, i);
      snprintf(line, sizeof line, "%" PRId64 ":%" PRId64 " %" PRIu64, t[i].major,
               t[i].minor, t[i].rate);
      if (put(v, th[k].file, line, F(v, f)) < 0)
        return -1;
    }
  }
  return 0;
}

/* ---- hugetlb, net_cls, net_prio, rdma, pids ------------------------------------------------- */

static int hugetlb(struct v1 *v, const struct sp_hugepage_limit *h, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char file[96], f[64];
    snprintf(f, sizeof f, "hugepageLimits[%zu].limit", i);
    snprintf(file, sizeof file, "hugetlb.%s.limit_in_bytes", h[i].page_size);
    if (!sp_cg_has_file(v->dir, file))
      return sp_error_set(v->err, 0, "%s: no %s in %s (page size %s not "
                          "supported here)", F(v, f), file, v->dir, h[i].page_size);
    if (put_u64(v, file, h[i].limit, F(v, f)) < 0)
      return -1;
    snprintf(file, sizeof file, "hugetlb.%s.rsvd.limit_in_bytes", h[i].page_size);
    if (sp_cg_has_file(v->dir, file) && put_u64(v, file, h[i].limit, F(v, f)) < 0)
      return -1;
  }
  return 0;
}

static int net_prio(struct v1 *v, const struct sp_net_priority *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char line[300], f[64];
    snprintf(f, sizeof f, "network.priorities[%zu]", i);
    snprintf(line, sizeof line, "%s %u", p[i].name, p[i].priority);
    if (put(v, "net_prio.ifpriomap", line, F(v, f)) < 0)
      return -1;
  }
  return 0;
}

static int rdma(struct v1 *v, const struct sp_rdma *d, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char line[512], f[300];
    sp_cg_rdma_line(&d[i], line, sizeof line);
    snprintf(f, sizeof f, "rdma.%s", d[i].device);
    if (put(v, "rdma.max", line, F(v, f)) < 0)
      return -1;
  }
  return 0;
}

static int devices(struct v1 *v, const struct sp_resources *res) {
  struct sp_cg_dev_rule *rules;
  size_t n;
  if (sp_cg_device_rules(res->devices, res->devices_len, &rules, &n) < 0)
    return sp_error_sys(v->err, "%s", F(v, "devices"));
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    char access[4] = "", line[96];
    size_t k = 0;
    if (rules[i].access & SP_CG_ACC_READ)
      access[k++] = 'r';
    if (rules[i].access & SP_CG_ACC_WRITE)
      access[k++] = 'w';
    if (rules[i].access & SP_CG_ACC_MKNOD)
      access[k++] = 'm';
    access[k] = '\0';
    sp_cg_device_rule_str(rules[i].type, rules[i].major, rules[i].minor, access,
                          line, sizeof line);
    r = put(v, rules[i].allow ? "devices.allow" : "devices.deny", line, F(v, "devices"));
  }
  free(rules);
  return r;
}

/* ---- the driver --------------------------------------------------------------------------------- */

/* Is anything of GROUP set in RES? */
static bool wants(const struct sp_resources *res, unsigned group, bool update) {
  switch (group) {
  case SP_CG_G_MEMORY: return res->has_memory;
  case SP_CG_G_CPU: return res->has_cpu;
  case SP_CG_G_PIDS: return res->has_pids_limit && res->pids_limit != 0;
  case SP_CG_G_IO: return res->has_block_io;
  case SP_CG_G_HUGETLB: return res->hugepage_limits_len > 0;
  case SP_CG_G_RDMA: return res->rdma_len > 0;
  case SP_CG_G_NETWORK:
    return res->has_network && (res->has_class_id || res->net_priorities_len);
  case SP_CG_G_DEVICES: return !update;
  default: return false;
  }
}

int sp_cg_v1_apply(const struct sp_cgroup *cg, const struct sp_cg_apply *a,
                   unsigned *left, struct sp_error *err) {
  const struct sp_resources *res = a->res;
  struct v1 v = {.a = a, .err = err};
  *left = 0;
  for (unsigned g = 1; g < SP_CG_G_UNIFIED; g <<= 1) {
    if (!(a->groups & g) || !wants(res, g, a->update))
      continue;
    const struct sp_cpu *c = &res->cpu;
    int r = 0;
    bool missing = false;
#define IN(ctl) ((v.dir = sp_cg_v1_dir(cg, ctl)) != NULL || !(missing = true))
    switch (g) {
    case SP_CG_G_MEMORY:
      if (IN("memory"))
        r = memory(&v, &res->memory);
      break;
    case SP_CG_G_CPU:
      if ((c->has_shares || c->has_quota || c->has_period || c->has_burst ||
           c->has_idle || c->has_realtime_period || c->has_realtime_runtime) &&
          IN("cpu"))
        r = cpu(&v, c);
      if (r == 0 && ((c->cpus && *c->cpus) || (c->mems && *c->mems)) && IN("cpuset"))
        r = cpuset(&v, c);
      break;
    case SP_CG_G_PIDS:
      if (IN("pids")) {
        char buf[32];
        sp_cg_limit_str(res->pids_limit, buf, sizeof buf);
        r = put(&v, "pids.max", buf, F(&v, "pids.limit"));
      }
      break;
    case SP_CG_G_IO:
      if (IN("blkio"))
        r = blkio(&v, &res->block_io);
      break;
    case SP_CG_G_HUGETLB:
      if (IN("hugetlb"))
        r = hugetlb(&v, res->hugepage_limits, res->hugepage_limits_len);
      break;
    case SP_CG_G_RDMA:
      if (IN("rdma"))
        r = rdma(&v, res->rdma, res->rdma_len);
      break;
    case SP_CG_G_NETWORK:
      if (res->has_class_id && IN("net_cls"))
        r = put_u64(&v, "net_cls.classid", res->class_id, F(&v, "network.classID"));
      if (r == 0 && res->net_priorities_len && IN("net_prio"))
        r = net_prio(&v, res->net_priorities, res->net_priorities_len);
      break;
    case SP_CG_G_DEVICES:
      if (IN("devices"))
        r = devices(&v, res);
      break;
    }
#undef IN
    if (r < 0)
      return -1;
    if (missing)
      *left |= g;
  }
  if ((a->groups & SP_CG_G_UNIFIED) && res->unified_len)
    *left |= SP_CG_G_UNIFIED;
  return 0;
}
