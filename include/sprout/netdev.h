/* sprout — linux.netDevices: host interfaces moved into the container's
 * network namespace and back (src/linux/netdev.c, rtnetlink via libmnl). */
#ifndef SPROUT_NETDEV_H
#define SPROUT_NETDEV_H

#include <stddef.h>
#include <sys/types.h>

#include "sprout/error.h"
#include "sprout/spec.h"

/* Every .linux.netDevices key names an interface of the caller's network
 * namespace.  No side effects. */
int sp_netdevs_check(const struct sp_spec *spec, struct sp_error *err);
/* Move host interface HOST_NAME into the network namespace NETNS_FD,
 * renamed NAME there (one RTM_NEWLINK: the move and the rename together). */
int sp_netdev_move(const char *host_name, const char *name, int netns_fd,
                   struct sp_error *err);
/* Move interface NAME of the namespace NETNS_FD back into the caller's
 * network namespace as HOST_NAME. */
int sp_netdev_return(int netns_fd, const char *name, const char *host_name,
                     struct sp_error *err);
/* create: open /proc/PID/ns/net into *NETNS_FD and move every device in;
 * *MOVED counts the devices moved (for sp_netdevs_leave on failure). */
int sp_netdevs_enter(const struct sp_spec *spec, pid_t pid, int *netns_fd,
                     size_t *moved, struct sp_error *err);
/* Move the first MOVED devices back from NETNS_FD (failures: warnings). */
void sp_netdevs_leave(const struct sp_spec *spec, int netns_fd, size_t moved);

#endif
