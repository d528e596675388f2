/* The cgroup v2 driver: linux.resources written to the container's cgroup2
 * directory (the whole of it on a unified host; on a hybrid host only what
 * no v1 hierarchy has a controller for, and `unified`).  The controllers a
 * limit needs are enabled in cgroup.subtree_control of the directories on
 * the container's own path, from the hierarchy's root down to its parent,
 * and nowhere else. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup_internal.h"
#include "sprout/util.h"

/* Enabled for every container on a unified host when the parents allow it,
 * so that `events --stats` and a later `update` find their files. */
#define V2_STATS_CONTROLLERS "cpu,io,memory,pids,hugetlb"

/* ---- enabling controllers -------------------------------------------------- */

/* Enable each controller of CTLS (comma list) in DIR's subtree_control. */
static int enable_in(const char *dir, const char *ctls, bool required,
                     struct sp_error *err) {
  char *avail = NULL, *on = NULL, *copy = NULL, *save = NULL;
  int r = 0;
  if (sp_cg_read(dir, "cgroup.controllers", &avail) < 0) {
    if (required)
      r = sp_error_sys(err, "cgroup: read %s/cgroup.controllers", dir);
    goto out;
  }
  if (sp_cg_read(dir, "cgroup.subtree_control", &on) < 0) {
    if (required)
      r = sp_error_sys(err, "cgroup: read %s/cgroup.subtree_control", dir);
    goto out;
  }
  for (char *p = on; *p; p++)
    if (*p == ' ' || *p == '\n')
      *p = ',';
  for (char *p = avail; *p; p++)
    if (*p == ' ' || *p == '\n')
      *p = ',';
  if (!(copy = strdup(ctls))) {
    r = sp_error_errno(err, ENOMEM, "cgroup: enable controllers");
    goto out;
  }
  for (char *ctl = strtok_r(copy, ",", &save); ctl && r == 0;
       ctl = strtok_r(NULL, ",", &save)) {
    if (sp_cg_list_has(on, ctl))
      continue;
    if (!sp_cg_list_has(avail, ctl)) {
      if (required) {
        size_t l = strlen(avail);
        while (l && avail[l - 1] == ',')
          avail[--l] = '\0';
        r = sp_error_set(err, ENOENT,
                         "cgroup: the %s controller is not available in %s "
                         "(cgroup.controllers: %s)",
                         ctl, dir, *avail ? avail : "none");
      }
      continue;
    }
    char word[64], path[4096];
    snprintf(word, sizeof word, "+%s", ctl);
    snprintf(path, sizeof path, "%s/cgroup.subtree_control", dir);
    struct sp_error e;
    if (sp_write_file(path, word, &e) < 0 && required) {
      if (e.code == EBUSY)
        r = sp_error_set(err, EBUSY,
                         "cgroup: cannot enable the %s controller in %s: the "
                         "cgroup has processes of its own (cgroup v2 allows "
                         "controllers only for cgroups without them)",
                         ctl, dir);
      else
        r = sp_error_errno(err, e.code, "cgroup: enable the %s controller in %s",
                           ctl, dir);
    }
  }
out:
  free(avail);
  free(on);
  free(copy);
  return r;
}

int sp_cg_v2_enable(const char *mount, const char *dir, const char *controllers,
                    bool required, struct sp_error *err) {
  size_t ml = strlen(mount);
  if (strncmp(dir, mount, ml) != 0 || dir[ml] != '/')
    return sp_error_set(err, EINVAL, "cgroup: %s is not below %s", dir, mount);
  char *path = strdup(dir);
  int r = 0;
  if (!path)
    return sp_error_errno(err, ENOMEM, "cgroup: enable controllers");
  char *leaf = strrchr(path, '/');
  /* the root, then every parent down to the leaf's, never the leaf */
  for (char *s = path + ml; s && s <= leaf && r == 0; s = strchr(s + 1, '/')) {
    char keep = *s;
    *s = '\0';
    r = enable_in(path, controllers, required, err);
    *s = keep;
  }
  free(path);
  return r;
}

/* ---- one field at a time ------------------------------------------------------ */

struct v2 {
  const char *dir;
  const struct sp_cg_apply *a;
  struct sp_error *err;
  char field[512];
};

static const char *F(struct v2 *v, const char *name) {
  if (snprintf(v->field, sizeof v->field, "%s.%s", v->a->prefix, name) >=
      (int)sizeof v->field)
    v->field[sizeof v->field - 1] = '\0';
  return v->field;
}

static int put(struct v2 *v, const char *file, const char *value,
               const char *field) {
  return sp_cg_write(v->dir, file, value, field, v->err);
}

static int put_i64(struct v2 *v, const char *file, int64_t x, const char *field) {
  char buf[32];
  sp_cg_limit_str(x, buf, sizeof buf);
  return put(v, file, buf, field);
}

static int put_u64(struct v2 *v, const char *file, uint64_t x, const char *field) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRIu64, x);
  return put(v, file, buf, field);
}

/* ---- memory ------------------------------------------------------------------- */

static int memory(struct v2 *v, const struct sp_memory *m) {
  int64_t limit = m->has_limit ? m->limit : 0;
  if (v->a->update && m->check_before_update && limit > 0) {
    uint64_t cur;
    if (sp_cg_read_u64(v->dir, "memory.current", &cur) == 0 && cur > (uint64_t)limit)
      return sp_error_set(v->err, 0,
                          "%s: %" PRId64 " is below the current usage %" PRIu64
                          " (checkBeforeUpdate)",
                          F(v, "memory.limit"), limit, cur);
  }
  if (m->has_swap || limit == -1) {
    int64_t lim = limit, out;
    const char *why;
    if (!m->has_limit) { /* update of the swap alone: the limit in force */
      uint64_t cur;
      lim = sp_cg_read_u64(v->dir, "memory.max", &cur) < 0 ? 0
            : cur == UINT64_MAX                           ? -1
                                                          : (int64_t)cur;
    }
    int r = sp_cg_swap_v2(m->has_swap ? m->swap : 0, lim, &out, &why);
    if (r < 0)
      return sp_error_set(v->err, 0, "%s: %s", F(v, "memory.swap"), why);
    if (r == 0) {
      if (!sp_cg_has_file(v->dir, "memory.swap.max")) {
        if (out != -1)
          return sp_error_set(v->err, 0,
                              "%s: swap accounting is not available (no "
                              "memory.swap.max in %s)",
                              F(v, "memory.swap"), v->dir);
      } else if (put_i64(v, "memory.swap.max", out, F(v, "memory.swap")) < 0) {
        return -1;
      }
    }
  }
  if (limit != 0 && put_i64(v, "memory.max", limit, F(v, "memory.limit")) < 0)
    return -1;
  if (m->has_reservation && m->reservation != 0 &&
      put_i64(v, "memory.low", m->reservation, F(v, "memory.reservation")) < 0)
    return -1;
  if (m->has_kernel && m->kernel != 0)
    sp_log(SP_LOG_WARN, "%s is deprecated and ignored", F(v, "memory.kernel"));
  return 0;
}

/* ---- cpu ------------------------------------------------------------------------ */

static int cpu(struct v2 *v, const struct sp_cpu *c) {
  if (c->has_shares && c->shares != 0 &&
      put_u64(v, "cpu.weight", sp_cg_shares_to_weight(c->shares), F(v, "cpu.shares")) < 0)
    return -1;
  char *cur = NULL, buf[64];
  if (c->has_period && !(c->has_quota && c->quota != 0))
    sp_cg_read(v->dir, "cpu.max", &cur);
  int r = sp_cg_cpu_max(buf, sizeof buf, c->has_quota, c->quota, c->has_period,
                        c->period, cur);
  free(cur);
  if (r == 0 && put(v, "cpu.max", buf, F(v, c->has_quota ? "cpu.quota" : "cpu.period")) < 0)
    return -1;
  if (c->has_burst && put_u64(v, "cpu.max.burst", c->burst, F(v, "cpu.burst")) < 0)
    return -1;
  if (c->has_idle && put_i64(v, "cpu.idle", c->idle, F(v, "cpu.idle")) < 0)
    return -1;
  if (c->cpus && *c->cpus && put(v, "cpuset.cpus", c->cpus, F(v, "cpu.cpus")) < 0)
    return -1;
  if (c->mems && *c->mems && put(v, "cpuset.mems", c->mems, F(v, "cpu.mems")) < 0)
    return -1;
  return 0;
}

/* ---- io --------------------------------------------------------------------------- */

static int io_weight(struct v2 *v, const char *devno, uint16_t w, const char *field) {
  char buf[64];
  if (sp_cg_has_file(v->dir, "io.bfq.weight")) {
    snprintf(buf, sizeof buf, "%s%s%u", devno, *devno ? " " : "", (unsigned)w);
    return put(v, "io.bfq.weight", buf, field);
  }
  if (!sp_cg_has_file(v->dir, "io.weight"))
    return sp_error_set(v->err, 0,
                        "%s: no io.weight or io.bfq.weight in %s (no I/O "
                        "scheduler with weights)",
                        field, v->dir);
  snprintf(buf, sizeof buf, "%s %" PRIu64, *devno ? devno : "default",
           sp_cg_blkio_to_io_weight(w));
  return put(v, "io.weight", buf, field);
}

static int throttle(struct v2 *v, const struct sp_throttle_device *t, size_t n,
                    const char *key, const char *name) {
  for (size_t i = 0; i < n; i++) {
    char line[128], f[64];
    sp_cg_io_max_line(line, sizeof line, t[i].major, t[i].minor, key, t[i].rate);
    snprintf(f, sizeof f, "blockIO.%s[%zu]", name, i);
    if (put(v, "io.max", line, F(v, f)) < 0)
      return -1;
  }
  return 0;
}

static int io(struct v2 *v, const struct sp_block_io *b) {
  if (b->has_weight && b->weight && io_weight(v, "", b->weight, F(v, "blockIO.weight")) < 0)
    return -1;
  for (size_t i = 0; i < b->weight_device_len; i++) {
    const struct sp_weight_device *d = &b->weight_device[i];
    char devno[48], f[64];
    if (!d->has_weight)
      continue;
    snprintf(devno, sizeof devno, "%" PRId64 ":%" PRId64, d->major, d->minor);
    snprintf(f, sizeof f, "blockIO.weightDevice[%zu].weight", i);
    char field[512];
    snprintf(field, sizeof field, "%s", F(v, f));
    if (io_weight(v, devno, d->weight, field) < 0)
      return -1;
  }
  return throttle(v, b->throttle_read_bps, b->throttle_read_bps_len, "rbps",
                  "throttleReadBpsDevice") ||
                 throttle(v, b->throttle_write_bps, b->throttle_write_bps_len,
                          "wbps", "throttleWriteBpsDevice") ||
                 throttle(v, b->throttle_read_iops, b->throttle_read_iops_len,
                          "riops", "throttleReadIOPSDevice") ||
                 throttle(v, b->throttle_write_iops, b->throttle_write_iops_len,
                          "wiops", "throttleWriteIOPSDevice")
             ? -1
             : 0;
}

/* ---- hugetlb, rdma, pids, unified ------------------------------------------------------ */

static int hugetlb(struct v2 *v, const struct sp_hugepage_limit *h, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char file[96], f[64];
    snprintf(f, sizeof f, "hugepageLimits[%zu].limit", i);
    snprintf(file, sizeof file, "hugetlb.%s.max", h[i].page_size);
    if (!sp_cg_has_file(v->dir, file))
      return sp_error_set(v->err, 0,
                          "%s: no %s in %s (page size %s not supported here)",
                          F(v, f), file, v->dir, h[i].page_size);
    if (put_u64(v, file, h[i].limit, F(v, f)) < 0)
      return -1;
    /* reservations too, so a mapping cannot reserve past the limit */
    snprintf(file, sizeof file, "hugetlb.%s.rsvd.max", h[i].page_size);
    if (sp_cg_has_file(v->dir, file) && put_u64(v, file, h[i].limit, F(v, f)) < 0)
      return -1;
  }
  return 0;
}

int sp_cg_rdma_line(const struct sp_rdma *d, char *buf, size_t n) {
  int l = snprintf(buf, n, "%s", d->device);
  if (d->has_hca_handles)
    l += snprintf(buf + l, n - (size_t)l, " hca_handle=%u", d->hca_handles);
  if (d->has_hca_objects)
    l += snprintf(buf + l, n - (size_t)l, " hca_object=%u", d->hca_objects);
  return l;
}

static int rdma(struct v2 *v, const struct sp_rdma *d, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char line[512], f[300];
    sp_cg_rdma_line(&d[i], line, sizeof line);
    snprintf(f, sizeof f, "rdma.%s", d[i].device);
    if (put(v, "rdma.max", line, F(v, f)) < 0)
      return -1;
  }
  return 0;
}

static int unified(struct v2 *v, const struct sp_kv *kv, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char f[512];
    snprintf(f, sizeof f, "unified.%s", kv[i].key);
    if (!sp_cg_has_file(v->dir, kv[i].key))
      return sp_error_set(v->err, 0, "%s: no such interface file in %s",
                          F(v, f), v->dir);
    if (put(v, kv[i].key, kv[i].value, F(v, f)) < 0)
      return -1;
  }
  return 0;
}

/* ---- the driver --------------------------------------------------------------------- */

/* Enable controller CTL for the field NAME (in messages). */
static int need(struct v2 *v, const char *mount, const char *ctl, const char *name) {
  if (sp_cg_v2_enable(mount, v->dir, ctl, true, v->err) < 0)
    return sp_error_prefix(v->err, "%s", F(v, name));
  return 0;
}

/* Enable, on the container's path, the controllers the groups in MASK of
 * RES need. */
static int enable_needed(struct v2 *v, const char *mount, const struct sp_resources *res,
                         unsigned mask) {
  const struct sp_cpu *c = &res->cpu;
  const struct sp_memory *m = &res->memory;
  if ((mask & SP_CG_G_MEMORY) && res->has_memory &&
      ((m->has_limit && m->limit) || (m->has_swap && m->swap) ||
       (m->has_reservation && m->reservation)) &&
      need(v, mount, "memory", "memory") < 0)
    return -1;
  if ((mask & SP_CG_G_CPU) && res->has_cpu &&
      ((c->has_shares && c->shares) || (c->has_quota && c->quota) ||
       (c->has_period && c->period) || c->has_burst || c->has_idle) &&
      need(v, mount, "cpu", "cpu") < 0)
    return -1;
  if ((mask & SP_CG_G_CPU) && res->has_cpu &&
      ((c->cpus && *c->cpus) || (c->mems && *c->mems)) &&
      need(v, mount, "cpuset", c->cpus && *c->cpus ? "cpu.cpus" : "cpu.mems") < 0)
    return -1;
  if ((mask & SP_CG_G_PIDS) && res->has_pids_limit && res->pids_limit &&
      need(v, mount, "pids", "pids") < 0)
    return -1;
  if ((mask & SP_CG_G_IO) && res->has_block_io && need(v, mount, "io", "blockIO") < 0)
    return -1;
  if ((mask & SP_CG_G_HUGETLB) && res->hugepage_limits_len &&
      need(v, mount, "hugetlb", "hugepageLimits") < 0)
    return -1;
  if ((mask & SP_CG_G_RDMA) && res->rdma_len && need(v, mount, "rdma", "rdma") < 0)
    return -1;
  for (size_t i = 0; (mask & SP_CG_G_UNIFIED) && i < res->unified_len; i++) {
    char ctl[64], name[512];
    if (!sp_cg_file_controller(res->unified[i].key, ctl, sizeof ctl) ||
        strcmp(ctl, "cgroup") == 0)
      continue;
    snprintf(name, sizeof name, "unified.%s", res->unified[i].key);
    if (need(v, mount, ctl, name) < 0)
      return -1;
  }
  return 0;
}

int sp_cg_v2_apply(const char *mount, const char *dir, bool full,
                   const struct sp_cg_apply *a, struct sp_error *err) {
  const struct sp_resources *res = a->res;
  unsigned mask = a->groups;
  struct v2 v = {.dir = dir, .a = a, .err = err};
  int r = 0;
  if (enable_needed(&v, mount, res, mask) < 0)
    return -1;
  if (full && !a->update)
    sp_cg_v2_enable(mount, dir, V2_STATS_CONTROLLERS, false, NULL);
  if ((mask & SP_CG_G_MEMORY) && res->has_memory && memory(&v, &res->memory) < 0)
    return -1;
  if ((mask & SP_CG_G_CPU) && res->has_cpu && cpu(&v, &res->cpu) < 0)
    return -1;
  if ((mask & SP_CG_G_PIDS) && res->has_pids_limit && res->pids_limit != 0 &&
      put_i64(&v, "pids.max", res->pids_limit, F(&v, "pids.limit")) < 0)
    return -1;
  if ((mask & SP_CG_G_IO) && res->has_block_io && io(&v, &res->block_io) < 0)
    return -1;
  if ((mask & SP_CG_G_HUGETLB) &&
      hugetlb(&v, res->hugepage_limits, res->hugepage_limits_len) < 0)
    return -1;
  if ((mask & SP_CG_G_RDMA) && rdma(&v, res->rdma, res->rdma_len) < 0)
    return -1;
  if ((mask & SP_CG_G_NETWORK) && res->has_network &&
      (res->has_class_id || res->net_priorities_len))
    return sp_error_set(err, 0,
                        "%s: net_cls and net_prio do not exist on cgroup v2 "
                        "(use a network policy instead)",
                        F(&v, "network"));
  if ((mask & SP_CG_G_DEVICES) && (!a->update || res->devices_len)) {
    struct sp_cg_dev_rule *rules;
    size_t n;
    if (sp_cg_device_rules(res->devices, res->devices_len, &rules, &n) < 0)
      return sp_error_sys(err, "%s", F(&v, "devices"));
    r = sp_cg_devices_attach(dir, rules, n, err);
    free(rules);
    if (r < 0)
      return sp_error_prefix(err, "%s", F(&v, "devices"));
  }
  if ((mask & SP_CG_G_UNIFIED) && unified(&v, res->unified, res->unified_len) < 0)
    return -1;
  return 0;
}
