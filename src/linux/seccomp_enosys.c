/* Syscalls newer than the profile get -ENOSYS, not the default action.
 *
 * A profile is written against the syscalls that existed when it was
 * written.  With a deny default action (EPERM in Docker's profile) every
 * syscall added to the kernel later fails with that action, and libc sees
 * EPERM where it expects ENOSYS for "this kernel does not have it": glibc
 * then does not fall back (faccessat2 -> faccessat, clone3 -> clone,
 * openat2, close_range, ...).  Like runc since 1.0, sprout puts a small
 * BPF program in front of libseccomp's: for each architecture of the
 * filter, a syscall whose number is greater than the largest number the
 * profile names for that architecture returns -ENOSYS; everything else
 * goes on to libseccomp's program unchanged.  A syscall the profile names
 * is never above that largest number, so its rule always applies.  The
 * architectures are the filter's: libseccomp's native one and the listed
 * ones (runc 1.1.5 looks at the listed ones only, so a profile without
 * "architectures" gets no stub there and newer syscalls get EPERM).
 *
 * No stub when the default action lets the call through or hands it to
 * someone else: SCMP_ACT_ALLOW, SCMP_ACT_LOG and SCMP_ACT_TRACE (a tracer
 * handles unknown syscalls itself; without one the kernel already answers
 * ENOSYS), nor when the default action already is ERRNO(ENOSYS).  An
 * architecture for which the profile names no syscall gets no stub (the
 * whole profile is then "deny everything", which stays as written).
 *
 * clone3 is the one syscall below the largest number that also gets
 * -ENOSYS when the profile does not name it: its flags are in memory that
 * seccomp cannot read, so no profile can have meant to allow it without
 * naming it, and glibc >= 2.34 creates every thread with clone3 and falls
 * back to clone (which the profile can filter) only on ENOSYS.  Profiles
 * that name faccessat2 (439) but not clone3 (435) exist (Docker's before
 * 20.10.10), and with them EPERM breaks pthread_create.  runc 1.1.5 does
 * not do this (it returns the default action for an unnamed clone3 below
 * the largest number).
 *
 * s390/s390x: a syscall number the kernel does not know reaches seccomp
 * as 0 (the multiplexer, setup(2), unused for decades): -ENOSYS as well.
 *
 * Layout (seccomp_data: nr at offset 0, arch at offset 4):
 *
 *     ld arch; jeq AUDIT_ARCH_a -> A; jeq AUDIT_ARCH_b -> B; ...; ja FILTER
 *  A: ld nr; [x86_64: jset __X32_SYSCALL_BIT -> A32]; [jeq clone3 -> ENOSYS]
 *     jgt MAX_a -> ENOSYS, else FILTER
 *  A32: (the same with the x32 numbers, which carry the bit) ...
 *  ENOSYS: ret ERRNO(ENOSYS)
 *  FILTER: libseccomp's program, which loads what it needs itself.
 *
 * x86_64 and x32 share AUDIT_ARCH_X86_64; an x32 call has bit 30 set in
 * its number.  A half of the filter that lacks an ABI jumps straight to
 * libseccomp's program, which applies its bad-architecture action. */
#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sprout/security.h"
#include "sprout/util.h"

#define X32_BIT 0x40000000u
#define MAX_STUB 1024
#define MAX_ABIS 32

enum { L_NEXT = -1, L_ENOSYS = 0, L_FILTER = 1, L_FIRST_FREE = 2 };

struct abi {
  uint32_t token; /* SCMP_ARCH_* */
  long max;       /* largest syscall number the profile names, -1: none */
  long clone3;    /* clone3's number when it needs its own -ENOSYS, else -1 */
};

struct stub {
  struct sp_bpf_insn insn[MAX_STUB];
  int jt[MAX_STUB], jf[MAX_STUB]; /* label ids (L_NEXT: fall through) */
  int label[MAX_STUB];            /* instruction index of each label */
  size_t n;
  int labels;
  bool overflow;
};

static int new_label(struct stub *st) { return st->labels++; }

static void place(struct stub *st, int label) { st->label[label] = (int)st->n; }

static void emit(struct stub *st, uint16_t code, uint32_t k, int jt, int jf) {
  if (st->n == MAX_STUB) {
    st->overflow = true;
    return;
  }
  st->insn[st->n] = (struct sp_bpf_insn){.code = code, .k = k};
  st->jt[st->n] = jt;
  st->jf[st->n] = jf;
  st->n++;
}

static void load(struct stub *st, uint32_t offset) {
  emit(st, BPF_LD | BPF_W | BPF_ABS, offset, L_NEXT, L_NEXT);
}

static void jump(struct stub *st, int label) {
  emit(st, BPF_JMP | BPF_JA, 0, label, L_NEXT);
}

/* the checks of one ABI, the syscall number in the accumulator */
static void limit(struct stub *st, const struct abi *a) {
  if (!a || a->max < 0) {
    jump(st, L_FILTER);
    return;
  }
  if (a->token == SCMP_ARCH_S390 || a->token == SCMP_ARCH_S390X)
    emit(st, BPF_JMP | BPF_JEQ | BPF_K, 0, L_ENOSYS, L_NEXT);
  if (a->clone3 >= 0)
    emit(st, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)a->clone3, L_ENOSYS, L_NEXT);
  emit(st, BPF_JMP | BPF_JGT | BPF_K, (uint32_t)a->max, L_ENOSYS, L_FILTER);
}

/* how far instruction I jumps to reach LABEL */
static long distance(const struct stub *st, size_t i, int label) {
  return label == L_NEXT ? 0 : st->label[label] - (long)(i + 1);
}

/* Label ids -> relative offsets.  -1 when a conditional jump is longer
 * than 255 instructions (never with the ~20 architectures there are). */
static int resolve(struct stub *st) {
  for (size_t i = 0; i < st->n; i++) {
    struct sp_bpf_insn *in = &st->insn[i];
    if (BPF_CLASS(in->code) != BPF_JMP)
      continue;
    long t = distance(st, i, st->jt[i]);
    if (BPF_OP(in->code) == BPF_JA) {
      in->k = (uint32_t)t;
      continue;
    }
    long f = distance(st, i, st->jf[i]);
    if (t < 0 || t > 255 || f < 0 || f > 255)
      return -1;
    in->jt = (uint8_t)t;
    in->jf = (uint8_t)f;
  }
  return 0;
}

static bool permissive(const struct sp_seccomp *s) {
  switch (s->default_action) {
  case SP_SCMP_ALLOW:
  case SP_SCMP_LOG:
  case SP_SCMP_TRACE:
    return true;
  case SP_SCMP_ERRNO:
    return s->has_default_errno_ret && s->default_errno_ret == ENOSYS;
  default:
    return false;
  }
}

static bool names(const struct sp_seccomp *s, const char *name) {
  for (size_t i = 0; i < s->syscalls_len; i++)
    for (size_t j = 0; j < s->syscalls[i].names_len; j++)
      if (strcmp(s->syscalls[i].names[j], name) == 0)
        return true;
  return false;
}

static void abi_of(const struct sp_seccomp *s, uint32_t token, bool clone3_named,
                   struct abi *a) {
  a->token = token;
  a->max = -1;
  for (size_t i = 0; i < s->syscalls_len; i++)
    for (size_t j = 0; j < s->syscalls[i].names_len; j++) {
      int nr = seccomp_syscall_resolve_name_arch(token, s->syscalls[i].names[j]);
      if (nr >= 0 && nr > a->max) /* negative: unknown, or a pseudo number */
        a->max = nr;
    }
  int c3 = clone3_named ? -1 : seccomp_syscall_resolve_name_arch(token, "clone3");
  a->clone3 = c3 >= 0 && c3 <= a->max ? c3 : -1;
}

/* the architectures of the filter: libseccomp's native one and the listed
 * ones it knows (seccomp.c adds the same) */
static size_t abis_of(const struct sp_seccomp *s, struct abi *out) {
  uint32_t tokens[MAX_ABIS];
  size_t n = 0;
  tokens[n++] = seccomp_arch_native();
  for (size_t i = 0; i < s->architectures_len && n < MAX_ABIS; i++) {
    uint32_t t = sp_seccomp_arch(s->architectures[i]);
    bool seen = t == 0;
    for (size_t j = 0; j < n && !seen; j++)
      seen = tokens[j] == t;
    if (!seen)
      tokens[n++] = t;
  }
  bool clone3_named = names(s, "clone3");
  for (size_t i = 0; i < n; i++)
    abi_of(s, tokens[i], clone3_named, &out[i]);
  return n;
}

static const struct abi *find(const struct abi *a, size_t n, uint32_t token) {
  for (size_t i = 0; i < n; i++)
    if (a[i].token == token && a[i].max >= 0)
      return &a[i];
  return NULL;
}

/* the OCI name of an architecture token, for the debug log */
static const char *arch_name(const struct sp_seccomp *s, uint32_t token) {
  for (size_t i = 0; i < s->architectures_len; i++)
    if (sp_seccomp_arch(s->architectures[i]) == token)
      return s->architectures[i];
  return "native";
}

static void describe(const struct sp_seccomp *s, const struct abi *a, size_t n, size_t len) {
  char buf[512] = "";
  size_t off = 0;
  for (size_t i = 0; i < n && off < sizeof buf; i++)
    if (a[i].max >= 0)
      off += (size_t)snprintf(buf + off, sizeof buf - off, "%s %s > %ld%s", off ? "," : "",
                              arch_name(s, a[i].token), a[i].max,
                              a[i].clone3 >= 0 ? " and clone3" : "");
  sp_log(SP_LOG_DEBUG, "seccomp: -ENOSYS stub (%zu instructions):%s", len,
         off ? buf : " none, the profile names no syscall");
}

int sp_seccomp_enosys_stub(const struct sp_seccomp *s, struct sp_seccomp_prog *p,
                           struct sp_error *err) {
  if (permissive(s))
    return 0;
  struct abi abis[MAX_ABIS];
  size_t nabis = abis_of(s, abis);
  struct stub *st = calloc(1, sizeof *st);
  if (!st)
    return sp_error_errno(err, ENOMEM, "seccomp: -ENOSYS stub");
  st->labels = L_FIRST_FREE;
  /* one section per kernel architecture value (x86_64 and x32 share one) */
  uint32_t audit[MAX_ABIS];
  int section[MAX_ABIS];
  size_t naudit = 0;
  for (size_t i = 0; i < nabis; i++) {
    if (abis[i].max < 0)
      continue;
    uint32_t a = abis[i].token == SCMP_ARCH_X32 ? SCMP_ARCH_X86_64 : abis[i].token;
    bool seen = false;
    for (size_t j = 0; j < naudit && !seen; j++)
      seen = audit[j] == a;
    if (!seen) {
      audit[naudit] = a;
      section[naudit++] = new_label(st);
    }
  }
  if (naudit == 0) {
    free(st);
    describe(s, abis, nabis, 0);
    return 0;
  }
  load(st, 4); /* arch */
  for (size_t i = 0; i < naudit; i++)
    emit(st, BPF_JMP | BPF_JEQ | BPF_K, audit[i], section[i], L_NEXT);
  jump(st, L_FILTER);
  for (size_t i = 0; i < naudit; i++) {
    place(st, section[i]);
    load(st, 0); /* nr */
    if (audit[i] == SCMP_ARCH_X86_64) {
      int x32 = new_label(st);
      emit(st, BPF_JMP | BPF_JSET | BPF_K, X32_BIT, x32, L_NEXT);
      limit(st, find(abis, nabis, SCMP_ARCH_X86_64));
      place(st, x32);
      limit(st, find(abis, nabis, SCMP_ARCH_X32));
    } else {
      limit(st, find(abis, nabis, audit[i]));
    }
  }
  place(st, L_ENOSYS);
  emit(st, BPF_RET | BPF_K, SCMP_ACT_ERRNO(ENOSYS), L_NEXT, L_NEXT);
  place(st, L_FILTER);
  if (st->overflow || resolve(st) < 0 || st->n + p->len > BPF_MAXINSNS) {
    /* the kernel would refuse the longer program: keep the profile's */
    sp_log(SP_LOG_WARN, "seccomp: no room for the -ENOSYS stub (%zu instructions) in front "
           "of the %zu-instruction program: newer syscalls get the default action",
           st->n, p->len);
    free(st);
    return 0;
  }
  struct sp_bpf_insn *all = malloc((st->n + p->len) * sizeof *all);
  if (!all) {
    free(st);
    return sp_error_errno(err, ENOMEM, "seccomp: -ENOSYS stub");
  }
  memcpy(all, st->insn, st->n * sizeof *all);
  memcpy(all + st->n, p->insns, p->len * sizeof *all);
  free(p->insns);
  p->insns = all;
  p->len += st->n;
  describe(s, abis, nabis, st->n);
  free(st);
  return 0;
}
