/* process.user: supplementary groups, gid, uid and umask of the workload.
 *
 * PR_SET_KEEPCAPS keeps the permitted capabilities across setresuid() to a
 * non-zero uid; sp_caps_apply() runs next and sets every set explicitly
 * (the effective set, which the uid switch clears, included). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sprout/linux.h"
#include "sprout/util.h"

#define DEFAULT_UMASK 0022

/* Whether /proc/self/setgroups (read from a real procfs) says "deny". */
static bool setgroups_denied(void) {
  int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return false;
  char buf[16] = {0};
  ssize_t n = sp_is_procfs(fd) ? read(fd, buf, sizeof buf - 1) : -1;
  close(fd);
  return n > 0 && strncmp(buf, "deny", 4) == 0;
}

/* "1, 2, 3" for the error message, shortened when long. */
static void gid_list(const struct sp_user *u, char *buf, size_t size) {
  size_t o = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < u->additional_gids_len; i++) {
    if (size - o < 16) {
      snprintf(buf + o, size - o, "...");
      break;
    }
    int n = snprintf(buf + o, size - o, "%s%u", i ? ", " : "", u->additional_gids[i]);
    if (n < 0)
      break;
    o += (size_t)n;
  }
}

static int set_groups(const struct sp_user *u, struct sp_error *err) {
  size_t n = u->additional_gids_len;
  if (setgroups(n, n ? (const gid_t *)u->additional_gids : NULL) == 0)
    return 0;
  int e = errno;
  bool denied = e == EPERM && setgroups_denied();
  if (n == 0 && denied)
    return 0; /* the user namespace forbids it; nothing was asked for */
  if (n == 0 && e == EPERM && getgroups(0, NULL) == 0)
    return 0; /* nothing to drop (e.g. /proc not mounted to tell why) */
  char list[256];
  gid_list(u, list, sizeof list);
  if (denied)
    return sp_error_errno(err, e, "setgroups [%s] (additional gids of uid %u): setgroups is "
                          "denied in this user namespace", list, u->uid);
  return sp_error_errno(err, e, "setgroups [%s] (additional gids of uid %u)", list, u->uid);
}

static const char *unmapped_hint(int e) {
  return e == EINVAL ? " (not mapped in the user namespace?)" : "";
}

int sp_user_apply(const struct sp_process *proc, struct sp_error *err) {
  const struct sp_user *u = &proc->user;
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return sp_error_sys(err, "prctl(PR_SET_KEEPCAPS, 1) for uid %u", u->uid);
  if (set_groups(u, err) < 0)
    return -1;
  if (setresgid(u->gid, u->gid, u->gid) < 0) {
    int e = errno;
    return sp_error_errno(err, e, "setresgid to gid %u%s", u->gid, unmapped_hint(e));
  }
  if (setresuid(u->uid, u->uid, u->uid) < 0) {
    int e = errno;
    return sp_error_errno(err, e, "setresuid to uid %u%s", u->uid, unmapped_hint(e));
  }
  umask(u->has_umask ? (mode_t)(u->umask & 0777) : DEFAULT_UMASK);
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return sp_error_sys(err, "prctl(PR_SET_KEEPCAPS, 0) for uid %u", u->uid);
  return 0;
}
