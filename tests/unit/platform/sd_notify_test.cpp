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
  EXPECT_FALSE(notify_raw("READY=1"));
}

TEST(SdNotify, SendsTheMessageAsOneDatagram) {
  NotifySocket systemd;
  ASSERT_TRUE(systemd.bound());
  EXPECT_TRUE(notify_raw("READY=1\nSTATUS=3/5 stages ready"));
  EXPECT_EQ(systemd.receive(), "READY=1\nSTATUS=3/5 stages ready");
  EXPECT_TRUE(notify_raw("WATCHDOG=1"));
  EXPECT_EQ(systemd.receive(), "WATCHDOG=1") << "NOTIFY_SOCKET is kept for the next message";
}

TEST(SdNotify, WatchdogIntervalComesFromWatchdogUsecForThisProcess) {
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  EXPECT_FALSE(watchdog_interval());
  ::setenv("WATCHDOG_USEC", "30000000", 1);
  ASSERT_TRUE(watchdog_interval());
  EXPECT_EQ(*watchdog_interval(), std::chrono::seconds(30));
  ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
  EXPECT_FALSE(watchdog_interval()) << "meant for another process";
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
}

}  // namespace
}  // namespace kna
