/* sprout — linux.resources (also the standalone file of `sprout update
 * --resources`): devices, memory, cpu, blockIO, hugepageLimits, network,
 * pids, rdma, unified. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

/* Read an array of objects: calloc n elements of `size` bytes, store them
 * in the pointer at outp (a T **) and n in *len, then call fn on each
 * element with its path.  -1 error, 0 absent, 1 read. */
typedef int (*elem_fn)(yajl_val v, const char *path, void *elem, struct sp_error *err);

static int parse_list(yajl_val obj, const char *path, const char *key, size_t size,
                      void *outp, size_t *len, elem_fn fn, struct sp_error *err) {
  char ap[SP_JPATH_MAX], ep[SP_JPATH_MAX];
  yajl_val arr;
  int r = sp_jf_array(obj, path, key, SP_OPTIONAL, &arr, err);
  if (r <= 0)
    return r;
  sp_jpath_key(ap, sizeof ap, path, key);
  size_t n = arr->u.array.len;
  char *elems = sp_jcalloc(n, size, ap, err);
  if (elems == NULL)
    return -1;
  memcpy(outp, &elems, sizeof elems); /* outp is the address of a T * */
  *len = n;
  for (size_t i = 0; i < n; i++) {
    sp_jpath_index(ep, sizeof ep, ap, i);
    if (sp_jv_object(arr->u.array.values[i], ep, err) < 0 ||
        fn(arr->u.array.values[i], ep, elems + i * size, err) < 0)
      return -1;
  }
  return 1;
}

/* ---- devices ----------------------------------------------------------- */

static int parse_device_rule(yajl_val v, const char *path, void *elem,
                             struct sp_error *err) {
  struct sp_device_cgroup *d = elem;
  char fp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  char *type = NULL;
  int r;
  if (sp_jf_bool(v, path, "allow", SP_REQUIRED, &d->allow, err) < 0 ||
      sp_jf_string(v, path, "type", SP_OPTIONAL, &type, err) < 0)
    return -1;
  d->type = 'a';
  if (type != NULL && type[0] != '\0') {
    if (strlen(type) != 1 || strchr("acb", type[0]) == NULL) {
      sp_jpath_key(fp, sizeof fp, path, "type");
      sp_jerr(err, fp, "unknown device type \"%s\" (expected a, c or b)", sp_jshow(type, show));
      free(type);
      return -1;
    }
    d->type = type[0];
  }
  free(type);
  if ((r = sp_jf_i64(v, path, "major", SP_OPTIONAL, &d->major, err)) < 0)
    return -1;
  d->has_major = r > 0;
  if ((r = sp_jf_i64(v, path, "minor", SP_OPTIONAL, &d->minor, err)) < 0)
    return -1;
  d->has_minor = r > 0;
  if (sp_jf_string(v, path, "access", SP_OPTIONAL, &d->access, err) < 0)
    return -1;
  if (d->access != NULL && d->access[0] == '\0') { /* unset: "rwm" */
    free(d->access);
    d->access = NULL;
  }
  if (d->access != NULL && strspn(d->access, "rwm") != strlen(d->access)) {
    sp_jpath_key(fp, sizeof fp, path, "access");
    return sp_jerr(err, fp, "invalid access \"%s\" (expected a combination of r, w and m)",
                   sp_jshow(d->access, show));
  }
  return 0;
}

/* ---- memory ------------------------------------------------------------ */

static int mem_field(yajl_val v, const char *path, const char *key, bool *has,
                     int64_t *out, struct sp_error *err) {
  int r = sp_jf_irange(v, path, key, SP_OPTIONAL, -1, INT64_MAX, out, err);
  if (r < 0)
    return -1;
  *has = r > 0;
  return 0;
}

static int parse_memory(yajl_val res, const char *path, struct sp_resources *r,
                        struct sp_error *err) {
  char mp[SP_JPATH_MAX], fp[SP_JPATH_MAX];
  yajl_val v;
  int rc = sp_jf_object(res, path, "memory", SP_OPTIONAL, &v, err);
  if (rc <= 0)
    return rc;
  r->has_memory = true;
  struct sp_memory *m = &r->memory;
  sp_jpath_key(mp, sizeof mp, path, "memory");
  if (mem_field(v, mp, "limit", &m->has_limit, &m->limit, err) < 0 ||
      mem_field(v, mp, "reservation", &m->has_reservation, &m->reservation, err) < 0 ||
      mem_field(v, mp, "swap", &m->has_swap, &m->swap, err) < 0 ||
      mem_field(v, mp, "kernel", &m->has_kernel, &m->kernel, err) < 0 ||
      mem_field(v, mp, "kernelTCP", &m->has_kernel_tcp, &m->kernel_tcp, err) < 0)
    return -1;
  if ((rc = sp_jf_u64(v, mp, "swappiness", SP_OPTIONAL, &m->swappiness, err)) < 0)
    return -1;
  /* 0..100; UINT64_MAX is (uint64)-1, "unset" for runc and docker */
  m->has_swappiness = rc > 0 && m->swappiness != UINT64_MAX;
  sp_jpath_key(fp, sizeof fp, mp, "swappiness");
  if (m->has_swappiness && m->swappiness > 100)
    return sp_jerr(err, fp, "expected an integer between 0 and 100, got %llu",
                   (unsigned long long)m->swappiness);
  if (!m->has_swappiness)
    m->swappiness = 0;
  if ((rc = sp_jf_bool(v, mp, "disableOOMKiller", SP_OPTIONAL, &m->disable_oom_killer, err)) < 0)
    return -1;
  m->has_disable_oom_killer = rc > 0;
  if ((rc = sp_jf_bool(v, mp, "useHierarchy", SP_OPTIONAL, &m->use_hierarchy, err)) < 0)
    return -1;
  m->has_use_hierarchy = rc > 0;
  if ((rc = sp_jf_bool(v, mp, "checkBeforeUpdate", SP_OPTIONAL, &m->check_before_update, err)) < 0)
    return -1;
  m->has_check_before_update = rc > 0;
  sp_jpath_key(fp, sizeof fp, mp, "swap");
  if (m->has_limit && m->has_swap && m->limit > 0 && m->swap > 0 && m->swap < m->limit)
    return sp_jerr(err, fp, "memory+swap limit %lld is lower than the memory limit %lld",
                   (long long)m->swap, (long long)m->limit);
  return 0;
}

/* ---- cpu --------------------------------------------------------------- */

static int parse_cpu(yajl_val res, const char *path, struct sp_resources *r,
                     struct sp_error *err) {
  char cp[SP_JPATH_MAX], fp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  yajl_val v;
  int rc = sp_jf_object(res, path, "cpu", SP_OPTIONAL, &v, err);
  if (rc <= 0)
    return rc;
  r->has_cpu = true;
  struct sp_cpu *c = &r->cpu;
  sp_jpath_key(cp, sizeof cp, path, "cpu");
#define OPT(call, has)                                                                   \
  do {                                                                                   \
    if ((rc = (call)) < 0)                                                               \
      return -1;                                                                         \
    has = rc > 0;                                                                        \
  } while (0)
  OPT(sp_jf_u64(v, cp, "shares", SP_OPTIONAL, &c->shares, err), c->has_shares);
  OPT(sp_jf_i64(v, cp, "quota", SP_OPTIONAL, &c->quota, err), c->has_quota);
  OPT(sp_jf_u64(v, cp, "burst", SP_OPTIONAL, &c->burst, err), c->has_burst);
  OPT(sp_jf_u64(v, cp, "period", SP_OPTIONAL, &c->period, err), c->has_period);
  OPT(sp_jf_i64(v, cp, "realtimeRuntime", SP_OPTIONAL, &c->realtime_runtime, err),
      c->has_realtime_runtime);
  OPT(sp_jf_u64(v, cp, "realtimePeriod", SP_OPTIONAL, &c->realtime_period, err),
      c->has_realtime_period);
  OPT(sp_jf_irange(v, cp, "idle", SP_OPTIONAL, 0, 1, &c->idle, err), c->has_idle);
#undef OPT
  if (sp_jf_string(v, cp, "cpus", SP_OPTIONAL, &c->cpus, err) < 0 ||
      sp_jf_string(v, cp, "mems", SP_OPTIONAL, &c->mems, err) < 0)
    return -1;
  sp_jpath_key(fp, sizeof fp, cp, "cpus");
  if (c->cpus != NULL && c->cpus[0] != '\0' && !sp_valid_cpu_list(c->cpus))
    return sp_jerr(err, fp, "invalid CPU list \"%s\" (expected e.g. \"0-3,7\")",
                   sp_jshow(c->cpus, show));
  sp_jpath_key(fp, sizeof fp, cp, "mems");
  if (c->mems != NULL && c->mems[0] != '\0' && !sp_valid_cpu_list(c->mems))
    return sp_jerr(err, fp, "invalid memory node list \"%s\" (expected e.g. \"0-1\")",
                   sp_jshow(c->mems, show));
  sp_jpath_key(fp, sizeof fp, cp, "burst");
  if (c->has_burst && c->has_quota && c->quota > 0 && c->burst > (uint64_t)c->quota)
    return sp_jerr(err, fp, "burst %llu is more than the quota %lld",
                   (unsigned long long)c->burst, (long long)c->quota);
  return 0;
}

/* ---- blockIO ----------------------------------------------------------- */

static int weight_field(yajl_val v, const char *path, const char *key, bool *has,
                        uint16_t *out, struct sp_error *err) {
  uint64_t w;
  int r = sp_jf_urange(v, path, key, SP_OPTIONAL, 10, 1000, &w, err);
  if (r < 0)
    return -1;
  *has = r > 0;
  *out = (uint16_t)w;
  return 0;
}

static int parse_weight_device(yajl_val v, const char *path, void *elem,
                               struct sp_error *err) {
  struct sp_weight_device *d = elem;
  if (sp_jf_i64(v, path, "major", SP_REQUIRED, &d->major, err) < 0 ||
      sp_jf_i64(v, path, "minor", SP_REQUIRED, &d->minor, err) < 0 ||
      weight_field(v, path, "weight", &d->has_weight, &d->weight, err) < 0 ||
      weight_field(v, path, "leafWeight", &d->has_leaf_weight, &d->leaf_weight, err) < 0)
    return -1;
  if (!d->has_weight && !d->has_leaf_weight)
    return sp_jerr(err, path, "needs weight or leafWeight");
  return 0;
}

static int parse_throttle_device(yajl_val v, const char *path, void *elem,
                                 struct sp_error *err) {
  struct sp_throttle_device *d = elem;
  if (sp_jf_i64(v, path, "major", SP_REQUIRED, &d->major, err) < 0 ||
      sp_jf_i64(v, path, "minor", SP_REQUIRED, &d->minor, err) < 0 ||
      sp_jf_u64(v, path, "rate", SP_REQUIRED, &d->rate, err) < 0)
    return -1;
  return 0;
}

static int parse_block_io(yajl_val res, const char *path, struct sp_resources *r,
                          struct sp_error *err) {
  char bp[SP_JPATH_MAX];
  yajl_val v;
  int rc = sp_jf_object(res, path, "blockIO", SP_OPTIONAL, &v, err);
  if (rc <= 0)
    return rc;
  r->has_block_io = true;
  struct sp_block_io *b = &r->block_io;
  sp_jpath_key(bp, sizeof bp, path, "blockIO");
  if (weight_field(v, bp, "weight", &b->has_weight, &b->weight, err) < 0 ||
      weight_field(v, bp, "leafWeight", &b->has_leaf_weight, &b->leaf_weight, err) < 0 ||
      parse_list(v, bp, "weightDevice", sizeof *b->weight_device, &b->weight_device,
                 &b->weight_device_len, parse_weight_device, err) < 0 ||
      parse_list(v, bp, "throttleReadBpsDevice", sizeof *b->throttle_read_bps,
                 &b->throttle_read_bps, &b->throttle_read_bps_len,
                 parse_throttle_device, err) < 0 ||
      parse_list(v, bp, "throttleWriteBpsDevice", sizeof *b->throttle_write_bps,
                 &b->throttle_write_bps, &b->throttle_write_bps_len,
                 parse_throttle_device, err) < 0 ||
      parse_list(v, bp, "throttleReadIOPSDevice", sizeof *b->throttle_read_iops,
                 &b->throttle_read_iops, &b->throttle_read_iops_len,
                 parse_throttle_device, err) < 0 ||
      parse_list(v, bp, "throttleWriteIOPSDevice", sizeof *b->throttle_write_iops,
                 &b->throttle_write_iops, &b->throttle_write_iops_len,
                 parse_throttle_device, err) < 0)
    return -1;
  return 0;
}

/* ---- hugepageLimits, network ------------------------------------------- */

/* "<size><unit-prefix>B": "64KB", "2MB", "1GB" */
static bool valid_page_size(const char *s) {
  size_t digits = strspn(s, "0123456789");
  if (digits == 0 || s[0] == '0')
    return false;
  s += digits;
  if (*s != '\0' && strchr("KMGTPE", *s) != NULL)
    s++;
  return strcmp(s, "B") == 0;
}

static int parse_hugepage(yajl_val v, const char *path, void *elem, struct sp_error *err) {
  struct sp_hugepage_limit *h = elem;
  char fp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  if (sp_jf_string(v, path, "pageSize", SP_REQUIRED, &h->page_size, err) < 0 ||
      sp_jf_u64(v, path, "limit", SP_REQUIRED, &h->limit, err) < 0)
    return -1;
  if (!valid_page_size(h->page_size)) {
    sp_jpath_key(fp, sizeof fp, path, "pageSize");
    return sp_jerr(err, fp, "invalid page size \"%s\" (expected e.g. \"2MB\" or \"1GB\")",
                   sp_jshow(h->page_size, show));
  }
  return 0;
}

static int parse_net_priority(yajl_val v, const char *path, void *elem,
                              struct sp_error *err) {
  struct sp_net_priority *p = elem;
  if (sp_jf_string(v, path, "name", SP_REQUIRED, &p->name, err) < 0 ||
      sp_jf_u32(v, path, "priority", SP_REQUIRED, &p->priority, err) < 0)
    return -1;
  return 0;
}

static int parse_network(yajl_val res, const char *path, struct sp_resources *r,
                         struct sp_error *err) {
  char np[SP_JPATH_MAX];
  yajl_val v;
  int rc = sp_jf_object(res, path, "network", SP_OPTIONAL, &v, err);
  if (rc <= 0)
    return rc;
  r->has_network = true;
  sp_jpath_key(np, sizeof np, path, "network");
  if ((rc = sp_jf_u32(v, np, "classID", SP_OPTIONAL, &r->class_id, err)) < 0)
    return -1;
  r->has_class_id = rc > 0;
  if (parse_list(v, np, "priorities", sizeof *r->net_priorities, &r->net_priorities,
                 &r->net_priorities_len, parse_net_priority, err) < 0)
    return -1;
  return 0;
}

/* ---- pids, rdma, unified ----------------------------------------------- */

static int parse_pids(yajl_val res, const char *path, struct sp_resources *r,
                      struct sp_error *err) {
  char pp[SP_JPATH_MAX];
  yajl_val v;
  int rc = sp_jf_object(res, path, "pids", SP_OPTIONAL, &v, err);
  if (rc <= 0)
    return rc;
  r->has_pids = true;
  sp_jpath_key(pp, sizeof pp, path, "pids");
  if ((rc = sp_jf_i64(v, pp, "limit", SP_OPTIONAL, &r->pids_limit, err)) < 0)
    return -1;
  r->has_pids_limit = rc > 0;
  return 0;
}

static int parse_rdma(yajl_val res, const char *path, struct sp_resources *r,
                      struct sp_error *err) {
  char rp[SP_JPATH_MAX], kp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  yajl_val obj;
  int rc = sp_jf_object(res, path, "rdma", SP_OPTIONAL, &obj, err);
  if (rc <= 0)
    return rc;
  sp_jpath_key(rp, sizeof rp, path, "rdma");
  if (sp_jcheck_unique_keys(obj, rp, err) < 0)
    return -1;
  size_t n = obj->u.object.len;
  if ((r->rdma = sp_jcalloc(n, sizeof *r->rdma, rp, err)) == NULL)
    return -1;
  r->rdma_len = n;
  for (size_t i = 0; i < n; i++) {
    struct sp_rdma *d = &r->rdma[i];
    const char *key = obj->u.object.keys[i];
    yajl_val v = obj->u.object.values[i];
    sp_jpath_key(kp, sizeof kp, rp, key);
    if (key[0] == '\0' || strchr(key, ' ') || strchr(key, '\n'))
      return sp_jerr(err, kp, "invalid device name \"%s\"", sp_jshow(key, show));
    if ((d->device = sp_jstrdup(key, kp, err)) == NULL || sp_jv_object(v, kp, err) < 0)
      return -1;
    if ((rc = sp_jf_u32(v, kp, "hcaHandles", SP_OPTIONAL, &d->hca_handles, err)) < 0)
      return -1;
    d->has_hca_handles = rc > 0;
    if ((rc = sp_jf_u32(v, kp, "hcaObjects", SP_OPTIONAL, &d->hca_objects, err)) < 0)
      return -1;
    d->has_hca_objects = rc > 0;
    if (!d->has_hca_handles && !d->has_hca_objects)
      return sp_jerr(err, kp, "needs hcaHandles or hcaObjects");
  }
  return 0;
}

static int parse_unified(yajl_val res, const char *path, struct sp_resources *r,
                         struct sp_error *err) {
  char up[SP_JPATH_MAX], kp[SP_JPATH_MAX];
  int rc = sp_jf_map(res, path, "unified", SP_OPTIONAL, &r->unified, &r->unified_len, err);
  if (rc <= 0)
    return rc;
  sp_jpath_key(up, sizeof up, path, "unified");
  for (size_t i = 0; i < r->unified_len; i++) {
    const char *k = r->unified[i].key;
    /* a file name in the container's cgroup directory, nothing else */
    if (strchr(k, '/') || strcmp(k, ".") == 0 || strcmp(k, "..") == 0) {
      sp_jpath_key(kp, sizeof kp, up, k);
      return sp_jerr(err, kp, "invalid cgroup file name");
    }
  }
  return 0;
}

/* ---- resources --------------------------------------------------------- */

int sp_parse_resources(yajl_val v, const char *path, struct sp_resources *r,
                       struct sp_error *err) {
  if (sp_jv_object(v, path, err) < 0 ||
      parse_list(v, path, "devices", sizeof *r->devices, &r->devices,
                 &r->devices_len, parse_device_rule, err) < 0 ||
      parse_memory(v, path, r, err) < 0 || parse_cpu(v, path, r, err) < 0 ||
      parse_block_io(v, path, r, err) < 0 ||
      parse_list(v, path, "hugepageLimits", sizeof *r->hugepage_limits,
                 &r->hugepage_limits, &r->hugepage_limits_len, parse_hugepage,
                 err) < 0 ||
      parse_network(v, path, r, err) < 0 || parse_pids(v, path, r, err) < 0 ||
      parse_rdma(v, path, r, err) < 0 || parse_unified(v, path, r, err) < 0)
    return -1;
  return 0;
}

void sp_resources_free(struct sp_resources *r) {
  if (r == NULL)
    return;
  if (r->devices) {
    for (size_t i = 0; i < r->devices_len; i++)
      free(r->devices[i].access);
    free(r->devices);
  }
  free(r->cpu.cpus);
  free(r->cpu.mems);
  free(r->block_io.weight_device);
  free(r->block_io.throttle_read_bps);
  free(r->block_io.throttle_write_bps);
  free(r->block_io.throttle_read_iops);
  free(r->block_io.throttle_write_iops);
  if (r->hugepage_limits) {
    for (size_t i = 0; i < r->hugepage_limits_len; i++)
      free(r->hugepage_limits[i].page_size);
    free(r->hugepage_limits);
  }
  if (r->net_priorities) {
    for (size_t i = 0; i < r->net_priorities_len; i++)
      free(r->net_priorities[i].name);
    free(r->net_priorities);
  }
  if (r->rdma) {
    for (size_t i = 0; i < r->rdma_len; i++)
      free(r->rdma[i].device);
    free(r->rdma);
  }
  sp_jkv_free(r->unified, r->unified_len);
  memset(r, 0, sizeof *r);
}
