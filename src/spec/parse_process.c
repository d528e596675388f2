/* sprout — config.json `process` (also the standalone process.json of
 * `sprout exec --process`): terminal, consoleSize, cwd, env, args,
 * commandLine, rlimits, apparmorProfile, capabilities, noNewPrivileges,
 * oomScoreAdj, scheduler, selinuxLabel, ioPriority, execCPUAffinity, user. */
#include <ctype.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include "parse_internal.h"

#ifndef SCHED_BATCH
#define SCHED_BATCH 3
#endif
#ifndef SCHED_ISO
#define SCHED_ISO 4
#endif
#ifndef SCHED_IDLE
#define SCHED_IDLE 5
#endif
#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

/* ---- rlimits ----------------------------------------------------------- */

static const struct {
  const char *name;
  int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimit(yajl_val v, const char *path, struct sp_rlimit *rl,
                        struct sp_error *err) {
  char p[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  if (sp_jv_object(v, path, err) < 0 ||
      sp_jf_string(v, path, "type", SP_REQUIRED, &rl->type, err) < 0 ||
      sp_jf_u64(v, path, "soft", SP_REQUIRED, &rl->soft, err) < 0 ||
      sp_jf_u64(v, path, "hard", SP_REQUIRED, &rl->hard, err) < 0)
    return -1;
  rl->resource = -1;
  for (size_t i = 0; i < sizeof rlimit_names / sizeof rlimit_names[0]; i++)
    if (strcmp(rlimit_names[i].name, rl->type) == 0)
      rl->resource = rlimit_names[i].resource;
  if (rl->resource < 0) {
    sp_jpath_key(p, sizeof p, path, "type");
    return sp_jerr(err, p, "unknown rlimit \"%s\"", sp_jshow(rl->type, show));
  }
  if (rl->soft > rl->hard)
    return sp_jerr(err, path, "soft limit %llu is more than the hard limit %llu",
                   (unsigned long long)rl->soft, (unsigned long long)rl->hard);
  return 0;
}

static int parse_rlimits(yajl_val proc, const char *path, struct sp_process *p,
                         struct sp_error *err) {
  char ap[SP_JPATH_MAX], ep[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  yajl_val arr;
  int r = sp_jf_array(proc, path, "rlimits", SP_OPTIONAL, &arr, err);
  if (r <= 0)
    return r;
  sp_jpath_key(ap, sizeof ap, path, "rlimits");
  size_t n = arr->u.array.len;
  if ((p->rlimits = sp_jcalloc(n, sizeof *p->rlimits, ap, err)) == NULL)
    return -1;
  p->rlimits_len = n;
  for (size_t i = 0; i < n; i++) {
    sp_jpath_index(ep, sizeof ep, ap, i);
    if (parse_rlimit(arr->u.array.values[i], ep, &p->rlimits[i], err) < 0)
      return -1;
    for (size_t j = 0; j < i; j++) {
      if (p->rlimits[j].resource == p->rlimits[i].resource) {
        char tp[SP_JPATH_MAX];
        sp_jpath_key(tp, sizeof tp, ep, "type");
        return sp_jerr(err, tp, "duplicate rlimit \"%s\"", sp_jshow(p->rlimits[i].type, show));
      }
    }
  }
  return 0;
}

/* ---- capabilities ------------------------------------------------------ */

static int check_caps(char **caps, size_t len, const char *path, struct sp_error *err) {
  char p[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  for (size_t i = 0; i < len; i++) {
    const char *c = caps[i];
    bool ok = strncmp(c, "CAP_", 4) == 0 && c[4] != '\0';
    for (const char *q = c; ok && *q; q++)
      ok = (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '_';
    cap_value_t value;
    if (!ok || cap_from_name(c, &value) != 0) {
      sp_jpath_index(p, sizeof p, path, i);
      return sp_jerr(err, p, "unknown capability \"%s\"", sp_jshow(c, show));
    }
  }
  return 0;
}

static int parse_cap_set(yajl_val caps, const char *path, const char *key, char ***set,
                         size_t *len, bool *has, struct sp_error *err) {
  char p[SP_JPATH_MAX];
  int r = sp_jf_strings(caps, path, key, SP_OPTIONAL, set, len, err);
  if (r <= 0)
    return r;
  *has = true;
  sp_jpath_key(p, sizeof p, path, key);
  return check_caps(*set, *len, p, err);
}

static int parse_capabilities(yajl_val proc, const char *path, struct sp_process *p,
                              struct sp_error *err) {
  char cp[SP_JPATH_MAX];
  yajl_val caps;
  int r = sp_jf_object(proc, path, "capabilities", SP_OPTIONAL, &caps, err);
  if (r <= 0)
    return r;
  p->has_capabilities = true;
  sp_jpath_key(cp, sizeof cp, path, "capabilities");
  struct sp_capabilities *c = &p->capabilities;
  if (parse_cap_set(caps, cp, "bounding", &c->bounding, &c->bounding_len,
                    &c->has_bounding, err) < 0 ||
      parse_cap_set(caps, cp, "effective", &c->effective, &c->effective_len,
                    &c->has_effective, err) < 0 ||
      parse_cap_set(caps, cp, "inheritable", &c->inheritable, &c->inheritable_len,
                    &c->has_inheritable, err) < 0 ||
      parse_cap_set(caps, cp, "permitted", &c->permitted, &c->permitted_len,
                    &c->has_permitted, err) < 0 ||
      parse_cap_set(caps, cp, "ambient", &c->ambient, &c->ambient_len,
                    &c->has_ambient, err) < 0)
    return -1;
  return 0;
}

/* ---- scheduler --------------------------------------------------------- */

static const struct {
  const char *name;
  int value;
} sched_policies[] = {
    {"SCHED_OTHER", SCHED_OTHER}, {"SCHED_FIFO", SCHED_FIFO},
    {"SCHED_RR", SCHED_RR},       {"SCHED_BATCH", SCHED_BATCH},
    {"SCHED_ISO", SCHED_ISO},     {"SCHED_IDLE", SCHED_IDLE},
    {"SCHED_DEADLINE", SCHED_DEADLINE},
};

/* linux/sched.h values (sched_setattr(2)) */
static const struct {
  const char *name;
  uint64_t value;
} sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01}, {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},    {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},   {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

static int parse_scheduler(yajl_val proc, const char *path, struct sp_process *p,
                           struct sp_error *err) {
  char sp[SP_JPATH_MAX], fp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  yajl_val v;
  int64_t nice;
  int r = sp_jf_object(proc, path, "scheduler", SP_OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  p->has_scheduler = true;
  struct sp_scheduler *s = &p->scheduler;
  sp_jpath_key(sp, sizeof sp, path, "scheduler");
  if (sp_jf_string(v, sp, "policy", SP_REQUIRED, &s->policy, err) < 0)
    return -1;
  s->policy_value = -1;
  for (size_t i = 0; i < sizeof sched_policies / sizeof sched_policies[0]; i++)
    if (strcmp(sched_policies[i].name, s->policy) == 0)
      s->policy_value = sched_policies[i].value;
  if (s->policy_value < 0) {
    sp_jpath_key(fp, sizeof fp, sp, "policy");
    return sp_jerr(err, fp, "unknown scheduler policy \"%s\"", sp_jshow(s->policy, show));
  }
  if ((r = sp_jf_irange(v, sp, "nice", SP_OPTIONAL, -20, 19, &nice, err)) < 0)
    return -1;
  s->has_nice = r > 0;
  s->nice = (int32_t)nice;
  if ((r = sp_jf_i32(v, sp, "priority", SP_OPTIONAL, &s->priority, err)) < 0)
    return -1;
  s->has_priority = r > 0;
  if ((r = sp_jf_u64(v, sp, "runtime", SP_OPTIONAL, &s->runtime, err)) < 0)
    return -1;
  s->has_runtime = r > 0;
  if ((r = sp_jf_u64(v, sp, "deadline", SP_OPTIONAL, &s->deadline, err)) < 0)
    return -1;
  s->has_deadline = r > 0;
  if ((r = sp_jf_u64(v, sp, "period", SP_OPTIONAL, &s->period, err)) < 0)
    return -1;
  s->has_period = r > 0;
  if (sp_jf_strings(v, sp, "flags", SP_OPTIONAL, &s->flags, &s->flags_len, err) < 0)
    return -1;
  sp_jpath_key(fp, sizeof fp, sp, "flags");
  for (size_t i = 0; i < s->flags_len; i++) {
    uint64_t bit = 0;
    for (size_t j = 0; j < sizeof sched_flags / sizeof sched_flags[0]; j++)
      if (strcmp(sched_flags[j].name, s->flags[i]) == 0)
        bit = sched_flags[j].value;
    if (bit == 0) {
      char ep[SP_JPATH_MAX];
      sp_jpath_index(ep, sizeof ep, fp, i);
      return sp_jerr(err, ep, "unknown scheduler flag \"%s\"", sp_jshow(s->flags[i], show));
    }
    s->flags_value |= bit;
  }

  bool rt = s->policy_value == SCHED_FIFO || s->policy_value == SCHED_RR;
  sp_jpath_key(fp, sizeof fp, sp, "priority");
  if (rt && s->has_priority && (s->priority < 1 || s->priority > 99))
    return sp_jerr(err, fp, "must be between 1 and 99 for %s, got %d", s->policy, s->priority);
  if (!rt && s->priority != 0)
    return sp_jerr(err, fp, "only valid with SCHED_FIFO or SCHED_RR");
  if (s->policy_value != SCHED_DEADLINE) {
    if (s->runtime || s->deadline || s->period)
      return sp_jerr(err, sp, "runtime, deadline and period are only valid with SCHED_DEADLINE");
  } else {
    if (s->runtime > s->deadline)
      return sp_jerr(err, sp, "runtime (%llu) is more than deadline (%llu)",
                     (unsigned long long)s->runtime, (unsigned long long)s->deadline);
    if (s->period != 0 && s->deadline > s->period)
      return sp_jerr(err, sp, "deadline (%llu) is more than period (%llu)",
                     (unsigned long long)s->deadline, (unsigned long long)s->period);
  }
  return 0;
}

/* ---- ioPriority, execCPUAffinity --------------------------------------- */

static int parse_io_priority(yajl_val proc, const char *path, struct sp_process *p,
                             struct sp_error *err) {
  static const char *const classes[] = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                        "IOPRIO_CLASS_IDLE"};
  char ip[SP_JPATH_MAX], cp[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  yajl_val v;
  int64_t prio = 0;
  int r = sp_jf_object(proc, path, "ioPriority", SP_OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  p->has_io_priority = true;
  struct sp_io_priority *io = &p->io_priority;
  sp_jpath_key(ip, sizeof ip, path, "ioPriority");
  if (sp_jf_string(v, ip, "class", SP_REQUIRED, &io->class_name, err) < 0 ||
      sp_jf_irange(v, ip, "priority", SP_OPTIONAL, 0, 7, &prio, err) < 0)
    return -1;
  io->priority = (int32_t)prio;
  for (int i = 0; i < 3; i++)
    if (strcmp(classes[i], io->class_name) == 0)
      io->class_value = i + 1; /* IOPRIO_CLASS_RT = 1, BE = 2, IDLE = 3 */
  if (io->class_value == 0) {
    sp_jpath_key(cp, sizeof cp, ip, "class");
    return sp_jerr(err, cp, "unknown I/O priority class \"%s\"", sp_jshow(io->class_name, show));
  }
  return 0;
}

/* "0-3,7", "1, 2": comma-separated CPU numbers and ranges. */
bool sp_valid_cpu_list(const char *s) {
  for (;;) {
    while (*s == ' ')
      s++;
    if (!isdigit((unsigned char)*s))
      return false;
    char *end;
    unsigned long a = strtoul(s, &end, 10), b = a;
    s = end;
    while (*s == ' ')
      s++;
    if (*s == '-') {
      s++;
      while (*s == ' ')
        s++;
      if (!isdigit((unsigned char)*s))
        return false;
      b = strtoul(s, &end, 10);
      s = end;
      while (*s == ' ')
        s++;
    }
    if (a > b || b >= 65536)
      return false;
    if (*s == '\0')
      return true;
    if (*s++ != ',')
      return false;
  }
}

static int parse_affinity_field(yajl_val v, const char *path, const char *key,
                                char **out, struct sp_error *err) {
  char p[SP_JPATH_MAX], show[SP_JSHOW_MAX];
  int r = sp_jf_string(v, path, key, SP_OPTIONAL, out, err);
  if (r <= 0)
    return r;
  if ((*out)[0] == '\0') { /* empty: not set */
    free(*out);
    *out = NULL;
    return 0;
  }
  if (!sp_valid_cpu_list(*out)) {
    sp_jpath_key(p, sizeof p, path, key);
    return sp_jerr(err, p, "invalid CPU list \"%s\" (expected e.g. \"0-3,7\")",
                   sp_jshow(*out, show));
  }
  return 0;
}

static int parse_affinity(yajl_val proc, const char *path, struct sp_process *p,
                          struct sp_error *err) {
  char ap[SP_JPATH_MAX];
  yajl_val v;
  int r = sp_jf_object(proc, path, "execCPUAffinity", SP_OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  sp_jpath_key(ap, sizeof ap, path, "execCPUAffinity");
  if (parse_affinity_field(v, ap, "initial", &p->exec_cpu_affinity_initial, err) < 0 ||
      parse_affinity_field(v, ap, "final", &p->exec_cpu_affinity_final, err) < 0)
    return -1;
  return 0;
}

/* ---- user, consoleSize ------------------------------------------------- */

static int parse_user(yajl_val proc, const char *path, struct sp_user *u,
                      struct sp_error *err) {
  char up[SP_JPATH_MAX], gp[SP_JPATH_MAX], ep[SP_JPATH_MAX];
  yajl_val v, gids;
  uint64_t umask;
  int r = sp_jf_object(proc, path, "user", SP_OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  sp_jpath_key(up, sizeof up, path, "user");
  if (sp_jf_u32(v, up, "uid", SP_OPTIONAL, &u->uid, err) < 0 ||
      sp_jf_u32(v, up, "gid", SP_OPTIONAL, &u->gid, err) < 0 ||
      (r = sp_jf_urange(v, up, "umask", SP_OPTIONAL, 0, 0777, &umask, err)) < 0 ||
      sp_jf_string(v, up, "username", SP_OPTIONAL, &u->username, err) < 0)
    return -1;
  u->has_umask = r > 0;
  u->umask = (uint32_t)umask;
  if ((r = sp_jf_array(v, up, "additionalGids", SP_OPTIONAL, &gids, err)) <= 0)
    return r;
  sp_jpath_key(gp, sizeof gp, up, "additionalGids");
  size_t n = gids->u.array.len;
  if ((u->additional_gids = sp_jcalloc(n, sizeof *u->additional_gids, gp, err)) == NULL)
    return -1;
  u->additional_gids_len = n;
  for (size_t i = 0; i < n; i++) {
    sp_jpath_index(ep, sizeof ep, gp, i);
    if (sp_jv_u32(gids->u.array.values[i], ep, &u->additional_gids[i], err) < 0)
      return -1;
  }
  return 0;
}

static int parse_console_size(yajl_val proc, const char *path, struct sp_process *p,
                              struct sp_error *err) {
  char cp[SP_JPATH_MAX];
  yajl_val v;
  int r = sp_jf_object(proc, path, "consoleSize", SP_OPTIONAL, &v, err);
  if (r <= 0)
    return r;
  p->has_console_size = true;
  sp_jpath_key(cp, sizeof cp, path, "consoleSize");
  /* struct winsize holds unsigned short */
  uint64_t h, w;
  if (sp_jf_urange(v, cp, "height", SP_REQUIRED, 0, UINT16_MAX, &h, err) < 0 ||
      sp_jf_urange(v, cp, "width", SP_REQUIRED, 0, UINT16_MAX, &w, err) < 0)
    return -1;
  p->console_height = (uint32_t)h;
  p->console_width = (uint32_t)w;
  return 0;
}

/* ---- process ------------------------------------------------------------ */

int sp_parse_process(yajl_val v, const char *path, struct sp_process *p,
                     struct sp_error *err) {
  char fp[SP_JPATH_MAX];
  int64_t oom;
  int r;
  if (sp_jv_object(v, path, err) < 0 ||
      sp_jf_bool(v, path, "terminal", SP_OPTIONAL, &p->terminal, err) < 0 ||
      parse_console_size(v, path, p, err) < 0 ||
      sp_jf_string(v, path, "cwd", SP_REQUIRED, &p->cwd, err) < 0 ||
      sp_jf_strings(v, path, "env", SP_OPTIONAL, &p->env, &p->env_len, err) < 0 ||
      sp_jf_strings(v, path, "args", SP_REQUIRED, &p->args, &p->args_len, err) < 0 ||
      sp_jf_string(v, path, "commandLine", SP_OPTIONAL, &p->command_line, err) < 0)
    return -1;
  sp_jpath_key(fp, sizeof fp, path, "cwd");
  if (sp_jcheck_abs(p->cwd, fp, err) < 0)
    return -1;
  sp_jpath_key(fp, sizeof fp, path, "env");
  if (sp_jcheck_env(p->env, p->env_len, fp, err) < 0)
    return -1;
  sp_jpath_key(fp, sizeof fp, path, "args");
  if (p->args_len == 0)
    return sp_jerr(err, fp, "must not be empty");
  if (p->args[0][0] == '\0') {
    char ap[SP_JPATH_MAX];
    sp_jpath_index(ap, sizeof ap, fp, 0);
    return sp_jerr(err, ap, "must not be empty");
  }
  if (parse_rlimits(v, path, p, err) < 0 ||
      sp_jf_string(v, path, "apparmorProfile", SP_OPTIONAL, &p->apparmor_profile, err) < 0 ||
      parse_capabilities(v, path, p, err) < 0 ||
      sp_jf_bool(v, path, "noNewPrivileges", SP_OPTIONAL, &p->no_new_privileges, err) < 0 ||
      (r = sp_jf_irange(v, path, "oomScoreAdj", SP_OPTIONAL, -1000, 1000, &oom, err)) < 0)
    return -1;
  if (r > 0) {
    p->has_oom_score_adj = true;
    p->oom_score_adj = (int32_t)oom;
  }
  if (parse_scheduler(v, path, p, err) < 0 ||
      sp_jf_string(v, path, "selinuxLabel", SP_OPTIONAL, &p->selinux_label, err) < 0 ||
      parse_io_priority(v, path, p, err) < 0 || parse_affinity(v, path, p, err) < 0 ||
      parse_user(v, path, &p->user, err) < 0)
    return -1;
  return 0;
}

void sp_process_free(struct sp_process *p) {
  if (p == NULL)
    return;
  free(p->cwd);
  sp_jstrv_free(p->env, p->env_len);
  sp_jstrv_free(p->args, p->args_len);
  free(p->command_line);
  if (p->rlimits) {
    for (size_t i = 0; i < p->rlimits_len; i++)
      free(p->rlimits[i].type);
    free(p->rlimits);
  }
  free(p->apparmor_profile);
  struct sp_capabilities *c = &p->capabilities;
  sp_jstrv_free(c->bounding, c->bounding_len);
  sp_jstrv_free(c->effective, c->effective_len);
  sp_jstrv_free(c->inheritable, c->inheritable_len);
  sp_jstrv_free(c->permitted, c->permitted_len);
  sp_jstrv_free(c->ambient, c->ambient_len);
  free(p->scheduler.policy);
  sp_jstrv_free(p->scheduler.flags, p->scheduler.flags_len);
  free(p->selinux_label);
  free(p->io_priority.class_name);
  free(p->exec_cpu_affinity_initial);
  free(p->exec_cpu_affinity_final);
  free(p->user.additional_gids);
  free(p->user.username);
  memset(p, 0, sizeof *p);
}
