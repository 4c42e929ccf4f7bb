#include "platform/sd_notify.hpp"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace kna {
namespace {

// Plays systemd: a datagram socket named by NOTIFY_SOCKET for the test's lifetime.
class NotifySocket {
 public:
  NotifySocket() {
    path_ = (std::filesystem::path(::testing::TempDir()) / ("notify." + std::to_string(::getpid())))
                .string();
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  // The next datagram (already sent, so this does not block for long).
  std::string receive() {
    char buf[512];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

 private:
  std::string path_;
  int fd_{-1};
  bool bound_{false};
};

TEST(SdNotify, WithoutNotifySocketNothingIsSent) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(notify_ready());
  EXPECT_FALSE(notify_stopping());
  EXPECT_FALSE(notify_status("starting"));
}

TEST(SdNotify, SendsReadyStoppingAndStatus) {
  NotifySocket systemd;
  ASSERT_TRUE(systemd.bound());
  EXPECT_TRUE(notify_ready());
  EXPECT_EQ(systemd.receive(), "READY=1");
  EXPECT_TRUE(notify_status("3 of 5 stages ready"));
  EXPECT_EQ(systemd.receive(), "STATUS=3 of 5 stages ready");
  EXPECT_TRUE(notify_stopping());
  EXPECT_EQ(systemd.receive(), "STOPPING=1");
}

TEST(SdNotify, StatusStaysOnOneLine) {
  NotifySocket systemd;
  ASSERT_TRUE(systemd.bound());
  EXPECT_TRUE(notify_status("etcd failed\nREADY=1"));
  EXPECT_EQ(systemd.receive(), "STATUS=etcd failed READY=1");
}

}  // namespace
}  // namespace kna
