// Helpers a killed program left behind (dockerd's containerd), cleared before it starts again:
// stale pid files go, our own live helpers are stopped, foreign processes are never touched.
// Real processes; time is simulated.
#include "runtime/helper_cleanup.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "kna/catalogue.hpp"
#include "runtime/pidfile.hpp"
#include "spawn_util.hpp"
#include "support/loop_util.hpp"
#include "support/sim_dispatcher.hpp"

namespace kna::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kStage = "bootstrap-docker";

class HelperCleanupTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const int pid : children_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    for (const auto& path : paths_) std::filesystem::remove_all(path);
  }

  std::string temp_path(const std::string& name) {
    const auto path = std::filesystem::path(::testing::TempDir()) /
                      ("helper-cleanup-" + name + "." + std::to_string(::getpid()));
    paths_.push_back(path);
    return path.string();
  }
  // `file` itself (a helper's pid file is named after its program) in a folder of its own.
  std::string named(const std::string& file) {
    const auto dir = temp_path("dir-" + file);
    std::filesystem::create_directories(dir);
    return dir + "/" + file;
  }
  static void write_pid(const std::string& path, int pid) { std::ofstream(path) << pid << "\n"; }
  // A live process with `env` as its whole environment, our child (a helper re-parented to the
  // agent is the agent's child too).
  int spawn(std::vector<std::string> env, std::vector<std::string> args = {}) {
    const int pid = spawn_test_child(std::move(env), std::move(args));
    EXPECT_GT(pid, 0);
    if (pid > 0) children_.push_back(pid);
    return pid;
  }
  int spawn_marked(std::vector<std::string> args = {}) {
    return spawn({std::string(kEnvStageMarker) + "=" + kStage}, std::move(args));
  }

  void start(const std::vector<std::string>& pidfiles, Millis budget = 5s) {
    stop_stale_helpers(io_, dispatcher_, kStage, pidfiles, budget,
                       [this](Result<bool> r) { result_.emplace(std::move(r)); });
    ASSERT_FALSE(result_) << "done must not run inside the call";
  }
  // Runs posted work and the pidfd waits until the result is in (bounded, so a hang fails).
  bool finish() {
    return run_until(io_, [this] {
      dispatcher_.run_posted();
      return result_.has_value();
    });
  }
  // How `pid`, our child, ended; nullopt while it runs.
  static std::optional<int> reaped_status(int pid) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) != pid) return std::nullopt;
    return status;
  }

  LogCapture log_;
  boost::asio::io_context io_;
  SimDispatcher dispatcher_;
  std::optional<Result<bool>> result_;
  std::vector<int> children_;
  std::vector<std::filesystem::path> paths_;
};

TEST_F(HelperCleanupTest, AbsentPidFileIsNothingToDo) {
  start({temp_path("absent.pid")});
  ASSERT_TRUE(finish());
  ASSERT_TRUE(*result_) << result_->error().message;
  EXPECT_FALSE(result_->value()) << "nothing was stopped";
  EXPECT_EQ(log_.text(), "");
}

TEST_F(HelperCleanupTest, NoPidFilesIsNothingToDo) {
  start({});
  ASSERT_TRUE(finish());
  ASSERT_TRUE(*result_);
  EXPECT_FALSE(result_->value());
}

TEST_F(HelperCleanupTest, PidFileOfADeadProcessIsRemoved) {
  const pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  const auto pidfile = temp_path("dead.pid");
  write_pid(pidfile, dead);
  start({pidfile});
  ASSERT_TRUE(finish());
  ASSERT_TRUE(*result_) << result_->error().message;
  EXPECT_FALSE(result_->value());
  EXPECT_FALSE(std::filesystem::exists(pidfile));
  EXPECT_TRUE(log_.contains("bootstrap-docker: removed helper pid file \"" + pidfile + "\": pid " +
                            std::to_string(dead) + " is not running"));
}

// What a SIGKILLed dockerd leaves: its containerd, killed with it (Pdeathsig), is a zombie of the
// agent until reaped. dockerd's own check (kill(pid, 0)) takes a zombie for a live containerd.
TEST_F(HelperCleanupTest, PidFileOfAnUnreapedZombieIsRemoved) {
  const pid_t zombie = ::fork();
  if (zombie == 0) ::_exit(0);
  children_.push_back(zombie);
  siginfo_t info{};
  ::waitid(P_PID, zombie, &info, WEXITED | WNOWAIT);  // exited, not reaped
  const auto pidfile = temp_path("zombie.pid");
  write_pid(pidfile, zombie);
  start({pidfile});
  ASSERT_TRUE(finish());
  ASSERT_TRUE(*result_) << result_->error().message;
  EXPECT_FALSE(std::filesystem::exists(pidfile));
}

TEST_F(HelperCleanupTest, PidFileWithoutAPidIsRemoved) {
  const auto pidfile = temp_path("garbage.pid");
  std::ofstream(pidfile) << "not a pid\n";
  start({pidfile});
  ASSERT_TRUE(finish());
  ASSERT_TRUE(*result_) << result_->error().message;
  EXPECT_FALSE(std::filesystem::exists(pidfile));
}

TEST_F(HelperCleanupTest, LiveHelperWithOurMarkerIsStoppedAndItsFileRemoved) {
  const int helper = spawn_marked();
  const auto pidfile = temp_path("ours.pid");
  write_pid(pidfile, helper);
  start({pidfile});
  ASSERT_TRUE(finish());
  ASSERT_TRUE(*result_) << result_->error().message;
  EXPECT_TRUE(result_->value()) << "a helper was stopped";
  const auto status = reaped_status(helper);
  ASSERT_TRUE(status) << "the helper must have ended";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "ended by its SIGTERM handler";
  EXPECT_FALSE(std::filesystem::exists(pidfile));
  EXPECT_TRUE(log_.contains("bootstrap-docker: helper pid " + std::to_string(helper) + " from \"" +
                            pidfile + "\" outlived the process that started it, stopping it"));
}

TEST_F(HelperCleanupTest, HelperIgnoringSigtermIsKilledWhenTheBudgetRunsOut) {
  const int helper = spawn_marked({"--ignore-sigterm"});
  const auto pidfile = temp_path("stubborn.pid");
  write_pid(pidfile, helper);
  start({pidfile}, 3s);
  dispatcher_.advance(3s - 1ms);
  EXPECT_TRUE(process_alive(helper)) << "no SIGKILL before the budget is spent";
  EXPECT_FALSE(result_);
  dispatcher_.advance(1ms);
  ASSERT_TRUE(finish());
  ASSERT_TRUE(*result_) << result_->error().message;
  const auto status = reaped_status(helper);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL);
  EXPECT_FALSE(std::filesystem::exists(pidfile));
}

TEST_F(HelperCleanupTest, LiveProcessWithoutOurMarkerIsLeftAlone) {
  const int stranger = spawn({"PATH=/usr/bin"});
  // Named after the program it names: it may really be that helper, only not ours.
  const auto pidfile = named("kna_test_child.pid");
  write_pid(pidfile, stranger);
  start({pidfile});
  ASSERT_TRUE(finish());
  ASSERT_TRUE(*result_) << "a foreign helper is the program's to report";
  EXPECT_FALSE(result_->value());
  EXPECT_TRUE(process_alive(stranger)) << "never touch a process we cannot prove is ours";
  EXPECT_TRUE(std::filesystem::exists(pidfile));
  EXPECT_TRUE(log_.contains("bootstrap-docker: helper pid file \"" + pidfile + "\" names pid " +
                            std::to_string(stranger) + ", which is not ours"));
}

// A container restarted over the same exec root (a new PID namespace), or a reboot: dockerd's
// containerd.pid names a pid that is now some other program. dockerd would wait 15 s for it and
// fail; the file goes, the process is never touched.
TEST_F(HelperCleanupTest, AFileNamingAnotherProgramIsStaleAndItsProcessLeftAlone) {
  const int stranger = spawn({"PATH=/usr/bin"});
  const auto pidfile = named("containerd.pid");
  write_pid(pidfile, stranger);
  start({pidfile});
  ASSERT_TRUE(finish());
  ASSERT_TRUE(*result_) << result_->error().message;
  EXPECT_FALSE(result_->value()) << "nothing was stopped";
  EXPECT_TRUE(process_alive(stranger)) << "never touch a process we cannot prove is ours";
  EXPECT_FALSE(std::filesystem::exists(pidfile));
  EXPECT_TRUE(log_.contains("removed helper pid file \"" + pidfile + "\": pid " +
                            std::to_string(stranger) + " is now kna_test_child, not containerd"));
}

TEST_F(HelperCleanupTest, MarkerOfAnotherStageIsNotOurs) {
  const int other = spawn({std::string(kEnvStageMarker) + "=main-docker"});
  const auto pidfile = named("kna_test_child.pid");
  write_pid(pidfile, other);
  start({pidfile});
  ASSERT_TRUE(finish());
  ASSERT_TRUE(*result_);
  EXPECT_TRUE(process_alive(other));
  EXPECT_TRUE(std::filesystem::exists(pidfile));
}

TEST_F(HelperCleanupTest, HandlesEveryFileAndReportsThoseItCouldNotClear) {
  const int stranger = spawn({"PATH=/usr/bin"});
  const int helper = spawn_marked();
  const auto foreign = temp_path("a-foreign.pid");
  const auto stuck = temp_path("b-directory.pid");  // holds no pid and cannot be unlinked
  const auto ours = temp_path("c-ours.pid");
  write_pid(foreign, stranger);
  std::filesystem::create_directory(stuck);
  write_pid(ours, helper);
  start({foreign, stuck, ours});
  ASSERT_TRUE(finish());
  ASSERT_FALSE(*result_);
  EXPECT_EQ(result_->error().message.rfind("cannot remove helper pid file \"" + stuck + "\"", 0),
            0u)
      << result_->error().message;
  EXPECT_TRUE(process_alive(stranger));
  EXPECT_TRUE(reaped_status(helper)) << "the files after a failure are handled all the same";
  EXPECT_FALSE(std::filesystem::exists(ours));
}

}  // namespace
}  // namespace kna::test
