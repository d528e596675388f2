/* Writes to /proc that cannot be redirected.
 *
 * A container image can ship its own /proc (a directory, a symlink, a
 * tmpfs mounted over it by a hostile config), and a bind mount can cover a
 * file under /proc: a write meant for /proc/self/attr/... or
 * /proc/self/oom_score_adj must then fail instead of landing somewhere else
 * (CVE-2019-16884, CVE-2023-27561).  So: /proc itself must be a procfs
 * directory (not a symlink), the path below it is resolved without crossing
 * a mount point and without magic links, and the file finally opened must
 * also live on procfs. */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/openat2.h>

#include "sprout/linux.h"
#include "sprout/util.h"

bool sp_is_procfs(int fd) {
  struct statfs st;
  if (fstatfs(fd, &st) < 0)
    return false;
  return st.f_type == PROC_SUPER_MAGIC;
}

/* Open REL (relative, below /proc) for writing without leaving the procfs
 * mount DIRFD: openat2 refuses mount crossings and magic links; without
 * openat2 the last component at least is not followed and the caller
 * checks the result is on procfs. */
static int open_below(int dirfd, const char *rel) {
  struct open_how how = {
      .flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
      .resolve = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
  };
  int fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
  if (fd >= 0 || (errno != ENOSYS && errno != E2BIG))
    return fd;
  return openat(dirfd, rel, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
}

int sp_procfs_write(const char *path, const char *data, struct sp_error *err) {
  if (!path || strncmp(path, "/proc/", 6) != 0)
    return sp_error_set(err, 0, "write %s: refusing a path outside /proc",
                        path ? path : "(null)");
  const char *rel = path + 6;
  while (*rel == '/')
    rel++;
  if (!*rel)
    return sp_error_set(err, 0, "write %s: no file named below /proc", path);

  int dirfd = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dirfd < 0)
    return sp_error_sys(err, "write %s: open /proc", path);
  if (!sp_is_procfs(dirfd)) {
    close(dirfd);
    return sp_error_set(err, 0, "write %s: /proc is not a procfs mount", path);
  }
  int fd = open_below(dirfd, rel);
  int saved = errno;
  close(dirfd);
  if (fd < 0) {
    if (saved == EXDEV)
      return sp_error_errno(err, saved,
                            "write %s: a mount covers part of the path", path);
    return sp_error_errno(err, saved, "open %s", path);
  }
  if (!sp_is_procfs(fd)) {
    close(fd);
    return sp_error_set(err, 0, "write %s: the file is not on procfs", path);
  }
  size_t len = strlen(data);
  /* proc handlers want the whole value in one write(); loop only for the
   * unusual short write */
  if (sp_write_all(fd, data, len) < 0) {
    sp_error_sys(err, "write %s", path);
    close(fd);
    return -1;
  }
  if (close(fd) < 0 && errno != EINTR)
    return sp_error_sys(err, "close %s", path);
  return 0;
}

/* Mounts onto procfs (CVE-2019-16884, CVE-2023-27561, CVE-2025-52881): a
 * directory or file mounted over /proc or part of it would turn the
 * runtime's procfs writes (labels, oom_score_adj, sysctl) or the
 * /proc/self/fd paths it mounts through into something the config chose.
 * The resolved target is checked, so a symlink in the rootfs leading into
 * /proc is caught too.  Allowed: proc itself, a fresh tmpfs (empty: it can
 * only make the runtime's writes fail, never redirect them; runc 1.1 allows
 * it too), and binds onto the few files that lxcfs emulates (runc's list). */
static const char *const lxcfs_files[] = {
    "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",
    "/proc/swaps",   "/proc/uptime",    "/proc/loadavg", "/proc/slabinfo",
    "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
};

int sp_procfs_mount_check(int target, const char *rootfs, const struct sp_mount *m,
                          struct sp_error *err) {
  if (!sp_is_procfs(target))
    return 0;
  const char *type = m->type ? m->type : "";
  if ((!strcmp(type, "proc") || !strcmp(type, "tmpfs")) && !m->bind)
    return 0; /* a new procfs, or an empty tmpfs: nothing planted */
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", target);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n > 0) {
    path[n] = '\0';
    size_t rl = rootfs ? strlen(rootfs) : 0;
    const char *rel = rl && !strncmp(path, rootfs, rl) ? path + rl : path;
    for (size_t i = 0; i < sizeof lxcfs_files / sizeof lxcfs_files[0]; i++)
      if (!strcmp(rel, lxcfs_files[i]))
        return 0;
  }
  return sp_error_set(err, EPERM, "mount on %s: the target is inside /proc; only proc, "
                      "tmpfs, or a bind onto a file lxcfs provides may go there",
                      m->destination);
}
