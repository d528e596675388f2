/* The overlay root: many containers from one read-only image, each with
 * its own writable layer.  Lower layers: the bundle's root, then the extra
 * --lower layers (top first).  Upper and work dirs: a fresh tmpfs (gone
 * with the container's mount namespace) or DIR/upper and DIR/work (kept).
 * The overlay is mounted in the init's mount namespace on top of the root
 * path, so pivot_root goes into it and the image is never written. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sprout/overlay.h"
#include "sprout/util.h"

void sp_overlay_free(struct sp_overlay *ov) {
  free(ov->dir);
  sp_strv_free(ov->lower, ov->lower_len);
  memset(ov, 0, sizeof *ov);
}

static char *resolve_path(const char *p, const char *base) {
  if (p[0] == '/')
    return sp_abspath(p);
  char *j = base ? sp_path_join(base, p) : strdup(p);
  char *abs = j ? sp_abspath(j) : NULL;
  free(j);
  return abs;
}

static int check_dir(const char *path, const char *what, struct sp_error *err) {
  struct stat st;
  if (stat(path, &st) < 0)
    return sp_error_sys(err, "overlay: %s %s", what, path);
  if (!S_ISDIR(st.st_mode))
    return sp_error_set(err, ENOTDIR, "overlay: %s %s: not a directory", what, path);
  return 0;
}

static int add_lower(struct sp_overlay *ov, const char *p, const char *base,
                     const char *what, struct sp_error *err) {
  if (!*p)
    return sp_error_set(err, 0, "overlay: %s: empty directory name", what);
  char *abs = resolve_path(p, base);
  if (!abs)
    return sp_error_errno(err, ENOMEM, "overlay");
  char **l = realloc(ov->lower, (ov->lower_len + 1) * sizeof *l);
  if (!l) {
    free(abs);
    return sp_error_errno(err, ENOMEM, "overlay");
  }
  ov->lower = l;
  ov->lower[ov->lower_len++] = abs;
  char label[256];
  snprintf(label, sizeof label, "lower layer (%s)", what);
  return check_dir(abs, label, err);
}

int sp_overlay_resolve(const struct sp_spec *spec, const char *bundle, bool flag,
                       const char *flag_dir, const char *const *flag_lower,
                       size_t flag_lower_len, struct sp_overlay *ov,
                       struct sp_error *err) {
  memset(ov, 0, sizeof *ov);
  const char *a_dir = sp_spec_annotation(spec, SP_ANNOT_OVERLAY);
  const char *a_lower = sp_spec_annotation(spec, SP_ANNOT_OVERLAY_LOWER);
  const char *dir = NULL, *dir_base = NULL, *dir_what = "--overlay";
  if (flag) {
    ov->enabled = true;
    dir = flag_dir && *flag_dir ? flag_dir : NULL;
  } else if (a_dir) {
    dir_what = "annotation " SP_ANNOT_OVERLAY;
    if (!strcmp(a_dir, "true") || !strcmp(a_dir, "")) {
      ov->enabled = true;
    } else if (!strcmp(a_dir, "false")) {
      ov->enabled = false;
    } else {
      ov->enabled = true;
      dir = a_dir;
      dir_base = bundle;
    }
  }
  if (!ov->enabled) {
    if (flag_lower_len)
      return sp_error_set(err, 0, "--lower: needs --overlay");
    return 0;
  }
  if (dir) {
    ov->dir = resolve_path(dir, dir_base);
    if (!ov->dir)
      return sp_error_errno(err, ENOMEM, "overlay");
    struct stat st;
    if (stat(ov->dir, &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        return sp_error_set(err, ENOTDIR, "overlay: upper dir %s (%s): not a directory",
                            ov->dir, dir_what);
    } else {
      /* created at create time: its parent must be there */
      char *parent = sp_path_join(ov->dir, "..");
      char *clean = parent ? sp_abspath(parent) : NULL;
      int r = clean ? check_dir(clean, "parent of the upper dir", err)
                    : sp_error_errno(err, ENOMEM, "overlay");
      free(parent);
      free(clean);
      if (r < 0)
        return sp_error_prefix(err, "%s", dir_what);
    }
  }
  if (flag_lower_len) {
    for (size_t i = 0; i < flag_lower_len; i++)
      if (add_lower(ov, flag_lower[i], NULL, "--lower", err) < 0)
        return -1;
  } else if (a_lower && *a_lower) {
    char *copy = strdup(a_lower), *save = NULL;
    if (!copy)
      return sp_error_errno(err, ENOMEM, "overlay");
    for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
      if (add_lower(ov, t, bundle, "annotation " SP_ANNOT_OVERLAY_LOWER, err) < 0) {
        free(copy);
        return -1;
      }
    free(copy);
  }
  return 0;
}

/* mkdir PATH with MODE, owned by UID:GID; *made when this created it. */
static int make_dir(const char *path, mode_t mode, uid_t uid, gid_t gid, bool *made,
                    struct sp_error *err) {
  *made = false;
  if (mkdir(path, mode) < 0) {
    if (errno == EEXIST)
      return check_dir(path, "upper dir", err);
    return sp_error_sys(err, "overlay: create %s", path);
  }
  *made = true;
  if (chmod(path, mode) < 0 ||
      ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0))
    return sp_error_sys(err, "overlay: set owner and mode of %s", path);
  return 0;
}

int sp_overlay_prepare(struct sp_overlay *ov, const char *rootfs, uid_t uid,
                       gid_t gid, struct sp_error *err) {
  if (!ov->enabled || !ov->dir)
    return 0;
  /* the container's "/" is the upper dir's root: give it the image's mode */
  struct stat st;
  if (stat(rootfs, &st) < 0)
    return sp_error_sys(err, "overlay: rootfs %s", rootfs);
  char *upper = sp_path_join(ov->dir, "upper"), *work = sp_path_join(ov->dir, "work");
  int r = -1;
  if (!upper || !work)
    sp_error_errno(err, ENOMEM, "overlay");
  else if (make_dir(ov->dir, 0700, uid, gid, &ov->made_dir, err) == 0 &&
           make_dir(upper, st.st_mode & 07777, uid == (uid_t)-1 ? st.st_uid : uid,
                    gid == (gid_t)-1 ? st.st_gid : gid, &ov->made_upper, err) == 0 &&
           make_dir(work, 0700, uid, gid, &ov->made_work, err) == 0)
    r = 0;
  free(upper);
  free(work);
  return r;
}

void sp_overlay_unprepare(struct sp_overlay *ov) {
  if (!ov->enabled || !ov->dir)
    return;
  char *upper = sp_path_join(ov->dir, "upper"), *work = sp_path_join(ov->dir, "work");
  if (work && ov->made_work)
    sp_rm_rf(work);
  if (upper && ov->made_upper)
    sp_rm_rf(upper);
  if (ov->made_dir)
    rmdir(ov->dir);
  ov->made_dir = ov->made_upper = ov->made_work = false;
  free(upper);
  free(work);
}

void sp_overlay_keep(struct sp_overlay *ov) {
  ov->made_dir = ov->made_upper = ov->made_work = false;
}

/* ---- the mount, in the init -------------------------------------------- */

/* The messages the kernel left in the fs context ("e overlayfs: ..."),
 * joined on one line. */
static void context_log(int fsfd, char *out, size_t size) {
  size_t o = 0;
  out[0] = '\0';
  char buf[1024];
  ssize_t n;
  while (o + 4 < size && (n = read(fsfd, buf, sizeof buf - 1)) > 0) {
    buf[n] = '\0';
    while (n > 0 && buf[n - 1] == '\n')
      buf[--n] = '\0';
    const char *m = buf;
    if (n > 2 && m[1] == ' ')
      m += 2; /* "e ", "w ", "i " */
    o += (size_t)snprintf(out + o, size - o, "%s%s", o ? "; " : "", m);
  }
}

static int fail_ctx(int fsfd, struct sp_error *err, const char *fmt, const char *layer) {
  int e = errno;
  char log[1024];
  context_log(fsfd, log, sizeof log);
  if (log[0])
    return sp_error_set(err, e, fmt, layer, log);
  return sp_error_set(err, e, fmt, layer, strerror(e));
}

/* The first lower layer that overlayfs refuses on its own (index: 0 is
 * ROOTFS), -1 when each one alone is accepted. */
static ssize_t culprit_layer(const struct sp_overlay *ov, const char *rootfs,
                             const char *upper, const char *work, bool in_userns) {
  for (size_t i = 0; i <= ov->lower_len; i++) {
    int fd = fsopen("overlay", FSOPEN_CLOEXEC);
    if (fd < 0)
      return -1;
    const char *layer = i == 0 ? rootfs : ov->lower[i - 1];
    bool ok = fsconfig(fd, FSCONFIG_SET_STRING, "lowerdir+", layer, 0) == 0 &&
              fsconfig(fd, FSCONFIG_SET_STRING, "upperdir", upper, 0) == 0 &&
              fsconfig(fd, FSCONFIG_SET_STRING, "workdir", work, 0) == 0;
    if (ok && in_userns)
      fsconfig(fd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0);
    ok = ok && fsconfig(fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0;
    close(fd);
    if (!ok)
      return (ssize_t)i;
  }
  return -1;
}

int sp_overlay_mount(const struct sp_overlay *ov, const char *rootfs,
                     bool in_userns, struct sp_error *err) {
  if (!ov || !ov->enabled)
    return 0;
  int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
  if (fsfd < 0)
    return sp_error_sys(err, "overlay root: fsopen overlay (is the overlay module loaded?)");
  int r = -1, mfd = -1;
  char *upper = NULL, *work = NULL;
  struct stat root_st;
  /* the layers, each on its own so that an error names it; "lowerdir+"
   * (Linux 6.8) or the whole list at once */
  bool plus = true;
  size_t n = ov->lower_len + 1;
  for (size_t i = 0; i < n && plus; i++) {
    const char *layer = i == 0 ? rootfs : ov->lower[i - 1];
    if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", layer, 0) == 0)
      continue;
    int e = errno;
    char log[512];
    context_log(fsfd, log, sizeof log);
    if (i == 0 && e == EINVAL && strstr(log, "nknown parameter")) {
      plus = false; /* before Linux 6.8 */
      break;
    }
    sp_error_set(err, e, "overlay root: lower layer %s (%s): %s", layer,
                 i == 0 ? "the bundle's root" : "--lower", log[0] ? log : strerror(e));
    goto out;
  }
  if (!plus) {
    struct sp_buf b = {0};
    for (size_t i = 0; i < n; i++) {
      const char *layer = i == 0 ? rootfs : ov->lower[i - 1];
      if (i)
        sp_buf_append(&b, ":", 1);
      for (const char *c = layer; *c; c++) {
        if (*c == ':' || *c == '\\' || *c == ',')
          sp_buf_append(&b, "\\", 1);
        sp_buf_append(&b, c, 1);
      }
    }
    sp_buf_append(&b, "", 1);
    int rr = b.data ? fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir", b.data, 0) : -1;
    if (rr < 0)
      fail_ctx(fsfd, err, "overlay root: lower layers %s: %s", b.data ? b.data : "");
    sp_buf_free(&b);
    if (rr < 0)
      goto out;
  }
  /* the root's bind mount private: pivot_root wants the new root's parent
   * unshared, and nothing mounted on it may propagate */
  if (mount(NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0) {
    sp_error_sys(err, "overlay root: make %s private", rootfs);
    goto out;
  }
  if (ov->dir) {
    upper = sp_path_join(ov->dir, "upper");
    work = sp_path_join(ov->dir, "work");
  } else {
    /* a fresh tmpfs on top of the root path (the lower layers are already
     * resolved), private so that nothing of it propagates anywhere */
    if (stat(rootfs, &root_st) < 0) {
      sp_error_sys(err, "overlay root: stat %s", rootfs);
      goto out;
    }
    if (mount("tmpfs", rootfs, "tmpfs", 0, "mode=0755") < 0) {
      sp_error_sys(err, "overlay root: mount a tmpfs for the upper layer");
      goto out;
    }
    if (mount(NULL, rootfs, NULL, MS_PRIVATE, NULL) < 0) {
      sp_error_sys(err, "overlay root: make the upper tmpfs private");
      goto out;
    }
    upper = sp_path_join(rootfs, "upper");
    work = sp_path_join(rootfs, "work");
    if (!upper || !work) {
      sp_error_errno(err, ENOMEM, "overlay root");
      goto out;
    }
    if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0) {
      sp_error_sys(err, "overlay root: create upper and work dirs on the tmpfs");
      goto out;
    }
    /* the container's "/" is the upper dir: the image root's mode, and
     * its owner outside a user namespace (inside, the image's owner may be
     * unmapped and show as the overflow id: the container's root keeps it) */
    chmod(upper, root_st.st_mode & 07777);
    if (!in_userns && chown(upper, root_st.st_uid, root_st.st_gid) < 0)
      sp_log(SP_LOG_DEBUG, "overlay root: chown upper dir: %s", strerror(errno));
  }
  if (!upper || !work) {
    sp_error_errno(err, ENOMEM, "overlay root");
    goto out;
  }
  if (fsconfig(fsfd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0) {
    fail_ctx(fsfd, err, "overlay root: upper dir %s: %s", upper);
    goto out;
  }
  if (fsconfig(fsfd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0) {
    fail_ctx(fsfd, err, "overlay root: work dir %s: %s", work);
    goto out;
  }
  /* inside a user namespace trusted.* xattrs are out of reach */
  if (in_userns)
    fsconfig(fsfd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0);
  if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    int e = errno;
    char log[1024];
    context_log(fsfd, log, sizeof log);
    /* overlayfs often says why only in the kernel log: find the layer by
     * trying each on its own with the same upper and work dirs */
    ssize_t bad = log[0] ? -1 : culprit_layer(ov, rootfs, upper, work, in_userns);
    if (bad >= 0)
      sp_error_set(err, e, "overlay root: lower layer %s (%s): refused by overlayfs: %s",
                   bad == 0 ? rootfs : ov->lower[bad - 1],
                   bad == 0 ? "the bundle's root" : "--lower", strerror(e));
    else
      sp_error_set(err, e, "overlay root over %s: %s", rootfs, log[0] ? log : strerror(e));
    goto out;
  }
  mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
  if (mfd < 0) {
    sp_error_sys(err, "overlay root: fsmount");
    goto out;
  }
  if (move_mount(mfd, "", AT_FDCWD, rootfs, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
    sp_error_sys(err, "overlay root: attach the overlay on %s", rootfs);
    goto out;
  }
  r = 0;
out:
  if (mfd >= 0)
    close(mfd);
  close(fsfd);
  free(upper);
  free(work);
  return r;
}
