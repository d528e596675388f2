/* CVE-2019-5736: the workload must never reach a writable runtime binary.
 *
 * The container's init is a clone of `sprout create`, so until its execve
 * its /proc/self/exe is the sprout binary on the host.  An entrypoint
 * whose interpreter is /proc/self/exe ("#!/proc/self/exe") makes the
 * kernel execute that binary inside the container; code the container
 * controls (its own ld.so and libraries, LD_PRELOAD) then runs in a
 * process whose /proc/self/exe is the host binary, opens it, and once
 * nobody executes it any more (ETXTBSY is gone) reopens it for writing
 * through /proc/self/fd/N: the next `sprout` run on the host is the
 * attacker's.
 *
 * Protection: re-execute the command from the same file seen through a
 * private read-only mount, so that what the container can reach cannot be
 * opened for writing (EROFS):
 *   1. open_tree(OPEN_TREE_CLONE) of /proc/self/exe: a detached bind mount
 *      of the binary file alone, in no mount namespace;
 *   2. mount_setattr(MOUNT_ATTR_RDONLY) on it;
 *   3. execveat(fd, "", AT_EMPTY_PATH).  The fd is close-on-exec, so the
 *      detached mount is dissolved at the exec: it belongs to no mount
 *      namespace any more, no process can look it up, attach it or change
 *      its flags (mount_setattr refuses a mount that is not mounted), and
 *      the read-only flag stays for as long as the new image holds it.
 * No byte is copied and the page cache is shared with the file on disk.
 * It needs CAP_SYS_ADMIN over our mount namespace (root); without it
 * (rootless) the command re-executes from a sealed memfd copy instead
 * (F_SEAL_WRITE|SHRINK|GROW|SEAL), which costs a copy of the binary.
 *
 * Either way it costs one more execve, so it is skipped where the attack
 * cannot work:
 *   - the process already runs from a read-only mount (the binary is
 *     installed on one, or after the re-exec) or a sealed copy;
 *   - the container gets a new user namespace in which no mapped uid or
 *     gid can write the binary (not owned by a mapped uid, no group write
 *     for a mapped gid, not world-writable).
 * Joining an existing user namespace is treated as "could write". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sprout/security.h"
#include "sprout/util.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern char **environ;

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool fd_sealed(int fd) {
  int s = fcntl(fd, F_GET_SEALS);
  return s >= 0 && (s & (F_SEAL_WRITE | F_SEAL_SEAL)) == (F_SEAL_WRITE | F_SEAL_SEAL);
}

bool sp_selfexe_sealed(void) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool r = fd_sealed(fd);
  close(fd);
  return r;
}

static bool id_mapped(const struct sp_idmap *m, size_t n, uint32_t id) {
  for (size_t i = 0; i < n; i++)
    if (id >= m[i].host_id && (uint64_t)id < (uint64_t)m[i].host_id + m[i].size)
      return true;
  return false;
}

enum need { SEALED, READONLY, USERNS_SAFE, NEEDED, UNKNOWN };

static enum need assess(const struct sp_spec *spec, int fd) {
  if (fd_sealed(fd))
    return SEALED;
  struct statvfs sv;
  if (fstatvfs(fd, &sv) == 0 && (sv.f_flag & ST_RDONLY))
    return READONLY;
  const struct sp_namespace *u = spec ? sp_spec_namespace(spec, SP_NS_USER) : NULL;
  struct stat st;
  if (u && !u->path && fstat(fd, &st) == 0) {
    const struct sp_linux *l = &spec->linux_;
    bool uid = id_mapped(l->uid_mappings, l->uid_mappings_len, st.st_uid);
    bool gid = id_mapped(l->gid_mappings, l->gid_mappings_len, st.st_gid);
    /* an owner that is mapped can chmod; CAP_DAC_OVERRIDE in the user
     * namespace needs both ids mapped */
    if (!uid && !(gid && (st.st_mode & S_IWGRP)) && !(st.st_mode & S_IWOTH))
      return USERNS_SAFE;
  }
  return NEEDED;
}

static const char *reason(enum need n) {
  switch (n) {
  case SEALED: return "running from a sealed copy";
  case READONLY: return "the binary is on a read-only mount";
  case USERNS_SAFE: return "no uid or gid of the user namespace can write the binary";
  case NEEDED: return "the binary is writable from the container: re-execute";
  default: return "unknown";
  }
}

const char *sp_selfexe_status(const struct sp_spec *spec) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return reason(UNKNOWN);
  enum need n = assess(spec, fd);
  close(fd);
  return reason(n);
}

/* Our own argv, from /proc/self/cmdline. */
static char **own_argv(void) {
  char *buf = NULL;
  size_t len = 0;
  struct sp_error e;
  if (sp_read_file("/proc/self/cmdline", 1 << 20, &buf, &len, &e) < 0 || len == 0) {
    free(buf);
    return NULL;
  }
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += buf[i] == '\0';
  if (buf[len - 1] != '\0')
    n++;
  char **argv = calloc(n + 1, sizeof *argv);
  if (!argv) {
    free(buf);
    return NULL;
  }
  size_t k = 0;
  for (size_t i = 0; i < len && k < n; k++) {
    argv[k] = buf + i; /* buf stays allocated: we are about to exec */
    i += strlen(buf + i) + 1;
  }
  return argv;
}

static int sealed_copy(int src, struct sp_error *err) {
  int fd = memfd_create("sprout", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) /* kernels before 6.3 */
    fd = memfd_create("sprout", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return sp_error_sys(err, "CVE-2019-5736 protection: memfd_create");
  struct stat st;
  if (fstat(src, &st) < 0) {
    close(fd);
    return sp_error_sys(err, "CVE-2019-5736 protection: stat /proc/self/exe");
  }
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(fd, src, &off, (size_t)(st.st_size - off));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      close(fd);
      return sp_error_sys(err, "CVE-2019-5736 protection: copy the runtime binary");
    }
  }
  if (fcntl(fd, F_ADD_SEALS, SEALS) < 0 || !fd_sealed(fd)) {
    close(fd);
    return sp_error_sys(err, "CVE-2019-5736 protection: seal the copy of the runtime binary");
  }
  return fd;
}

/* A detached read-only bind mount of the binary (see the top). */
static int readonly_view(int exe) {
  int fd = open_tree(exe, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (fd < 0)
    return -1;
  struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
  struct statvfs sv;
  if (mount_setattr(fd, "", AT_EMPTY_PATH, &a, sizeof a) < 0 || fstatvfs(fd, &sv) < 0 ||
      !(sv.f_flag & ST_RDONLY)) {
    close(fd);
    return -1;
  }
  return fd;
}

int sp_selfexe_protect(const struct sp_spec *spec, struct sp_error *err) {
  int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (exe < 0)
    return sp_error_sys(err, "CVE-2019-5736 protection: open /proc/self/exe");
  enum need n = assess(spec, exe);
  if (n != NEEDED) {
    sp_log(SP_LOG_DEBUG, "runtime binary: %s", reason(n));
    close(exe);
    return 0;
  }
  const char *how = "a detached read-only mount";
  int view = readonly_view(exe);
  if (view < 0) {
    sp_log(SP_LOG_DEBUG, "runtime binary: no read-only view (%s): copying it", strerror(errno));
    how = "a sealed copy";
    view = sealed_copy(exe, err);
  }
  close(exe);
  if (view < 0)
    return -1;
  sp_log(SP_LOG_DEBUG, "runtime binary: the binary is writable from the container: "
                       "re-executing from %s", how);
  char **argv = own_argv();
  if (!argv) {
    close(view);
    return sp_error_set(err, EIO, "CVE-2019-5736 protection: read /proc/self/cmdline");
  }
  fflush(NULL);
  syscall(SYS_execveat, view, "", argv, environ, AT_EMPTY_PATH);
  int e = errno;
  close(view);
  free(argv[0]); /* the /proc/self/cmdline buffer (see own_argv) */
  free(argv);
  return sp_error_errno(err, e, "CVE-2019-5736 protection: re-execute from %s", how);
}
