/* Capabilities of the workload: bounding, permitted, effective, inheritable
 * and ambient sets exactly as process.capabilities lists them.
 *
 * Runs in the container's init after sp_user_apply(): PR_SET_KEEPCAPS kept
 * the permitted set across the uid switch but the kernel cleared the
 * effective set, so the first step re-raises effective from permitted
 * (CAP_SETPCAP is needed to shrink the bounding set).  Names the running
 * kernel does not know (above /proc/sys/kernel/cap_last_cap) are skipped,
 * as runc does; names nobody knows are an error.  No capabilities object at
 * all means no capabilities.  A capability the runtime itself does not hold
 * (this host: CAP_SYS_RESOURCE) is an error naming it (runc: "unable to
 * apply caps: operation not permitted"). */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "sprout/linux.h"
#include "sprout/security.h"
#include "sprout/util.h"

#define CAP_NAME_MAX 64

int sp_cap_from_name(const char *name) {
  if (!name || strncasecmp(name, "CAP_", 4) != 0)
    return -1;
  size_t len = strlen(name);
  if (len <= 4 || len >= CAP_NAME_MAX)
    return -1;
  char lower[CAP_NAME_MAX];
  for (size_t i = 0; i <= len; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c && !isalnum(c) && c != '_')
      return -1;
    lower[i] = (char)tolower(c);
  }
  cap_value_t v;
  if (cap_from_name(lower, &v) < 0 || v < 0 || v > 63)
    return -1;
  return (int)v;
}

/* The highest capability the running kernel knows. */
static int kernel_last_cap(void) {
  int last = (int)cap_max_bits() - 1;
  if (last < 0 || last > 63)
    last = CAP_LAST_CAP;
  /* libcap probed at load time; make sure with the bounding set itself */
  while (last < 63 && prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
    last++;
  while (last > 0 && prctl(PR_CAPBSET_READ, last, 0, 0, 0) < 0 && errno == EINVAL)
    last--;
  return last;
}

static const char *cap_label(int cap, char buf[CAP_NAME_MAX]) {
  char *n = cap_to_name((cap_value_t)cap);
  if (!n) {
    snprintf(buf, CAP_NAME_MAX, "capability %d", cap);
    return buf;
  }
  size_t i = 0;
  for (; n[i] && i + 1 < CAP_NAME_MAX; i++)
    buf[i] = (char)toupper((unsigned char)n[i]);
  buf[i] = '\0';
  cap_free(n);
  return buf;
}

/* Turn a list of names into a bit mask of caps the kernel knows. */
static int names_to_mask(char **names, size_t n, const char *set, int last,
                         uint64_t *mask, struct sp_error *err) {
  *mask = 0;
  for (size_t i = 0; i < n; i++) {
    int v = sp_cap_from_name(names[i]);
    if (v < 0)
      return sp_error_set(err, 0, "process.capabilities.%s[%zu]: unknown capability \"%s\"",
                          set, i, names[i]);
    if (v > last) {
      sp_log(SP_LOG_DEBUG, "capability %s (%s) is not known to the running kernel "
             "(cap_last_cap %d): skipped", names[i], set, last);
      continue;
    }
    *mask |= UINT64_C(1) << v;
  }
  return 0;
}

struct cap_masks {
  uint64_t bounding, effective, permitted, inheritable, ambient;
};

static int proc_masks(const struct sp_process *proc, int last,
                      struct cap_masks *m, struct sp_error *err) {
  memset(m, 0, sizeof *m);
  if (!proc->has_capabilities)
    return 0;
  const struct sp_capabilities *c = &proc->capabilities;
  if (names_to_mask(c->bounding, c->bounding_len, "bounding", last, &m->bounding, err) < 0 ||
      names_to_mask(c->effective, c->effective_len, "effective", last, &m->effective, err) < 0 ||
      names_to_mask(c->permitted, c->permitted_len, "permitted", last, &m->permitted, err) < 0 ||
      names_to_mask(c->inheritable, c->inheritable_len, "inheritable", last,
                    &m->inheritable, err) < 0 ||
      names_to_mask(c->ambient, c->ambient_len, "ambient", last, &m->ambient, err) < 0)
    return -1;
  return 0;
}

static int first_bit(uint64_t m) {
  return m ? __builtin_ctzll(m) : -1;
}

/* Effective := permitted, so the privileged steps below can work. */
static int raise_effective(struct sp_error *err) {
  cap_t cur = cap_get_proc();
  if (!cur)
    return sp_error_sys(err, "read the capabilities of the container init");
  int r = cap_fill(cur, CAP_EFFECTIVE, CAP_PERMITTED);
  if (r == 0)
    r = cap_set_proc(cur);
  if (r < 0)
    sp_error_sys(err, "raise the effective capabilities from the permitted set");
  cap_free(cur);
  return r;
}

/* What we hold now, to name a cap that cannot be granted. */
static uint64_t current_mask(cap_flag_t flag, int last) {
  uint64_t m = 0;
  cap_t cur = cap_get_proc();
  if (!cur)
    return 0;
  for (int i = 0; i <= last; i++) {
    cap_flag_value_t v = CAP_CLEAR;
    if (cap_get_flag(cur, (cap_value_t)i, flag, &v) == 0 && v == CAP_SET)
      m |= UINT64_C(1) << i;
  }
  cap_free(cur);
  return m;
}

static int drop_bounding(uint64_t keep, int last, struct sp_error *err) {
  char label[CAP_NAME_MAX];
  for (int i = 0; i <= last; i++) {
    if (keep & (UINT64_C(1) << i))
      continue;
    int in = cap_get_bound((cap_value_t)i);
    if (in < 0) {
      if (errno == EINVAL)
        continue; /* unknown to the kernel after all */
      return sp_error_sys(err, "read %s from the bounding set", cap_label(i, label));
    }
    if (in == 0)
      continue;
    if (cap_drop_bound((cap_value_t)i) < 0)
      return sp_error_sys(err, "drop %s from the bounding set", cap_label(i, label));
  }
  return 0;
}

static int set_flags(cap_t c, cap_flag_t flag, uint64_t mask) {
  for (int i = 0; i < 64; i++) {
    if (!(mask & (UINT64_C(1) << i)))
      continue;
    cap_value_t v = (cap_value_t)i;
    if (cap_set_flag(c, flag, 1, &v, CAP_SET) < 0)
      return -1;
  }
  return 0;
}

static int set_sets(const struct cap_masks *m, struct sp_error *err) {
  cap_t c = cap_init();
  if (!c)
    return sp_error_sys(err, "set capabilities: allocate");
  int r = 0;
  if (set_flags(c, CAP_PERMITTED, m->permitted) < 0 ||
      set_flags(c, CAP_EFFECTIVE, m->effective) < 0 ||
      set_flags(c, CAP_INHERITABLE, m->inheritable) < 0) {
    r = sp_error_sys(err, "set capabilities: build the capability sets");
  } else if (cap_set_proc(c) < 0) {
    r = sp_error_sys(err, "set capabilities (permitted %#llx, effective %#llx, "
                     "inheritable %#llx)", (unsigned long long)m->permitted,
                     (unsigned long long)m->effective, (unsigned long long)m->inheritable);
  }
  cap_free(c);
  return r;
}

/* Clear every ambient cap, then raise the listed ones (already checked to
 * be in permitted and inheritable by sp_caps_apply). */
static int set_ambient(const struct cap_masks *m, int last, struct sp_error *err) {
  char label[CAP_NAME_MAX];
  if (cap_reset_ambient() < 0) {
    /* kernels without ambient capabilities (< 4.3) have nothing to clear */
    if (errno != EINVAL || m->ambient)
      return sp_error_sys(err, "clear the ambient capability set");
  }
  for (int i = 0; i <= last; i++) {
    if (!(m->ambient & (UINT64_C(1) << i)))
      continue;
    if (cap_set_ambient((cap_value_t)i, CAP_SET) < 0)
      return sp_error_sys(err, "raise ambient capability %s", cap_label(i, label));
  }
  return 0;
}

/* Refuse what cannot work before changing anything. */
static int check_request(const struct cap_masks *m, int last, struct sp_error *err) {
  char label[CAP_NAME_MAX];
  int bad = first_bit(m->effective & ~m->permitted);
  if (bad >= 0)
    return sp_error_set(err, 0, "set capabilities: %s is in the effective set but not "
                        "in the permitted set", cap_label(bad, label));
  bad = first_bit(m->permitted & ~current_mask(CAP_PERMITTED, last));
  if (bad >= 0)
    return sp_error_errno(err, EPERM, "set capabilities: %s is not in the runtime's "
                          "permitted set, cannot grant it", cap_label(bad, label));
  /* the kernel grants a new inheritable cap only from the bounding set */
  uint64_t bounding_after = 0;
  for (int i = 0; i <= last; i++)
    if (cap_get_bound((cap_value_t)i) == 1)
      bounding_after |= UINT64_C(1) << i;
  bounding_after &= m->bounding;
  bad = first_bit(m->inheritable & ~bounding_after & ~current_mask(CAP_INHERITABLE, last));
  if (bad >= 0)
    return sp_error_set(err, 0, "set capabilities: %s is in the inheritable set but not "
                        "in the bounding set", cap_label(bad, label));
  bad = first_bit(m->ambient & ~(m->permitted & m->inheritable));
  if (bad >= 0)
    return sp_error_set(err, 0, "raise ambient capability %s: it is not in the %s set",
                        cap_label(bad, label),
                        (m->permitted & (UINT64_C(1) << bad)) ? "inheritable" : "permitted");
  return 0;
}

int sp_caps_apply(const struct sp_process *proc, struct sp_error *err) {
  int last = kernel_last_cap();
  struct cap_masks m;
  if (proc_masks(proc, last, &m, err) < 0)
    return -1;
  if (check_request(&m, last, err) < 0)
    return -1;
  /* loading seccomp without no_new_privs needs CAP_SYS_ADMIN: kept (if
   * held) until the filter is in, see security.c */
  uint64_t sysadmin = UINT64_C(1) << CAP_SYS_ADMIN;
  if (sp_security_keep_sysadmin() && (current_mask(CAP_PERMITTED, last) & sysadmin)) {
    m.permitted |= sysadmin;
    m.effective |= sysadmin;
  }
  if (raise_effective(err) < 0 || drop_bounding(m.bounding, last, err) < 0 ||
      set_sets(&m, err) < 0 || set_ambient(&m, last, err) < 0)
    return -1;
  return 0;
}
