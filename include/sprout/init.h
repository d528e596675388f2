/* sprout — the container's init: what runs in the new namespaces between
 * clone3 and execve of the workload (src/runtime/init.c). */
#ifndef SPROUT_INIT_H
#define SPROUT_INIT_H

#include <stdbool.h>

#include "sprout/spec.h"

struct sp_overlay;
struct sp_cgroup_join;

struct sp_init_args {
  const struct sp_spec *spec;
  const char *rootfs;     /* absolute */
  const char *bundle;     /* absolute */
  int sync_fd;            /* SOCK_SEQPACKET to the parent */
  int fifo_fd;            /* O_PATH exec.fifo, -1: exec at once (none) */
  int ns_fds[SP_NS_COUNT];/* namespaces to join (pid/time already joined) */
  int close_fds[4];       /* the parent's fds to close at once, -1 ends */
  unsigned long new_ns;   /* CLONE_NEW* created by clone3 */
  bool new_cgroupns;      /* unshare(CLONE_NEWCGROUP) after the cgroup move */
  bool no_pivot;
  bool no_new_keyring;
  int preserve_fds;
  int listen_fds;         /* systemd socket activation: fds 3.. (LISTEN_FDS) */
  const struct sp_overlay *overlay; /* the overlay root, NULL: none */
  const int *mount_fds;   /* per mounts[i]: a detached (idmapped) mount, or -1 */
  bool new_timens;        /* create the time namespace here (new user namespace) */
  struct sp_cgroup_join *cgroup_join; /* v1 tasks files to join, NULL: none */
  /* the v1 hierarchies the parent makes after the clone, NULL: none; the
   * init waits for a second GO and joins them before its first cgroup
   * mount and its device nodes, then makes its cgroup namespace */
  const struct sp_cgroup *cgroup_later;
  bool lo_by_parent;      /* the parent brings lo of the new netns up */
};

/* Never returns: execs the workload or _exit(1) after telling the parent. */
__attribute__((noreturn)) void sp_init_main(struct sp_init_args *a);

#endif
