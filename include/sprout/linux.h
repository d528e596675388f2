/* sprout — kernel mechanics used by the runtime (src/linux). */
#ifndef SPROUT_LINUX_H
#define SPROUT_LINUX_H

#include <stdbool.h>
#include <sys/types.h>

#include "sprout/error.h"
#include "sprout/spec.h"

/* ---- namespaces (ns.c) ---- */
int sp_ns_clone_flag(enum sp_ns_type type);
/* CLONE_NEW* flags for the namespaces the config creates (no path). */
unsigned long sp_ns_new_flags(const struct sp_spec *spec);
/* Open every namespace `path` (O_RDONLY|O_CLOEXEC) and check it is a
 * namespace of the right type; fds[type] = -1 where none.  Errors name the
 * JSON index and the path. */
int sp_ns_open_paths(const struct sp_spec *spec, int fds[SP_NS_COUNT],
                     struct sp_error *err);
void sp_ns_close_fds(int fds[SP_NS_COUNT]);
/* setns() into the opened namespaces, user first. */
int sp_ns_join(int fds[SP_NS_COUNT], bool skip_pid_time, struct sp_error *err);
/* Write /proc/PID/{uid_map,setgroups,gid_map}. */
int sp_idmap_write(pid_t pid, const struct sp_spec *spec, struct sp_error *err);
/* Time namespace: unshare(CLONE_NEWTIME) for the children of the caller and
 * write the offsets. */
int sp_timens_prepare(const struct sp_spec *spec, struct sp_error *err);

/* ---- root filesystem (rootfs.c) ---- */
struct sp_overlay;
struct sp_rootfs_opts {
  const char *rootfs;  /* absolute host path of root.path */
  const char *bundle;  /* absolute bundle dir, for relative mount sources */
  bool no_pivot;
  bool new_mntns;
  bool in_userns;      /* a new user namespace: mknod is impossible */
  bool new_netns;
  const struct sp_overlay *overlay; /* overlay root (overlay.h), NULL: none */
  const int *mount_fds; /* per mounts[i]: a detached mount to attach, or -1 */
  const char *self_cgroup; /* /proc/self/cgroup before the cgroupns unshare */
  const char *mount_label; /* linux.mountLabel: context= on tmpfs-like mounts */
  /* called in the first cgroup mount once its tmpfs and directories are
   * there (before its binds), before a cgroup2 mount, and before the
   * device nodes, possibly more than once (the init's cgroups must be in
   * place by then); NULL: nothing to wait for */
  int (*before_cgroups)(void *arg, struct sp_error *err);
  void *before_cgroups_arg;
  /* called after the mounts and devices, before pivot_root (hooks) */
  int (*before_pivot)(void *arg, struct sp_error *err);
  void *before_pivot_arg;
};
/* Propagation, the mounts, devices and pivot_root.  Runs in the init. */
int sp_rootfs_setup(const struct sp_spec *spec, const struct sp_rootfs_opts *o,
                    struct sp_error *err);
/* After hostname and sysctl: masked paths, read-only paths, read-only root. */
int sp_rootfs_finish(const struct sp_spec *spec, const struct sp_rootfs_opts *o,
                     struct sp_error *err);
/* Open PATH (absolute, inside the root dir ROOTFD; AT_FDCWD: the working
 * directory) without leaving the root: openat2(RESOLVE_IN_ROOT), or where
 * the kernel lacks it the same resolution by hand (every symlink resolved
 * inside the root, O_PATH then reopened with FLAGS). */
int sp_open_in_root(int rootfd, const char *path, int flags,
                    struct sp_error *err);
/* mkdir -p PATH inside ROOTFD (no symlink leaves the root) and open the last
 * component O_PATH; with create_file the last component is a regular file. */
int sp_mkdir_in_root(int rootfd, const char *path, mode_t mode,
                     bool create_file, struct sp_error *err);

/* ---- devices (devices.c) ---- */
int sp_devices_setup(int rootfd, const struct sp_spec *spec, bool in_userns,
                     struct sp_error *err);

/* ---- process attributes ---- */
int sp_caps_apply(const struct sp_process *proc, struct sp_error *err);
int sp_cap_from_name(const char *name); /* -1 when unknown */
int sp_rlimits_apply(const struct sp_process *proc, struct sp_error *err);
int sp_user_apply(const struct sp_process *proc, struct sp_error *err);
int sp_net_loopback_up(struct sp_error *err);
/* The same from outside: in the network namespace of the process PIDFD
 * (PID), entered and left again with setns. */
int sp_net_loopback_up_in(int pidfd, pid_t pid, struct sp_error *err);
/* Write to a file under /proc after checking /proc is a real procfs. */
int sp_procfs_write(const char *path, const char *data, struct sp_error *err);
bool sp_is_procfs(int fd);
/* Refuse a mount whose resolved TARGET (an fd inside ROOTFS) is on procfs,
 * unless M is proc, tmpfs, or a bind onto a file lxcfs provides. */
int sp_procfs_mount_check(int target, const char *rootfs, const struct sp_mount *m,
                          struct sp_error *err);

/* ---- terminals (terminal.c) ---- */
struct sp_pty {
  int master, slave; /* O_CLOEXEC; -1 when closed */
  char name[32];     /* "/dev/pts/N" inside the container */
};
/* A pty from the container's devpts (run inside the container's root):
 * /dev/pts/ptmx opened with no symlink followed and checked to be devpts,
 * unlocked, the slave from TIOCGPTPEER. */
int sp_pty_open(struct sp_pty *pty, struct sp_error *err);
void sp_pty_close(struct sp_pty *pty);
/* TIOCSWINSZ on FD (either side). */
int sp_pty_resize(int fd, unsigned rows, unsigned cols, struct sp_error *err);
/* sp_pty_open, consoleSize, the slave owned by process.user.uid and, with
 * CONSOLE, bound on /dev/console (made if missing; refused if it is
 * anything but a file or a device). */
int sp_pty_setup_child(const struct sp_process *proc, bool console,
                       struct sp_pty *pty, struct sp_error *err);
/* Bind SLAVE on /dev/console inside the root, through fds. */
int sp_console_bind(int slave, struct sp_error *err);
/* setsid, TIOCSCTTY, and the slave as fds 0, 1 and 2. */
int sp_pty_become_ctty(int slave, struct sp_error *err);
/* Connect to the console socket PATH (a unix stream or seqpacket socket). */
int sp_console_connect(const char *path, struct sp_error *err);
/* Send MASTER over SOCK in exactly one SCM_RIGHTS message (payload NAME). */
int sp_console_send(int sock, int master, const char *name, struct sp_error *err);

#endif
