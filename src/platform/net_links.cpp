#include "platform/net_links.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

namespace kna {

std::optional<std::string> link_ipv4_cidr(const std::string& link) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs* a = list; a != nullptr && !found; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET || link != a->ifa_name) {
      continue;
    }
    // Copied out, not cast: a sockaddr need not be aligned for a sockaddr_in (armhf checks).
    sockaddr_in addr{};
    std::memcpy(&addr, a->ifa_addr, sizeof addr);
    sockaddr_in mask{};
    if (a->ifa_netmask != nullptr) std::memcpy(&mask, a->ifa_netmask, sizeof mask);
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &addr.sin_addr, text, sizeof text);
    found = std::string(text) + "/" + std::to_string(std::popcount(ntohl(mask.sin_addr.s_addr)));
  }
  ::freeifaddrs(list);
  return found;
}

bool link_exists(const std::string& link) {
  return ::if_nametoindex(link.c_str()) != 0;
}

Status delete_link(const std::string& link) {
  const unsigned index = ::if_nametoindex(link.c_str());
  if (index == 0) return kOk;
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return Error{std::string("cannot open a netlink socket: ") + std::strerror(errno)};
  struct {
    nlmsghdr hdr;
    ifinfomsg info;
  } req{};
  req.hdr.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
  req.hdr.nlmsg_type = RTM_DELLINK;
  req.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.hdr.nlmsg_seq = 1;
  req.info.ifi_family = AF_UNSPEC;
  req.info.ifi_index = static_cast<int>(index);
  std::string error;
  if (::send(fd, &req, req.hdr.nlmsg_len, 0) < 0) {
    error = std::strerror(errno);
  } else {
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      error = std::strerror(errno);
    } else {
      // The kernel answers with one nlmsgerr (error 0 is the acknowledgement).
      nlmsghdr hdr{};
      nlmsgerr err{};
      if (static_cast<std::size_t>(n) >= NLMSG_LENGTH(sizeof err)) {
        std::memcpy(&hdr, buf, sizeof hdr);
        std::memcpy(&err, buf + NLMSG_HDRLEN, sizeof err);
        if (hdr.nlmsg_type == NLMSG_ERROR && err.error != 0 && err.error != -ENODEV) {
          error = std::strerror(-err.error);
        }
      }
    }
  }
  ::close(fd);
  if (!error.empty()) return Error{"cannot delete link " + link + ": " + error};
  return kOk;
}

}  // namespace kna
