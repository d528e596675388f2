/* Idmapped mounts: a detached clone of the mount's source (open_tree) with
 * MOUNT_ATTR_IDMAP set to a user namespace holding the mapping, made by
 * the runtime in the host's namespaces; the init attaches it on its target
 * (move_mount) like any other mount.  The mapping's user namespace belongs
 * to a short-lived child that exists only until its fd is opened. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>

#include "sprout/overlay.h"
#include "sprout/util.h"

static int write_map(pid_t pid, const char *file, const struct sp_idmap *m, size_t n,
                     struct sp_error *err) {
  struct sp_buf b = {0};
  for (size_t i = 0; i < n; i++)
    sp_buf_printf(&b, "%u %u %u\n", m[i].container_id, m[i].host_id, m[i].size);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  int r = 0;
  if (fd < 0 || !b.data || write(fd, b.data, b.len) != (ssize_t)b.len)
    r = sp_error_sys(err, "write the idmapped mount's %s", file);
  if (fd >= 0)
    close(fd);
  sp_buf_free(&b);
  return r;
}

int sp_idmap_userns_fd(const struct sp_idmap *uids, size_t nu,
                       const struct sp_idmap *gids, size_t ng, struct sp_error *err) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0)
    return sp_error_sys(err, "pipe");
  struct clone_args ca = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
  pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    return sp_error_errno(err, e, "create a user namespace for an idmapped mount");
  }
  if (pid == 0) {
    /* hold the namespace until the parent has its fd (EOF) */
    char c;
    close(p[1]);
    while (read(p[0], &c, 1) < 0 && errno == EINTR)
      ;
    _exit(0);
  }
  close(p[0]);
  int fd = -1;
  if (write_map(pid, "uid_map", uids, nu, err) == 0 &&
      write_map(pid, "gid_map", gids, ng, err) == 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      sp_error_sys(err, "open %s", path);
  }
  close(p[1]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return fd;
}

void sp_idmap_mounts_close(int *fds, size_t n) {
  if (!fds)
    return;
  for (size_t i = 0; i < n; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  free(fds);
}

static int prepare_one(const struct sp_spec *spec, const struct sp_mount *m,
                       const char *bundle, struct sp_error *err) {
  const struct sp_idmap *u = m->uid_mappings, *g = m->gid_mappings;
  size_t nu = m->uid_mappings_len, ng = m->gid_mappings_len;
  if (!nu && !ng) {
    /* "idmap" alone: the container's own user namespace mappings */
    u = spec->linux_.uid_mappings;
    nu = spec->linux_.uid_mappings_len;
    g = spec->linux_.gid_mappings;
    ng = spec->linux_.gid_mappings_len;
  }
  if (!nu || !ng)
    return sp_error_set(err, 0, "idmapped mount: needs uidMappings and gidMappings (on the "
                                "mount, or the container's user namespace mappings)");
  if (!m->bind || !m->source)
    return sp_error_set(err, 0, "idmapped mount: only bind mounts can be idmapped");
  if (geteuid() != 0)
    return sp_error_set(err, EPERM, "idmapped mount: needs root (CAP_SYS_ADMIN over the "
                                    "source's filesystem)");
  char *src = m->source[0] == '/' ? strdup(m->source) : sp_path_join(bundle, m->source);
  if (!src)
    return sp_error_errno(err, ENOMEM, "idmapped mount");
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
  if (m->flags & MS_REC)
    flags |= AT_RECURSIVE;
  int tree = open_tree(AT_FDCWD, src, flags);
  if (tree < 0) {
    sp_error_sys(err, "idmapped mount: clone %s", src);
    free(src);
    return -1;
  }
  int userns = sp_idmap_userns_fd(u, nu, g, ng, err);
  if (userns < 0) {
    close(tree);
    free(src);
    return -1;
  }
  struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
  unsigned at = AT_EMPTY_PATH | (m->idmap_recursive ? AT_RECURSIVE : 0);
  if (mount_setattr(tree, "", at, &a, sizeof a) < 0) {
    int e = errno;
    sp_error_errno(err, e, "idmapped mount: set the id mapping on %s%s", src,
                   e == EINVAL ? " (does its filesystem support idmapped mounts?)" : "");
    close(tree);
    tree = -1;
  }
  close(userns);
  free(src);
  return tree;
}

int sp_idmap_mounts_prepare(const struct sp_spec *spec, const char *bundle,
                            int **fds, struct sp_error *err) {
  *fds = NULL;
  bool any = false;
  for (size_t i = 0; i < spec->mounts_len; i++)
    any |= spec->mounts[i].idmap;
  if (!any)
    return 0;
  int *out = malloc(spec->mounts_len * sizeof *out);
  if (!out)
    return sp_error_errno(err, ENOMEM, "idmapped mounts");
  for (size_t i = 0; i < spec->mounts_len; i++)
    out[i] = -1;
  for (size_t i = 0; i < spec->mounts_len; i++) {
    if (!spec->mounts[i].idmap)
      continue;
    out[i] = prepare_one(spec, &spec->mounts[i], bundle, err);
    if (out[i] < 0) {
      sp_idmap_mounts_close(out, spec->mounts_len);
      return sp_error_prefix(err, "mounts[%zu] %s", i, spec->mounts[i].destination);
    }
  }
  *fds = out;
  return 0;
}
