#include <functional>
#include <set>

#include <gtest/gtest.h>

#include "stage_test_util.hpp"

namespace kna {
namespace {

ContainerSpec full_container() {
  ContainerSpec c;
  c.docker_socket = "/var/run/docker.sock";
  c.image = "gcr.io/google_containers/hyperkube-amd64:v1.3.6";
  c.entrypoint = {"/bin/sh"};
  c.cmd = {"/hyperkube", "kubelet", "--v=2"};
  c.network_mode = "host";
  c.pid_mode = "host";
  c.privileged = true;
  c.mounts = {Mount{"/sys", "/sys", true, ""},
              Mount{"/var/lib/kubelet", "/var/lib/kubelet", false, "shared"}};
  c.devices = {"/dev/net/tun"};
  c.restart_policy = "unless-stopped";
  c.labels = {{kLabelAgent, "true"}, {kLabelStage, "kubelet"}};
  c.env = {{"A", "1"}};
  return c;
}

ProcessSpec full_process() {
  return ProcessSpec{{"dockerd", "-H", "unix:///var/run/docker.sock"},
                     {{"A", "1"}},
                     "/run/d.pid",
                     {"/run/d/containerd/containerd.pid"}};
}

TEST(SpecHash, IsSixteenLowercaseHexDigits) {
  for (const LaunchSpec& launch : {LaunchSpec{full_container()}, LaunchSpec{full_process()}}) {
    const auto hash = spec_hash(launch);
    EXPECT_EQ(hash.size(), 16u);
    EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos) << hash;
  }
}

// Pinned values (the process ones checked against an independent FNV-1a 64 of the serialisation
// in Python): a change here changes every container's label, so the agent would recreate all
// containers on upgrade. Change the serialisation only on purpose.
TEST(SpecHash, IsStableAcrossRunsAndPlatforms) {
  EXPECT_EQ(spec_hash(full_container()), "2880205bcc3c5476");
  EXPECT_EQ(spec_hash(full_process()), "4eb9316ec2126383");
  EXPECT_EQ(spec_hash(ProcessSpec{}), "8a8110e82981bf47");
}

TEST(SpecHash, ChangesWhenAnyContainerFieldChanges) {
  using Mutation = std::function<void(ContainerSpec&)>;
  const std::vector<std::pair<const char*, Mutation>> mutations{
      {"docker_socket", [](ContainerSpec& c) { c.docker_socket = "/other.sock"; }},
      {"image", [](ContainerSpec& c) { c.image += "-2"; }},
      {"entrypoint", [](ContainerSpec& c) { c.entrypoint.clear(); }},
      {"cmd value", [](ContainerSpec& c) { c.cmd[2] = "--v=3"; }},
      {"cmd order", [](ContainerSpec& c) { std::swap(c.cmd[0], c.cmd[1]); }},
      {"cmd added", [](ContainerSpec& c) { c.cmd.push_back(""); }},
      {"network_mode", [](ContainerSpec& c) { c.network_mode = ""; }},
      {"pid_mode", [](ContainerSpec& c) { c.pid_mode = ""; }},
      {"privileged", [](ContainerSpec& c) { c.privileged = false; }},
      {"mount source", [](ContainerSpec& c) { c.mounts[0].source = "/sys2"; }},
      {"mount target", [](ContainerSpec& c) { c.mounts[0].target = "/sys2"; }},
      {"mount read_only", [](ContainerSpec& c) { c.mounts[0].read_only = false; }},
      {"mount propagation", [](ContainerSpec& c) { c.mounts[1].propagation = "rshared"; }},
      {"mount removed", [](ContainerSpec& c) { c.mounts.pop_back(); }},
      {"devices", [](ContainerSpec& c) { c.devices.clear(); }},
      {"restart_policy", [](ContainerSpec& c) { c.restart_policy = "always"; }},
      {"label value", [](ContainerSpec& c) { c.labels[kLabelStage] = "kube-proxy"; }},
      {"label added", [](ContainerSpec& c) { c.labels[kLabelNode] = "node-1"; }},
      {"env value", [](ContainerSpec& c) { c.env["A"] = "2"; }},
      {"env key",
       [](ContainerSpec& c) {
         c.env = {{"B", "1"}};
       }},
  };
  std::set<std::string> seen{spec_hash(full_container())};
  for (const auto& [what, mutate] : mutations) {
    auto c = full_container();
    mutate(c);
    EXPECT_TRUE(seen.insert(spec_hash(c)).second) << what << " did not change the hash";
  }
}

TEST(SpecHash, ChangesWhenAnyProcessFieldChanges) {
  std::set<std::string> seen{spec_hash(full_process())};
  auto p = full_process();
  p.argv.push_back("--debug");
  EXPECT_TRUE(seen.insert(spec_hash(p)).second);
  p = full_process();
  p.env["A"] = "2";
  EXPECT_TRUE(seen.insert(spec_hash(p)).second);
  p = full_process();
  p.pidfile.clear();
  EXPECT_TRUE(seen.insert(spec_hash(p)).second);
  p = full_process();
  p.helper_pidfiles.clear();
  EXPECT_TRUE(seen.insert(spec_hash(p)).second);
  p = full_process();
  p.helper_pidfiles.push_back("/run/other.pid");
  EXPECT_TRUE(seen.insert(spec_hash(p)).second);
}

TEST(SpecHash, DoesNotConfuseHowValuesAreSplit) {
  EXPECT_NE(spec_hash(ProcessSpec{{"a b"}, {}, ""}), spec_hash(ProcessSpec{{"a", "b"}, {}, ""}));
  EXPECT_NE(spec_hash(ProcessSpec{{"ab", ""}, {}, ""}), spec_hash(ProcessSpec{{"a", "b"}, {}, ""}));
  EXPECT_NE(spec_hash(ProcessSpec{{}, {{"a", "b=c"}}, ""}),
            spec_hash(ProcessSpec{{}, {{"a=b", "c"}}, ""}));
  EXPECT_NE(spec_hash(ProcessSpec{{"x"}, {}, ""}), spec_hash(ProcessSpec{{}, {}, "x"}));
  EXPECT_NE(spec_hash(ProcessSpec{{}, {}, "x"}), spec_hash(ProcessSpec{{}, {}, "", {"x"}}));
  EXPECT_NE(spec_hash(ProcessSpec{}), spec_hash(ContainerSpec{}));
}

TEST(SpecHash, LeavesOutTheNameAndHashLabelItDerives) {
  const auto c = test::container_of(test::stage_of(test::master_config(), kStageEtcd));
  EXPECT_EQ(spec_hash(c), c.labels.at(kLabelSpecHash));
  EXPECT_EQ(spec_hash(test::without_identity(c)), c.labels.at(kLabelSpecHash));
}

TEST(SpecHash, ContainerNameAndLabelFollowTheSpec) {
  auto cfg = test::worker_config();
  const auto before = test::container_of(test::stage_of(cfg, kStageKubelet));
  cfg.stages[kStageKubelet].extra_args = {"--max-pods=50"};
  const auto after = test::container_of(test::stage_of(cfg, kStageKubelet));
  EXPECT_NE(before.labels.at(kLabelSpecHash), after.labels.at(kLabelSpecHash));
  EXPECT_NE(before.name, after.name);
  // Built twice from the same configuration: the same container.
  EXPECT_EQ(test::container_of(test::stage_of(cfg, kStageKubelet)), after);
}

TEST(SpecHash, DiffersBetweenNodesSharingAMachine) {
  auto a = test::worker_config();
  auto b = test::worker_config();
  b.node_name = "node-2";
  EXPECT_NE(test::container_of(test::stage_of(a, kStageFlannel)).name,
            test::container_of(test::stage_of(b, kStageFlannel)).name);
}

}  // namespace
}  // namespace kna
