#include "runtime/process_runtime.hpp"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "kna/catalogue.hpp"
#include "process_runtime_fixture.hpp"

namespace kna::test {
namespace {

using namespace std::chrono_literals;

TEST_F(ProcessRuntimeTest, LaunchReportsWorkloadThenExitCode) {
  launch(child_spec("s", {"--exit-code", "3"}));
  ASSERT_TRUE(workload_) << error_;
  ASSERT_TRUE(workload_->pid().has_value());
  EXPECT_EQ(workload_->id(), "pid " + std::to_string(*workload_->pid()));
  ASSERT_TRUE(wait_exit());
  EXPECT_EQ(exit_->cause, ExitStatus::Cause::exited);
  EXPECT_FALSE(exit_->signaled);
  EXPECT_EQ(exit_->code, 3);
}

TEST_F(ProcessRuntimeTest, CallbacksNeverRunInsideLaunch) {
  bool done = false;
  runtime_.launch(
      child_spec("s", {"--exit-code", "0"}),
      [&](Result<std::unique_ptr<Workload>>) { done = true; }, [](const ExitStatus&) {});
  EXPECT_FALSE(done);
  EXPECT_TRUE(run_until(io_, [&] { return done; }));
}

TEST_F(ProcessRuntimeTest, DeathBySignalIsToldApartFromTheSameExitCode) {
  launch(child_spec("s", {"--raise", "15"}));
  ASSERT_TRUE(wait_exit());
  EXPECT_TRUE(exit_->signaled);
  EXPECT_EQ(exit_->code, SIGTERM);
  EXPECT_EQ(exit_->cause, ExitStatus::Cause::exited);

  exit_.reset();
  launched_ = false;
  launch(child_spec("s", {"--exit-code", "15"}));
  ASSERT_TRUE(wait_exit());
  EXPECT_FALSE(exit_->signaled);
  EXPECT_EQ(exit_->code, 15);
}

TEST_F(ProcessRuntimeTest, KillFromOutsideIsAnExitBySignal) {
  launch(child_spec("s", {"--print-pid"}));
  ASSERT_TRUE(workload_) << error_;
  ASSERT_TRUE(wait_log("s: pid "));
  ASSERT_EQ(::kill(*workload_->pid(), SIGKILL), 0);
  ASSERT_TRUE(wait_exit());
  EXPECT_EQ(exit_->cause, ExitStatus::Cause::exited);
  EXPECT_TRUE(exit_->signaled);
  EXPECT_EQ(exit_->code, SIGKILL);
}

TEST_F(ProcessRuntimeTest, StopEndsTheChildWithSigtermAsTerminated) {
  launch(child_spec("s", {"--print-pid"}));
  ASSERT_TRUE(workload_) << error_;
  ASSERT_TRUE(wait_log("s: pid "));  // its SIGTERM handler is installed by now
  workload_->stop(10s);
  workload_->stop(10s);  // idempotent
  ASSERT_TRUE(wait_exit());
  EXPECT_EQ(exit_->cause, ExitStatus::Cause::terminated);
  EXPECT_FALSE(exit_->signaled);
  EXPECT_EQ(exit_->code, 0);
  io_.restart();
  io_.run_for(50ms);  // give a second, wrong exit report the chance to show up
  EXPECT_EQ(exits_, 1);
}

// dockerd's stop: live-restore turned off through its config file and SIGHUP, then SIGTERM.
TEST_F(ProcessRuntimeTest, StopWritesTheReloadFileAndSendsSighupThenSigtermAfterTheSettle) {
  const auto file = temp_path("reload.json");
  std::filesystem::remove(file);
  auto spec = child_spec("s", {"--print-pid", "--ignore-sighup"});
  process_of(spec).reload_before_stop =
      ReloadBeforeStop{file.string(), "{\"live-restore\": false}\n", 300ms};
  launch(spec);
  ASSERT_TRUE(workload_) << error_;
  ASSERT_TRUE(wait_log("s: pid "));
  const auto began = std::chrono::steady_clock::now();
  workload_->stop(10s);
  std::ifstream in(file);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "{\"live-restore\": false}\n");
  EXPECT_TRUE(log_.has("info", "sent SIGHUP to pid"));
  ASSERT_TRUE(wait_exit());
  EXPECT_GE(std::chrono::steady_clock::now() - began, 300ms);
  EXPECT_EQ(exit_->cause, ExitStatus::Cause::terminated);
  EXPECT_FALSE(exit_->signaled);
  EXPECT_EQ(exit_->code, 0);
  std::filesystem::remove(file);
}

TEST_F(ProcessRuntimeTest, TheReloadSignalReachesTheProcessBeforeSigterm) {
  const auto file = temp_path("reload2.json");
  auto spec = child_spec("s", {"--print-pid"});  // SIGHUP ends it
  process_of(spec).reload_before_stop = ReloadBeforeStop{file.string(), "x", 5s};
  launch(spec);
  ASSERT_TRUE(workload_) << error_;
  ASSERT_TRUE(wait_log("s: pid "));
  workload_->stop(10s);
  ASSERT_TRUE(wait_exit());
  EXPECT_TRUE(exit_->signaled);
  EXPECT_EQ(exit_->code, SIGHUP);
  EXPECT_EQ(exit_->cause, ExitStatus::Cause::terminated);
  std::filesystem::remove(file);
}

TEST_F(ProcessRuntimeTest, ChildIgnoringSigtermIsKilledWhenTheBudgetRunsOut) {
  launch(child_spec("s", {"--ignore-sigterm", "--print-pid"}));
  ASSERT_TRUE(workload_) << error_;
  ASSERT_TRUE(wait_log("s: pid "));
  const auto asked = std::chrono::steady_clock::now();
  workload_->stop(200ms);
  ASSERT_TRUE(wait_exit());
  EXPECT_GE(std::chrono::steady_clock::now() - asked, 200ms);
  EXPECT_EQ(exit_->cause, ExitStatus::Cause::killed);
  EXPECT_TRUE(exit_->signaled);
  EXPECT_EQ(exit_->code, SIGKILL);
  EXPECT_TRUE(log_.contains("s: pid " + std::to_string(*workload_->pid()) +
                            " still running 200ms after SIGTERM"));
}

TEST_F(ProcessRuntimeTest, EnvironmentHasAgentEnvSpecEnvAndStageMarker) {
  ::setenv("CHILD_TEST_INHERITED", "from-agent", 1);
  auto spec = child_spec("etcd", {"--print-env", kEnvStageMarker, "--print-env", "FOO",
                                  "--print-env", "CHILD_TEST_INHERITED", "--exit-code", "0"});
  process_of(spec).env["FOO"] = "bar baz";
  launch(spec);
  ASSERT_TRUE(wait_exit());
  ::unsetenv("CHILD_TEST_INHERITED");
  EXPECT_EQ(log_.count_lines(std::string("etcd: ") + kEnvStageMarker + "=etcd"), 1);
  EXPECT_EQ(log_.count_lines("etcd: FOO=bar baz"), 1);
  EXPECT_EQ(log_.count_lines("etcd: CHILD_TEST_INHERITED=from-agent"), 1);
}

// The reproduction: a KNA_API_TOKEN set for the agent used to reach the kubelet.
TEST_F(ProcessRuntimeTest, TheAgentsSecretsDoNotReachAStageUnlessItsEnvSetsThem) {
  ::setenv("KNA_API_TOKEN", "agent-secret", 1);
  ::setenv("REGISTRY_PASSWORD", "agent-password", 1);
  ::setenv("CHILD_TEST_SECRET", "given-to-the-stage", 1);
  auto spec =
      child_spec("kubelet", {"--print-env", "KNA_API_TOKEN", "--print-env", "REGISTRY_PASSWORD",
                             "--print-env", "CHILD_TEST_SECRET", "--exit-code", "0"});
  process_of(spec).env["CHILD_TEST_SECRET"] = "set-in-the-stage";
  launch(spec);
  ASSERT_TRUE(wait_exit());
  for (const char* name : {"KNA_API_TOKEN", "REGISTRY_PASSWORD", "CHILD_TEST_SECRET"})
    ::unsetenv(name);
  EXPECT_EQ(log_.count_lines("kubelet: KNA_API_TOKEN unset"), 1);
  EXPECT_EQ(log_.count_lines("kubelet: REGISTRY_PASSWORD unset"), 1);
  EXPECT_EQ(log_.count_lines("kubelet: CHILD_TEST_SECRET=set-in-the-stage"), 1);
  EXPECT_EQ(log_.count_containing("agent-secret"), 0);
  EXPECT_EQ(log_.count_containing("agent-password"), 0);
}

// The launch's log line shows the command line as plan does: its secrets hidden.
TEST_F(ProcessRuntimeTest, TheLaunchLogLineHidesSecretArguments) {
  // --print-env takes any name: here one that holds a secret value the child never sees
  launch(child_spec("kubelet", {"--print-env", "KUBELET_TOKEN=launch-secret", "--exit-code", "0"}));
  ASSERT_TRUE(wait_exit());
  std::istringstream in(log_.text());
  int started = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.find("started pid") == std::string::npos) continue;
    ++started;
    EXPECT_NE(line.find("KUBELET_TOKEN=<redacted>"), std::string::npos) << line;
    EXPECT_EQ(line.find("launch-secret"), std::string::npos) << line;
  }
  EXPECT_EQ(started, 1) << log_.text();
}

TEST_F(ProcessRuntimeTest, ChildLeadsItsOwnProcessGroup) {
  launch(child_spec("s", {}));
  ASSERT_TRUE(workload_) << error_;
  const int pid = *workload_->pid();
  EXPECT_EQ(::getpgid(pid), pid);
  EXPECT_NE(::getpgid(pid), ::getpgrp());
  workload_->stop(5s);
  ASSERT_TRUE(wait_exit());
}

TEST_F(ProcessRuntimeTest, MissingExecutableFailsWithAClearError) {
  StageSpec spec;
  spec.name = "kubelet";
  spec.launch = ProcessSpec{{"kna-no-such-program"}, {}, {}};
  launch(spec);
  EXPECT_FALSE(workload_);
  EXPECT_EQ(error_, "kubelet: executable \"kna-no-such-program\" not found in PATH");

  launched_ = false;
  error_.clear();
  spec.launch = ProcessSpec{{"/nonexistent/kna-no-such-program"}, {}, {}};
  launch(spec);
  EXPECT_FALSE(workload_);
  EXPECT_NE(error_.find("kubelet: cannot execute \"/nonexistent/kna-no-such-program\""),
            std::string::npos)
      << error_;
}

TEST_F(ProcessRuntimeTest, BareProgramNameIsFoundThroughPath) {
  StageSpec spec;
  spec.name = "s";
  spec.launch = ProcessSpec{{"true"}, {}, {}};
  launch(spec);
  ASSERT_TRUE(workload_) << error_;
  ASSERT_TRUE(wait_exit());
  EXPECT_EQ(exit_->code, 0);
}

TEST_F(ProcessRuntimeTest, ContainerSpecIsRefused) {
  StageSpec spec;
  spec.name = "etcd";
  spec.launch = ContainerSpec{};
  launch(spec);
  EXPECT_FALSE(workload_);
  EXPECT_NE(error_.find("etcd: "), std::string::npos);
}

TEST_F(ProcessRuntimeTest, StdoutAndStderrLinesAreLoggedWithTheStageName) {
  launch(child_spec("flannel",
                    {"--print-lines", "3", "--print-stderr-lines", "2", "--exit-code", "0"}));
  ASSERT_TRUE(wait_exit());
  // Output is read to its end before the exit is reported.
  EXPECT_EQ(log_.count_lines("flannel: line 1"), 1);
  EXPECT_EQ(log_.count_lines("flannel: line 3"), 1);
  EXPECT_EQ(log_.count_lines("flannel: err 1"), 1);
  EXPECT_EQ(log_.count_lines("flannel: err 2"), 1);
}

TEST_F(ProcessRuntimeTest, OutputBeyondTheBurstIsSuppressedAndCounted) {
  ProcessRuntime limited(io_, dispatcher_, {.output_lines_per_second = 0.001, .output_burst = 5});
  bool launched = false;
  std::optional<ExitStatus> exit;
  limited.launch(
      child_spec("chatty", {"--print-lines", "100", "--exit-code", "0"}),
      [&](Result<std::unique_ptr<Workload>> r) {
        ASSERT_TRUE(r.ok()) << r.error().message;
        launched = true;
      },
      [&](const ExitStatus& s) { exit = s; });
  ASSERT_TRUE(run_until(io_, [&] { return exit.has_value(); }));
  EXPECT_EQ(log_.count_containing("chatty: line "), 5);
  EXPECT_EQ(log_.count_lines("chatty: line 5"), 1);
  EXPECT_EQ(log_.count_lines("chatty: suppressed 95 lines of output"), 1);
}

TEST_F(ProcessRuntimeTest, OwnsItsChildOnlyUntilItsExitIsCollected) {
  launch(child_spec("s", {"--print-pid"}));
  ASSERT_TRUE(workload_) << error_;
  const int pid = *workload_->pid();
  EXPECT_TRUE(runtime_.owns(pid));
  EXPECT_FALSE(runtime_.owns(::getpid()));
  workload_->stop(5s);
  ASSERT_TRUE(wait_exit());
  EXPECT_FALSE(runtime_.owns(pid));
}

}  // namespace
}  // namespace kna::test
