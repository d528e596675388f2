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
 * Protection: make /proc/self/exe the same file seen through a private
 * read-only mount, so that what the container can reach cannot be opened
 * for writing (EROFS):
 *   1. open_tree(OPEN_TREE_CLONE) of /proc/self/exe: a detached bind mount
 *      of the binary file alone, in no mount namespace;
 *   2. mount_setattr(MOUNT_ATTR_RDONLY) on it;
 *   3. move the running image onto it, without an exec: every mapping of
 *      the binary is replaced by the same range of the file opened through
 *      the read-only mount (pages that were written since - relocations,
 *      data - are copied over), then prctl(PR_SET_MM_MAP) with exe_fd
 *      points the exe link at it.  The kernel allows that with
 *      CAP_SYS_ADMIN (or CAP_CHECKPOINT_RESTORE) once no mapping of the
 *      old file is left.  Clones (the container's init) inherit the link.
 *   3'. where step 3 cannot be done (valgrind, a binary on a file system
 *      whose maps do not name its device, a kernel that refuses,
 *      SPROUT_SELFEXE_REEXEC=1): execveat(fd, "",
 *      AT_EMPTY_PATH), the command runs again from the read-only view.
 * Once the fd of the detached mount is closed (or close-on-exec'd), the
 * mount is dissolved: it belongs to no mount namespace, no process can
 * look it up, attach it or change its flags (mount_setattr refuses a
 * mount that is not mounted), and the read-only flag stays for as long as
 * the image holds it.  No byte of the file is copied and the page cache is
 * shared with the file on disk.  It needs CAP_SYS_ADMIN over our mount
 * namespace (root); without it (rootless) the command re-executes from a
 * sealed memfd copy instead (F_SEAL_WRITE|SHRINK|GROW|SEAL).
 *
 * The re-exec costs one more execve and start-up, the copy a copy of the
 * binary; everything is skipped where the attack cannot work:
 *   - the process already runs from a read-only mount (the binary is
 *     installed on one, or after the re-exec) or a sealed copy;
 *   - the container gets a new user namespace in which no mapped uid or
 *     gid can write the binary (not owned by a mapped uid, no group write
 *     for a mapped gid, not world-writable).
 * Joining an existing user namespace is treated as "could write". */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
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

/* ---- step 3: the running image moved onto the read-only view ---- */

struct vma {
  uintptr_t start, end;
  uint64_t off;
  int prot;
  bool copy; /* some page differs from the file: copy it over */
};
#define MAX_VMAS 32

/* The mappings of the file DEV:INO, from /proc/self/maps.  -1 when there is
 * none, too many, a shared one, or valgrind's loader (its client image is
 * not ours to move). */
static int exe_vmas(dev_t dev, ino_t ino, struct vma *v, size_t *n) {
  char *buf = NULL;
  size_t len = 0;
  struct sp_error e;
  if (sp_read_file("/proc/self/maps", 1 << 20, &buf, &len, &e) < 0)
    return -1;
  int r = 0;
  *n = 0;
  for (char *line = buf; line && *line && r == 0;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = '\0';
    unsigned long start, end, maj, min;
    unsigned long long off, inode;
    char perms[5];
    if (strstr(line, "vgpreload"))
      r = -1;
    else if (sscanf(line, "%lx-%lx %4s %llx %lx:%lx %llu", &start, &end, perms, &off, &maj, &min,
                    &inode) == 7 &&
             inode == (unsigned long long)ino && maj == major(dev) && min == minor(dev)) {
      if (*n == MAX_VMAS || perms[3] != 'p')
        r = -1;
      else
        v[(*n)++] = (struct vma){.start = start,
                                 .end = end,
                                 .off = off,
                                 .prot = (perms[0] == 'r' ? PROT_READ : 0) |
                                         (perms[1] == 'w' ? PROT_WRITE : 0) |
                                         (perms[2] == 'x' ? PROT_EXEC : 0)};
    }
    line = nl ? nl + 1 : NULL;
  }
  free(buf);
  return r == 0 && *n > 0 ? 0 : -1;
}

/* Whether a page of V is no longer the file's (an anonymous copy after a
 * write, or swapped out), from /proc/self/pagemap: bit 63 present, 62
 * swapped, 61 file page.  -1 when unreadable. */
static int vma_diverged(int pagemap, const struct vma *v) {
  uint64_t ent[512];
  size_t ps = (size_t)sysconf(_SC_PAGESIZE);
  for (uintptr_t a = v->start; a < v->end;) {
    size_t k = (v->end - a) / ps;
    if (k > 512)
      k = 512;
    ssize_t got = pread(pagemap, ent, k * sizeof ent[0], (off_t)(a / ps * sizeof ent[0]));
    if (got != (ssize_t)(k * sizeof ent[0]))
      return -1;
    for (size_t i = 0; i < k; i++)
      if ((ent[i] >> 62 & 1) || ((ent[i] >> 63 & 1) && !(ent[i] >> 61 & 1)))
        return 1;
    a += k * ps;
  }
  return 0;
}

/* A word copy that neither ASan (the binary's globals have poisoned
 * redzones) nor the compiler (no memcpy call, whose PLT slot may be in the
 * range being moved) turns into something else. */
__attribute__((no_sanitize("address"))) static void copy_words(uintptr_t *dst,
                                                              const volatile uintptr_t *src,
                                                              size_t n) {
  for (size_t i = 0; i < n; i++)
    dst[i] = src[i];
}

/* Replace V by the same range of FD: a new mapping elsewhere, filled, then
 * moved over the old one in one mremap, so that the range is never empty
 * (the code doing this may be in it).  Signals are blocked by the caller. */
static int move_vma(int fd, const struct vma *v) {
  size_t len = v->end - v->start;
  int prot = v->copy ? PROT_READ | PROT_WRITE : v->prot;
  void *p = mmap(NULL, len, prot, MAP_PRIVATE | (v->prot & PROT_EXEC ? MAP_POPULATE : 0), fd,
                 (off_t)v->off);
  if (p == MAP_FAILED)
    return -1;
  if (v->copy) {
    copy_words(p, (const volatile uintptr_t *)v->start, len / sizeof(uintptr_t));
    if (mprotect(p, len, v->prot) < 0) {
      munmap(p, len);
      return -1;
    }
  }
  if (mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)v->start) != (void *)v->start) {
    munmap(p, len);
    return -1;
  }
  return 0;
}

/* Fields 26-28 and 45-51 of /proc/self/stat: what PR_SET_MM_MAP must be
 * given back unchanged along with the new exe fd. */
static int mm_layout(struct prctl_mm_map *m) {
  char *buf = NULL;
  size_t len = 0;
  struct sp_error e;
  if (sp_read_file("/proc/self/stat", 4096, &buf, &len, &e) < 0)
    return -1;
  unsigned long long f[52] = {0};
  char *p = strrchr(buf, ')'); /* the command name may hold anything */
  int field = 2;
  for (p = p ? p + 1 : NULL; p && field < 51;) {
    char *end;
    while (*p == ' ')
      p++;
    field++;
    if (field == 3) { /* the state letter */
      p++;
      continue;
    }
    f[field] = strtoull(p, &end, 10);
    if (end == p)
      break;
    p = end;
  }
  free(buf);
  if (field < 51)
    return -1;
  *m = (struct prctl_mm_map){.start_code = f[26],
                             .end_code = f[27],
                             .start_stack = f[28],
                             .start_data = f[45],
                             .end_data = f[46],
                             .start_brk = f[47],
                             .brk = (uint64_t)syscall(SYS_brk, 0),
                             .arg_start = f[48],
                             .arg_end = f[49],
                             .env_start = f[50],
                             .env_end = f[51],
                             .exe_fd = (uint32_t)-1};
  return 0;
}

/* Step 3 of the top comment.  0 once /proc/self/exe is the read-only
 * VIEW; -1 with errno otherwise, the process intact (its mappings then
 * show the same bytes, some from the view). */
static int move_onto(int view) {
  if (getenv("SPROUT_SELFEXE_REEXEC")) {
    errno = ENOTSUP;
    return -1;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", view);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  struct stat st;
  struct vma v[MAX_VMAS];
  size_t n = 0;
  struct prctl_mm_map m;
  int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  int r = -1, e;
  sigset_t all, old;
  errno = ENOTSUP;
  if (pagemap < 0 || fstat(fd, &st) < 0 || exe_vmas(st.st_dev, st.st_ino, v, &n) < 0 ||
      mm_layout(&m) < 0)
    goto out;
  for (size_t i = 0; i < n; i++) {
    int d = vma_diverged(pagemap, &v[i]);
    if (d < 0 || (d && !(v[i].prot & PROT_READ)))
      goto out;
    v[i].copy = d;
  }
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  size_t moved = 0;
  while (moved < n && move_vma(fd, &v[moved]) == 0)
    moved++;
  e = errno;
  if (moved == n) {
    m.exe_fd = (uint32_t)fd;
    r = prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&m, sizeof m, 0);
    e = errno;
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  errno = e;
out:
  e = errno;
  if (pagemap >= 0)
    close(pagemap);
  close(fd);
  errno = e;
  return r;
}

/* The detached read-only mount the image was moved onto, kept open: see
 * sp_selfexe_release. */
static int view_kept = -1;

int sp_selfexe_view_fd(void) { return view_kept; }

void sp_selfexe_release(void) {
  if (view_kept >= 0)
    close(view_kept);
  view_kept = -1;
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
  bool view_is_mount = view >= 0;
  if (view < 0) {
    sp_log(SP_LOG_DEBUG, "runtime binary: no read-only view (%s): copying it", strerror(errno));
    how = "a sealed copy";
    view = sealed_copy(exe, err);
  }
  close(exe);
  if (view < 0)
    return -1;
  if (view_is_mount) {
    if (move_onto(view) == 0) {
      view_kept = view; /* its last close waits for an RCU grace period */
      sp_log(SP_LOG_DEBUG, "runtime binary: the binary is writable from the container: "
                           "now running from a detached read-only mount");
      return 0;
    }
    sp_log(SP_LOG_DEBUG, "runtime binary: cannot move onto the read-only view (%s)",
           strerror(errno));
  }
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
