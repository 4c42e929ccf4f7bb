// The recovery contract for host processes: a runtime of a later agent adopts the live process an
// earlier runtime started (same pid, no new process, its output still logged), replaces one of
// another spec, stops one whose stage is no longer planned, and ignores records of another boot.

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "process_runtime_fixture.hpp"
#include "runtime/asio_dispatcher.hpp"
#include "runtime/pidfile.hpp"
#include "runtime/process_record.hpp"
#include "runtime/process_runtime.hpp"
#include "support/loop_util.hpp"

namespace kna::test {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

StageSpec child(const std::string& stage, std::vector<std::string> args) {
  auto spec = child_spec(stage, std::move(args));
  spec.stop_timeout = Millis(2'000);
  return spec;
}

class ProcessRecovery : public ::testing::Test {
 protected:
  ProcessRecovery() {
    dir_ = fs::path(::testing::TempDir()) /
           ("recovery." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~ProcessRecovery() override {
    for (int pid : started_)
      if (process_alive(pid)) ::kill(pid, SIGKILL);
    fs::remove_all(dir_);
  }

  ProcessRuntime::Options options(const std::string& boot = "boot-1") {
    ProcessRuntime::Options o;
    o.record_dir = (dir_ / "processes").string();
    o.log_dir = (dir_ / "logs").string();
    o.boot_id = boot;
    o.log_poll = Millis(20);
    return o;
  }

  // An "agent": a runtime on its own loop.
  struct Agent {
    explicit Agent(ProcessRuntime::Options o) : runtime(io, dispatcher, std::move(o)) {}
    boost::asio::io_context io;
    AsioDispatcher dispatcher{io};
    ProcessRuntime runtime;
    std::unique_ptr<Workload> workload;
    std::string error;
    std::optional<ExitStatus> exit;

    bool start(const StageSpec& spec, bool adopt) {
      bool done = false;
      auto on_done = [&](Result<std::unique_ptr<Workload>> r) {
        if (r) {
          workload = std::move(r).value();
        } else {
          error = r.error().message;
        }
        done = true;
      };
      auto on_exit = [this](const ExitStatus& s) { exit = s; };
      if (adopt) {
        runtime.adopt(spec, on_done, on_exit);
      } else {
        runtime.launch(spec, on_done, on_exit);
      }
      return run_until(io, [&] { return done; }) && workload != nullptr;
    }
    RecoveryReport recover(const std::vector<StageSpec>& planned) {
      std::optional<RecoveryReport> out;
      runtime.recover(planned, [&](RecoveryReport r) { out = std::move(r); });
      run_until(io, [&] { return out.has_value(); });
      return out.value_or(RecoveryReport{});
    }
  };

  // An earlier agent starts `spec` and goes away, leaving it running; returns its pid.
  int left_running(const StageSpec& spec) {
    Agent earlier(options());
    EXPECT_TRUE(earlier.start(spec, false)) << earlier.error;
    const int pid = earlier.workload ? earlier.workload->pid().value_or(0) : 0;
    started_.push_back(pid);
    return pid;
  }

  fs::path dir_;
  std::vector<int> started_;
  LogCapture log_;
};

TEST_F(ProcessRecovery, ALaterAgentAdoptsTheSameProcessAndStillLogsItsOutput) {
  const auto spec = child("kubelet", {"--print-lines", "1"});
  const int pid = left_running(spec);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(process_alive(pid));

  Agent later(options());
  const auto report = later.recover({spec});
  EXPECT_THAT(report.adoptable, ElementsAre("kubelet"));
  ASSERT_TRUE(later.start(spec, /*adopt=*/true)) << later.error;
  EXPECT_EQ(later.workload->pid(), pid);  // the same process: nothing was restarted
  EXPECT_TRUE(log_.contains("kubelet: adopted pid " + std::to_string(pid)));

  // Its output reaches the later agent's log through the log file.
  std::ofstream(dir_ / "logs" / "kubelet.log", std::ios::app) << "written after adoption\n";
  EXPECT_TRUE(run_until(
      later.io, [&] { return log_.contains("kubelet: written after adoption"); },
      std::chrono::seconds(5)));

  later.workload->stop(Millis(2'000));
  ASSERT_TRUE(run_until(later.io, [&] { return later.exit.has_value(); }));
  EXPECT_EQ(later.exit->cause, ExitStatus::Cause::terminated);
  EXPECT_FALSE(process_alive(pid));
}

TEST_F(ProcessRecovery, AnAdoptedProcessThatDiesIsReported) {
  const auto spec = child("kube-proxy", {});
  const int pid = left_running(spec);
  Agent later(options());
  ASSERT_TRUE(later.start(spec, true));
  ASSERT_EQ(later.workload->pid(), pid);
  ::kill(pid, SIGKILL);
  ASSERT_TRUE(run_until(later.io, [&] { return later.exit.has_value(); }));
  EXPECT_EQ(later.exit->cause, ExitStatus::Cause::exited);  // not asked to stop
}

TEST_F(ProcessRecovery, AnotherSpecIsNotAdoptableAndIsReplaced) {
  const int pid = left_running(child("kubelet", {"--print-lines", "1"}));
  const auto changed = child("kubelet", {"--print-lines", "2"});
  Agent later(options());
  const auto report = later.recover({changed});
  EXPECT_THAT(report.adoptable, IsEmpty());
  ASSERT_TRUE(later.start(changed, /*adopt=*/true));
  started_.push_back(later.workload->pid().value_or(0));
  EXPECT_NE(later.workload->pid(), pid);
  EXPECT_FALSE(process_alive(pid));  // stopped before the new one started
  EXPECT_TRUE(log_.contains("its spec has changed"));
}

TEST_F(ProcessRecovery, LaunchReplacesEvenTheSameSpec) {
  const auto spec = child("kubelet", {});
  const int pid = left_running(spec);
  Agent later(options());
  ASSERT_TRUE(later.start(spec, /*adopt=*/false));
  started_.push_back(later.workload->pid().value_or(0));
  EXPECT_NE(later.workload->pid(), pid);
  EXPECT_FALSE(process_alive(pid));
}

TEST_F(ProcessRecovery, AStageNoLongerPlannedIsStoppedAndItsRecordRemoved) {
  const int pid = left_running(child("cri-dockerd", {}));
  Agent later(options());
  const auto report = later.recover({child("kubelet", {})});
  EXPECT_THAT(report.removed, ElementsAre("cri-dockerd"));
  EXPECT_FALSE(process_alive(pid));
  EXPECT_FALSE(fs::exists(dir_ / "processes" / "cri-dockerd.json"));
}

TEST_F(ProcessRecovery, ARecordOfAnotherBootIsStaleAndItsProcessUntouched) {
  const auto spec = child("kubelet", {});
  const int pid = left_running(spec);
  Agent later(options("boot-2"));
  const auto report = later.recover({spec});
  EXPECT_THAT(report.adoptable, IsEmpty());
  EXPECT_FALSE(fs::exists(dir_ / "processes" / "kubelet.json"));
  EXPECT_TRUE(process_alive(pid));  // not provably ours: never touched
}

TEST_F(ProcessRecovery, ARecordWhosePidWasReusedIsStale) {
  const auto spec = child("kubelet", {});
  const int pid = left_running(spec);
  auto rec = check_process_record((dir_ / "processes").string(), "kubelet", "boot-1");
  ASSERT_EQ(rec.kind, RecordCheck::Kind::ours) << rec.detail;
  rec.record.start_ticks += 1;  // as if the pid now belonged to a younger process
  ASSERT_TRUE(write_process_record((dir_ / "processes").string(), rec.record));
  const auto again = check_process_record((dir_ / "processes").string(), "kubelet", "boot-1");
  EXPECT_EQ(again.kind, RecordCheck::Kind::stale);
  EXPECT_THAT(again.detail, ::testing::HasSubstr("start time differs"));
  EXPECT_TRUE(process_alive(pid));
}

TEST(ProcessRecord, RoundTripsAndRejectsBadText) {
  const ProcessRecord r{"main-docker", 42, 123456, "b00t", "abc123"};
  auto back = parse_process_record(to_json(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back.value(), r);
  EXPECT_FALSE(parse_process_record("{"));
  EXPECT_FALSE(parse_process_record("[]"));
  EXPECT_FALSE(parse_process_record(R"({"version":2,"stage":"a","pid":1,"start_ticks":1,)"
                                    R"("boot_id":"b","spec_hash":"h"})"));
  EXPECT_FALSE(parse_process_record(R"({"version":1,"stage":"../x","pid":1,"start_ticks":1,)"
                                    R"("boot_id":"b","spec_hash":"h"})"));
  EXPECT_FALSE(parse_process_record(R"({"version":1,"stage":"a","pid":-1,"start_ticks":1,)"
                                    R"("boot_id":"b","spec_hash":"h"})"));
}

TEST(ProcessRecord, StartTicksOfALiveProcessAndNoneOfADeadOne) {
  EXPECT_TRUE(process_start_ticks(::getpid()).has_value());
  EXPECT_FALSE(process_start_ticks(0x3fffffff).has_value());
}

}  // namespace
}  // namespace kna::test
