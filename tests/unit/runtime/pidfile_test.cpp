#include "runtime/pidfile.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "kna/catalogue.hpp"
#include "spawn_util.hpp"

namespace kna {
namespace {

class PidfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("pidfile-test." + std::to_string(::getpid()));
  }
  void TearDown() override {
    std::filesystem::remove(path_);
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
  }
  void write(const std::string& text) { std::ofstream(path_) << text; }
  // A live process with `env` as its whole environment.
  int spawn_with_env(const std::string& env) {
    child_ = test::spawn_test_child({env});
    EXPECT_GT(child_, 0);
    return child_;
  }

  std::filesystem::path path_;
  int child_{-1};
};

TEST_F(PidfileTest, MissingFileIsAbsent) {
  EXPECT_EQ(inspect_pidfile(path_, "s").kind, PidfileCheck::Kind::absent);
}

TEST_F(PidfileTest, FileWithoutAPidIsStale) {
  write("hello\n");
  const auto c = inspect_pidfile(path_, "s");
  EXPECT_EQ(c.kind, PidfileCheck::Kind::stale);
  EXPECT_EQ(c.detail, "it holds no pid (\"hello\")");
}

TEST_F(PidfileTest, DeadPidIsStale) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  write(std::to_string(pid) + "\n");
  const auto c = inspect_pidfile(path_, "s");
  EXPECT_EQ(c.kind, PidfileCheck::Kind::stale);
  EXPECT_EQ(c.pid, pid);
}

TEST_F(PidfileTest, ZombieCountsAsDead) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  siginfo_t info{};
  ::waitid(P_PID, pid, &info, WEXITED | WNOWAIT);  // exited, not reaped yet
  EXPECT_FALSE(process_alive(pid));
  ::waitpid(pid, nullptr, 0);
}

TEST_F(PidfileTest, LiveProcessWithOurMarkerIsOurs) {
  const int pid = spawn_with_env(std::string(kEnvStageMarker) + "=main-docker");
  write(std::to_string(pid));
  const auto c = inspect_pidfile(path_, "main-docker");
  EXPECT_EQ(c.kind, PidfileCheck::Kind::ours);
  EXPECT_EQ(c.pid, pid);
}

TEST_F(PidfileTest, MarkerOfAnotherStageIsForeign) {
  const int pid = spawn_with_env(std::string(kEnvStageMarker) + "=bootstrap-docker");
  write(std::to_string(pid));
  EXPECT_EQ(inspect_pidfile(path_, "main-docker").kind, PidfileCheck::Kind::foreign);
}

TEST_F(PidfileTest, LiveProcessWithoutMarkerIsForeign) {
  write(std::to_string(::getpid()));
  const auto c = inspect_pidfile(path_, "main-docker");
  EXPECT_EQ(c.kind, PidfileCheck::Kind::foreign);
  EXPECT_EQ(c.pid, ::getpid());
}

// A container restarted over the same folders: the file names a pid of the old PID namespace,
// which in the new one belongs to a younger process of another program.
TEST_F(PidfileTest, AProcessYoungerThanTheFileReusedItsPidAndTheFileIsStale) {
  // Written before the process started but after this boot: an hour ago, or halfway through a
  // shorter uptime (a machine booted minutes ago, as CI's may be).
  timespec up{};
  ASSERT_EQ(::clock_gettime(CLOCK_BOOTTIME, &up), 0);
  if (up.tv_sec < 10) GTEST_SKIP() << "the machine booted " << up.tv_sec << "s ago: too soon";
  const int pid = spawn_with_env("A=1");
  write(std::to_string(pid));
  const time_t written = ::time(nullptr) - std::min<time_t>(3600, up.tv_sec / 2);
  const timespec times[2] = {{written, 0}, {written, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path_.c_str(), times, 0), 0);
  const auto c = inspect_pidfile(path_, "main-docker");
  EXPECT_EQ(c.kind, PidfileCheck::Kind::stale) << c.detail;
  EXPECT_NE(c.detail.find("the pid was reused"), std::string::npos) << c.detail;
  EXPECT_TRUE(process_alive(pid)) << "the process is left alone";
}

TEST_F(PidfileTest, AFileFromBeforeThisBootIsStale) {
  const int pid = spawn_with_env("A=1");
  write(std::to_string(pid));
  const timespec long_ago[2] = {{1'000'000, 0}, {1'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path_.c_str(), long_ago, 0), 0);
  const auto c = inspect_pidfile(path_, "main-docker");
  EXPECT_EQ(c.kind, PidfileCheck::Kind::stale) << c.detail;
  EXPECT_NE(c.detail.find("before this boot"), std::string::npos) << c.detail;
}

TEST_F(PidfileTest, AnOlderProcessThanTheFileIsStillForeign) {
  const int pid = spawn_with_env("A=1");
  ::usleep(50'000);
  write(std::to_string(pid));
  const auto c = inspect_pidfile(path_, "main-docker");
  EXPECT_EQ(c.kind, PidfileCheck::Kind::foreign) << c.detail;
  EXPECT_FALSE(pid_reused_since(path_, pid));
}

TEST_F(PidfileTest, MarkerMustMatchTheWholeVariable) {
  const int pid = spawn_with_env(std::string(kEnvStageMarker) + "=main-docker-2");
  EXPECT_FALSE(has_stage_marker(pid, "main-docker"));
  EXPECT_TRUE(has_stage_marker(pid, "main-docker-2"));
}

}  // namespace
}  // namespace kna
