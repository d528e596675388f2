/* linux.seccomp -> a BPF program (libseccomp) -> seccomp(2).
 *
 * The profile is compiled in the runtime process, before any side effect,
 * so that a rule libseccomp refuses is an error of `create` naming the
 * JSON path; the program (cached by seccomp_cache.c) is then installed by
 * the container's init with one seccomp(2) call as the last step before
 * execve.
 *
 * Semantics follow runc: a syscall name unknown to libseccomp is skipped
 * (debug log); a rule whose action is the default action is left out;
 * conditions on distinct arguments are ANDed in one rule, while several
 * conditions on the same argument become one rule each (ORed), which is
 * what profiles like Docker's rely on (personality, clone flags).  Syscalls
 * newer than the profile get -ENOSYS from a stub in front of libseccomp's
 * program (seccomp_enosys.c). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sprout/security.h"
#include "sprout/util.h"

#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

_Static_assert(sizeof(struct sp_bpf_insn) == sizeof(struct sock_filter),
               "sp_bpf_insn must be struct sock_filter");

#define MAX_INSNS 65535 /* what a sock_fprog length can say */

int sp_seccomp_action(enum sp_seccomp_action a, bool has_errno, uint32_t errno_ret,
                      uint32_t *out) {
  uint32_t e = has_errno ? errno_ret : EPERM;
  switch (a) {
  case SP_SCMP_KILL:
    *out = SCMP_ACT_KILL;
    return 0;
  case SP_SCMP_KILL_PROCESS:
    *out = SCMP_ACT_KILL_PROCESS;
    return 0;
  case SP_SCMP_KILL_THREAD:
    *out = SCMP_ACT_KILL_THREAD;
    return 0;
  case SP_SCMP_TRAP:
    *out = SCMP_ACT_TRAP;
    return 0;
  case SP_SCMP_ERRNO:
  case SP_SCMP_TRACE:
    if (e > 0xffff) /* the action's data is 16 bits */
      return -1;
    *out = a == SP_SCMP_ERRNO ? SCMP_ACT_ERRNO(e) : SCMP_ACT_TRACE(e);
    return 0;
  case SP_SCMP_ALLOW:
    *out = SCMP_ACT_ALLOW;
    return 0;
  case SP_SCMP_LOG:
    *out = SCMP_ACT_LOG;
    return 0;
  case SP_SCMP_NOTIFY:
    *out = SCMP_ACT_NOTIFY;
    return 0;
  }
  return -1;
}

int sp_seccomp_op(enum sp_seccomp_op op) {
  switch (op) {
  case SP_SCMP_CMP_NE: return SCMP_CMP_NE;
  case SP_SCMP_CMP_LT: return SCMP_CMP_LT;
  case SP_SCMP_CMP_LE: return SCMP_CMP_LE;
  case SP_SCMP_CMP_EQ: return SCMP_CMP_EQ;
  case SP_SCMP_CMP_GE: return SCMP_CMP_GE;
  case SP_SCMP_CMP_GT: return SCMP_CMP_GT;
  case SP_SCMP_CMP_MASKED_EQ: return SCMP_CMP_MASKED_EQ;
  }
  return -1;
}

uint32_t sp_seccomp_arch(const char *name) {
  /* "SCMP_ARCH_X86_64" -> libseccomp's "x86_64" */
  if (!name || strncmp(name, "SCMP_ARCH_", 10) != 0)
    return 0;
  char lower[32];
  size_t n = strlen(name + 10);
  if (n == 0 || n >= sizeof lower)
    return 0;
  for (size_t i = 0; i <= n; i++)
    lower[i] = (char)tolower((unsigned char)name[10 + i]);
  return seccomp_arch_resolve_name(lower);
}

bool sp_seccomp_flag_supported(unsigned int flag) {
  /* a known flag with a NULL program fails with EFAULT, an unknown one
   * with EINVAL (the kernel checks flags first) */
  /* WAIT_KILLABLE_RECV is only valid with a listener */
  if (flag & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
    flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  errno = 0;
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL);
  return r < 0 && errno == EFAULT;
}

static const struct {
  const char *name;
  unsigned int flag;
} flag_names[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

int sp_seccomp_flags(const struct sp_seccomp *s, bool notify, unsigned int *out,
                     struct sp_error *err) {
  unsigned int f = 0;
  for (size_t i = 0; i < s->flags_len; i++) {
    size_t j = 0;
    while (j < sizeof flag_names / sizeof flag_names[0] &&
           strcmp(flag_names[j].name, s->flags[i]) != 0)
      j++;
    if (j == sizeof flag_names / sizeof flag_names[0])
      return sp_error_set(err, 0, ".linux.seccomp.flags[%zu]: unknown seccomp flag \"%s\"",
                          i, s->flags[i]);
    unsigned int bit = flag_names[j].flag;
    if (bit == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !notify) {
      /* only meaningful (and accepted by the kernel) with a listener */
      sp_log(SP_LOG_DEBUG, "seccomp: %s ignored: the profile has no SCMP_ACT_NOTIFY rule",
             s->flags[i]);
      continue;
    }
    if (!sp_seccomp_flag_supported(bit))
      return sp_error_set(err, EINVAL, ".linux.seccomp.flags[%zu]: %s is not supported by "
                          "the running kernel", i, s->flags[i]);
    f |= bit;
  }
  if (notify) {
    f |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    /* TSYNC and a listener only go together with TSYNC_ESRCH */
    if (f & SECCOMP_FILTER_FLAG_TSYNC)
      f |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }
  *out = f;
  return 0;
}

/* ---- compile ----------------------------------------------------------- */

static const char *action_name(enum sp_seccomp_action a) {
  static const char *const names[] = {
      [SP_SCMP_KILL] = "SCMP_ACT_KILL",   [SP_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
      [SP_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD", [SP_SCMP_TRAP] = "SCMP_ACT_TRAP",
      [SP_SCMP_ERRNO] = "SCMP_ACT_ERRNO", [SP_SCMP_TRACE] = "SCMP_ACT_TRACE",
      [SP_SCMP_ALLOW] = "SCMP_ACT_ALLOW", [SP_SCMP_LOG] = "SCMP_ACT_LOG",
      [SP_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY"};
  return (unsigned)a < sizeof names / sizeof names[0] ? names[a] : "?";
}

static int add_arches(scmp_filter_ctx ctx, const struct sp_seccomp *s, struct sp_error *err) {
  for (size_t i = 0; i < s->architectures_len; i++) {
    uint32_t arch = sp_seccomp_arch(s->architectures[i]);
    if (arch == 0) {
      sp_log(SP_LOG_WARN, "seccomp: architecture %s is not known to libseccomp %u.%u.%u: "
             "skipped", s->architectures[i], seccomp_version()->major,
             seccomp_version()->minor, seccomp_version()->micro);
      continue;
    }
    int r = seccomp_arch_add(ctx, arch);
    if (r < 0 && r != -EEXIST)
      return sp_error_errno(err, -r, ".linux.seccomp.architectures[%zu]: add %s", i,
                            s->architectures[i]);
  }
  return 0;
}

static void to_cmp(const struct sp_seccomp_arg *a, struct scmp_arg_cmp *c) {
  c->arg = a->index;
  c->op = (enum scmp_compare)sp_seccomp_op(a->op);
  c->datum_a = a->value;
  c->datum_b = a->has_value_two ? a->value_two : 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct sp_seccomp_syscall *sc, size_t idx,
                    const char *name, uint32_t act, struct sp_error *err) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) {
    sp_log(SP_LOG_DEBUG, "seccomp: syscall \"%s\" (.linux.seccomp.syscalls[%zu]) is not known "
           "to libseccomp: skipped", name, idx);
    return 0;
  }
  struct scmp_arg_cmp cmp[6];
  bool repeated = false;
  unsigned seen = 0;
  for (size_t i = 0; i < sc->args_len; i++) {
    unsigned bit = 1u << sc->args[i].index;
    repeated |= (seen & bit) != 0;
    seen |= bit;
  }
  int r = 0;
  if (sc->args_len == 0) {
    r = seccomp_rule_add_array(ctx, act, nr, 0, NULL);
  } else if (!repeated) {
    /* one rule, every condition must hold (at most 6: one per argument) */
    for (size_t i = 0; i < sc->args_len; i++)
      to_cmp(&sc->args[i], &cmp[i]);
    r = seccomp_rule_add_array(ctx, act, nr, (unsigned)sc->args_len, cmp);
  } else {
    /* libseccomp cannot AND two conditions on one argument: any matches */
    for (size_t i = 0; i < sc->args_len && r == 0; i++) {
      to_cmp(&sc->args[i], &cmp[0]);
      r = seccomp_rule_add_array(ctx, act, nr, 1, cmp);
    }
  }
  if (r < 0)
    return sp_error_errno(err, -r, ".linux.seccomp.syscalls[%zu]: add a %s rule for \"%s\"",
                          idx, action_name(sc->action), name);
  return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct sp_seccomp *s, uint32_t def,
                     struct sp_error *err) {
  for (size_t i = 0; i < s->syscalls_len; i++) {
    const struct sp_seccomp_syscall *sc = &s->syscalls[i];
    uint32_t act;
    if (sp_seccomp_action(sc->action, sc->has_errno_ret, sc->errno_ret, &act) < 0)
      return sp_error_set(err, 0, ".linux.seccomp.syscalls[%zu].errnoRet: %u does not fit "
                          "in 16 bits", i, sc->errno_ret);
    if (act == def) {
      /* libseccomp refuses it, and it changes nothing */
      sp_log(SP_LOG_DEBUG, "seccomp: .linux.seccomp.syscalls[%zu] has the default action: "
             "skipped", i);
      continue;
    }
    for (size_t j = 0; j < sc->names_len; j++)
      if (add_rule(ctx, sc, i, sc->names[j], act, err) < 0)
        return -1;
  }
  return 0;
}

/* Export the program through a memfd (libseccomp 2.5 has no memory
 * export). */
static int export_bpf(scmp_filter_ctx ctx, struct sp_seccomp_prog *out, struct sp_error *err) {
  int fd = memfd_create("sprout-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return sp_error_sys(err, "seccomp: memfd_create");
  int r = seccomp_export_bpf(ctx, fd);
  struct stat st;
  if (r < 0) {
    close(fd);
    return sp_error_errno(err, -r, "seccomp: export the BPF program");
  }
  if (fstat(fd, &st) < 0) {
    close(fd);
    return sp_error_sys(err, "seccomp: stat the exported program");
  }
  size_t size = (size_t)st.st_size;
  if (size == 0 || size % sizeof(struct sp_bpf_insn) != 0 ||
      size / sizeof(struct sp_bpf_insn) > MAX_INSNS) {
    close(fd);
    return sp_error_set(err, EINVAL, "seccomp: the exported program has %zu bytes", size);
  }
  out->insns = malloc(size);
  if (!out->insns) {
    close(fd);
    return sp_error_errno(err, ENOMEM, "seccomp: program");
  }
  ssize_t n = pread(fd, out->insns, size, 0);
  close(fd);
  if (n != (ssize_t)size) {
    free(out->insns);
    out->insns = NULL;
    return sp_error_sys(err, "seccomp: read the exported program");
  }
  out->len = size / sizeof(struct sp_bpf_insn);
  return 0;
}

static bool has_notify(const struct sp_seccomp *s) {
  for (size_t i = 0; i < s->syscalls_len; i++)
    if (s->syscalls[i].action == SP_SCMP_NOTIFY)
      return true;
  return false;
}

/* Syscalls in a binary tree rather than a linear list (libseccomp >= 2.5):
 * Docker's profile, 1001 instructions linear, becomes ~1250 instructions
 * that the kernel runs in O(log n), and attaching it (the kernel runs the
 * filter for every syscall number to build its action cache) takes half
 * the time (tests/bench/PROFILE.md section 7).  Without it: linear. */
static void set_optimize(scmp_filter_ctx ctx) {
  int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (r < 0)
    sp_log(SP_LOG_DEBUG, "seccomp: libseccomp %u.%u.%u has no binary-tree optimization "
           "(%s): linear filter", seccomp_version()->major, seccomp_version()->minor,
           seccomp_version()->micro, strerror(-r));
}

int sp_seccomp_compile(const struct sp_seccomp *s, struct sp_seccomp_prog *out,
                       struct sp_error *err) {
  memset(out, 0, sizeof *out);
  uint32_t def;
  if (sp_seccomp_action(s->default_action, s->has_default_errno_ret, s->default_errno_ret,
                        &def) < 0)
    return sp_error_set(err, 0, ".linux.seccomp.defaultErrnoRet: %u does not fit in 16 bits",
                        s->default_errno_ret);
  if (s->default_action == SP_SCMP_NOTIFY)
    return sp_error_set(err, 0, ".linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the "
                        "default action");
  scmp_filter_ctx ctx = seccomp_init(def);
  if (!ctx)
    return sp_error_set(err, EINVAL, ".linux.seccomp.defaultAction: libseccomp refuses %s",
                        action_name(s->default_action));
  int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (r == 0)
    set_optimize(ctx);
  if (r == 0)
    r = add_arches(ctx, s, err);
  else
    sp_error_errno(err, -r, "seccomp: set filter attributes");
  if (r == 0)
    r = add_rules(ctx, s, def, err);
  if (r == 0)
    r = export_bpf(ctx, out, err);
  seccomp_release(ctx);
  if (r == 0 && sp_seccomp_enosys_stub(s, out, err) < 0) {
    sp_seccomp_prog_free(out);
    r = -1;
  }
  if (r < 0)
    return -1;
  out->notify = has_notify(s);
  return 0;
}

void sp_seccomp_prog_free(struct sp_seccomp_prog *p) {
  if (!p)
    return;
  free(p->insns);
  memset(p, 0, sizeof *p);
}

/* ---- load -------------------------------------------------------------- */

int sp_seccomp_load(const struct sp_seccomp_prog *p, int *notify_fd, struct sp_error *err) {
  *notify_fd = -1;
  struct sock_fprog prog = {.len = (unsigned short)p->len,
                            .filter = (struct sock_filter *)p->insns};
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &prog);
  if (r < 0) {
    int e = errno;
    if (e == EACCES)
      return sp_error_errno(err, e, "load the seccomp filter (%zu instructions): neither "
                            "no_new_privs nor CAP_SYS_ADMIN", p->len);
    return sp_error_errno(err, e, "load the seccomp filter (%zu instructions, flags %#x)",
                          p->len, p->flags);
  }
  if (p->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
    *notify_fd = (int)r;
  return 0;
}
