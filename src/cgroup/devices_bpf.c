/* Device access: the rule list a container gets (deny everything, then the
 * config's rules, then the devices every container needs), the
 * BPF_PROG_TYPE_CGROUP_DEVICE program that enforces it on cgroup v2 (built
 * here instruction by instruction), and its attachment to the container's
 * cgroup.  On v1 the same list is written to devices.deny/devices.allow
 * (v1.c).
 *
 * Semantics of the list: for each kind of access (mknod, read, write) on
 * its own, the last rule that matches the device and names that access
 * decides; a request with several kinds needs all of them allowed. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup_internal.h"
#include "sprout/util.h"

#define RULES_MAX 4096

/* Every container may use these (what the spec's default devices need),
 * and may mknod any device (opening it is what the rules guard). */
static const struct sp_cg_dev_rule default_rules[] = {
    {true, 'c', -1, -1, SP_CG_ACC_MKNOD},
    {true, 'b', -1, -1, SP_CG_ACC_MKNOD},
    {true, 'c', 1, 3, SP_CG_ACC_ALL},   /* null */
    {true, 'c', 1, 8, SP_CG_ACC_ALL},   /* random */
    {true, 'c', 1, 7, SP_CG_ACC_ALL},   /* full */
    {true, 'c', 5, 0, SP_CG_ACC_ALL},   /* tty */
    {true, 'c', 1, 5, SP_CG_ACC_ALL},   /* zero */
    {true, 'c', 1, 9, SP_CG_ACC_ALL},   /* urandom */
    {true, 'c', 136, -1, SP_CG_ACC_ALL}, /* pts/N (and the console) */
    {true, 'c', 5, 2, SP_CG_ACC_ALL},   /* ptmx */
};

unsigned sp_cg_access_bits(const char *access) {
  unsigned a = 0;
  if (!access || !*access)
    return SP_CG_ACC_ALL;
  for (const char *p = access; *p; p++)
    a |= *p == 'm' ? SP_CG_ACC_MKNOD : *p == 'r' ? SP_CG_ACC_READ
                                     : *p == 'w' ? SP_CG_ACC_WRITE : 0;
  return a;
}

int sp_cg_device_rules(const struct sp_device_cgroup *cfg, size_t ncfg,
                       struct sp_cg_dev_rule **out, size_t *n) {
  size_t nd = sizeof default_rules / sizeof default_rules[0];
  *out = NULL;
  *n = 0;
  if (ncfg > RULES_MAX) {
    errno = E2BIG;
    return -1;
  }
  struct sp_cg_dev_rule *v = calloc(1 + ncfg + nd, sizeof *v);
  if (!v)
    return -1;
  size_t k = 0;
  v[k++] = (struct sp_cg_dev_rule){false, 'a', -1, -1, SP_CG_ACC_ALL};
  for (size_t i = 0; i < ncfg; i++) {
    const struct sp_device_cgroup *d = &cfg[i];
    v[k++] = (struct sp_cg_dev_rule){
        d->allow, d->type ? d->type : 'a',
        d->type != 'a' && d->has_major ? d->major : -1,
        d->type != 'a' && d->has_minor ? d->minor : -1,
        sp_cg_access_bits(d->access)};
  }
  memcpy(v + k, default_rules, sizeof default_rules);
  k += nd;
  *out = v;
  *n = k;
  return 0;
}

static bool rule_matches(const struct sp_cg_dev_rule *r, char type,
                         int64_t major, int64_t minor) {
  if (r->type != 'a' && r->type != type)
    return false;
  if (r->type != 'a' && r->major >= 0 && r->major != major)
    return false;
  if (r->type != 'a' && r->minor >= 0 && r->minor != minor)
    return false;
  return true;
}

bool sp_cg_device_allowed(const struct sp_cg_dev_rule *rules, size_t n,
                          char type, int64_t major, int64_t minor,
                          unsigned access) {
  for (unsigned bit = 1; bit <= SP_CG_ACC_WRITE; bit <<= 1) {
    if (!(access & bit))
      continue;
    bool allowed = false;
    for (size_t i = n; i-- > 0;)
      if ((rules[i].access & bit) && rule_matches(&rules[i], type, major, minor)) {
        allowed = rules[i].allow;
        break;
      }
    if (!allowed)
      return false;
  }
  return true;
}

/* ---- the program ---------------------------------------------------------- */

struct asm_ctx {
  struct bpf_insn *v;
  size_t n, cap;
  /* forward jumps: instruction index and label */
  struct { size_t at; size_t label; } *fix;
  size_t nfix, fixcap;
  size_t *label_pc; /* SIZE_MAX until placed */
  size_t nlabels;
  bool oom;
};

static void emit(struct asm_ctx *a, struct bpf_insn in) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 64;
    struct bpf_insn *v = realloc(a->v, cap * sizeof *v);
    if (!v) {
      a->oom = true;
      return;
    }
    a->v = v;
    a->cap = cap;
  }
  a->v[a->n++] = in;
}

static size_t new_label(struct asm_ctx *a) {
  size_t *l = realloc(a->label_pc, (a->nlabels + 1) * sizeof *l);
  if (!l) {
    a->oom = true;
    return 0;
  }
  a->label_pc = l;
  l[a->nlabels] = SIZE_MAX;
  return a->nlabels++;
}

static void place(struct asm_ctx *a, size_t label) {
  if (!a->oom)
    a->label_pc[label] = a->n;
}

/* A jump to LABEL (placed later): the offset is filled in at the end. */
static void emit_jump(struct asm_ctx *a, struct bpf_insn in, size_t label) {
  if (a->oom)
    return;
  if (a->nfix == a->fixcap) {
    size_t cap = a->fixcap ? a->fixcap * 2 : 64;
    void *f = realloc(a->fix, cap * sizeof *a->fix);
    if (!f) {
      a->oom = true;
      return;
    }
    a->fix = f;
    a->fixcap = cap;
  }
  a->fix[a->nfix].at = a->n;
  a->fix[a->nfix].label = label;
  a->nfix++;
  emit(a, in);
}

#define INSN(c, d, s, o, i) \
  ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(d, s, off) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, off, 0)
#define MOV32_REG(d, s) INSN(BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV32_IMM(d, i) INSN(BPF_ALU | BPF_MOV | BPF_K, d, 0, 0, i)
#define AND32_IMM(d, i) INSN(BPF_ALU | BPF_AND | BPF_K, d, 0, 0, i)
#define RSH32_IMM(d, i) INSN(BPF_ALU | BPF_RSH | BPF_K, d, 0, 0, i)
#define JNE_IMM(d, i) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, 0, i)
#define JEQ_IMM(d, i) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, 0, i)
#define JA() INSN(BPF_JMP | BPF_JA, 0, 0, 0, 0)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Registers: r2 access bits, r3 device type, r4 major, r5 minor, r6 scratch. */
int sp_cg_devices_prog(const struct sp_cg_dev_rule *rules, size_t n,
                       struct bpf_insn **out, size_t *len) {
  struct asm_ctx a = {0};
  size_t deny = new_label(&a);
  bool deny_used = false;

  emit(&a, LDX_W(BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type)));
  emit(&a, MOV32_REG(BPF_REG_3, BPF_REG_2));
  emit(&a, AND32_IMM(BPF_REG_3, 0xffff));
  emit(&a, RSH32_IMM(BPF_REG_2, 16));
  emit(&a, LDX_W(BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major)));
  emit(&a, LDX_W(BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor)));
  for (unsigned bit = 1; bit <= SP_CG_ACC_WRITE; bit <<= 1) {
    size_t bit_ok = new_label(&a);
    emit(&a, MOV32_REG(BPF_REG_6, BPF_REG_2));
    emit(&a, AND32_IMM(BPF_REG_6, (int32_t)bit));
    emit_jump(&a, JEQ_IMM(BPF_REG_6, 0), bit_ok);
    bool decided = false; /* an unconditional rule ends the scan */
    for (size_t i = n; i-- > 0 && !decided;) {
      const struct sp_cg_dev_rule *r = &rules[i];
      if (!(r->access & bit))
        continue;
      size_t next = new_label(&a);
      bool cond = false;
      if (r->type != 'a') {
        int t = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
        emit_jump(&a, JNE_IMM(BPF_REG_3, t), next);
        cond = true;
        if (r->major >= 0) {
          emit_jump(&a, JNE_IMM(BPF_REG_4, (int32_t)r->major), next);
        }
        if (r->minor >= 0) {
          emit_jump(&a, JNE_IMM(BPF_REG_5, (int32_t)r->minor), next);
        }
      }
      emit_jump(&a, JA(), r->allow ? bit_ok : deny);
      deny_used |= !r->allow;
      place(&a, next);
      decided = !cond;
    }
    if (!decided) { /* nothing matched: the base rule is "deny all" */
      emit_jump(&a, JA(), deny);
      deny_used = true;
    }
    place(&a, bit_ok);
  }
  emit(&a, MOV32_IMM(BPF_REG_0, 1));
  emit(&a, EXIT());
  if (deny_used) {
    place(&a, deny);
    emit(&a, MOV32_IMM(BPF_REG_0, 0));
    emit(&a, EXIT());
  }
  for (size_t i = 0; !a.oom && i < a.nfix; i++) {
    size_t target = a.label_pc[a.fix[i].label];
    long off = (long)target - (long)a.fix[i].at - 1;
    if (target == SIZE_MAX || off < 0 || off > INT16_MAX) {
      a.oom = true;
      errno = E2BIG;
      break;
    }
    a.v[a.fix[i].at].off = (int16_t)off;
  }
  free(a.fix);
  free(a.label_pc);
  if (a.oom) {
    int e = errno ? errno : ENOMEM;
    free(a.v);
    errno = e;
    return -1;
  }
  *out = a.v;
  *len = a.n;
  return 0;
}

/* ---- loading and attaching ------------------------------------------------- */

static int sys_bpf(int cmd, union bpf_attr *attr) {
  return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

int sp_cg_devices_load(const struct bpf_insn *prog, size_t len, char *log,
                       size_t logsz) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)prog;
  attr.insn_cnt = (uint32_t)len;
  attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
  if (log && logsz) {
    log[0] = '\0';
    attr.log_buf = (uint64_t)(uintptr_t)log;
    attr.log_size = (uint32_t)logsz;
    attr.log_level = 1;
  }
  int fd = sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0 && log && logsz && errno == ENOSPC) {
    /* the log was too small: load again without one for the fd */
    attr.log_buf = 0;
    attr.log_size = 0;
    attr.log_level = 0;
    fd = sys_bpf(BPF_PROG_LOAD, &attr);
  }
  return fd;
}

/* The ids of the device programs attached to the cgroup at CGFD. */
static int query_progs(int cgfd, uint32_t *ids, uint32_t *n) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t)cgfd;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = *n;
  if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
    return -1;
  *n = attr.query.prog_cnt;
  return 0;
}

int sp_cg_devices_attach(const char *dir, const struct sp_cg_dev_rule *rules,
                         size_t n, struct sp_error *err) {
  struct bpf_insn *prog = NULL;
  size_t len = 0;
  if (sp_cg_devices_prog(rules, n, &prog, &len) < 0)
    return sp_error_sys(err, "devices: build the device program (%zu rules)", n);
  char log[4096];
  int pfd = sp_cg_devices_load(prog, len, log, sizeof log);
  free(prog);
  if (pfd < 0) {
    int e = errno;
    char *nl = strchr(log, '\n');
    if (nl)
      *nl = '\0';
    return sp_error_errno(err, e, "devices: load the BPF device program%s%s",
                          *log ? " (" : "", *log ? log : "");
  }
  int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0) {
    close(pfd);
    return sp_error_sys(err, "devices: open %s", dir);
  }
  uint32_t old[64], nold = 64;
  if (query_progs(cgfd, old, &nold) < 0)
    nold = 0;
  if (nold > 64)
    nold = 64;
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cgfd;
  attr.attach_bpf_fd = (uint32_t)pfd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  int r = 0;
  if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0) {
    r = sp_error_sys(err, "devices: attach the BPF device program to %s", dir);
    goto out;
  }
  /* the programs this one replaces (an update) */
  for (uint32_t i = 0; i < nold; i++) {
    union bpf_attr g;
    memset(&g, 0, sizeof g);
    g.prog_id = old[i];
    int ofd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
    if (ofd < 0)
      continue;
    memset(&attr, 0, sizeof attr);
    attr.target_fd = (uint32_t)cgfd;
    attr.attach_bpf_fd = (uint32_t)ofd;
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && r == 0)
      r = sp_error_sys(err, "devices: detach the previous device program of %s", dir);
    close(ofd);
  }
out:
  close(cgfd);
  close(pfd);
  return r;
}

int sp_cg_devices_count(const char *dir) {
  int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0)
    return -1;
  uint32_t ids[64], n = 64;
  int r = query_progs(cgfd, ids, &n);
  close(cgfd);
  return r < 0 ? -1 : (int)n;
}
