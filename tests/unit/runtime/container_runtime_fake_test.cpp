// ContainerRuntime on the simulated dispatcher against the in-memory daemon (FakeDocker): launches,
// deaths, recovery, and cancelling a launch while its image is pulled or loaded, which a real
// daemon cannot be made to hold open on demand.
#include <filesystem>
#include <memory>
#include <optional>

#include <gtest/gtest.h>

#include "kna/catalogue.hpp"
#include "kna/supervisor.hpp"
#include "runtime/container_launch.hpp"
#include "runtime/container_runtime.hpp"
#include "support/fake_docker.hpp"
#include "support/fake_prober.hpp"
#include "support/log_capture.hpp"
#include "support/sim_dispatcher.hpp"
#include "unit/runtime/tar_writer.hpp"

namespace kna {
namespace {

using namespace std::chrono_literals;
using Cause = ExitStatus::Cause;

constexpr auto kHeld = 5s;  // real time a worker may take to reach a hold

struct Outcome {
  std::optional<Result<std::unique_ptr<Workload>>> launched;
  std::optional<ExitStatus> exit;
  bool ok() const { return launched && launched->ok() && launched->value(); }
  std::string error() const {
    return launched && !launched->ok() ? launched->error().message : std::string();
  }
  Workload& workload() { return *launched->value(); }
};

class ContainerRuntimeFake : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kna-crf-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    ContainerRuntimeOptions options;
    options.image_dir = dir_.string();
    options.worker_threads = 4;
    options.connect = docker.connector();
    runtime = std::make_unique<ContainerRuntime>(sim, options);
  }
  void TearDown() override {
    runtime.reset();
    std::filesystem::remove_all(dir_);
  }

  StageSpec spec(const std::string& stage, const std::string& image) const {
    StageSpec s;
    s.name = stage;
    s.stop_timeout = 10s;
    ContainerSpec c;
    c.docker_socket = docker.socket();
    c.name = "kna_" + stage;
    c.image = image;
    c.labels[kLabelNode] = "node-1";
    s.launch = c;
    return s;
  }
  // The labels an earlier agent would have put on `spec`'s container.
  static std::map<std::string, std::string> ours(const StageSpec& s) {
    return with_ownership_labels(std::get<ContainerSpec>(s.launch), s.name).labels;
  }

  std::shared_ptr<Outcome> launch(const StageSpec& s, bool adopt = false) {
    auto out = std::make_shared<Outcome>();
    auto done = [out](Result<std::unique_ptr<Workload>> r) { out->launched = std::move(r); };
    auto exited = [out](const ExitStatus& e) { out->exit = e; };
    if (adopt) {
      runtime->adopt(s, done, exited);
    } else {
      runtime->launch(s, done, exited);
    }
    return out;
  }
  bool settle(const std::shared_ptr<Outcome>& out) {
    return sim.run_until([&] { return out->launched.has_value(); });
  }
  std::string write_tarball(const std::string& file, const std::string& image) {
    const std::string path = (dir_ / file).string();
    test::write_image_tarball(path, {image});
    docker.set_tarball(path, {image});
    return path;
  }

  test::SimDispatcher sim;
  test::FakeDocker docker;
  test::LogCapture logs;
  std::unique_ptr<ContainerRuntime> runtime;
  std::filesystem::path dir_;
};

TEST_F(ContainerRuntimeFake, PullsAMissingImageThenCreatesAndStartsAContainerMarkedAsOurs) {
  docker.allow_pull("kna/etcd:1");
  auto out = launch(spec("etcd", "kna/etcd:1"));
  ASSERT_TRUE(settle(out));
  ASSERT_TRUE(out->ok()) << out->error();
  const auto all = docker.containers();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].running);
  EXPECT_EQ(out->workload().id(), "container " + all[0].id.substr(0, 12));
  EXPECT_EQ(out->workload().pid(), std::optional<int>(all[0].pid));
  EXPECT_EQ(all[0].spec.labels.at(kLabelAgent), "true");
  EXPECT_EQ(all[0].spec.labels.at(kLabelStage), "etcd");
  EXPECT_EQ(all[0].spec.labels.at(kLabelSpecHash),
            ours(spec("etcd", "kna/etcd:1")).at(kLabelSpecHash));
  const auto calls = docker.calls();
  const auto pull = std::find(calls.begin(), calls.end(), "pull kna/etcd:1");
  const auto create = std::find(calls.begin(), calls.end(), "create kna_etcd");
  EXPECT_TRUE(pull != calls.end() && create != calls.end() && pull < create);
}

TEST_F(ContainerRuntimeFake, AnImageFoundNowhereFailsTheLaunchSayingWhereItLooked) {
  auto out = launch(spec("etcd", "kna/etcd:1"));
  ASSERT_TRUE(settle(out));
  EXPECT_NE(out->error().find("image kna/etcd:1 is not present, not in " + dir_.string()),
            std::string::npos)
      << out->error();
  EXPECT_EQ(docker.count("create"), 0u);
}

TEST_F(ContainerRuntimeFake, ADeathReachesOnExitThroughTheEventStream) {
  docker.add_image("kna/etcd:1");
  auto out = launch(spec("etcd", "kna/etcd:1"));
  ASSERT_TRUE(settle(out));
  ASSERT_TRUE(out->ok()) << out->error();
  ASSERT_TRUE(docker.wait_for_streams(1, kHeld));
  docker.exit_container(docker.containers().at(0).id, 3);
  ASSERT_TRUE(sim.run_until([&] { return out->exit.has_value(); }));
  EXPECT_EQ(out->exit->cause, Cause::exited);
  EXPECT_EQ(out->exit->code, 3);
}

TEST_F(ContainerRuntimeFake, StopEndsTheWorkloadAsTerminated) {
  docker.add_image("kna/etcd:1");
  auto out = launch(spec("etcd", "kna/etcd:1"));
  ASSERT_TRUE(settle(out));
  ASSERT_TRUE(out->ok()) << out->error();
  out->workload().stop(10s);
  ASSERT_TRUE(sim.run_until([&] { return out->exit.has_value(); }));
  EXPECT_EQ(out->exit->cause, Cause::terminated);
  EXPECT_EQ(docker.running_count(), 0u);
}

TEST_F(ContainerRuntimeFake, CancelWhileThePullIsHeldEndsTheLaunchAtOnceWithoutAContainer) {
  docker.allow_pull("kna/etcd:1");
  docker.hold_pulls(true);
  auto out = launch(spec("etcd", "kna/etcd:1"));
  ASSERT_TRUE(docker.wait_for_held_pulls(1, kHeld));
  runtime->cancel("etcd");
  // The pull is never released: only the cancel can end the launch.
  ASSERT_TRUE(settle(out));
  EXPECT_NE(out->error().find("launch cancelled"), std::string::npos) << out->error();
  EXPECT_EQ(docker.held_pulls(), 0);
  EXPECT_EQ(docker.count("create"), 0u);
  EXPECT_FALSE(docker.has_image("kna/etcd:1"));
  EXPECT_TRUE(logs.has("info", "etcd: cancelling its launch"));
}

TEST_F(ContainerRuntimeFake, CancelWhileATarballLoadsEndsTheLaunchAndTheTarballIsTriedAgainLater) {
  write_tarball("etcd.tar", "kna/etcd:1");
  docker.hold_loads(true);
  auto out = launch(spec("etcd", "kna/etcd:1"));
  ASSERT_TRUE(docker.wait_for_held_loads(1, kHeld));
  runtime->cancel("etcd");
  ASSERT_TRUE(settle(out));
  EXPECT_NE(out->error().find("launch cancelled"), std::string::npos) << out->error();
  EXPECT_EQ(docker.count("create"), 0u);
  // The cancel was the agent's doing, not the tarball's fault: the next launch loads it.
  docker.hold_loads(false);
  auto again = launch(spec("etcd", "kna/etcd:1"));
  ASSERT_TRUE(settle(again));
  ASSERT_TRUE(again->ok()) << again->error();
  EXPECT_EQ(docker.count("load"), 2u);
  EXPECT_EQ(docker.count("pull"), 0u);
}

TEST_F(ContainerRuntimeFake, CancellingOneStageLeavesTheOtherStagesLaunchAlone) {
  docker.allow_pull("kna/etcd:1");
  docker.allow_pull("kna/flannel:1");
  docker.hold_pulls(true);
  auto etcd = launch(spec("etcd", "kna/etcd:1"));
  auto flannel = launch(spec("flannel", "kna/flannel:1"));
  ASSERT_TRUE(docker.wait_for_held_pulls(2, kHeld));
  runtime->cancel("etcd");
  ASSERT_TRUE(settle(etcd));
  EXPECT_FALSE(etcd->ok());
  EXPECT_FALSE(flannel->launched.has_value());
  EXPECT_EQ(docker.held_pulls(), 1);
  docker.hold_pulls(false);
  ASSERT_TRUE(settle(flannel));
  EXPECT_TRUE(flannel->ok()) << flannel->error();
}

TEST_F(ContainerRuntimeFake, CancelAfterTheLaunchEndedChangesNothing) {
  docker.add_image("kna/etcd:1");
  auto out = launch(spec("etcd", "kna/etcd:1"));
  ASSERT_TRUE(settle(out));
  ASSERT_TRUE(out->ok());
  runtime->cancel("etcd");
  sim.run_posted();
  EXPECT_EQ(docker.running_count(), 1u);
  // (The runtime's own look at what it launched may still be on its way: count what a cancel
  // could have done instead.)
  EXPECT_EQ(docker.count("stop") + docker.count("kill") + docker.count("remove"), 0u);
  EXPECT_FALSE(logs.has("info", "cancelling"));
}

TEST_F(ContainerRuntimeFake, RecoverAdoptsOursRemovesTheUnplannedAndLeavesOthersAlone) {
  const StageSpec etcd = spec("etcd", "kna/etcd:1");
  const std::string adoptable = docker.add_container("kna_etcd", "kna/etcd:1", ours(etcd));
  const std::string unplanned =
      docker.add_container("kna_old", "kna/old:1", ours(spec("old", "kna/old:1")));
  const std::string foreign = docker.add_container("someone_elses", "busybox", {});
  std::optional<RecoveryReport> report;
  runtime->recover({etcd}, [&](RecoveryReport r) { report = std::move(r); });
  ASSERT_TRUE(sim.run_until([&] { return report.has_value(); }));
  EXPECT_EQ(report->adoptable, std::vector<std::string>{"etcd"});
  EXPECT_EQ(report->removed, std::vector<std::string>{"old"});
  EXPECT_FALSE(docker.container(unplanned));
  EXPECT_TRUE(docker.container(foreign)->running);

  auto out = launch(etcd, true);
  ASSERT_TRUE(settle(out));
  ASSERT_TRUE(out->ok()) << out->error();
  EXPECT_EQ(out->workload().id(), "container " + adoptable.substr(0, 12));
  EXPECT_EQ(docker.count("create"), 0u);
  EXPECT_EQ(docker.count("start"), 0u);
}

TEST_F(ContainerRuntimeFake, RecoverWithTheDaemonDownAdoptsNothingAndSaysWhy) {
  const StageSpec etcd = spec("etcd", "kna/etcd:1");
  docker.add_container("kna_etcd", "kna/etcd:1", ours(etcd));
  docker.set_down(true);
  std::optional<RecoveryReport> report;
  runtime->recover({etcd}, [&](RecoveryReport r) { report = std::move(r); });
  ASSERT_TRUE(sim.run_until([&] { return report.has_value(); }));
  EXPECT_TRUE(report->adoptable.empty());
  ASSERT_EQ(report->notes.size(), 1u);
  EXPECT_NE(report->notes[0].find("did not answer"), std::string::npos) << report->notes[0];
}

// The agent's shutdown while an image is pulled: the supervisor cancels the launch, and the stop
// completes although the pull would never have ended.
TEST_F(ContainerRuntimeFake, TheSupervisorsStopDoesNotWaitForAHeldPull) {
  docker.allow_pull("kna/etcd:1");
  docker.hold_pulls(true);
  test::FakeProber prober(sim);
  StageSpec etcd = spec("etcd", "kna/etcd:1");
  etcd.ready.kind = ProbeKind::none;
  Supervisor supervisor(sim, *runtime, prober, {etcd}, nullptr, [] { return 0.5; });
  supervisor.start();
  ASSERT_TRUE(docker.wait_for_held_pulls(1, kHeld));
  bool stopped = false;
  supervisor.stop([&] { stopped = true; });
  ASSERT_TRUE(sim.run_until([&] { return stopped; }));
  EXPECT_EQ(supervisor.status().at(0).state, StageState::stopped);
  EXPECT_EQ(docker.count("create"), 0u);
}

}  // namespace
}  // namespace kna
