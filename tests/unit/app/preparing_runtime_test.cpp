// The runtime that prepares the host before a launch: its steps run off the loop (here: when the
// test runs the queued work), then the inner runtime launches; a failing step or a cancel ends the
// launch with an error and launches nothing; a cancel after the hand-over reaches the inner
// runtime.

#include "app/preparing_runtime.hpp"

#include <chrono>
#include <deque>
#include <optional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_runtime.hpp"
#include "support/sim_dispatcher.hpp"

namespace kna::app {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;

class PreparingRuntimeTest : public ::testing::Test {
 protected:
  PreparingRuntimeTest()
      : runtime(
            dispatcher, inner,
            [this](const std::string& stage, const HostStep& step) { return run(stage, step); },
            [this](std::function<void()> work) { offloaded.push_back(std::move(work)); }) {}

  Status run(const std::string& stage, const HostStep& step) {
    const std::string path = std::get<WriteFile>(step).path;
    ran.push_back(stage + " " + path);
    if (on_step) on_step();
    if (path == failing) return Error{"cannot write " + path + ": disk full"};
    return kOk;
  }

  static StageSpec spec(const std::string& name, std::vector<std::string> files) {
    StageSpec s;
    s.name = name;
    s.launch = ProcessSpec{{"/usr/bin/" + name}, {}, ""};
    for (auto& f : files) s.prepare.push_back(WriteFile{std::move(f), "x", 0644});
    return s;
  }

  void launch(const StageSpec& s, bool adopt = false) {
    auto done = [this](Result<std::unique_ptr<Workload>> r) {
      ++done_calls;
      if (r)
        workload = std::move(r).value();
      else
        error = r.error().message;
    };
    if (adopt)
      runtime.adopt(s, done, [](const ExitStatus&) {});
    else
      runtime.launch(s, done, [](const ExitStatus&) {});
  }

  // What the worker thread would do, then what it posts back to the loop.
  void run_offloaded() {
    while (!offloaded.empty()) {
      auto work = std::move(offloaded.front());
      offloaded.pop_front();
      work();
    }
    dispatcher.run_posted();
  }

  test::SimDispatcher dispatcher;
  test::FakeRuntime inner{dispatcher};
  std::deque<std::function<void()>> offloaded;
  std::vector<std::string> ran;
  std::string failing;
  std::function<void()> on_step;
  PreparingRuntime runtime;

  int done_calls{0};
  std::unique_ptr<Workload> workload;
  std::optional<std::string> error;
};

TEST_F(PreparingRuntimeTest, RunsTheStepsOffTheLoopThenLaunches) {
  launch(spec("kubelet", {"/k/kubeconfig", "/k/manifest.json"}));
  dispatcher.run_posted();
  EXPECT_TRUE(ran.empty());  // nothing on the loop: the steps wait for the worker
  EXPECT_EQ(inner.launches().size(), 0u);

  run_offloaded();
  EXPECT_THAT(ran, ElementsAre("kubelet /k/kubeconfig", "kubelet /k/manifest.json"));
  ASSERT_EQ(inner.launches().size(), 1u);
  EXPECT_EQ(inner.launch_record(0).spec.name, "kubelet");
  EXPECT_FALSE(inner.launch_record(0).adopted);

  inner.complete_launch("kubelet");
  dispatcher.run_posted();
  EXPECT_EQ(done_calls, 1);
  ASSERT_NE(workload, nullptr);
  EXPECT_EQ(workload->id(), "pid 1000");
}

TEST_F(PreparingRuntimeTest, AdoptsThroughTheInnerAdoptAfterTheSteps) {
  launch(spec("kubelet", {"/k/kubeconfig"}), true);
  run_offloaded();
  EXPECT_THAT(ran, ElementsAre("kubelet /k/kubeconfig"));
  ASSERT_EQ(inner.launches().size(), 1u);
  EXPECT_TRUE(inner.launch_record(0).adopted);
}

TEST_F(PreparingRuntimeTest, AStageWithoutStepsGoesStraightToTheInnerRuntime) {
  launch(spec("bootstrap-docker", {}));
  EXPECT_TRUE(offloaded.empty());
  EXPECT_EQ(inner.launches().size(), 1u);
}

TEST_F(PreparingRuntimeTest, AFailingStepFailsTheLaunchAndLaunchesNothing) {
  failing = "/k/kubeconfig";
  launch(spec("kubelet", {"/k/kubeconfig", "/k/manifest.json"}));
  run_offloaded();
  EXPECT_THAT(ran, ElementsAre("kubelet /k/kubeconfig"));  // no step after the failed one
  EXPECT_EQ(inner.launches().size(), 0u);
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(error, "cannot write /k/kubeconfig: disk full");
}

TEST_F(PreparingRuntimeTest, ACancelWhileTheStepsRunEndsTheLaunchWithoutLaunching) {
  // The cancel arrives while the first step runs (the loop runs while the worker works).
  on_step = [this] {
    if (ran.size() == 1) runtime.cancel("kubelet");
  };
  launch(spec("kubelet", {"/k/kubeconfig", "/k/manifest.json"}));
  run_offloaded();
  EXPECT_THAT(ran, ElementsAre("kubelet /k/kubeconfig"));  // the step in flight ends, no more
  EXPECT_EQ(inner.launches().size(), 0u);
  EXPECT_EQ(done_calls, 1);
  ASSERT_TRUE(error.has_value());
  EXPECT_THAT(*error, HasSubstr("cancelled"));
}

TEST_F(PreparingRuntimeTest, ACancelAfterTheStepsEndedButBeforeTheirResultStillCancels) {
  launch(spec("kubelet", {"/k/kubeconfig"}));
  offloaded.front()();  // the worker is done and has posted its result
  offloaded.pop_front();
  runtime.cancel("kubelet");
  dispatcher.run_posted();
  EXPECT_EQ(inner.launches().size(), 0u);
  ASSERT_TRUE(error.has_value());
  EXPECT_THAT(*error, HasSubstr("cancelled"));
}

TEST_F(PreparingRuntimeTest, ACancelOfAnotherStageLeavesThisOne) {
  launch(spec("kubelet", {"/k/kubeconfig"}));
  runtime.cancel("kube-proxy");
  run_offloaded();
  EXPECT_EQ(inner.launches().size(), 1u);
  EXPECT_FALSE(error.has_value());
}

TEST_F(PreparingRuntimeTest, ACancelAfterTheHandOverGoesToTheInnerRuntime) {
  launch(spec("kubelet", {"/k/kubeconfig"}));
  run_offloaded();
  ASSERT_EQ(inner.launches().size(), 1u);
  runtime.cancel("kubelet");
  EXPECT_EQ(inner.launch_record(0).cancel_requests, 1);
  // The inner runtime decides how its launch ends.
  inner.fail_launch("kubelet", "cancelled while loading the image");
  dispatcher.run_posted();
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(error, "cancelled while loading the image");
}

TEST_F(PreparingRuntimeTest, NoCallbackAfterItIsGone) {
  std::optional<PreparingRuntime> short_lived;
  short_lived.emplace(
      dispatcher, inner, [](const std::string&, const HostStep&) -> Status { return kOk; },
      [this](std::function<void()> work) { offloaded.push_back(std::move(work)); });
  bool called = false;
  short_lived->launch(
      spec("kubelet", {"/k/kubeconfig"}), [&](Result<std::unique_ptr<Workload>>) { called = true; },
      [](const ExitStatus&) {});
  short_lived.reset();
  run_offloaded();  // the step in flight returns after the decorator is gone
  EXPECT_FALSE(called);
  EXPECT_EQ(inner.launches().size(), 0u);
}

TEST_F(PreparingRuntimeTest, RecoverIsTheInnerRuntimes) {
  bool recovered = false;
  runtime.recover({spec("kubelet", {})}, [&](RecoveryReport) { recovered = true; });
  EXPECT_TRUE(recovered);  // FakeRuntime keeps the default: nothing found, done at once
}

// The real worker thread, with the real executor of an empty MakeDirs: the launch comes back on
// the loop through the dispatcher.
TEST(PreparingRuntimeThread, PostsTheResultBackToTheLoop) {
  test::SimDispatcher dispatcher;
  test::FakeRuntime inner{dispatcher};
  {
    PreparingRuntime runtime(dispatcher, inner);
    StageSpec s;
    s.name = "etcd";
    s.launch = ProcessSpec{{"/usr/bin/etcd"}, {}, ""};
    s.prepare.push_back(MakeDirs{{}});
    runtime.launch(
        s, [](Result<std::unique_ptr<Workload>>) {}, [](const ExitStatus&) {});
  }  // the destructor waits for the worker
  EXPECT_EQ(inner.launches().size(), 0u);
  dispatcher.run_posted();  // the result is dropped: the decorator is gone
  EXPECT_EQ(inner.launches().size(), 0u);
}

TEST(PreparingRuntimeThread, RunsTheStepsOnAWorkerAndLaunchesOnTheLoop) {
  test::SimDispatcher dispatcher;
  test::FakeRuntime inner{dispatcher};
  std::thread::id worker;
  PreparingRuntime runtime(dispatcher, inner, [&](const std::string&, const HostStep&) -> Status {
    worker = std::this_thread::get_id();
    return kOk;
  });
  StageSpec s;
  s.name = "etcd";
  s.launch = ProcessSpec{{"/usr/bin/etcd"}, {}, ""};
  s.prepare.push_back(MakeDirs{{"/var/lib/etcd"}});
  runtime.launch(
      s, [](Result<std::unique_ptr<Workload>>) {}, [](const ExitStatus&) {});
  for (int i = 0; i < 5000 && inner.launches().empty(); ++i) {
    dispatcher.run_posted();
    if (inner.launches().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(inner.launches().size(), 1u);
  EXPECT_NE(worker, std::thread::id());
  EXPECT_NE(worker, std::this_thread::get_id());
}

}  // namespace
}  // namespace kna::app
