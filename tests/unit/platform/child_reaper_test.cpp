#include "platform/child_reaper.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace kna {
namespace {

using namespace std::chrono_literals;

// These scenarios run in a forked copy of the test process (EXPECT_EXIT): becoming a subreaper
// and reaping children must not disturb the test runner. They exit 0 on success and print what
// went wrong otherwise.
[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "%s\n", why.c_str());
  std::fflush(stderr);
  ::_exit(1);
}

void check(bool ok, const std::string& why) {
  if (!ok) fail(why);
}

// Every Linux since 3.4 answers PR_GET_CHILD_SUBREAPER; qemu-user (7.2, which runs the ARM cross
// builds' tests) answers EINVAL to both subreaper options. There the tests that need the flag
// cannot run; on a device the agent runs natively.
bool subreaper_supported() {
  int flag = 0;
  return ::prctl(PR_GET_CHILD_SUBREAPER, &flag) == 0;
}
constexpr const char* kNoSubreaper =
    "prctl(PR_GET_CHILD_SUBREAPER) fails here (qemu-user does not implement the subreaper "
    "options): nothing to test";

struct Spawned {
  int child{-1};
  int orphan{-1};
};

// Starts the test child so that it forks a grandchild living `orphan_ms` and then exits at once:
// the grandchild becomes an orphan, re-parented to us as the subreaper.
Spawned spawn_child_with_orphan(int orphan_ms) {
  int fds[2];
  check(::pipe(fds) == 0, "pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::string exe = KNA_TEST_CHILD;
  std::string ms = std::to_string(orphan_ms);
  std::vector<std::string> args{exe, "--fork-orphan", "--orphan-ms", ms, "--exit-code", "0"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  Spawned s;
  pid_t pid = -1;
  check(::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ) == 0, "spawn");
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  s.child = pid;
  std::string line;
  char c = 0;
  while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(fds[0]);
  check(line.rfind("orphan ", 0) == 0, "test child printed \"" + line + "\"");
  s.orphan = std::stoi(line.substr(7));
  return s;
}

bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  auto guard = boost::asio::make_work_guard(io);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    io.run_one_for(left);
  }
  return true;
}

void orphan_is_reaped_and_owned_child_is_left_to_its_owner() {
  check(ChildReaper::become_subreaper().ok(), "become_subreaper");
  boost::asio::io_context io;
  int known = -1;
  bool owner_done = false;
  ChildReaper reaper(io, [&](int pid) { return pid == known && !owner_done; });
  std::vector<int> reaped;
  reaper.set_observer([&](int pid, int) { reaped.push_back(pid); });
  reaper.start();

  const Spawned s = spawn_child_with_orphan(100);
  known = s.child;
  // The owner waits like Boost.Process does: on a pidfd, then waitpid for that one pid.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, s.child, 0));
  check(pidfd >= 0, "pidfd_open");
  boost::asio::posix::stream_descriptor owner(io, pidfd);
  int owner_status = -1;
  owner.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                   [&](const boost::system::error_code& ec) {
                     check(!ec, "owner wait: " + ec.message());
                     check(::waitpid(s.child, &owner_status, 0) == s.child,
                           "the reaper stole the owned child's exit status");
                     owner_done = true;
                   });

  check(run_until(io, [&] { return owner_done && !reaped.empty(); }), "timed out");
  check(WIFEXITED(owner_status) && WEXITSTATUS(owner_status) == 0, "owned child's status");
  check(reaped == std::vector<int>{s.orphan}, "reaped something other than the orphan");
  check(reaper.reaped() == 1, "reaped() count");
  ::_exit(0);
}

void orphan_behind_an_owned_zombie_is_reaped_on_retry() {
  check(ChildReaper::become_subreaper().ok(), "become_subreaper");
  boost::asio::io_context io;
  const Spawned s = spawn_child_with_orphan(50);
  siginfo_t info{};
  // Both have exited and neither is reaped: the owned child first in our list of children.
  check(::waitid(P_PID, s.child, &info, WEXITED | WNOWAIT) == 0, "wait for the child");
  check(::waitid(P_PID, s.orphan, &info, WEXITED | WNOWAIT) == 0, "wait for the orphan");

  bool owner_done = false;
  ChildReaper reaper(
      io, [&](int pid) { return pid == s.child && !owner_done; }, 20ms);
  std::vector<int> reaped;
  reaper.set_observer([&](int pid, int) { reaped.push_back(pid); });
  reaper.start();
  check(reaped.empty(), "the owned zombie should hide the orphan from the first look");

  // Their SIGCHLDs came before the reaper listened: only its retry can find the orphan now.
  int status = -1;
  check(::waitpid(s.child, &status, 0) == s.child, "the reaper stole the owned child");
  owner_done = true;
  check(run_until(io, [&] { return !reaped.empty(); }), "the orphan was never reaped");
  check(reaped == std::vector<int>{s.orphan}, "reaped something other than the orphan");
  ::_exit(0);
}

TEST(ChildReaperDeathTest, ReapsARealOrphanAndLeavesTheOwnedChildToItsOwner) {
  if (!subreaper_supported()) GTEST_SKIP() << kNoSubreaper;
  EXPECT_EXIT(orphan_is_reaped_and_owned_child_is_left_to_its_owner(), ::testing::ExitedWithCode(0),
              "");
}

TEST(ChildReaperDeathTest, RetriesWhileAnOwnedZombieHidesAnOrphan) {
  if (!subreaper_supported()) GTEST_SKIP() << kNoSubreaper;
  EXPECT_EXIT(orphan_behind_an_owned_zombie_is_reaped_on_retry(), ::testing::ExitedWithCode(0), "");
}

TEST(ChildReaper, BecomeSubreaperSetsTheProcessFlag) {
  if (!subreaper_supported()) GTEST_SKIP() << kNoSubreaper;
  ASSERT_TRUE(ChildReaper::become_subreaper().ok());
  int flag = 0;
  ASSERT_EQ(::prctl(PR_GET_CHILD_SUBREAPER, &flag), 0);
  EXPECT_EQ(flag, 1);
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 0), 0);  // the test runner must not stay one
}

}  // namespace
}  // namespace kna
