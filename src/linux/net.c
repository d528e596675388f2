/* Bring the loopback interface of a new network namespace up: one
 * RTM_NEWLINK request (IFF_UP on "lo", always ifindex 1 in a new
 * namespace) over rtnetlink, then wait for the kernel's acknowledgement. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "sprout/linux.h"
#include "sprout/util.h"

int sp_net_loopback_up(struct sp_error *err) {
  const unsigned int ifindex = 1; /* no lookup by name: one socket less */

  struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (!nl)
    return sp_error_sys(err, "bring up lo: open rtnetlink socket");
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    sp_error_sys(err, "bring up lo: bind rtnetlink socket");
    mnl_socket_close(nl);
    return -1;
  }

  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  unsigned int seq = (unsigned int)time(NULL);
  nlh->nlmsg_seq = seq;
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = (int)ifindex;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;

  int ret = -1;
  unsigned int portid = mnl_socket_get_portid(nl);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
    sp_error_sys(err, "bring up lo (ifindex %u): send RTM_NEWLINK", ifindex);
    goto out;
  }
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      sp_error_sys(err, "bring up lo (ifindex %u): receive the netlink answer", ifindex);
      goto out;
    }
    /* the ack is an NLMSG_ERROR with error 0: MNL_CB_STOP; a real error
     * comes back as -1 with errno set to the netlink error */
    int r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
    if (r < 0) {
      sp_error_sys(err, "bring up lo (ifindex %u): RTM_NEWLINK", ifindex);
      goto out;
    }
    if (r == MNL_CB_STOP)
      break;
  }
  ret = 0;
out:
  mnl_socket_close(nl);
  return ret;
}

int sp_net_loopback_up_in(int pidfd, pid_t pid, struct sp_error *err) {
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0)
    return sp_error_sys(err, "bring up lo: open /proc/self/ns/net");
  int r = setns(pidfd, CLONE_NEWNET); /* a pidfd: Linux 5.8 */
  if (r < 0 && errno == EINVAL) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/ns/net", (int)pid);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    r = fd < 0 ? -1 : setns(fd, CLONE_NEWNET);
    if (fd >= 0)
      close(fd);
  }
  if (r < 0) {
    sp_error_sys(err, "bring up lo: enter the container's network namespace");
  } else {
    r = sp_net_loopback_up(err);
    if (setns(self, CLONE_NEWNET) < 0 && r == 0)
      r = sp_error_sys(err, "bring up lo: return to our network namespace");
  }
  close(self);
  return r;
}
