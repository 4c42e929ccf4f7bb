// Runs in a private network namespace (a forked child that unshares one), so the host's links
// are never touched.

#include "platform/net_links.hpp"

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <gtest/gtest.h>

namespace kna {
namespace {

// Runs `body` in a child inside a new network namespace; returns the child's exit code, or -1
// when namespaces are not available here (not root).
template <typename Body>
int in_new_netns(Body body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNET) != 0) _exit(100);
    _exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return -1;
  return WEXITSTATUS(status) == 100 ? -1 : WEXITSTATUS(status);
}

TEST(NetLinks, ReadsAddressAndDeletesABridge) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace";
  const int rc = in_new_netns([] {
    if (std::system("ip link add kna-br0 type bridge && ip addr add 10.1.33.1/24 dev kna-br0") != 0)
      return 10;
    if (!link_exists("kna-br0")) return 11;
    if (link_ipv4_cidr("kna-br0") != std::optional<std::string>("10.1.33.1/24")) return 12;
    if (!delete_link("kna-br0").ok()) return 13;
    if (link_exists("kna-br0")) return 14;
    if (link_ipv4_cidr("kna-br0").has_value()) return 15;
    if (!delete_link("kna-br0").ok()) return 16;  // already gone: still success
    return 0;
  });
  if (rc == -1) GTEST_SKIP() << "network namespaces are not available";
  EXPECT_EQ(rc, 0) << "step " << rc << " failed";
}

TEST(NetLinks, MissingLinkHasNoAddress) {
  EXPECT_FALSE(link_exists("kna-no-such-link"));
  EXPECT_FALSE(link_ipv4_cidr("kna-no-such-link").has_value());
}

}  // namespace
}  // namespace kna
