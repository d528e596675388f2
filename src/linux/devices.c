/* Device nodes and the standard /dev links inside the container root.
 *
 * Runs in the container's init before pivot_root, with the config's mounts
 * (usually a tmpfs on /dev) in place.  The default devices (null, zero,
 * full, random, urandom, tty) and every linux.devices entry are created
 * with mknod, or, in a user namespace where mknod is impossible, as bind
 * mounts of the host's node.  Nothing here follows a symlink: the parent
 * directory is resolved inside the root, the node is created with
 * mknodat() on that fd, and an existing symlink where a device goes is
 * refused (CVE-2025-31133: a /dev/null that points elsewhere must not
 * redirect anything).  When /dev is a bind mount from the host, nothing is
 * created at all: the host's /dev is what was asked for. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sprout/linux.h"
#include "sprout/util.h"

struct dev_node {
  const char *path;
  char type;
  unsigned int major, minor;
  mode_t mode;
  uid_t uid;
  gid_t gid;
};

static const struct dev_node default_devices[] = {
    {"/dev/null", 'c', 1, 3, 0666, 0, 0},
    {"/dev/zero", 'c', 1, 5, 0666, 0, 0},
    {"/dev/full", 'c', 1, 7, 0666, 0, 0},
    {"/dev/random", 'c', 1, 8, 0666, 0, 0},
    {"/dev/urandom", 'c', 1, 9, 0666, 0, 0},
    {"/dev/tty", 'c', 5, 0, 0666, 0, 0},
};

static const struct {
  const char *path, *target;
} default_links[] = {
    {"/dev/fd", "/proc/self/fd"},
    {"/dev/stdin", "/proc/self/fd/0"},
    {"/dev/stdout", "/proc/self/fd/1"},
    {"/dev/stderr", "/proc/self/fd/2"},
};

/* "" when it does not fit */
static void clean(const char *in, char out[PATH_MAX]) {
  sp_path_clean(in, out, PATH_MAX);
}

static bool same_path(const char *a, const char *b) {
  char ca[PATH_MAX], cb[PATH_MAX];
  clean(a, ca);
  clean(b, cb);
  return ca[0] && strcmp(ca, cb) == 0;
}

/* runc's rule: a bind mount on /dev means the host's devices are used. */
static bool dev_is_bind_mount(const struct sp_spec *spec) {
  for (size_t i = 0; i < spec->mounts_len; i++) {
    const struct sp_mount *m = &spec->mounts[i];
    if (m->destination && same_path(m->destination, "/dev") &&
        (m->bind || (m->type && strcmp(m->type, "bind") == 0)))
      return true;
  }
  return false;
}

static bool has_mount(const struct sp_spec *spec, const char *dest) {
  for (size_t i = 0; i < spec->mounts_len; i++)
    if (spec->mounts[i].destination && same_path(spec->mounts[i].destination, dest))
      return true;
  return false;
}

static bool config_has_device(const struct sp_spec *spec, const char *path) {
  for (size_t i = 0; i < spec->linux_.devices_len; i++)
    if (spec->linux_.devices[i].path && same_path(spec->linux_.devices[i].path, path))
      return true;
  return false;
}

/* Open the parent directory of PATH inside the root (creating it) and put
 * the last component in NAME.  Returns the O_PATH fd or -1. */
static int open_parent(int rootfd, const char *path, char name[NAME_MAX + 1],
                       struct sp_error *err) {
  char buf[PATH_MAX];
  clean(path, buf);
  if (!buf[0] || path[0] != '/')
    return sp_error_set(err, 0, "invalid device path \"%s\"", path);
  char *slash = strrchr(buf, '/');
  const char *base = slash + 1;
  if (!*base || strlen(base) > NAME_MAX)
    return sp_error_set(err, 0, "invalid device path \"%s\"", path);
  snprintf(name, NAME_MAX + 1, "%s", base);
  if (slash == buf)
    slash[1] = '\0'; /* parent is the root */
  else
    *slash = '\0';
  int fd = sp_mkdir_in_root(rootfd, buf, 0755, false, err);
  if (fd < 0)
    return -1;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    sp_error_sys(err, "stat %s inside the container root", buf);
    close(fd);
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) {
    close(fd);
    return sp_error_errno(err, ENOTDIR, "create %s: %s inside the container root", path, buf);
  }
  return fd;
}

/* Make room for a new entry NAME in DIRFD: nothing there, or a non-directory
 * that is removed.  A symlink is refused.  *kept tells the caller a regular
 * file was left in place (when keep_file). */
static int clear_entry(int dirfd, const char *name, const char *path, bool keep_file,
                       bool *kept, struct sp_error *err) {
  struct stat st;
  *kept = false;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT)
      return 0;
    return sp_error_sys(err, "create device %s: stat the existing entry", path);
  }
  if (S_ISLNK(st.st_mode))
    return sp_error_errno(err, ELOOP, "create device %s: the container root has a symlink "
                          "there, refusing to use it", path);
  if (S_ISDIR(st.st_mode))
    return sp_error_errno(err, EISDIR, "create device %s", path);
  if (keep_file && S_ISREG(st.st_mode)) {
    *kept = true;
    return 0;
  }
  if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
    return sp_error_sys(err, "create device %s: remove the existing entry", path);
  return 0;
}

static mode_t type_bits(char type) {
  switch (type) {
  case 'c':
  case 'u':
    return S_IFCHR;
  case 'b':
    return S_IFBLK;
  case 'p':
    return S_IFIFO;
  default:
    return 0;
  }
}

static int make_node(int dirfd, const char *name, const struct dev_node *d,
                     struct sp_error *err) {
  mode_t type = type_bits(d->type);
  dev_t dev = d->type == 'p' ? 0 : makedev(d->major, d->minor);
  if (mknodat(dirfd, name, type | (d->mode & 07777), dev) < 0)
    return sp_error_sys(err, "mknod %s (%c %u:%u, mode %04o)", d->path, d->type,
                        d->major, d->minor, (unsigned)(d->mode & 07777));
  if (fchownat(dirfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
    return sp_error_sys(err, "chown %s to %u:%u", d->path, (unsigned)d->uid,
                        (unsigned)d->gid);
  return 0;
}

/* User namespace: an empty file, and the host's node bind-mounted on it
 * through the file's fd. */
static int bind_node(int dirfd, const char *name, const struct dev_node *d, bool kept,
                     struct sp_error *err) {
  if (!kept) {
    int f = openat(dirfd, name, O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0)
      return sp_error_sys(err, "create the mount point for device %s", d->path);
    close(f);
  }
  int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return sp_error_sys(err, "open the mount point for device %s", d->path);
  char target[32];
  snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
  int r = mount(d->path, target, NULL, MS_BIND, NULL);
  if (r < 0)
    sp_error_sys(err, "bind-mount the host's %s onto %s in the container", d->path, d->path);
  close(fd);
  return r;
}

static int create_device(int rootfd, const struct dev_node *d, bool in_userns,
                         struct sp_error *err) {
  if (!type_bits(d->type))
    return sp_error_set(err, 0, "device %s: unknown type '%c'", d->path, d->type);
  char name[NAME_MAX + 1];
  int dirfd = open_parent(rootfd, d->path, name, err);
  if (dirfd < 0)
    return -1;
  /* a FIFO needs no privilege: mknod works in a user namespace too */
  bool bind = in_userns && d->type != 'p';
  bool kept = false;
  int r = clear_entry(dirfd, name, d->path, bind, &kept, err);
  if (r == 0)
    r = bind ? bind_node(dirfd, name, d, kept, err) : make_node(dirfd, name, d, err);
  close(dirfd);
  return r;
}

/* symlink PATH -> TARGET unless something is already there; with replace,
 * a non-directory already there is removed first. */
static int make_link(int rootfd, const char *path, const char *target, bool replace,
                     struct sp_error *err) {
  char name[NAME_MAX + 1];
  int dirfd = open_parent(rootfd, path, name, err);
  if (dirfd < 0)
    return -1;
  int r = 0;
  if (replace && unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
    r = sp_error_sys(err, "remove %s inside the container root", path);
  if (r == 0 && symlinkat(target, dirfd, name) < 0 && (replace || errno != EEXIST))
    r = sp_error_sys(err, "symlink %s -> %s", path, target);
  close(dirfd);
  return r;
}

int sp_devices_setup(int rootfd, const struct sp_spec *spec, bool in_userns,
                     struct sp_error *err) {
  if (dev_is_bind_mount(spec))
    return 0;
  mode_t old_umask = umask(0);
  int r = 0;
  for (size_t i = 0; r == 0 && i < sizeof default_devices / sizeof default_devices[0]; i++)
    if (!config_has_device(spec, default_devices[i].path))
      r = create_device(rootfd, &default_devices[i], in_userns, err);
  for (size_t i = 0; r == 0 && i < spec->linux_.devices_len; i++) {
    const struct sp_device *sd = &spec->linux_.devices[i];
    struct dev_node d = {
        .path = sd->path,
        .type = sd->type,
        .major = (unsigned int)sd->major,
        .minor = (unsigned int)sd->minor,
        .mode = sd->has_file_mode ? (mode_t)(sd->file_mode & 07777) : 0666,
        .uid = sd->has_uid ? sd->uid : 0,
        .gid = sd->has_gid ? sd->gid : 0,
    };
    if (!d.path)
      r = sp_error_set(err, 0, "linux.devices[%zu]: no path", i);
    else if (d.type != 'p' && (sd->major < 0 || sd->major > 0xfff || sd->minor < 0 ||
                               sd->minor > 0xfffff))
      r = sp_error_set(err, 0, "linux.devices[%zu] %s: device number %lld:%lld out of range",
                       i, d.path, (long long)sd->major, (long long)sd->minor);
    else if (create_device(rootfd, &d, in_userns, err) < 0)
      r = sp_error_prefix(err, "linux.devices[%zu]", i);
  }
  for (size_t i = 0; r == 0 && i < sizeof default_links / sizeof default_links[0]; i++)
    r = make_link(rootfd, default_links[i].path, default_links[i].target, false, err);
  if (r == 0 && access("/proc/kcore", F_OK) == 0)
    r = make_link(rootfd, "/dev/core", "/proc/kcore", false, err);
  if (r == 0 && has_mount(spec, "/dev/pts"))
    r = make_link(rootfd, "/dev/ptmx", "pts/ptmx", true, err);
  umask(old_umask);
  return r;
}
