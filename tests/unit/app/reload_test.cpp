// What a reload (SIGHUP) would restart: only the stages whose specification a new configuration
// changes; what it cannot apply (role, paths, enabling a stage) is refused by name.

#include "app/reload.hpp"

#include <gmock/gmock.h>

namespace kna::app {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Config worker() {
  Config cfg = default_config();
  cfg.role = Role::worker;
  cfg.node_name = "pi-1";
  cfg.master_ip = "10.9.8.7";
  cfg.arch = "arm";
  cfg.net_interface = "eth0";
  return cfg;
}

PlanFacts facts() {
  PlanFacts f;
  f.subnet = FlannelSubnet{"10.1.0.0/16", "10.1.33.1/24", 1472, true};
  return f;
}

TEST(PlanReload, TheSameConfigurationChangesNothing) {
  auto plan = plan_reload(worker(), worker(), facts());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_THAT(plan.value().changed, ElementsAre());
  EXPECT_EQ(plan.value().stages.size(), build_plan(worker(), facts()).size());
}

TEST(PlanReload, KubeletArgumentsRestartTheKubeletOnly) {
  Config fresh = worker();
  fresh.stages[kStageKubelet].extra_args = {"--v=4"};
  auto plan = plan_reload(worker(), fresh, facts());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_THAT(plan.value().changed, ElementsAre("kubelet"));
}

TEST(PlanReload, AnotherMasterChangesEveryStageThatTalksToIt) {
  Config fresh = worker();
  fresh.master_ip = "10.9.8.8";
  auto plan = plan_reload(worker(), fresh, facts());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_THAT(plan.value().changed, ElementsAre("flannel", "kubelet", "kube-proxy"));
}

TEST(PlanReload, AProbePolicyIsAChangeToo) {
  Config fresh = worker();
  fresh.stages[kStageKubeProxy].probe.period = Millis(9'000);
  auto plan = plan_reload(worker(), fresh, facts());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_THAT(plan.value().changed, ElementsAre("kube-proxy"));
}

TEST(PlanReload, TheLogLevelRestartsNothing) {
  Config fresh = worker();
  fresh.log_level = "debug";
  auto plan = plan_reload(worker(), fresh, facts());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_THAT(plan.value().changed, ElementsAre());
}

TEST(PlanReload, WhatAReloadCannotApplyIsRefusedByName) {
  Config master = worker();
  master.role = Role::master;
  auto role = plan_reload(worker(), master, facts());
  ASSERT_FALSE(role);
  EXPECT_THAT(role.error().message, HasSubstr("role changed"));

  Config moved = worker();
  moved.paths.run_dir = "/run/elsewhere";
  auto paths = plan_reload(worker(), moved, facts());
  ASSERT_FALSE(paths);
  EXPECT_THAT(paths.error().message, HasSubstr("paths.* changed"));

  Config fewer = worker();
  fewer.stages[kStageKubeProxy].enabled = false;
  auto stages = plan_reload(worker(), fewer, facts());
  ASSERT_FALSE(stages);
  EXPECT_THAT(stages.error().message, HasSubstr("restart of the agent"));
}

}  // namespace
}  // namespace kna::app
