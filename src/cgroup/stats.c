/* `events` statistics: runc's JSON stats object ("data" of a stats event)
 * from the container's cgroup files: cpu, cpuset, memory, pids, blkio and
 * hugetlb.  Zero values are left out where runc leaves them out. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cgroup_internal.h"
#include "sprout/util.h"

#define HZ_NS (1000000000ULL / 100) /* USER_HZ ticks of cpuacct.stat */

static void num(sp_json g, uint64_t v) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%" PRIu64, v);
  yajl_gen_number(g, buf, (size_t)n);
}

static void knum(sp_json g, const char *k, uint64_t v) {
  sp_json_key(g, k);
  num(g, v);
}

/* omitempty */
static void knum_nz(sp_json g, const char *k, uint64_t v) {
  if (v)
    knum(g, k, v);
}

static uint64_t u64(const char *dir, const char *file) {
  uint64_t v = 0;
  if (!dir || sp_cg_read_u64(dir, file, &v) < 0)
    return 0;
  return v;
}

static uint64_t keyed(const char *dir, const char *file, const char *key) {
  uint64_t v = 0;
  if (!dir || sp_cg_read_keyed(dir, file, key, &v) < 0)
    return 0;
  return v;
}

/* A list of numbers separated by spaces, as a JSON array (percpu). */
static void num_list(sp_json g, const char *k, const char *text, uint64_t mult) {
  sp_json_key(g, k);
  sp_json_array_open(g);
  for (const char *p = text; p && *p;) {
    char *end;
    uint64_t v = strtoull(p, &end, 10);
    if (end == p)
      break;
    num(g, v * mult);
    p = end + strspn(end, " \n");
  }
  sp_json_array_close(g);
}

/* "0-2,5" as a list of numbers (cpuset). */
static void range_list(sp_json g, const char *k, const char *text) {
  if (!text || !*text || *text == '\n')
    return;
  sp_json_key(g, k);
  sp_json_array_open(g);
  for (const char *p = text; *p && *p != '\n';) {
    char *end;
    unsigned long a = strtoul(p, &end, 10), b = a;
    if (end == p)
      break;
    if (*end == '-')
      b = strtoul(end + 1, &end, 10);
    for (unsigned long i = a; i <= b && i < a + 65536; i++)
      num(g, i);
    p = end + (*end == ',');
  }
  sp_json_array_close(g);
}

/* ---- cpu ---------------------------------------------------------------------------- */

static void cpu(sp_json g, const struct sp_cgroup *cg, bool v2) {
  uint64_t total, user, kernel, periods, throttled, ttime;
  char *percpu = NULL;
  if (v2) {
    const char *d = sp_cgroup_dir(cg, NULL);
    total = keyed(d, "cpu.stat", "usage_usec") * 1000;
    user = keyed(d, "cpu.stat", "user_usec") * 1000;
    kernel = keyed(d, "cpu.stat", "system_usec") * 1000;
    periods = keyed(d, "cpu.stat", "nr_periods");
    throttled = keyed(d, "cpu.stat", "nr_throttled");
    ttime = keyed(d, "cpu.stat", "throttled_usec") * 1000;
  } else {
    const char *a = sp_cg_v1_dir(cg, "cpuacct"), *c = sp_cg_v1_dir(cg, "cpu");
    total = u64(a, "cpuacct.usage");
    user = keyed(a, "cpuacct.stat", "user") * HZ_NS;
    kernel = keyed(a, "cpuacct.stat", "system") * HZ_NS;
    periods = keyed(c, "cpu.stat", "nr_periods");
    throttled = keyed(c, "cpu.stat", "nr_throttled");
    ttime = keyed(c, "cpu.stat", "throttled_time");
    if (a)
      sp_cg_read(a, "cpuacct.usage_percpu", &percpu);
  }
  sp_json_key(g, "cpu");
  sp_json_map_open(g);
  sp_json_key(g, "usage");
  sp_json_map_open(g);
  knum_nz(g, "total", total);
  if (percpu && *percpu) {
    num_list(g, "percpu", percpu, 1);
    char *sys = NULL, *usr = NULL;
    const char *a = sp_cg_v1_dir(cg, "cpuacct");
    if (sp_cg_read(a, "cpuacct.usage_percpu_sys", &sys) == 0 &&
        sp_cg_read(a, "cpuacct.usage_percpu_user", &usr) == 0) {
      num_list(g, "percpu_kernel", sys, 1);
      num_list(g, "percpu_user", usr, 1);
    }
    free(sys);
    free(usr);
  }
  knum(g, "kernel", kernel);
  knum(g, "user", user);
  sp_json_map_close(g);
  sp_json_key(g, "throttling");
  sp_json_map_open(g);
  knum_nz(g, "periods", periods);
  knum_nz(g, "throttledPeriods", throttled);
  knum_nz(g, "throttledTime", ttime);
  sp_json_map_close(g);
  sp_json_map_close(g);
  free(percpu);
}

static void cpuset(sp_json g, const struct sp_cgroup *cg, bool v2) {
  const char *d = v2 ? sp_cgroup_dir(cg, NULL) : sp_cg_v1_dir(cg, "cpuset");
  char *cpus = NULL, *mems = NULL;
  if (d) {
    if (sp_cg_read(d, "cpuset.cpus.effective", &cpus) < 0)
      sp_cg_read(d, "cpuset.cpus", &cpus);
    if (sp_cg_read(d, "cpuset.mems.effective", &mems) < 0)
      sp_cg_read(d, "cpuset.mems", &mems);
  }
  sp_json_key(g, "cpuset");
  sp_json_map_open(g);
  range_list(g, "cpus", cpus);
  knum(g, "cpu_exclusive", v2 ? 0 : u64(d, "cpuset.cpu_exclusive"));
  range_list(g, "mems", mems);
  knum(g, "mem_hardwall", v2 ? 0 : u64(d, "cpuset.mem_hardwall"));
  knum(g, "mem_exclusive", v2 ? 0 : u64(d, "cpuset.mem_exclusive"));
  knum(g, "memory_migrate", v2 ? 0 : u64(d, "cpuset.memory_migrate"));
  knum(g, "memory_spread_page", v2 ? 0 : u64(d, "cpuset.memory_spread_page"));
  knum(g, "memory_spread_slab", v2 ? 0 : u64(d, "cpuset.memory_spread_slab"));
  knum(g, "memory_pressure", v2 ? 0 : u64(d, "cpuset.memory_pressure"));
  knum(g, "sched_load_balance", v2 ? 1 : u64(d, "cpuset.sched_load_balance"));
  sp_json_kint(g, "sched_relax_domain_level", -1);
  sp_json_map_close(g);
  free(cpus);
  free(mems);
}

/* ---- memory --------------------------------------------------------------------------- */

static void entry(sp_json g, const char *k, uint64_t limit, uint64_t usage,
                  uint64_t max, uint64_t failcnt) {
  sp_json_key(g, k);
  sp_json_map_open(g);
  knum(g, "limit", limit);
  knum_nz(g, "usage", usage);
  knum_nz(g, "max", max);
  knum(g, "failcnt", failcnt);
  sp_json_map_close(g);
}

static void raw(sp_json g, const char *dir) {
  char *s = NULL;
  if (!dir || sp_cg_read(dir, "memory.stat", &s) < 0)
    return;
  sp_json_key(g, "raw");
  sp_json_map_open(g);
  for (char *line = s; line && *line;) {
    char *nl = strchr(line, '\n'), *sp = strchr(line, ' ');
    if (nl)
      *nl = '\0';
    if (sp) {
      *sp = '\0';
      sp_json_key(g, line);
      num(g, strtoull(sp + 1, NULL, 10));
    }
    line = nl ? nl + 1 : NULL;
  }
  sp_json_map_close(g);
  free(s);
}

static void memory(sp_json g, const struct sp_cgroup *cg, bool v2) {
  const char *d = v2 ? sp_cgroup_dir(cg, NULL) : sp_cg_v1_dir(cg, "memory");
  sp_json_key(g, "memory");
  sp_json_map_open(g);
  if (v2) {
    uint64_t cur = u64(d, "memory.current"), lim = u64(d, "memory.max");
    uint64_t swap = u64(d, "memory.swap.current"), slim = u64(d, "memory.swap.max");
    knum_nz(g, "cache", keyed(d, "memory.stat", "file"));
    entry(g, "usage", lim ? lim : UINT64_MAX, cur, u64(d, "memory.peak"),
          keyed(d, "memory.events", "max"));
    /* as v1 reports it: memory and swap together */
    entry(g, "swap",
          lim == UINT64_MAX || slim == UINT64_MAX ? UINT64_MAX : lim + slim,
          cur + swap, 0, keyed(d, "memory.swap.events", "max"));
    entry(g, "kernel", 0, 0, 0, 0);
    entry(g, "kernelTCP", 0, 0, 0, 0);
  } else {
    knum_nz(g, "cache", keyed(d, "memory.stat", "cache"));
    entry(g, "usage", u64(d, "memory.limit_in_bytes"), u64(d, "memory.usage_in_bytes"),
          u64(d, "memory.max_usage_in_bytes"), u64(d, "memory.failcnt"));
    entry(g, "swap", u64(d, "memory.memsw.limit_in_bytes"),
          u64(d, "memory.memsw.usage_in_bytes"), u64(d, "memory.memsw.max_usage_in_bytes"),
          u64(d, "memory.memsw.failcnt"));
    entry(g, "kernel", u64(d, "memory.kmem.limit_in_bytes"),
          u64(d, "memory.kmem.usage_in_bytes"), u64(d, "memory.kmem.max_usage_in_bytes"),
          u64(d, "memory.kmem.failcnt"));
    entry(g, "kernelTCP", u64(d, "memory.kmem.tcp.limit_in_bytes"),
          u64(d, "memory.kmem.tcp.usage_in_bytes"),
          u64(d, "memory.kmem.tcp.max_usage_in_bytes"), u64(d, "memory.kmem.tcp.failcnt"));
  }
  raw(g, d);
  sp_json_map_close(g);
}

/* ---- pids, blkio, hugetlb --------------------------------------------------------------- */

static void pids(sp_json g, const struct sp_cgroup *cg, bool v2) {
  const char *d = v2 ? sp_cgroup_dir(cg, NULL) : sp_cg_v1_dir(cg, "pids");
  uint64_t max = u64(d, "pids.max");
  sp_json_key(g, "pids");
  sp_json_map_open(g);
  knum_nz(g, "current", u64(d, "pids.current"));
  knum_nz(g, "limit", max == UINT64_MAX ? 0 : max);
  sp_json_map_close(g);
}

static void blk_entry(sp_json g, unsigned long ma, unsigned long mi, const char *op,
                      uint64_t v) {
  sp_json_map_open(g);
  knum_nz(g, "major", ma);
  knum_nz(g, "minor", mi);
  if (*op)
    sp_json_kstr(g, "op", op);
  knum_nz(g, "value", v);
  sp_json_map_close(g);
}

/* v1: "8:0 Read 4096" lines (and "Total N"). */
static void blk_v1(sp_json g, const char *dir, const char *file, const char *key) {
  char *s = NULL;
  if (!dir || sp_cg_read(dir, file, &s) < 0 || !*s) {
    free(s);
    return;
  }
  bool any = false;
  for (char *line = s; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    unsigned long ma, mi;
    char op[16];
    unsigned long long v;
    if (sscanf(line, "%lu:%lu %15s %llu", &ma, &mi, op, &v) == 4) {
      if (!any) {
        sp_json_key(g, key);
        sp_json_array_open(g);
        any = true;
      }
      blk_entry(g, ma, mi, op, v);
    }
    line = nl ? nl + 1 : NULL;
  }
  if (any)
    sp_json_array_close(g);
  free(s);
}

/* v2: io.stat "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
static void blk_v2(sp_json g, const char *dir, const char *key, const char *rk,
                   const char *wk) {
  char *s = NULL;
  if (!dir || sp_cg_read(dir, "io.stat", &s) < 0 || !*s) {
    free(s);
    return;
  }
  sp_json_key(g, key);
  sp_json_array_open(g);
  for (char *line = s; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    unsigned long ma, mi;
    if (sscanf(line, "%lu:%lu", &ma, &mi) == 2) {
      char *r = strstr(line, rk), *w = strstr(line, wk);
      uint64_t rv = r ? strtoull(r + strlen(rk), NULL, 10) : 0;
      uint64_t wv = w ? strtoull(w + strlen(wk), NULL, 10) : 0;
      blk_entry(g, ma, mi, "Read", rv);
      blk_entry(g, ma, mi, "Write", wv);
      blk_entry(g, ma, mi, "Total", rv + wv);
    }
    line = nl ? nl + 1 : NULL;
  }
  sp_json_array_close(g);
  free(s);
}

static void blkio(sp_json g, const struct sp_cgroup *cg, bool v2) {
  sp_json_key(g, "blkio");
  sp_json_map_open(g);
  if (v2) {
    const char *d = sp_cgroup_dir(cg, NULL);
    blk_v2(g, d, "ioServiceBytesRecursive", "rbytes=", "wbytes=");
    blk_v2(g, d, "ioServicedRecursive", "rios=", "wios=");
  } else {
    const char *d = sp_cg_v1_dir(cg, "blkio");
    blk_v1(g, d, "blkio.throttle.io_service_bytes_recursive", "ioServiceBytesRecursive");
    blk_v1(g, d, "blkio.throttle.io_serviced_recursive", "ioServicedRecursive");
  }
  sp_json_map_close(g);
}

/* The page sizes this machine has, as the cgroup files name them ("2MB"). */
static void hugetlb(sp_json g, const struct sp_cgroup *cg, bool v2) {
  const char *d = v2 ? sp_cgroup_dir(cg, NULL) : sp_cg_v1_dir(cg, "hugetlb");
  bool v2files = v2;
  if (!d && cg->mode == SP_CGROUP_HYBRID) {
    d = sp_cgroup_dir(cg, NULL); /* hugetlb on the hybrid host's cgroup2 */
    v2files = true;
  }
  sp_json_key(g, "hugetlb");
  sp_json_map_open(g);
  DIR *dir = d ? opendir("/sys/kernel/mm/hugepages") : NULL;
  for (struct dirent *e; dir && (e = readdir(dir));) {
    unsigned long kb;
    if (sscanf(e->d_name, "hugepages-%lukB", &kb) != 1)
      continue;
    char size[32], f[96];
    if (kb >= (1UL << 20) && kb % (1UL << 20) == 0)
      snprintf(size, sizeof size, "%luGB", kb >> 20);
    else if (kb >= 1024 && kb % 1024 == 0)
      snprintf(size, sizeof size, "%luMB", kb >> 10);
    else
      snprintf(size, sizeof size, "%luKB", kb);
    snprintf(f, sizeof f, "hugetlb.%s.%s", size, v2files ? "current" : "usage_in_bytes");
    if (!sp_cg_has_file(d, f))
      continue;
    sp_json_key(g, size);
    sp_json_map_open(g);
    knum_nz(g, "usage", u64(d, f));
    if (!v2files) {
      snprintf(f, sizeof f, "hugetlb.%s.max_usage_in_bytes", size);
      knum_nz(g, "max", u64(d, f));
      snprintf(f, sizeof f, "hugetlb.%s.failcnt", size);
      knum(g, "failcnt", u64(d, f));
    } else {
      snprintf(f, sizeof f, "hugetlb.%s.events", size);
      knum(g, "failcnt", keyed(d, f, "max"));
    }
    sp_json_map_close(g);
  }
  if (dir)
    closedir(dir);
  sp_json_map_close(g);
}

int sp_cgroup_stats(const struct sp_cgroup *cg, sp_json g, struct sp_error *err) {
  if (cg->mode == SP_CGROUP_DISABLED || cg->dirs_len == 0)
    return sp_error_set(err, 0, "the container has no cgroup (created with "
                        "--cgroup-manager disabled): no statistics");
  bool v2 = cg->mode == SP_CGROUP_V2;
  sp_json_map_open(g);
  cpu(g, cg, v2);
  cpuset(g, cg, v2);
  memory(g, cg, v2);
  pids(g, cg, v2);
  blkio(g, cg, v2);
  hugetlb(g, cg, v2);
  sp_json_key(g, "intel_rdt");
  sp_json_map_open(g);
  sp_json_map_close(g);
  sp_json_key(g, "network_interfaces");
  sp_json_str(g, NULL);
  sp_json_map_close(g);
  return 0;
}
