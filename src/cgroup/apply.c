/* linux.resources: the checks before any side effect, the dispatch to the
 * v2 and v1 drivers, and freezing (pause/resume). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "sprout/util.h"

#define FREEZE_TIMEOUT_MS 5000

/* ---- files ------------------------------------------------------------------------ */

int sp_cg_write(const char *dir, const char *file, const char *value,
                const char *field, struct sp_error *err) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return sp_error_sys(err, "%s: open %s", field, path);
  size_t len = strlen(value);
  ssize_t n = write(fd, value, len);
  int e = errno;
  close(fd);
  if (n < 0 || (size_t)n != len)
    return sp_error_errno(err, n < 0 ? e : EIO, "%s: write \"%s\" to %s", field,
                          value, path);
  return 0;
}

bool sp_cg_has_file(const char *dir, const char *file) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  return access(path, F_OK) == 0;
}

int sp_cg_read(const char *dir, const char *file, char **out) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  *out = NULL;
  return sp_read_file(path, 1 << 20, out, NULL, NULL);
}

int sp_cg_read_u64(const char *dir, const char *file, uint64_t *v) {
  char *s;
  if (sp_cg_read(dir, file, &s) < 0)
    return -1;
  int r = 0;
  char *end;
  errno = 0;
  if (strncmp(s, "max", 3) == 0)
    *v = UINT64_MAX;
  else if (s[0] == '-') /* v1 "-1" */
    *v = UINT64_MAX;
  else {
    *v = strtoull(s, &end, 10);
    if (end == s || errno)
      r = -1;
  }
  free(s);
  return r;
}

int sp_cg_read_keyed(const char *dir, const char *file, const char *key,
                     uint64_t *v) {
  char *s;
  if (sp_cg_read(dir, file, &s) < 0)
    return -1;
  size_t kl = strlen(key);
  int r = -1;
  for (char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
    if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
      *v = strtoull(p + kl + 1, NULL, 10);
      r = 0;
      break;
    }
  }
  free(s);
  if (r < 0)
    errno = ENOENT;
  return r;
}

/* ---- checks ------------------------------------------------------------------------ */

/* "2MB" -> 2048 (kB); 0 when malformed. */
static uint64_t page_kb(const char *size) {
  char *end;
  uint64_t n = strtoull(size, &end, 10);
  switch (*end) {
  case 'K': return n;
  case 'M': return n << 10;
  case 'G': return n << 20;
  case 'T': return n << 30;
  case 'B': return n / 1024;
  default: return 0;
  }
}

static bool v2_controller_exists(const char *ctl) {
  char *avail = NULL;
  if (sp_cg_read(SP_CGROUP_ROOT, "cgroup.controllers", &avail) < 0)
    return true; /* cannot tell: the write will */
  for (char *p = avail; *p; p++)
    if (*p == ' ' || *p == '\n')
      *p = ',';
  bool r = sp_cg_list_has(avail, ctl);
  free(avail);
  return r;
}

int sp_cgroup_check(enum sp_cgroup_mode mode, const struct sp_resources *res,
                    const char *prefix, struct sp_error *err) {
  if (!res || mode == SP_CGROUP_DISABLED)
    return 0;
  const char *p = prefix ? prefix : "";
  const struct sp_memory *m = &res->memory;
  const struct sp_cpu *c = &res->cpu;
  bool v2 = mode == SP_CGROUP_V2;
  if (res->has_memory && v2) {
    if (m->has_disable_oom_killer && m->disable_oom_killer)
      return sp_error_set(err, 0, "%s.memory.disableOOMKiller: cgroup v2 cannot "
                          "disable the OOM killer", p);
    if (m->has_swappiness)
      return sp_error_set(err, 0, "%s.memory.swappiness: cgroup v2 has no "
                          "per-cgroup swappiness", p);
    if (m->has_kernel_tcp && m->kernel_tcp != 0)
      return sp_error_set(err, 0, "%s.memory.kernelTCP: cgroup v2 has no "
                          "kernel TCP memory limit (it is part of memory.max)", p);
  }
  if (res->has_memory && m->has_limit && m->limit < -1)
    return sp_error_set(err, 0, "%s.memory.limit: %" PRId64 " is not a limit "
                        "(bytes, or -1 for none)", p, m->limit);
  if (res->has_memory && m->has_limit && m->limit > 0 && m->has_swap &&
      m->swap > 0 && m->swap < m->limit)
    return sp_error_set(err, 0, "%s.memory.swap: memory+swap %" PRId64 " is lower "
                        "than the memory limit %" PRId64, p, m->swap, m->limit);
  if (res->has_cpu && v2 &&
      ((c->has_realtime_runtime && c->realtime_runtime != 0) ||
       (c->has_realtime_period && c->realtime_period != 0)))
    return sp_error_set(err, 0, "%s.cpu.%s: cgroup v2 has no realtime CPU "
                        "scheduling limits", p,
                        c->has_realtime_runtime && c->realtime_runtime ? "realtimeRuntime"
                                                                        : "realtimePeriod");
  if (res->has_cpu && c->has_quota && c->quota > 0 && c->quota < 1000)
    return sp_error_set(err, 0, "%s.cpu.quota: %" PRId64 " is below the "
                        "kernel's minimum of 1000 microseconds", p, c->quota);
  if (res->has_cpu && c->has_period && c->period != 0 &&
      (c->period < 1000 || c->period > 1000000))
    return sp_error_set(err, 0, "%s.cpu.period: %" PRIu64 " is outside 1000 to "
                        "1000000 microseconds", p, c->period);
  if (res->has_block_io && v2) {
    if (res->block_io.has_leaf_weight)
      return sp_error_set(err, 0, "%s.blockIO.leafWeight: cgroup v2 has no leaf "
                          "weights", p);
    for (size_t i = 0; i < res->block_io.weight_device_len; i++)
      if (res->block_io.weight_device[i].has_leaf_weight)
        return sp_error_set(err, 0, "%s.blockIO.weightDevice[%zu].leafWeight: "
                            "cgroup v2 has no leaf weights", p, i);
  }
  if (res->has_network && v2 && (res->has_class_id || res->net_priorities_len))
    return sp_error_set(err, 0, "%s.network: net_cls and net_prio do not exist "
                        "on cgroup v2", p);
  for (size_t i = 0; i < res->devices_len; i++) {
    const struct sp_device_cgroup *d = &res->devices[i];
    if ((d->has_major && (d->major < -1 || d->major > INT32_MAX)) ||
        (d->has_minor && (d->minor < -1 || d->minor > INT32_MAX)))
      return sp_error_set(err, 0, "%s.devices[%zu]: major/minor out of range", p, i);
  }
  for (size_t i = 0; i < res->hugepage_limits_len; i++) {
    char path[128];
    uint64_t kb = page_kb(res->hugepage_limits[i].page_size);
    snprintf(path, sizeof path, "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB", kb);
    if (kb == 0 || access(path, F_OK) < 0)
      return sp_error_set(err, 0, "%s.hugepageLimits[%zu].pageSize: huge page "
                          "size %s is not supported by this machine", p, i,
                          res->hugepage_limits[i].page_size);
  }
  if (res->unified_len && mode == SP_CGROUP_V1)
    return sp_error_set(err, 0, "%s.unified: needs cgroup v2 (this host has v1 "
                        "only)", p);
  for (size_t i = 0; v2 && i < res->unified_len; i++) {
    char ctl[64];
    const char *k = res->unified[i].key;
    if (!sp_cg_file_controller(k, ctl, sizeof ctl))
      return sp_error_set(err, 0, "%s.unified.%s: not a cgroup interface file "
                          "(CONTROLLER.NAME)", p, k);
    if (strcmp(ctl, "cgroup") != 0 && !v2_controller_exists(ctl))
      return sp_error_set(err, 0, "%s.unified.%s: the %s controller does not "
                          "exist on this host", p, k, ctl);
  }
  return 0;
}

/* ---- apply --------------------------------------------------------------------------- */

static const char *group_name(unsigned g) {
  switch (g) {
  case SP_CG_G_MEMORY: return "memory";
  case SP_CG_G_CPU: return "cpu";
  case SP_CG_G_PIDS: return "pids";
  case SP_CG_G_IO: return "blockIO";
  case SP_CG_G_HUGETLB: return "hugepageLimits";
  case SP_CG_G_RDMA: return "rdma";
  case SP_CG_G_NETWORK: return "network";
  case SP_CG_G_DEVICES: return "devices";
  default: return "unified";
  }
}

int sp_cgroup_apply(const struct sp_cgroup *cg, const struct sp_resources *res,
                    const char *prefix, bool update, struct sp_error *err) {
  static const struct sp_resources none;
  struct sp_cg_apply a = {res ? res : &none, prefix ? prefix : "", update,
                          SP_CG_G_ALL};
  if (cg->mode == SP_CGROUP_DISABLED || cg->dirs_len == 0) {
    if (res && update)
      return sp_error_set(err, 0, "the container has no cgroup (created with "
                          "--cgroup-manager disabled)");
    return 0;
  }
  const char *v2dir = sp_cgroup_dir(cg, NULL);
  if (cg->mode == SP_CGROUP_V2)
    return sp_cg_v2_apply(SP_CGROUP_ROOT, v2dir, true, &a, err);
  if (update && a.res->devices_len)
    sp_log(SP_LOG_WARN, "%s.devices: not changed on a cgroup v1 host (the "
           "rules of create stay)", a.prefix);
  unsigned left = 0;
  if (sp_cg_v1_apply(cg, &a, &left, err) < 0)
    return -1;
  if (!left)
    return 0;
  /* what no v1 hierarchy takes: cgroup2 on a hybrid host */
  if (cg->mode == SP_CGROUP_HYBRID && v2dir) {
    a.groups = left & ~SP_CG_G_DEVICES;
    if (a.groups && sp_cg_v2_apply(SP_CGROUP_UNIFIED, v2dir, false, &a, err) < 0)
      return -1;
    left &= SP_CG_G_DEVICES;
  }
  for (unsigned g = 1; g <= SP_CG_G_UNIFIED; g <<= 1)
    if (left & g) {
      if (g == SP_CG_G_DEVICES && (!a.res->devices_len || geteuid() != 0)) {
        /* no rules given, or rootless without a delegated devices
         * hierarchy (its user namespace keeps host devices out anyway) */
        sp_log(SP_LOG_WARN, "no devices cgroup controller: the device rules "
               "are not enforced by a cgroup");
        continue;
      }
      return sp_error_set(err, 0, "%s.%s: no cgroup hierarchy on this host has "
                          "its controller", a.prefix, group_name(g));
    }
  return 0;
}

/* ---- freeze ---------------------------------------------------------------------------- */

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
    ;
}

int sp_cgroup_freeze(const struct sp_cgroup *cg, bool frozen, struct sp_error *err) {
  const char *dir, *file, *want, *value;
  if (cg->mode == SP_CGROUP_DISABLED || cg->dirs_len == 0)
    return sp_error_set(err, 0, "the container has no cgroup (created with "
                        "--cgroup-manager disabled): cannot %s it",
                        frozen ? "pause" : "resume");
  if (cg->mode == SP_CGROUP_V2) {
    dir = sp_cgroup_dir(cg, NULL);
    file = "cgroup.freeze";
    value = frozen ? "1" : "0";
  } else {
    dir = sp_cg_v1_dir(cg, "freezer");
    file = "freezer.state";
    value = frozen ? "FROZEN" : "THAWED";
    if (!dir) {
      /* a hybrid host without the v1 freezer: cgroup2 has cgroup.freeze */
      dir = cg->mode == SP_CGROUP_HYBRID ? sp_cgroup_dir(cg, NULL) : NULL;
      file = "cgroup.freeze";
      value = frozen ? "1" : "0";
      if (!dir || !sp_cg_has_file(dir, file))
        return sp_error_set(err, 0, "no freezer cgroup controller on this host");
    }
  }
  if (sp_cg_write(dir, file, value, "cgroup", err) < 0)
    return -1;
  /* wait until every task is frozen (or thawed) */
  bool v2file = strcmp(file, "cgroup.freeze") == 0;
  want = v2file ? (frozen ? "1" : "0") : value;
  for (int waited = 0;; waited += 10) {
    char *s = NULL;
    bool done;
    if (v2file) {
      uint64_t f;
      done = sp_cg_read_keyed(dir, "cgroup.events", "frozen", &f) == 0 &&
             f == (uint64_t)(want[0] == '1');
    } else {
      done = sp_cg_read(dir, file, &s) == 0 && strncmp(s, want, strlen(want)) == 0;
      free(s);
      if (!done && frozen && waited % 100 == 0)
        sp_cg_write(dir, file, value, "cgroup", NULL); /* FREEZING: again */
    }
    if (done)
      return 0;
    if (waited >= FREEZE_TIMEOUT_MS) {
      if (frozen) /* do not leave it half frozen */
        sp_cg_write(dir, file, v2file ? "0" : "THAWED", "cgroup", NULL);
      return sp_error_set(err, ETIMEDOUT, "cgroup: %s did not reach %s within "
                          "%d ms", dir, frozen ? "frozen" : "thawed",
                          FREEZE_TIMEOUT_MS);
    }
    sleep_ms(10);
  }
}

int sp_cgroup_oom_kills(const struct sp_cgroup *cg, uint64_t *n) {
  *n = 0;
  if (cg->mode == SP_CGROUP_DISABLED || cg->dirs_len == 0)
    return -1;
  if (cg->mode == SP_CGROUP_V2) {
    const char *dir = sp_cgroup_dir(cg, NULL);
    return dir ? sp_cg_read_keyed(dir, "memory.events", "oom_kill", n) : -1;
  }
  const char *dir = sp_cg_v1_dir(cg, "memory");
  return dir ? sp_cg_read_keyed(dir, "memory.oom_control", "oom_kill", n) : -1;
}

const char *sp_cgroup_oom_file(const struct sp_cgroup *cg, char *buf, size_t n) {
  const char *dir = cg->mode == SP_CGROUP_V2 ? sp_cgroup_dir(cg, NULL)
                    : cg->dirs_len           ? sp_cg_v1_dir(cg, "memory")
                                             : NULL;
  if (!dir)
    return NULL;
  snprintf(buf, n, "%s/%s", dir,
           cg->mode == SP_CGROUP_V2 ? "memory.events" : "memory.oom_control");
  return buf;
}
