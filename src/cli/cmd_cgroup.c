/* update, pause, resume: a running container's cgroup. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_cgroup.h"
#include "sprout/cgroup.h"
#include "sprout/parse.h"
#include "sprout/spec.h"
#include "sprout/state.h"
#include "sprout/util.h"

#define RESOURCES_MAX (4u << 20)

/* ---- the container ------------------------------------------------------------------ */

int cli_ctr_open(const struct sp_global *g, const char *id, int lock,
                 struct cli_ctr *c, struct sp_error *err) {
  memset(c, 0, sizeof *c);
  c->fd = sp_state_open(g->root ? g->root : SP_DEFAULT_ROOT, id, lock, err);
  if (c->fd < 0)
    return -1;
  if (sp_state_load(c->fd, id, &c->st, err) < 0) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  c->loaded = true;
  c->status = sp_state_status(c->fd, &c->st);
  enum sp_cgroup_mode mode;
  if (sp_cgroup_mode_from_name(c->st.cgroup_mode, &mode) < 0)
    mode = SP_CGROUP_DISABLED;
  if (sp_cgroup_from_string(mode, c->st.cgroup_path, &c->cg, err) < 0) {
    cli_ctr_close(c);
    return -1;
  }
  return 0;
}

void cli_ctr_close(struct cli_ctr *c) {
  sp_cgroup_free(&c->cg);
  if (c->loaded)
    sp_state_free(&c->st);
  c->loaded = false;
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
}

int cli_ctr_want_running(const struct cli_ctr *c, const char *id, bool paused_ok,
                         struct sp_error *err) {
  if (c->status == SP_STATUS_RUNNING || (paused_ok && c->status == SP_STATUS_PAUSED) ||
      (paused_ok && c->status == SP_STATUS_CREATED))
    return 0;
  return sp_error_set(err, 0, "container \"%s\" is %s, not running", id,
                      sp_status_name(c->status == SP_STATUS_CREATING ? SP_STATUS_STOPPED
                                                                      : c->status));
}

/* ---- pause, resume ------------------------------------------------------------------ */

static int freeze_cmd(const char *cmd, bool frozen, const struct sp_global *g, int argc,
                      char **argv, const char **id, struct sp_error *err) {
  int first;
  int r = cli_parse(cmd, argc, argv, "", NULL, NULL, NULL, &first, err);
  if (r != 0)
    return r < 0 ? -1 : 0;
  if (cli_want_id(cmd, argc, argv, first, id, err) < 0)
    return -1;
  struct cli_ctr c;
  if (cli_ctr_open(g, *id, SP_LOCK_EX, &c, err) < 0)
    return -1;
  if (frozen && c.status != SP_STATUS_RUNNING)
    r = sp_error_set(err, 0, "container \"%s\" is %s, not running: cannot pause it",
                     *id, sp_status_name(c.status == SP_STATUS_CREATING ? SP_STATUS_STOPPED
                                                                         : c.status));
  else if (!frozen && c.status != SP_STATUS_PAUSED)
    r = sp_error_set(err, 0, "container \"%s\" is %s, not paused: cannot resume it",
                     *id, sp_status_name(c.status == SP_STATUS_CREATING ? SP_STATUS_STOPPED
                                                                         : c.status));
  else
    r = sp_cgroup_freeze(&c.cg, frozen, err);
  cli_ctr_close(&c);
  return r;
}

int cmd_pause(const struct sp_global *g, int argc, char **argv, const char **id,
              struct sp_error *err) {
  return freeze_cmd("pause", true, g, argc, argv, id, err);
}

int cmd_resume(const struct sp_global *g, int argc, char **argv, const char **id,
               struct sp_error *err) {
  return freeze_cmd("resume", false, g, argc, argv, id, err);
}

/* ---- update --------------------------------------------------------------------------- */

enum {
  U_RESOURCES = 'r', U_BLKIO = 256, U_CPU_PERIOD, U_CPU_QUOTA, U_CPU_SHARE,
  U_RT_PERIOD, U_RT_RUNTIME, U_CPUS, U_MEMS, U_KMEM, U_KMEM_TCP, U_MEMORY,
  U_MEM_RES, U_MEM_SWAP, U_PIDS, U_L3, U_MEMBW,
};

static const struct option update_opts[] = {
    {"resources", required_argument, NULL, U_RESOURCES},
    {"blkio-weight", required_argument, NULL, U_BLKIO},
    {"cpu-period", required_argument, NULL, U_CPU_PERIOD},
    {"cpu-quota", required_argument, NULL, U_CPU_QUOTA},
    {"cpu-share", required_argument, NULL, U_CPU_SHARE},
    {"cpu-rt-period", required_argument, NULL, U_RT_PERIOD},
    {"cpu-rt-runtime", required_argument, NULL, U_RT_RUNTIME},
    {"cpuset-cpus", required_argument, NULL, U_CPUS},
    {"cpuset-mems", required_argument, NULL, U_MEMS},
    {"kernel-memory", required_argument, NULL, U_KMEM},
    {"kernel-memory-tcp", required_argument, NULL, U_KMEM_TCP},
    {"memory", required_argument, NULL, U_MEMORY},
    {"memory-reservation", required_argument, NULL, U_MEM_RES},
    {"memory-swap", required_argument, NULL, U_MEM_SWAP},
    {"pids-limit", required_argument, NULL, U_PIDS},
    {"l3-cache-schema", required_argument, NULL, U_L3},
    {"mem-bw-schema", required_argument, NULL, U_MEMBW},
    {0}};

struct update_opts {
  const char *resources;
  struct sp_resources r; /* from the flags */
  int nflags;
};

static const char *flag_name(int opt) {
  for (const struct option *o = update_opts; o->name; o++)
    if (o->val == opt)
      return o->name;
  return "?";
}

static int want_u64(const char *arg, int opt, uint64_t *v, struct sp_error *err) {
  if (sp_parse_u64(arg, v) < 0)
    return sp_error_set(err, 0, "--%s: expected a number >= 0, got \"%s\"",
                        flag_name(opt), arg);
  return 0;
}

static int want_i64(const char *arg, int opt, int64_t *v, struct sp_error *err) {
  if (sp_parse_i64(arg, v) < 0)
    return sp_error_set(err, 0, "--%s: expected a number, got \"%s\"", flag_name(opt), arg);
  return 0;
}

static int want_bytes(const char *arg, int opt, int64_t *v, struct sp_error *err) {
  if (sp_cgroup_parse_bytes(arg, v) < 0)
    return sp_error_set(err, 0, "--%s: expected a size in bytes (e.g. 512m, 1g, -1), "
                        "got \"%s\"", flag_name(opt), arg);
  return 0;
}

static int update_flag(int opt, const char *arg, void *data, struct sp_error *err) {
  struct update_opts *o = data;
  struct sp_resources *r = &o->r;
  uint64_t u;
  int64_t i;
  if (opt != U_RESOURCES)
    o->nflags++;
  switch (opt) {
  case U_RESOURCES: o->resources = arg; return 0;
  case U_BLKIO:
    if (want_u64(arg, opt, &u, err) < 0)
      return -1;
    if (u != 0 && (u < 10 || u > 1000))
      return sp_error_set(err, 0, "--blkio-weight: expected 10 to 1000, got %s", arg);
    r->has_block_io = r->block_io.has_weight = u != 0;
    r->block_io.weight = (uint16_t)u;
    return 0;
  case U_CPU_PERIOD:
    r->has_cpu = r->cpu.has_period = true;
    return want_u64(arg, opt, &r->cpu.period, err);
  case U_CPU_QUOTA:
    r->has_cpu = r->cpu.has_quota = true;
    return want_i64(arg, opt, &r->cpu.quota, err);
  case U_CPU_SHARE:
    r->has_cpu = r->cpu.has_shares = true;
    return want_u64(arg, opt, &r->cpu.shares, err);
  case U_RT_PERIOD:
    r->has_cpu = r->cpu.has_realtime_period = true;
    return want_u64(arg, opt, &r->cpu.realtime_period, err);
  case U_RT_RUNTIME:
    r->has_cpu = r->cpu.has_realtime_runtime = true;
    return want_i64(arg, opt, &r->cpu.realtime_runtime, err);
  case U_CPUS:
  case U_MEMS: {
    char **dst = opt == U_CPUS ? &r->cpu.cpus : &r->cpu.mems;
    r->has_cpu = true;
    free(*dst);
    if (!(*dst = strdup(arg)))
      return sp_error_errno(err, ENOMEM, "--%s", flag_name(opt));
    return 0;
  }
  case U_KMEM:
    r->has_memory = r->memory.has_kernel = true;
    return want_bytes(arg, opt, &r->memory.kernel, err);
  case U_KMEM_TCP:
    r->has_memory = r->memory.has_kernel_tcp = true;
    return want_bytes(arg, opt, &r->memory.kernel_tcp, err);
  case U_MEMORY:
    r->has_memory = r->memory.has_limit = true;
    return want_bytes(arg, opt, &r->memory.limit, err);
  case U_MEM_RES:
    r->has_memory = r->memory.has_reservation = true;
    return want_bytes(arg, opt, &r->memory.reservation, err);
  case U_MEM_SWAP:
    r->has_memory = r->memory.has_swap = true;
    return want_bytes(arg, opt, &r->memory.swap, err);
  case U_PIDS:
    if (want_i64(arg, opt, &i, err) < 0)
      return -1;
    r->has_pids = r->has_pids_limit = i != 0;
    r->pids_limit = i;
    return 0;
  case U_L3:
  case U_MEMBW:
    return sp_error_set(err, 0, "--%s: Intel RDT is not supported by sprout",
                        flag_name(opt));
  }
  return 0;
}

/* The resources file (or stdin for "-"). */
static int read_resources(const char *file, struct sp_resources *r, struct sp_error *err) {
  char *buf = NULL;
  size_t len = 0;
  const char *name = strcmp(file, "-") == 0 ? "resources (stdin)" : file;
  if (strcmp(file, "-") == 0) {
    struct sp_buf b = {0};
    char chunk[8192];
    ssize_t n;
    while ((n = read(0, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR)) {
      if (n < 0)
        continue;
      if (b.len + (size_t)n > RESOURCES_MAX || sp_buf_append(&b, chunk, (size_t)n) < 0) {
        sp_buf_free(&b);
        return sp_error_set(err, EFBIG, "--resources -: more than %u bytes",
                            RESOURCES_MAX);
      }
    }
    if (n < 0) {
      sp_buf_free(&b);
      return sp_error_sys(err, "--resources -: read stdin");
    }
    buf = b.data;
    len = b.len;
  } else if (sp_read_file(file, RESOURCES_MAX, &buf, &len, err) < 0) {
    return sp_error_prefix(err, "--resources");
  }
  int rc = sp_resources_parse_buf(buf ? buf : "", len, name, r, err);
  free(buf);
  return rc;
}

int cmd_update(const struct sp_global *g, int argc, char **argv, const char **id,
               struct sp_error *err) {
  struct update_opts o = {0};
  struct sp_resources file_res = {0};
  int first;
  int r = cli_parse("update", argc, argv, "r:", update_opts, update_flag, &o, &first, err);
  if (r != 0) {
    sp_resources_free(&o.r);
    return r < 0 ? -1 : 0;
  }
  if (cli_want_id("update", argc, argv, first, id, err) < 0)
    goto fail;
  if (o.resources && o.nflags) {
    /* runc silently ignores the flags then; say so instead */
    sp_error_set(err, 0, "--resources cannot be combined with the other "
                 "resource flags (put every value in the file)");
    goto fail;
  }
  if (!o.resources && !o.nflags) {
    sp_error_set(err, 0, "nothing to update: give --resources FILE or resource "
                 "flags (see 'sprout update --help')");
    goto fail;
  }
  if (o.resources && read_resources(o.resources, &file_res, err) < 0)
    goto fail;
  const struct sp_resources *res = o.resources ? &file_res : &o.r;
  struct cli_ctr c;
  if (cli_ctr_open(g, *id, SP_LOCK_EX, &c, err) < 0)
    goto fail;
  r = cli_ctr_want_running(&c, *id, true, err);
  if (r == 0)
    r = sp_cgroup_check(c.cg.mode, res, "", err);
  if (r == 0)
    r = sp_cgroup_apply(&c.cg, res, "", true, err);
  cli_ctr_close(&c);
  sp_resources_free(&o.r);
  sp_resources_free(&file_res);
  return r;
fail:
  sp_resources_free(&o.r);
  sp_resources_free(&file_res);
  return -1;
}
