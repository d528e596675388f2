/* The container's root: propagation, the config's mounts (every target
 * resolved inside the root and mounted through an fd), devices, pivot_root,
 * read-only root, masked and read-only paths. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "sprout/cgroup.h"
#include "sprout/linux.h"
#include "sprout/security.h"
#include "sprout/overlay.h"
#include "sprout/timeline.h"
#include "sprout/util.h"

#define FD_PATH_MAX 32
#define MAX_SYMLINKS 40

static void fd_path(char buf[FD_PATH_MAX], int fd) {
  snprintf(buf, FD_PATH_MAX, "/proc/self/fd/%d", fd);
}

static void clean_path(char *p) { sp_path_clean(p, p, strlen(p) + 1); }

enum walk_make { WALK_FIND, WALK_MKDIR, WALK_MKFILE };

/* PATH resolved inside ROOTFD as openat2's RESOLVE_IN_ROOT would, by hand:
 * one component at a time with O_NOFOLLOW, every symlink met re-resolved
 * from the root (an absolute target) or from its own directory (a relative
 * one), ".." never above the root.  MAKE creates what is missing (the last
 * component a regular file with WALK_MKFILE).  A last component that is a
 * symlink is resolved too with FOLLOW_LAST, else the link itself is the
 * result.  Returns an O_PATH fd. */
static int walk_in_root(int rootfd, const char *path, enum walk_make make,
                        bool follow_last, mode_t mode, struct sp_error *err) {
  char cur[PATH_MAX];
  if (snprintf(cur, sizeof cur, "/%s", path) >= (int)sizeof cur)
    return sp_error_errno(err, ENAMETOOLONG, "%s", path);
  clean_path(cur);
  const char *verb = make == WALK_FIND ? "open" : "create";
  int loops = 0;
restart:;
  int dirfd = dup(rootfd);
  if (dirfd < 0)
    return sp_error_sys(err, "dup");
  if (!strcmp(cur, "/"))
    return dirfd;
  char *comp = cur + 1;
  for (;;) {
    char *slash = strchr(comp, '/');
    bool last = slash == NULL;
    if (slash)
      *slash = '\0';
    int fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && make != WALK_FIND) {
      int r;
      if (last && make == WALK_MKFILE) {
        r = openat(dirfd, comp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (r >= 0)
          close(r);
      } else {
        r = mkdirat(dirfd, comp, mode);
      }
      if (r < 0 && errno != EEXIST) {
        if (slash)
          *slash = '/';
        sp_error_sys(err, "create %s inside the container root", cur);
        close(dirfd);
        return -1;
      }
      fd = openat(dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
      if (slash)
        *slash = '/';
      sp_error_sys(err, "open %s inside the container root", cur);
      close(dirfd);
      return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
      close(fd);
      close(dirfd);
      return sp_error_sys(err, "stat %s", cur);
    }
    if (S_ISLNK(st.st_mode) && (!last || follow_last)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(fd, "", target, sizeof target - 1);
      close(fd);
      close(dirfd);
      if (n < 0)
        return sp_error_sys(err, "readlink %s", cur);
      target[n] = '\0';
      if (++loops > MAX_SYMLINKS)
        return sp_error_errno(err, ELOOP, "resolve %s inside the container root", path);
      /* new path: (dir of comp or "/") + target + rest */
      char next[PATH_MAX];
      const char *rest = slash ? slash + 1 : "";
      int w;
      if (target[0] == '/') {
        w = snprintf(next, sizeof next, "%s/%s", target, rest);
      } else {
        comp[0] = '\0'; /* cur now holds the parent prefix ("/a/b/") */
        w = snprintf(next, sizeof next, "%s/%s/%s", cur, target, rest);
      }
      if (w >= (int)sizeof next)
        return sp_error_errno(err, ENAMETOOLONG, "%s", path);
      memcpy(cur, next, (size_t)w + 1);
      clean_path(cur);
      goto restart;
    }
    close(dirfd);
    if (last)
      return fd;
    if (!S_ISDIR(st.st_mode)) {
      close(fd);
      *slash = '/';
      return sp_error_errno(err, ENOTDIR, "%s %s inside the container root", verb, cur);
    }
    dirfd = fd;
    *slash = '/';
    comp = slash + 1;
  }
}

int sp_open_in_root(int rootfd, const char *path, int flags,
                    struct sp_error *err) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  if (fd >= 0 || errno != ENOSYS) {
    if (fd < 0)
      sp_error_sys(err, "open %s inside the container root", path);
    return fd;
  }
  /* no openat2 (Linux before 5.6): the same resolution by hand; the root
   * of AT_FDCWD is the working directory, as for openat2 */
  int base = rootfd == AT_FDCWD ? open(".", O_PATH | O_DIRECTORY | O_CLOEXEC) : rootfd;
  if (base < 0)
    return sp_error_sys(err, "open %s inside the container root: open .", path);
  fd = walk_in_root(base, path, WALK_FIND, !(flags & O_NOFOLLOW), 0, err);
  if (base != rootfd)
    close(base);
  if (fd < 0)
    return -1;
  struct stat st;
  int e = 0;
  if (fstat(fd, &st) < 0)
    e = errno;
  else if (S_ISLNK(st.st_mode) && !(flags & O_PATH))
    e = ELOOP; /* O_NOFOLLOW on a link */
  else if ((flags & O_DIRECTORY) && !S_ISDIR(st.st_mode))
    e = ENOTDIR;
  if (e) {
    close(fd);
    return sp_error_errno(err, e, "open %s inside the container root", path);
  }
  if (flags & O_PATH)
    return fd;
  /* the object found, opened as asked (its magic link: no O_NOFOLLOW) */
  char p[FD_PATH_MAX];
  fd_path(p, fd);
  int r = open(p, (flags & ~(O_NOFOLLOW | O_DIRECTORY)) | O_CLOEXEC);
  close(fd);
  if (r < 0)
    sp_error_sys(err, "open %s inside the container root", path);
  return r;
}

/* Resolve PATH inside ROOTFD creating what is missing; symlinks met on the
 * way are re-resolved from the root, never followed by the kernel. */
int sp_mkdir_in_root(int rootfd, const char *path, mode_t mode,
                     bool create_file, struct sp_error *err) {
  char cur[PATH_MAX];
  if (snprintf(cur, sizeof cur, "/%s", path) >= (int)sizeof cur)
    return sp_error_errno(err, ENAMETOOLONG, "%s", path);
  clean_path(cur);
  /* The common case, a path that exists and holds no symlink, in one
   * syscall; the walk would find the same object.  Anything else (a
   * missing component, a symlink: ELOOP, no openat2) takes the walk. */
  struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS};
  int fast = (int)syscall(SYS_openat2, rootfd, cur, &how, sizeof how);
  if (fast >= 0)
    return fast;
  return walk_in_root(rootfd, cur, create_file ? WALK_MKFILE : WALK_MKDIR, true, mode, err);
}

/* ---- the mounts of the config ---------------------------------------- */

static unsigned long locked_flags(const char *path) {
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs(path, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  if (sv.f_flag & ST_RDONLY)
    f |= MS_RDONLY;
  if (sv.f_flag & ST_NOATIME)
    f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME)
    f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME)
    f |= MS_RELATIME;
  return f;
}

#define REMOUNT_MASK (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | \
                      MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_SYNCHRONOUS | \
                      MS_DIRSYNC | MS_MANDLOCK | MS_LAZYTIME)

/* After mounting at DEST, apply flags, propagation and recursive attributes
 * to the new mount (reopened: the old fd names what is underneath). */
static int finish_mount(int rootfd, const char *dest, unsigned long flags,
                        unsigned long propagation, uint64_t attr_set,
                        uint64_t attr_clr, bool remount, bool in_userns,
                        struct sp_error *err) {
  if (!remount && !propagation && !attr_set && !attr_clr)
    return 0;
  int fd = sp_open_in_root(rootfd, dest, O_PATH, err);
  if (fd < 0)
    return -1;
  char p[FD_PATH_MAX];
  fd_path(p, fd);
  int r = 0;
  if (remount) {
    unsigned long f = (flags & REMOUNT_MASK) | MS_REMOUNT | MS_BIND;
    if (in_userns)
      f |= locked_flags(p);
    if (mount(NULL, p, NULL, f, NULL) < 0)
      r = sp_error_sys(err, "remount %s", dest);
  }
  if (!r && propagation && mount(NULL, p, NULL, propagation, NULL) < 0)
    r = sp_error_sys(err, "set propagation of %s", dest);
  if (!r && (attr_set || attr_clr)) {
    struct mount_attr a = {.attr_set = attr_set, .attr_clr = attr_clr};
    if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0)
      r = sp_error_sys(err, "set recursive attributes of %s", dest);
  }
  close(fd);
  return r;
}

/* Same comma-separated items, in any order? */
static bool same_set(const char *a, const char *b) {
  char x[512], y[512];
  snprintf(x, sizeof x, ",%s,", a);
  snprintf(y, sizeof y, ",%s,", b);
  for (int pass = 0; pass < 2; pass++) {
    const char *s = pass ? y : x, *other = pass ? x : y;
    for (const char *c = s + 1; *c; ) {
      const char *e = strchr(c, ',');
      if (!e)
        break;
      char item[128];
      snprintf(item, sizeof item, ",%.*s,", (int)(e - c), c);
      if (e > c && !strstr(other, item))
        return false;
      c = e + 1;
    }
  }
  return true;
}

/* A v1 hierarchy as the container sees it: a bind of the host's (MP, e.g.
 * /sys/fs/cgroup/memory) subtree of the init's cgroup, which SELF_CGROUP
 * (/proc/self/cgroup from before the cgroupns) names, on TARGET.  Inside a
 * cgroup namespace that is what a new mount of the hierarchy shows, without
 * its cost: every v1 cgroup mount walks all the cgroups of the host (the
 * ten hierarchies took 4.0 ms instead of 1.3 ms here with 1000 containers
 * alive), a bind does not.  Without a cgroup namespace it shows the
 * container's subtree only, not the host's.  A user namespace cannot mount
 * a v1 hierarchy at all: there the whole hierarchy is bound when the
 * subtree is not found.  The mount's flags come later, for all at once.
 * Returns 1 (nothing done) when the subtree is not found outside one. */
static int bind_cgroup_v1(const char *mp, const char *controllers,
                          const char *self_cgroup, const char *target,
                          const char *shown, bool in_userns, struct sp_error *err) {
  char src[PATH_MAX];
  bool listed = false;
  for (const char *l = self_cgroup; l && *l && !listed; ) {
    const char *nl = strchr(l, '\n');
    size_t len = nl ? (size_t)(nl - l) : strlen(l);
    char line[PATH_MAX];
    snprintf(line, sizeof line, "%.*s", (int)len, l);
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2) {
      *c2 = '\0';
      listed = c1[1] && same_set(c1 + 1, controllers);
      if (listed)
        snprintf(src, sizeof src, "%s%s", mp, c2 + 1);
    }
    l = nl ? nl + 1 : l + len;
  }
  /* the subtree, unless it is not there (ENOENT; not a directory: ENOTDIR) */
  if (listed && mount(src, target, NULL, MS_BIND | MS_REC, NULL) == 0)
    return 0;
  if (listed && errno != ENOENT && errno != ENOTDIR)
    return sp_error_sys(err, "bind cgroup %s on %s", src, shown);
  if (!in_userns)
    return 1;
  if (mount(mp, target, NULL, MS_BIND | MS_REC, NULL) < 0)
    return sp_error_sys(err, "bind cgroup %s on %s", mp, shown);
  return 0;
}

/* The config's flags on the tmpfs at DEST and every hierarchy under it (the
 * tmpfs has them but ro; the binds have the host's, nosuid,nodev,noexec):
 * one recursive mount_setattr on TFD (the tmpfs), instead of a remount per
 * mount; a remount of each where the kernel has no mount_setattr. */
static int cgroup_mount_flags(int rootfd, int tfd, const struct sp_mount *m,
                              bool in_userns, struct sp_error *err) {
  struct mount_attr a = {0};
  if (m->flags & MS_RDONLY)
    a.attr_set |= MOUNT_ATTR_RDONLY;
  if (m->flags & MS_NOSUID)
    a.attr_set |= MOUNT_ATTR_NOSUID;
  if (m->flags & MS_NODEV)
    a.attr_set |= MOUNT_ATTR_NODEV;
  if (m->flags & MS_NOEXEC)
    a.attr_set |= MOUNT_ATTR_NOEXEC;
  if (!a.attr_set)
    return 0;
  if (mount_setattr(tfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) == 0)
    return 0;
  if (errno != ENOSYS)
    return sp_error_sys(err, "set the flags of %s", m->destination);
  int dfd = openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
  if (!d) {
    if (dfd >= 0)
      close(dfd);
    return sp_error_sys(err, "list %s", m->destination);
  }
  unsigned long want = m->flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  int r = 0;
  for (struct dirent *e; !r && (e = readdir(d));) {
    if (e->d_type != DT_DIR || e->d_name[0] == '.')
      continue;
    char p[FD_PATH_MAX + NAME_MAX + 2];
    snprintf(p, sizeof p, "/proc/self/fd/%d/%s", dfd, e->d_name);
    unsigned long have = locked_flags(p);
    if ((want & ~have) && mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | want | have, NULL) < 0)
      r = sp_error_sys(err, "remount cgroup %s/%s", m->destination, e->d_name);
  }
  closedir(d);
  if (!r && (m->flags & MS_RDONLY))
    r = finish_mount(rootfd, m->destination, (m->flags & ~(unsigned long)MS_BIND) | MS_RDONLY,
                     0, 0, 0, true, in_userns, err);
  return r;
}

/* One hierarchy of the host under the container's cgroup tmpfs. */
struct cg_entry {
  int sfd;             /* its directory in the tmpfs */
  bool v2;
  char mp[PATH_MAX];   /* the host's mount point, /sys/fs/cgroup/NAME */
  char data[512];      /* v1: the controllers, for a mount of its own */
};

/* The hierarchies mounted directly under /sys/fs/cgroup (mountinfo), each
 * with its directory made in the tmpfs TFD; DEST names the mount. */
static int cg_entries(int tfd, const char *dest, struct cg_entry **out,
                      size_t *n, struct sp_error *err) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f)
    return sp_error_sys(err, "read /proc/self/mountinfo");
  char line[4096];
  int r = 0;
  while (!r && fgets(line, sizeof line, f)) {
    /* ... MOUNTPOINT ... - FSTYPE SOURCE SUPEROPTS */
    char *fields[16] = {0};
    int nf = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " \n", &save); t && nf < 16; t = strtok_r(NULL, " \n", &save))
      fields[nf++] = t;
    int dash = -1;
    for (int i = 0; i < nf; i++)
      if (!strcmp(fields[i], "-")) {
        dash = i;
        break;
      }
    if (dash < 0 || dash + 3 >= nf || !fields[4])
      continue;
    const char *mp = fields[4], *fstype = fields[dash + 1], *opts = fields[dash + 3];
    if (strncmp(mp, "/sys/fs/cgroup/", 15) != 0 || strchr(mp + 15, '/'))
      continue;
    bool v2 = !strcmp(fstype, "cgroup2");
    if (!v2 && strcmp(fstype, "cgroup"))
      continue;
    struct cg_entry *e = realloc(*out, (*n + 1) * sizeof **out);
    if (!e) {
      r = sp_error_sys(err, "cgroup mount %s", dest);
      break;
    }
    *out = e;
    e += (*n)++;
    *e = (struct cg_entry){.sfd = -1, .v2 = v2};
    snprintf(e->mp, sizeof e->mp, "%s", mp);
    const char *name = mp + 15;
    if (mkdirat(tfd, name, 0755) < 0 ||
        (e->sfd = openat(tfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
      r = sp_error_sys(err, "mkdir %s/%s", dest, name);
      break;
    }
    /* the controllers: the super options minus rw/ro and friends */
    if (!v2) {
      char *s2 = NULL;
      for (char *o = strtok_r((char *)opts, ",", &s2); o; o = strtok_r(NULL, ",", &s2)) {
        if (!strcmp(o, "rw") || !strcmp(o, "ro") || !strncmp(o, "release_agent", 13) ||
            !strcmp(o, "clone_children") || !strcmp(o, "noprefix"))
          continue;
        size_t l = strlen(e->data);
        snprintf(e->data + l, sizeof e->data - l, "%s%s", l ? "," : "", o);
      }
    }
  }
  fclose(f);
  return r;
}

/* cgroup mounts: cgroup2 on v2 hosts; on v1/hybrid hosts a tmpfs holding one
 * mount per host hierarchy, each showing the container's own subtree.  The
 * init joins its cgroups (O->before_cgroups) as late as it can: after the
 * tmpfs and its directories, before the binds, which show where it is. */
static int mount_cgroup(int rootfd, const struct sp_mount *m, int target,
                        const struct sp_rootfs_opts *o, struct sp_error *err) {
  char p[FD_PATH_MAX];
  fd_path(p, target);
  unsigned long flags = m->flags & ~(unsigned long)MS_RDONLY;
  enum sp_cgroup_mode mode;
  if (sp_cgroup_detect(NULL, &mode, err) < 0)
    return -1;
  if (mode == SP_CGROUP_V2 || mode == SP_CGROUP_DISABLED) {
    if (o->before_cgroups && o->before_cgroups(o->before_cgroups_arg, err) < 0)
      return -1;
    if (mount("cgroup2", p, "cgroup2", m->flags, NULL) < 0)
      return sp_error_sys(err, "mount cgroup2 on %s", m->destination);
    return 0;
  }
  if (mount("tmpfs", p, "tmpfs", flags, "mode=755") < 0)
    return sp_error_sys(err, "mount tmpfs on %s", m->destination);
  /* the tmpfs just mounted: ours, empty, and nothing of the container runs
   * yet, so its directories need no walk inside the root */
  int tfd = sp_open_in_root(rootfd, m->destination, O_PATH | O_DIRECTORY, err);
  if (tfd < 0)
    return -1;
  struct cg_entry *e = NULL;
  size_t n = 0;
  int r = cg_entries(tfd, m->destination, &e, &n, err);
  if (!r && o->before_cgroups)
    r = o->before_cgroups(o->before_cgroups_arg, err);
  for (size_t i = 0; i < n && !r; i++) {
    char sp[FD_PATH_MAX], sub[PATH_MAX];
    fd_path(sp, e[i].sfd);
    snprintf(sub, sizeof sub, "%s/%s", m->destination, e[i].mp + 15);
    /* read now: the join above set it */
    r = e[i].v2 ? 1
                : bind_cgroup_v1(e[i].mp, e[i].data, o->self_cgroup, sp, sub,
                                 o->in_userns, err);
    if (r == 1) { /* cgroup2, or no subtree to bind: a mount of its own */
      r = 0;
      if (mount("cgroup", sp, e[i].v2 ? "cgroup2" : "cgroup", m->flags,
                e[i].v2 ? NULL : e[i].data) < 0)
        r = o->in_userns && errno == EPERM
                ? bind_cgroup_v1(e[i].mp, "", NULL, sp, sub, true, err)
                : sp_error_sys(err, "mount cgroup %s on %s",
                               e[i].v2 ? "cgroup2" : e[i].data, sub);
    }
  }
  for (size_t i = 0; i < n; i++)
    if (e[i].sfd >= 0)
      close(e[i].sfd);
  free(e);
  if (!r)
    r = cgroup_mount_flags(rootfd, tfd, m, o->in_userns, err);
  close(tfd);
  return r;
}

static int mount_one(int rootfd, const struct sp_mount *m, int premade,
                     const struct sp_rootfs_opts *o, struct sp_error *err) {
  const char *type = m->type;
  char *src = NULL;
  bool is_dir = true;
  int r = -1;
  if (m->bind) {
    if (!m->source)
      return sp_error_set(err, EINVAL, "bind mount needs a source");
    src = m->source[0] == '/' ? strdup(m->source) : sp_path_join(o->bundle, m->source);
    struct stat st;
    if (stat(src, &st) < 0) {
      sp_error_sys(err, "bind source %s", src);
      free(src);
      return -1;
    }
    is_dir = S_ISDIR(st.st_mode);
  }
  int target = sp_mkdir_in_root(rootfd, m->destination, 0755, !is_dir, err);
  if (target < 0)
    goto out;
  /* nothing but proc (and lxcfs-style binds) over procfs */
  if (sp_procfs_mount_check(target, o->rootfs, m, err) < 0)
    goto out;
  char p[FD_PATH_MAX];
  fd_path(p, target);
  if (m->bind) {
    unsigned long f = MS_BIND | (m->flags & MS_REC);
    if (premade >= 0) {
      /* made by the runtime (an idmapped clone of the source): attach it */
      if (move_mount(premade, "", target, "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
        sp_error_sys(err, "attach the idmapped mount of %s", src);
        goto out;
      }
    } else if (mount(src, p, NULL, f, NULL) < 0) {
      sp_error_sys(err, "bind %s", src);
      goto out;
    }
    bool remount = (m->flags & REMOUNT_MASK) != 0;
    r = finish_mount(rootfd, m->destination, m->flags, m->propagation,
                     m->rec_attr_set, m->rec_attr_clr, remount, o->in_userns, err);
  } else if (type && !strcmp(type, "cgroup")) {
    r = mount_cgroup(rootfd, m, target, o, err);
  } else {
    const char *source = m->source ? m->source : type;
    /* linux.mountLabel (SELinux hosts only; refused earlier elsewhere) */
    char *labelled = sp_lsm_mount_data(m->data, o->mount_label, type);
    int mr = mount(source, p, type, m->flags & ~(unsigned long)(MS_BIND | MS_REC),
                   labelled ? labelled : m->data);
    int me = errno;
    free(labelled);
    errno = me;
    if (mr < 0) {
      /* sysfs cannot be mounted in a user namespace without its own
       * network namespace: bind the host's /sys instead, read-only */
      if (errno == EPERM && type && !strcmp(type, "sysfs") && o->in_userns) {
        if (mount("/sys", p, NULL, MS_BIND | MS_REC, NULL) < 0) {
          sp_error_sys(err, "bind /sys on %s", m->destination);
          goto out;
        }
        r = finish_mount(rootfd, m->destination, m->flags | MS_RDONLY, 0, 0, 0,
                         true, true, err);
        goto out;
      }
      sp_error_sys(err, "mount %s on %s (type %s, options \"%s\")", source,
                   m->destination, type ? type : "none", m->data ? m->data : "");
      goto out;
    }
    r = finish_mount(rootfd, m->destination, m->flags, m->propagation,
                     m->rec_attr_set, m->rec_attr_clr, false, o->in_userns, err);
  }
out:
  if (target >= 0)
    close(target);
  free(src);
  return r;
}

/* pivot_root refuses a new root whose parent mount is shared: find the
 * mount holding DIR and make it private (only in our mount namespace). */
static int make_parent_private(const char *dir, struct sp_error *err) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f)
    return sp_error_sys(err, "read /proc/self/mountinfo");
  char line[4096], best[PATH_MAX] = "/";
  size_t best_len = 1;
  while (fgets(line, sizeof line, f)) {
    char mp[PATH_MAX];
    if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
      continue;
    size_t l = strlen(mp);
    if (l > best_len && !strncmp(dir, mp, l) && (dir[l] == '/' || dir[l] == '\0')) {
      memcpy(best, mp, l + 1);
      best_len = l;
    }
  }
  fclose(f);
  if (mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0)
    return sp_error_sys(err, "make %s private", best);
  return 0;
}

static int mask_paths(const struct sp_linux *l, struct sp_error *err) {
  int nullfd = -1, r = 0;
  for (size_t i = 0; i < l->masked_paths_len && !r; i++) {
    const char *path = l->masked_paths[i];
    int fd = sp_open_in_root(AT_FDCWD, path, O_PATH | O_NOFOLLOW, NULL);
    if (fd < 0)
      continue; /* absent: nothing to mask */
    struct stat st;
    char p[FD_PATH_MAX];
    fd_path(p, fd);
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      if (mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k") < 0)
        r = sp_error_sys(err, "mask %s", path);
    } else {
      if (nullfd < 0) {
        /* CVE-2025-31133: only the real /dev/null may mask anything */
        struct stat ns;
        nullfd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (nullfd < 0 || fstat(nullfd, &ns) < 0 || !S_ISCHR(ns.st_mode) ||
            ns.st_rdev != makedev(1, 3)) {
          r = sp_error_set(err, EINVAL, "mask %s: /dev/null is not the null device", path);
          close(fd);
          break;
        }
      }
      char np[FD_PATH_MAX];
      fd_path(np, nullfd);
      if (mount(np, p, NULL, MS_BIND, NULL) < 0)
        r = sp_error_sys(err, "mask %s", path);
    }
    close(fd);
  }
  if (nullfd >= 0)
    close(nullfd);
  return r;
}

static int readonly_paths(const struct sp_linux *l, bool in_userns,
                          struct sp_error *err) {
  for (size_t i = 0; i < l->readonly_paths_len; i++) {
    const char *path = l->readonly_paths[i];
    int fd = sp_open_in_root(AT_FDCWD, path, O_PATH | O_NOFOLLOW, NULL);
    if (fd < 0)
      continue;
    char p[FD_PATH_MAX];
    fd_path(p, fd);
    int r = mount(p, p, NULL, MS_BIND | MS_REC, NULL);
    close(fd);
    if (r < 0)
      return sp_error_sys(err, "bind %s read-only", path);
    if (finish_mount(AT_FDCWD, path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     0, 0, 0, true, true, err) < 0)
      return -1;
    (void)in_userns;
  }
  return 0;
}

int sp_rootfs_setup(const struct sp_spec *spec, const struct sp_rootfs_opts *o,
                    struct sp_error *err) {
  const struct sp_linux *l = &spec->linux_;
  unsigned long prop = l->rootfs_propagation_flags
                           ? l->rootfs_propagation_flags
                           : MS_SLAVE | MS_REC;
  if (mount(NULL, "/", NULL, prop | MS_REC, NULL) < 0)
    return sp_error_sys(err, "set propagation of /");
  if (mount(o->rootfs, o->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return sp_error_sys(err, "bind rootfs %s", o->rootfs);
  if ((prop & MS_SHARED) && !o->no_pivot) {
    char *parent = sp_path_join(o->rootfs, "..");
    char *clean = parent ? sp_abspath(parent) : NULL;
    int r = clean ? make_parent_private(clean, err) : -1;
    free(parent);
    free(clean);
    if (r < 0)
      return -1;
  }
  /* the overlay root goes on top of the bind: from here on o->rootfs is it */
  SP_MARK("init.overlay");
  if (o->overlay && sp_overlay_mount(o->overlay, o->rootfs, o->in_userns, err) < 0)
    return -1;
  SP_MARK("init.overlay_done");
  int rootfd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return sp_error_sys(err, "open rootfs %s", o->rootfs);
  for (size_t i = 0; i < spec->mounts_len; i++) {
    const struct sp_mount *m = &spec->mounts[i];
    /* a cgroup mount calls it itself, as late as it can */
    if (!m->bind && m->type && !strcmp(m->type, "cgroup2") && o->before_cgroups &&
        o->before_cgroups(o->before_cgroups_arg, err) < 0) {
      close(rootfd);
      return -1;
    }
    if (mount_one(rootfd, m, o->mount_fds ? o->mount_fds[i] : -1, o, err) < 0) {
      close(rootfd);
      return sp_error_prefix(err, "mounts[%zu] %s", i, m->destination);
    }
  }
  if ((o->before_cgroups && o->before_cgroups(o->before_cgroups_arg, err) < 0) ||
      sp_devices_setup(rootfd, spec, o->in_userns, err) < 0) {
    close(rootfd);
    return -1;
  }
  if (o->before_pivot && o->before_pivot(o->before_pivot_arg, err) < 0) {
    close(rootfd);
    return -1;
  }
  if (fchdir(rootfd) < 0) {
    close(rootfd);
    return sp_error_sys(err, "chdir to rootfs");
  }
  close(rootfd);
  if (o->no_pivot) {
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
      return sp_error_sys(err, "move rootfs to /");
    if (chroot(".") < 0)
      return sp_error_sys(err, "chroot");
  } else {
    /* pivot_root(".", "."): the old root ends up on top, detach it */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
      return sp_error_sys(err, "pivot_root %s", o->rootfs);
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
      return sp_error_sys(err, "make old root a slave");
    if (umount2(".", MNT_DETACH) < 0)
      return sp_error_sys(err, "detach old root");
  }
  if (chdir("/") < 0)
    return sp_error_sys(err, "chdir /");
  if (l->rootfs_propagation_flags &&
      mount(NULL, "/", NULL, l->rootfs_propagation_flags, NULL) < 0)
    return sp_error_sys(err, "set rootfsPropagation %s", l->rootfs_propagation);
  return 0;
}

int sp_rootfs_finish(const struct sp_spec *spec, const struct sp_rootfs_opts *o,
                     struct sp_error *err) {
  const struct sp_linux *l = &spec->linux_;
  if (mask_paths(l, err) < 0 || readonly_paths(l, o->in_userns, err) < 0)
    return -1;
  if (spec->root_readonly) {
    unsigned long f = MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags("/");
    if (mount(NULL, "/", NULL, f, NULL) < 0)
      return sp_error_sys(err, "make root read-only");
  }
  return 0;
}
