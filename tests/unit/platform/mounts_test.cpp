// Reading /proc/self/mountinfo for the kubelet's shared mount. The mount itself needs root and
// is exercised by the agent's integration scenarios.

#include "platform/mounts.hpp"

#include <gtest/gtest.h>

namespace kna {
namespace {

TEST(MountPoints, TakesTheFifthFieldOfEachLine) {
  const std::string text =
      "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
      "35 22 0:31 / /var/lib/kubelet rw,relatime shared:17 - ext4 /dev/sda1 rw\n";
  EXPECT_EQ(parse_mount_points(text), (std::vector<std::string>{"/", "/var/lib/kubelet"}));
}

TEST(MountPoints, DecodesOctalEscapes) {
  const std::string text = "40 22 0:5 / /tmp/with\\040space rw - tmpfs tmpfs rw\n";
  EXPECT_EQ(parse_mount_points(text), (std::vector<std::string>{"/tmp/with space"}));
}

TEST(MountPoints, IgnoresShortLinesAndKeepsABackslashThatIsNoEscape) {
  EXPECT_EQ(parse_mount_points("1 2 3\n\n40 22 0:5 / /a\\b rw\n"),
            (std::vector<std::string>{"/a\\b"}));
}

}  // namespace
}  // namespace kna
