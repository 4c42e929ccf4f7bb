// The host effects the catalogue puts into each stage's spec, with every value they use: the
// steps before a launch (StageSpec::prepare) and the one after a probe (ProbeSpec::then).

#include <gtest/gtest.h>

#include "stage_test_util.hpp"
#include "stages/control_plane.hpp"
#include "stages/kubeconfig.hpp"

namespace kna {
namespace {

using test::master_config;
using test::stage_of;
using test::worker_config;

TEST(HostSteps, MasterEtcdStoresFlannelsNetworkConfigFromTheConfiguration) {
  EXPECT_EQ(stage_of(master_config(), kStageEtcd).ready.then,
            (AfterProbe{StoreFlannelConfig{
                "http://127.0.0.1:2379", EtcdApi::v2, "/coreos.com/network/config",
                R"({"Network":"10.1.0.0/16","Backend":{"Type":"udp"}})"}}));

  auto cfg = master_config();
  cfg.flannel_etcd_prefix = "/kna/network/";
  cfg.flannel_network = "172.16.0.0/12";
  cfg.flannel_backend = "vxlan";
  cfg.flannel_etcd_api = EtcdApi::v3;
  EXPECT_EQ(stage_of(cfg, kStageEtcd).ready.then,
            (AfterProbe{
                StoreFlannelConfig{"http://127.0.0.1:2379", EtcdApi::v3, "/kna/network/config",
                                   R"({"Network":"172.16.0.0/12","Backend":{"Type":"vxlan"}})"}}));
  // etcd as a host process is the same etcd to flannel.
  cfg.stages[kStageEtcd].runtime = RuntimeKind::process;
  EXPECT_EQ(std::get<StoreFlannelConfig>(stage_of(cfg, kStageEtcd).ready.then).key,
            "/kna/network/config");
}

// The stage's bridge rules (other steps, such as a daemon's config file, are not this test's).
std::vector<DeleteStaleBridge> bridges(const StageSpec& spec) {
  return steps_of<DeleteStaleBridge>(spec.prepare);
}

TEST(HostSteps, MainDockerDeletesADocker0WithoutTheLeasedSubnet) {
  for (const auto& cfg : {master_config(), worker_config()})
    EXPECT_EQ(bridges(stage_of(cfg, kStageMainDocker)),
              std::vector<DeleteStaleBridge>{(DeleteStaleBridge{"docker0", "10.1.33.1/24"})});
  PlanFacts other = test::subnet_facts();
  other.subnet->subnet = "10.1.77.1/24";
  EXPECT_EQ(bridges(stage_of(worker_config(), kStageMainDocker, other)),
            std::vector<DeleteStaleBridge>{(DeleteStaleBridge{"docker0", "10.1.77.1/24"})});
  // The plan before flannel leased one shows the placeholder.
  const auto plan = build_plan(worker_config(), PlanFacts{});
  ASSERT_EQ(plan[2].name, kStageMainDocker);
  EXPECT_EQ(bridges(plan[2]),
            std::vector<DeleteStaleBridge>{(DeleteStaleBridge{"docker0", "${FLANNEL_SUBNET}"})});
  // Only main-docker: the bootstrap daemon runs with --bridge=none.
  for (const auto& spec : plan)
    EXPECT_EQ(bridges(spec).empty(), spec.name != kStageMainDocker) << spec.name;
}

TEST(HostSteps, ContainerisedKubeletWritesItsKubeconfigAndSharesItsRoot) {
  auto cfg = worker_config();
  cfg.k8s_version = "v1.8.15";
  cfg.api_token = "s3cr3t";
  const auto spec = stage_of(cfg, kStageKubelet);
  EXPECT_EQ(
      spec.prepare,
      (std::vector<HostStep>{
          WriteFile{"/var/lib/kube-node-agent/kubeconfig", stages::kubeconfig_content(cfg), 0600},
          SharedMount{"/var/lib/kubelet"},
          // The mount sources but the kubeconfig, which is a file the step writes.
          MakeDirs{
              {"/sys", "/var/run", "/var/lib/docker", "/var/lib/kubelet", "/var/log/containers"}},
      }));
  EXPECT_EQ(spec.ready.then,
            (AfterProbe{NodeReady{"http://192.168.1.50:8080", "node-1", "s3cr3t", "", "", ""}}));
}

TEST(HostSteps, MasterKubeletWritesTheManifestsToo) {
  auto cfg = master_config();
  cfg.stages[kStageKubelet].runtime = RuntimeKind::process;
  std::vector<HostStep> expected;
  for (auto& manifest : stages::control_plane_manifests(cfg)) expected.emplace_back(manifest);
  // As a host process: no shared mount (nothing propagates into a container), no mount sources.
  EXPECT_EQ(stage_of(cfg, kStageKubelet).prepare, expected);
}

TEST(HostSteps, ContainersGetTheirMissingMountSourcesCreated) {
  auto cfg = master_config();
  cfg.paths.etcd_data_dir = "/tmp/n1/etcd";
  EXPECT_EQ(stage_of(cfg, kStageEtcd).prepare, (std::vector<HostStep>{MakeDirs{{"/tmp/n1/etcd"}}}));
  EXPECT_EQ(stage_of(cfg, kStageFlannel).prepare,
            std::vector<HostStep>{(MakeDirs{{"/dev/net", "/run/flannel"}})});
  // kube-proxy from v1.6 mounts only the kubeconfig it writes: no folder to create.
  cfg.k8s_version = "v1.6.0";
  EXPECT_EQ(stage_of(cfg, kStageKubeProxy).prepare,
            std::vector<HostStep>{stages::kubeconfig_file(cfg)});
  // Host processes have no mounts.
  cfg.stages[kStageEtcd].runtime = RuntimeKind::process;
  EXPECT_EQ(stage_of(cfg, kStageEtcd).prepare, std::vector<HostStep>{});
  EXPECT_TRUE(steps_of<MakeDirs>(stage_of(cfg, kStageBootstrapDocker).prepare).empty());
}

TEST(HostSteps, OnlyTheStagesThatNeedOneHaveAStepAfterTheProbe) {
  const auto plan = build_plan(master_config(), test::subnet_facts());
  for (const auto& spec : plan) {
    const bool has_then = !std::holds_alternative<std::monostate>(spec.ready.then);
    const bool wanted =
        spec.name == kStageEtcd || spec.name == kStageMainDocker || spec.name == kStageKubelet;
    EXPECT_EQ(has_then, wanted) << spec.name;
  }
}

}  // namespace
}  // namespace kna
