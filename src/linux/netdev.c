/* linux.netDevices: move a host interface into the container's network
 * namespace under its new name (RTM_NEWLINK with IFLA_NET_NS_FD and
 * IFLA_IFNAME), and back again on delete. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "sprout/netdev.h"
#include "sprout/util.h"

int sp_netdevs_check(const struct sp_spec *spec, struct sp_error *err) {
  const struct sp_linux *l = &spec->linux_;
  for (size_t i = 0; i < l->net_devices_len; i++) {
    const char *name = l->net_devices[i].host_name;
    if (if_nametoindex(name) == 0)
      return sp_error_errno(err, errno == ENODEV ? ENODEV : errno,
                            ".linux.netDevices: host interface \"%s\"", name);
  }
  return 0;
}

static struct mnl_socket *rtnl_open(struct sp_error *err) {
  struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!nl) {
    sp_error_sys(err, "open rtnetlink socket");
    return NULL;
  }
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    sp_error_sys(err, "bind rtnetlink socket");
    mnl_socket_close(nl);
    return NULL;
  }
  return nl;
}

/* Move interface IFINDEX (of NL's namespace) to NETNS_FD named NAME. */
static int move_link(struct mnl_socket *nl, unsigned ifindex, int netns_fd,
                     const char *name, struct sp_error *err) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  unsigned seq = (unsigned)time(NULL);
  nlh->nlmsg_seq = seq;
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = (int)ifindex;
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
    return sp_error_sys(err, "send RTM_NEWLINK");
  unsigned portid = mnl_socket_get_portid(nl);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return sp_error_sys(err, "receive the netlink answer");
    }
    int r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
    if (r < 0)
      return sp_error_sys(err, "RTM_NEWLINK");
    if (r == MNL_CB_STOP)
      return 0;
  }
}

int sp_netdev_move(const char *host_name, const char *name, int netns_fd,
                   struct sp_error *err) {
  unsigned idx = if_nametoindex(host_name);
  if (idx == 0)
    return sp_error_sys(err, "netDevices: host interface \"%s\"", host_name);
  struct mnl_socket *nl = rtnl_open(err);
  if (!nl)
    return sp_error_prefix(err, "netDevices: move \"%s\"", host_name);
  int r = move_link(nl, idx, netns_fd, name, err);
  mnl_socket_close(nl);
  if (r < 0)
    return sp_error_prefix(err, "netDevices: move \"%s\" into the container as \"%s\"",
                           host_name, name);
  return 0;
}

int sp_netdev_return(int netns_fd, const char *name, const char *host_name,
                     struct sp_error *err) {
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return sp_error_sys(err, "netDevices: open /proc/self/ns/net");
  if (setns(netns_fd, CLONE_NEWNET) < 0) {
    sp_error_sys(err, "netDevices: enter the container's network namespace");
    close(self);
    return -1;
  }
  /* the index and a socket from inside, then back home at once */
  unsigned idx = if_nametoindex(name);
  int e = errno;
  struct mnl_socket *nl = idx ? rtnl_open(err) : NULL;
  if (setns(self, CLONE_NEWNET) < 0) {
    /* cannot happen short of a kernel bug; do not go on in the wrong one */
    sp_error_sys(err, "netDevices: return to the runtime's network namespace");
    if (nl)
      mnl_socket_close(nl);
    close(self);
    return -1;
  }
  int r = -1;
  if (!idx)
    sp_error_errno(err, e, "netDevices: no interface \"%s\" in the container", name);
  else if (nl)
    r = move_link(nl, idx, self, host_name, err);
  if (nl)
    mnl_socket_close(nl);
  close(self);
  if (r < 0 && idx)
    return sp_error_prefix(err, "netDevices: move \"%s\" back to the host as \"%s\"", name,
                           host_name);
  return r;
}

int sp_netdevs_enter(const struct sp_spec *spec, pid_t pid, int *netns_fd,
                     size_t *moved, struct sp_error *err) {
  const struct sp_linux *l = &spec->linux_;
  *moved = 0;
  if (l->net_devices_len == 0)
    return 0;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
  *netns_fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*netns_fd < 0)
    return sp_error_sys(err, "netDevices: open %s", path);
  for (size_t i = 0; i < l->net_devices_len; i++) {
    if (sp_netdev_move(l->net_devices[i].host_name, l->net_devices[i].name, *netns_fd,
                       err) < 0)
      return -1;
    *moved = i + 1;
  }
  return 0;
}

void sp_netdevs_leave(const struct sp_spec *spec, int netns_fd, size_t moved) {
  const struct sp_linux *l = &spec->linux_;
  if (netns_fd < 0)
    return;
  for (size_t i = 0; i < moved && i < l->net_devices_len; i++) {
    struct sp_error e = {0};
    if (sp_netdev_return(netns_fd, l->net_devices[i].name, l->net_devices[i].host_name,
                         &e) < 0)
      sp_log(SP_LOG_WARN, "%s", e.msg);
  }
}
