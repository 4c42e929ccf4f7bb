#include "runtime/runtime_router.hpp"

#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "support/sim_dispatcher.hpp"

namespace kna {
namespace {

// Records what it was asked to launch.
class RecordingRuntime : public Runtime {
 public:
  void launch(const StageSpec& spec, LaunchDone, ExitCallback) override {
    launched.push_back(spec.name);
  }
  std::vector<std::string> launched;
};

StageSpec process_stage(const std::string& name) {
  StageSpec s;
  s.name = name;
  s.launch = ProcessSpec{{"/usr/bin/dockerd"}, {}, {}};
  return s;
}

StageSpec container_stage(const std::string& name) {
  StageSpec s;
  s.name = name;
  ContainerSpec c;
  c.image = "etcd";
  s.launch = c;
  return s;
}

TEST(RuntimeRouter, ProcessSpecsGoToTheProcessRuntime) {
  test::SimDispatcher d;
  RecordingRuntime processes;
  RecordingRuntime containers;
  RuntimeRouter router(d, processes, &containers);
  router.launch(
      process_stage("bootstrap-docker"), [](auto) {}, [](auto&) {});
  EXPECT_EQ(processes.launched, std::vector<std::string>{"bootstrap-docker"});
  EXPECT_TRUE(containers.launched.empty());
}

TEST(RuntimeRouter, ContainerSpecsGoToTheContainerRuntime) {
  test::SimDispatcher d;
  RecordingRuntime processes;
  RecordingRuntime containers;
  RuntimeRouter router(d, processes, &containers);
  router.launch(
      container_stage("etcd"), [](auto) {}, [](auto&) {});
  EXPECT_EQ(containers.launched, std::vector<std::string>{"etcd"});
  EXPECT_TRUE(processes.launched.empty());
}

TEST(RuntimeRouter, ContainerSpecFailsLaterWithoutAContainerRuntime) {
  test::SimDispatcher d;
  RecordingRuntime processes;
  RuntimeRouter router(d, processes, nullptr);
  std::optional<std::string> error;
  router.launch(
      container_stage("etcd"),
      [&](Result<std::unique_ptr<Workload>> r) {
        ASSERT_FALSE(r.ok());
        error = r.error().message;
      },
      [](auto&) {});
  EXPECT_FALSE(error.has_value()) << "not inside launch()";
  d.run_posted();
  EXPECT_EQ(error, "etcd: container runtime not available yet");
  EXPECT_TRUE(processes.launched.empty());
}

TEST(RuntimeRouter, ContainerRuntimeCanArriveLater) {
  test::SimDispatcher d;
  RecordingRuntime processes;
  RecordingRuntime containers;
  RuntimeRouter router(d, processes, nullptr);
  router.set_container_runtime(&containers);
  router.launch(
      container_stage("flannel"), [](auto) {}, [](auto&) {});
  EXPECT_EQ(containers.launched, std::vector<std::string>{"flannel"});
}

}  // namespace
}  // namespace kna
