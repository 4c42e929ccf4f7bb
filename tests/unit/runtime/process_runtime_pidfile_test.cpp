// The process runtime and pid files left by an earlier run: stale ones go, our own orphans are
// stopped, foreign processes are never touched.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kna/catalogue.hpp"
#include "process_runtime_fixture.hpp"
#include "spawn_util.hpp"

namespace kna::test {
namespace {

using namespace std::chrono_literals;

// A process like one an earlier agent started for `stage`: our child here, not the runtime's.
int start_marked_process(const std::string& stage, std::vector<std::string> args) {
  return spawn_test_child({std::string(kEnvStageMarker) + "=" + stage}, std::move(args));
}

int dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  ::waitpid(pid, nullptr, 0);
  return pid;
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST_F(ProcessRuntimeTest, PidFileNamingADeadPidIsRemovedBeforeStart) {
  const auto pidfile = temp_path("dead.pid");
  write_text(pidfile, std::to_string(dead_pid()) + "\n");
  auto spec = child_spec("main-docker", {});
  process_of(spec).pidfile = pidfile;
  launch(spec);
  ASSERT_TRUE(workload_) << error_;
  EXPECT_FALSE(std::filesystem::exists(pidfile));
  EXPECT_TRUE(log_.contains("main-docker: removed stale pid file \"" + pidfile.string() + "\""));
  workload_->stop(5s);
  ASSERT_TRUE(wait_exit());
}

TEST_F(ProcessRuntimeTest, PidFileWithoutAPidIsRemovedBeforeStart) {
  const auto pidfile = temp_path("garbage.pid");
  write_text(pidfile, "not a pid\n");
  auto spec = child_spec("main-docker", {"--exit-code", "0"});
  process_of(spec).pidfile = pidfile;
  launch(spec);
  ASSERT_TRUE(workload_) << error_;
  EXPECT_FALSE(std::filesystem::exists(pidfile));
  ASSERT_TRUE(wait_exit());
}

TEST_F(ProcessRuntimeTest, PidFileOfAForeignLiveProcessRefusesToStartAndKeepsIt) {
  const auto pidfile = temp_path("foreign.pid");
  const int foreign = start_marked_process("some-other-stage", {});
  ASSERT_GT(foreign, 0);
  write_text(pidfile, std::to_string(foreign) + "\n");
  auto spec = child_spec("main-docker", {});
  process_of(spec).pidfile = pidfile;
  launch(spec);
  EXPECT_FALSE(workload_);
  EXPECT_NE(error_.find("main-docker: pid file \"" + pidfile.string() + "\" names pid " +
                        std::to_string(foreign)),
            std::string::npos)
      << error_;
  EXPECT_NE(error_.find("refusing to start"), std::string::npos) << error_;
  EXPECT_TRUE(std::filesystem::exists(pidfile));
  EXPECT_EQ(::kill(foreign, 0), 0) << "the foreign process must not be touched";
  ::kill(foreign, SIGKILL);
  ::waitpid(foreign, nullptr, 0);
  std::filesystem::remove(pidfile);
}

TEST_F(ProcessRuntimeTest, OwnOrphanFromThePidFileIsStoppedBeforeStart) {
  const auto pidfile = temp_path("orphan.pid");
  const int orphan = start_marked_process("main-docker", {});
  ASSERT_GT(orphan, 0);
  write_text(pidfile, std::to_string(orphan) + "\n");
  auto spec = child_spec("main-docker", {});
  process_of(spec).pidfile = pidfile;
  launch(spec);
  ASSERT_TRUE(workload_) << error_;
  int status = 0;
  ASSERT_EQ(::waitpid(orphan, &status, WNOHANG), orphan) << "the orphan must be gone";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "ended by its SIGTERM handler";
  EXPECT_FALSE(std::filesystem::exists(pidfile));
  workload_->stop(5s);
  ASSERT_TRUE(wait_exit());
}

TEST_F(ProcessRuntimeTest, OwnOrphanIgnoringSigtermIsKilledAfterTheStopBudget) {
  const auto pidfile = temp_path("stubborn.pid");
  const int orphan = start_marked_process("main-docker", {"--ignore-sigterm"});
  ASSERT_GT(orphan, 0);
  write_text(pidfile, std::to_string(orphan) + "\n");
  auto spec = child_spec("main-docker", {});
  spec.stop_timeout = 200ms;
  process_of(spec).pidfile = pidfile;
  launch(spec);
  ASSERT_TRUE(workload_) << error_;
  int status = 0;
  ASSERT_EQ(::waitpid(orphan, &status, WNOHANG), orphan);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  workload_->stop(5s);
  ASSERT_TRUE(wait_exit());
}

}  // namespace
}  // namespace kna::test
