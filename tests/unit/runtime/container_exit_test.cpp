#include "runtime/container_exit.hpp"

#include <gtest/gtest.h>

#include "kna/catalogue.hpp"
#include "runtime/container_launch.hpp"

namespace kna {
namespace {

using Cause = ExitStatus::Cause;

TEST(ContainerExit, AnExitCodeOfItsOwnIsExited) {
  auto s = container_exit_status(3, false, false);
  EXPECT_EQ(s.cause, Cause::exited);
  EXPECT_FALSE(s.signaled);
  EXPECT_EQ(s.code, 3);
  EXPECT_EQ(s.describe(), "exit code 3");
}

TEST(ContainerExit, DockerKillFromOutsideReadsAsSignal9Exited) {
  auto s = container_exit_status(137, false, false);
  EXPECT_EQ(s.cause, Cause::exited);
  EXPECT_TRUE(s.signaled);
  EXPECT_EQ(s.code, 9);
  EXPECT_EQ(s.describe(), "killed by signal 9 (SIGKILL): docker exit code 137");
}

TEST(ContainerExit, AfterStopSigtermOrCleanExitIsTerminated) {
  auto term = container_exit_status(143, true, false);
  EXPECT_EQ(term.cause, Cause::terminated);
  EXPECT_EQ(term.code, 15);
  auto clean = container_exit_status(0, true, false);
  EXPECT_EQ(clean.cause, Cause::terminated);
  EXPECT_EQ(clean.code, 0);
  EXPECT_FALSE(clean.signaled);
}

TEST(ContainerExit, AfterStopSigkillIsKilled) {
  auto s = container_exit_status(137, true, false);
  EXPECT_EQ(s.cause, Cause::killed);
  EXPECT_TRUE(s.signaled);
  EXPECT_EQ(s.code, 9);
}

TEST(ContainerExit, OutOfMemoryIsSaid) {
  EXPECT_EQ(container_exit_status(137, false, true).detail, "docker exit code 137, out of memory");
  EXPECT_EQ(container_exit_status(1, false, true).detail, "out of memory");
}

TEST(ContainerExit, CodesAbove192AreNotSignals) {
  auto s = container_exit_status(255, false, false);
  EXPECT_FALSE(s.signaled);
  EXPECT_EQ(s.code, 255);
}

TEST(ContainerExit, AGoneContainerIsLostUnlessWeStoppedIt) {
  EXPECT_EQ(container_gone_status(false, "x").cause, Cause::lost);
  EXPECT_EQ(container_gone_status(true, "x").cause, Cause::terminated);
  EXPECT_EQ(short_container_id("3f2a1c9b0d12aaaabbbb"), "3f2a1c9b0d12");
}

ContainerSummary found(const std::string& id, const std::string& state, const std::string& hash) {
  ContainerSummary c;
  c.id = id;
  c.state = state;
  c.labels[kLabelSpecHash] = hash;
  return c;
}

TEST(ContainerPlan, AdoptsTheFirstRunningContainerWithTheSameHash) {
  auto plan = plan_containers({found("a", "exited", "h1"), found("b", "running", "h1"),
                               found("c", "running", "h1"), found("d", "running", "h0")},
                              "h1");
  ASSERT_TRUE(plan.adopt);
  EXPECT_EQ(*plan.adopt, "b");
  std::vector<std::string> removed;
  for (const auto& c : plan.remove) removed.push_back(c.id);
  EXPECT_EQ(removed, (std::vector<std::string>{"a", "c", "d"}));
}

TEST(ContainerPlan, ReplacesEverythingWhenNoRunningContainerMatches) {
  auto plan = plan_containers({found("a", "running", "old"), found("b", "exited", "new")}, "new");
  EXPECT_FALSE(plan.adopt);
  EXPECT_EQ(plan.remove.size(), 2u);
  EXPECT_FALSE(plan_containers({found("a", "running", "")}, "").adopt);
}

TEST(ContainerPlan, OwnershipLabelsAreAddedAndTheHashKept) {
  ContainerSpec c;
  c.image = "busybox";
  c.labels[kLabelSpecHash] = "given";
  auto labelled = with_ownership_labels(c, "etcd");
  EXPECT_EQ(labelled.labels.at(kLabelAgent), "true");
  EXPECT_EQ(labelled.labels.at(kLabelStage), "etcd");
  EXPECT_EQ(labelled.labels.at(kLabelSpecHash), "given");

  c.labels.clear();
  auto hashed = with_ownership_labels(c, "etcd");
  EXPECT_FALSE(hashed.labels.at(kLabelSpecHash).empty());
  c.cmd = {"other"};
  EXPECT_NE(with_ownership_labels(c, "etcd").labels.at(kLabelSpecHash),
            hashed.labels.at(kLabelSpecHash));
}

}  // namespace
}  // namespace kna
