/* process.rlimits and process.oomScoreAdj, applied in the container's init
 * before the uid switch.  Raising a hard limit (or lowering oom_score_adj
 * below its floor) needs CAP_SYS_RESOURCE: the error then says what the
 * current hard limit is, so the user knows which value to lower. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "sprout/linux.h"
#include "sprout/util.h"

/* "unlimited" or the number. */
static const char *limit_str(uint64_t v, char buf[32]) {
  if (v == UINT64_MAX)
    return "unlimited";
  snprintf(buf, 32, "%" PRIu64, v);
  return buf;
}

static const char *rlim_str(rlim_t v, char buf[32]) {
  if (v == RLIM_INFINITY)
    return "unlimited";
  snprintf(buf, 32, "%llu", (unsigned long long)v);
  return buf;
}

/* UINT64_MAX means unlimited; anything else must fit in rlim_t. */
static int to_rlim(uint64_t v, rlim_t *out) {
  if (v == UINT64_MAX) {
    *out = RLIM_INFINITY;
    return 0;
  }
  if ((uint64_t)(rlim_t)v != v || (rlim_t)v == RLIM_INFINITY)
    return -1;
  *out = (rlim_t)v;
  return 0;
}

static int apply_one(const struct sp_rlimit *r, struct sp_error *err) {
  char sb[32], hb[32], cb[32];
  const char *name = r->type ? r->type : "rlimit";
  const char *soft = limit_str(r->soft, sb), *hard = limit_str(r->hard, hb);
  struct rlimit rl;
  if (to_rlim(r->soft, &rl.rlim_cur) < 0 || to_rlim(r->hard, &rl.rlim_max) < 0)
    return sp_error_set(err, 0, "setrlimit %s (soft %s, hard %s): value too large",
                        name, soft, hard);
  if (r->soft > r->hard)
    return sp_error_set(err, 0, "setrlimit %s (soft %s, hard %s): the soft limit is above "
                        "the hard limit", name, soft, hard);
  if (setrlimit(r->resource, &rl) == 0)
    return 0;
  int e = errno;
  struct rlimit cur;
  if (e == EPERM && getrlimit(r->resource, &cur) == 0 &&
      rl.rlim_max > cur.rlim_max)
    return sp_error_set(err, e, "setrlimit %s (soft %s, hard %s): %s (the hard limit is "
                        "%s; raising it needs CAP_SYS_RESOURCE)", name, soft, hard,
                        strerror(e), rlim_str(cur.rlim_max, cb));
  return sp_error_errno(err, e, "setrlimit %s (soft %s, hard %s)", name, soft, hard);
}

int sp_rlimits_apply(const struct sp_process *proc, struct sp_error *err) {
  for (size_t i = 0; i < proc->rlimits_len; i++)
    if (apply_one(&proc->rlimits[i], err) < 0)
      return -1;
  if (proc->has_oom_score_adj) {
    char buf[16];
    snprintf(buf, sizeof buf, "%d", (int)proc->oom_score_adj);
    int r = sp_procfs_write("/proc/self/oom_score_adj", buf, err);
    /* a process that is not dumpable (sprout's own protection, or the uid
     * change into a user namespace) finds its /proc/self files owned by
     * the host's root: own them again for this one write, before any
     * capability is dropped */
    if (r < 0 && err->code == EACCES && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0) {
      prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
      sp_error_clear(err);
      r = sp_procfs_write("/proc/self/oom_score_adj", buf, err);
      prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    if (r < 0)
      return sp_error_prefix(err, "set oom_score_adj to %d", (int)proc->oom_score_adj);
  }
  return 0;
}
