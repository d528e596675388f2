/* sprout — linux.seccomp: defaultAction, defaultErrnoRet, architectures,
 * flags, listenerPath, listenerMetadata and syscalls[] (names, action,
 * errnoRet, args[index, value, valueTwo, op]).  Names are checked here;
 * translating them for libseccomp is src/linux/seccomp.c's job. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

static const struct {
  const char *name;
  enum sp_seccomp_action action;
} actions[] = {
    {"SCMP_ACT_KILL", SP_SCMP_KILL},     {"SCMP_ACT_KILL_PROCESS", SP_SCMP_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SP_SCMP_KILL_THREAD}, {"SCMP_ACT_TRAP", SP_SCMP_TRAP},
    {"SCMP_ACT_ERRNO", SP_SCMP_ERRNO},   {"SCMP_ACT_TRACE", SP_SCMP_TRACE},
    {"SCMP_ACT_ALLOW", SP_SCMP_ALLOW},   {"SCMP_ACT_LOG", SP_SCMP_LOG},
    {"SCMP_ACT_NOTIFY", SP_SCMP_NOTIFY},
};

static const struct {
  const char *name;
  enum sp_seccomp_op op;
} operators[] = {
    {"SCMP_CMP_NE", SP_SCMP_CMP_NE}, {"SCMP_CMP_LT", SP_SCMP_CMP_LT},
    {"SCMP_CMP_LE", SP_SCMP_CMP_LE}, {"SCMP_CMP_EQ", SP_SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SP_SCMP_CMP_GE}, {"SCMP_CMP_GT", SP_SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SP_SCMP_CMP_MASKED_EQ},
};

static const char *const architectures[] = {
    "SCMP_ARCH_X86",       "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",      "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",   "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",   "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",       "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",     "SCMP_ARCH_PARISC",   "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",   "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};

static const char *const filter_flags[] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool takes_errno(enum sp_seccomp_action a) {
  return a == SP_SCMP_ERRNO || a == SP_SCMP_TRACE;
}

static int parse_action(yajl_val obj, const char *path, const char *key,
                        enum sp_seccomp_action *out, struct sp_error *err) {
  char fp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  char *name = NULL;
  if (sp_jf_string(obj, path, key, SP_REQUIRED, &name, err) < 0)
    return -1;
  for (size_t i = 0; i < COUNT(actions); i++) {
    if (strcmp(actions[i].name, name) == 0) {
      *out = actions[i].action;
      free(name);
      return 0;
    }
  }
  sp_jpath_key(fp, sizeof fp, path, key);
  sp_jerr(err, fp, "unknown seccomp action \"%s\"", sp_jshow(name, show));
  free(name);
  return -1;
}

/* errnoRet / defaultErrnoRet: only with SCMP_ACT_ERRNO or SCMP_ACT_TRACE. */
static int parse_errno_ret(yajl_val obj, const char *path, const char *key,
                           enum sp_seccomp_action action, bool *has, uint32_t *out,
                           struct sp_error *err) {
  char fp[SP_JPATH_MAX];
  int r = sp_jf_u32(obj, path, key, SP_OPTIONAL, out, err);
  if (r < 0)
    return -1;
  *has = r > 0;
  sp_jpath_key(fp, sizeof fp, path, key);
  if (*has && !takes_errno(action))
    return sp_jerr(err, fp, "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
  return 0;
}

/* names from a fixed list: "PATH[i]: unknown WHAT \"x\"" */
static int check_names(char **v, size_t len, const char *const *known, size_t nknown,
                       const char *path, const char *what, struct sp_error *err) {
  char ep[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  for (size_t i = 0; i < len; i++) {
    size_t j = 0;
    while (j < nknown && strcmp(known[j], v[i]) != 0)
      j++;
    if (j == nknown) {
      sp_jpath_index(ep, sizeof ep, path, i);
      return sp_jerr(err, ep, "unknown %s \"%s\"", what, sp_jshow(v[i], show));
    }
  }
  return 0;
}

static int parse_arg(yajl_val v, const char *path, struct sp_seccomp_arg *a,
                     struct sp_error *err) {
  char fp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  char *op = NULL;
  int r;
  if (sp_jv_object(v, path, err) < 0 ||
      sp_jf_u32(v, path, "index", SP_REQUIRED, &a->index, err) < 0 ||
      sp_jf_u64(v, path, "value", SP_REQUIRED, &a->value, err) < 0 ||
      (r = sp_jf_u64(v, path, "valueTwo", SP_OPTIONAL, &a->value_two, err)) < 0)
    return -1;
  a->has_value_two = r > 0;
  if (a->index > 5) {
    sp_jpath_key(fp, sizeof fp, path, "index");
    return sp_jerr(err, fp, "expected a system call argument index between 0 and 5, got %u",
                   a->index);
  }
  if (sp_jf_string(v, path, "op", SP_REQUIRED, &op, err) < 0)
    return -1;
  size_t i = 0;
  while (i < COUNT(operators) && strcmp(operators[i].name, op) != 0)
    i++;
  if (i == COUNT(operators)) {
    sp_jpath_key(fp, sizeof fp, path, "op");
    sp_jerr(err, fp, "unknown seccomp operator \"%s\"", sp_jshow(op, show));
    free(op);
    return -1;
  }
  a->op = operators[i].op;
  free(op);
  return 0;
}

static int parse_syscall(yajl_val v, const char *path, struct sp_seccomp_syscall *sc,
                         struct sp_error *err) {
  char np[SP_JPATH_MAX], ap[SP_JPATH_MAX], ep[SP_JPATH_MAX];
  yajl_val args;
  int r;
  if (sp_jv_object(v, path, err) < 0 ||
      sp_jf_strings(v, path, "names", SP_REQUIRED, &sc->names, &sc->names_len, err) < 0)
    return -1;
  sp_jpath_key(np, sizeof np, path, "names");
  if (sc->names_len == 0)
    return sp_jerr(err, np, "must not be empty");
  for (size_t i = 0; i < sc->names_len; i++) {
    if (sc->names[i][0] == '\0') {
      sp_jpath_index(ep, sizeof ep, np, i);
      return sp_jerr(err, ep, "must not be empty");
    }
  }
  if (parse_action(v, path, "action", &sc->action, err) < 0 ||
      parse_errno_ret(v, path, "errnoRet", sc->action, &sc->has_errno_ret, &sc->errno_ret,
                      err) < 0)
    return -1;
  if ((r = sp_jf_array(v, path, "args", SP_OPTIONAL, &args, err)) <= 0)
    return r;
  sp_jpath_key(ap, sizeof ap, path, "args");
  size_t n = args->u.array.len;
  if ((sc->args = sp_jcalloc(n, sizeof *sc->args, ap, err)) == NULL)
    return -1;
  sc->args_len = n;
  for (size_t i = 0; i < n; i++) {
    sp_jpath_index(ep, sizeof ep, ap, i);
    if (parse_arg(args->u.array.values[i], ep, &sc->args[i], err) < 0)
      return -1;
  }
  return 0;
}

int sp_parse_seccomp(yajl_val v, const char *path, struct sp_seccomp *s,
                     struct sp_error *err) {
  char fp[SP_JPATH_MAX], ep[SP_JPATH_MAX];
  yajl_val arr;
  int r;
  if (sp_jv_object(v, path, err) < 0 ||
      parse_action(v, path, "defaultAction", &s->default_action, err) < 0 ||
      parse_errno_ret(v, path, "defaultErrnoRet", s->default_action,
                      &s->has_default_errno_ret, &s->default_errno_ret, err) < 0 ||
      sp_jf_strings(v, path, "architectures", SP_OPTIONAL, &s->architectures,
                    &s->architectures_len, err) < 0 ||
      sp_jf_strings(v, path, "flags", SP_OPTIONAL, &s->flags, &s->flags_len, err) < 0 ||
      sp_jf_string(v, path, "listenerPath", SP_OPTIONAL, &s->listener_path, err) < 0 ||
      sp_jf_string(v, path, "listenerMetadata", SP_OPTIONAL, &s->listener_metadata, err) < 0)
    return -1;
  sp_jpath_key(fp, sizeof fp, path, "defaultAction");
  if (s->default_action == SP_SCMP_NOTIFY)
    return sp_jerr(err, fp, "SCMP_ACT_NOTIFY cannot be the default action");
  sp_jpath_key(fp, sizeof fp, path, "architectures");
  if (check_names(s->architectures, s->architectures_len, architectures,
                  COUNT(architectures), fp, "architecture", err) < 0)
    return -1;
  sp_jpath_key(fp, sizeof fp, path, "flags");
  if (check_names(s->flags, s->flags_len, filter_flags, COUNT(filter_flags), fp,
                  "seccomp flag", err) < 0)
    return -1;
  if (s->listener_path != NULL && s->listener_path[0] == '\0') {
    free(s->listener_path);
    s->listener_path = NULL;
  }
  sp_jpath_key(fp, sizeof fp, path, "listenerMetadata");
  if (s->listener_metadata != NULL && s->listener_metadata[0] != '\0' &&
      s->listener_path == NULL)
    return sp_jerr(err, fp, "requires listenerPath");

  if ((r = sp_jf_array(v, path, "syscalls", SP_OPTIONAL, &arr, err)) <= 0)
    return r;
  sp_jpath_key(fp, sizeof fp, path, "syscalls");
  size_t n = arr->u.array.len;
  if ((s->syscalls = sp_jcalloc(n, sizeof *s->syscalls, fp, err)) == NULL)
    return -1;
  s->syscalls_len = n;
  for (size_t i = 0; i < n; i++) {
    sp_jpath_index(ep, sizeof ep, fp, i);
    if (parse_syscall(arr->u.array.values[i], ep, &s->syscalls[i], err) < 0)
      return -1;
    if (s->syscalls[i].action == SP_SCMP_NOTIFY && s->listener_path == NULL) {
      char ap[SP_JPATH_MAX];
      sp_jpath_key(ap, sizeof ap, ep, "action");
      return sp_jerr(err, ap, "SCMP_ACT_NOTIFY requires %s.listenerPath", path);
    }
  }
  return 0;
}

void sp_seccomp_free(struct sp_seccomp *s) {
  if (s == NULL)
    return;
  sp_jstrv_free(s->architectures, s->architectures_len);
  sp_jstrv_free(s->flags, s->flags_len);
  free(s->listener_path);
  free(s->listener_metadata);
  if (s->syscalls) {
    for (size_t i = 0; i < s->syscalls_len; i++) {
      sp_jstrv_free(s->syscalls[i].names, s->syscalls[i].names_len);
      free(s->syscalls[i].args);
    }
    free(s->syscalls);
  }
  memset(s, 0, sizeof *s);
}
