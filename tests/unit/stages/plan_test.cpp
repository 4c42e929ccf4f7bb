#include <gtest/gtest.h>

#include "stage_test_util.hpp"

namespace kna {
namespace {

using test::master_config;
using test::names_of;
using test::stage_of;
using test::subnet_facts;
using test::worker_config;
using Deps = std::vector<Dependency>;

TEST(BuildPlan, MasterRunsEveryStageInDockerMultinodeOrder) {
  EXPECT_EQ(names_of(build_plan(master_config(), {})),
            (std::vector<std::string>{"bootstrap-docker", "etcd", "flannel", "main-docker",
                                      "kubelet", "kube-proxy"}));
}

TEST(BuildPlan, WorkerRunsNoEtcd) {
  EXPECT_EQ(names_of(build_plan(worker_config(), {})),
            (std::vector<std::string>{"bootstrap-docker", "flannel", "main-docker", "kubelet",
                                      "kube-proxy"}));
}

TEST(BuildPlan, CriDockerdJoinsBetweenMainDockerAndKubeletFromV124) {
  for (const char* version : {"v1.24.0", "v1.24.0-alpha.1", "v1.29.3", "v2.0.0"}) {
    auto cfg = worker_config();
    cfg.k8s_version = version;
    EXPECT_EQ(names_of(build_plan(cfg, {})),
              (std::vector<std::string>{"bootstrap-docker", "flannel", "main-docker", "cri-dockerd",
                                        "kubelet", "kube-proxy"}))
        << version;
  }
  for (const char* version : {"v1.3.6", "v1.23.17", "v1.2.4"}) {
    auto cfg = worker_config();
    cfg.k8s_version = version;
    EXPECT_EQ(names_of(build_plan(cfg, {})).size(), 5u) << version;
  }
}

TEST(BuildPlan, MasterDependenciesFollowTheReference) {
  const auto plan = build_plan(master_config(), {});
  ASSERT_EQ(plan.size(), 6u);
  EXPECT_EQ(plan[0].deps, Deps{});
  EXPECT_EQ(plan[1].deps, (Deps{{"bootstrap-docker", true}}));
  EXPECT_EQ(plan[2].deps, (Deps{{"bootstrap-docker", true}, {"etcd", true}}));
  EXPECT_EQ(plan[3].deps, (Deps{{"flannel", false}}));
  EXPECT_EQ(plan[4].deps, (Deps{{"main-docker", true}}));
  // kubelet → kube-proxy, as docker-multinode started them (the first time only).
  EXPECT_EQ(plan[5].deps, (Deps{{"main-docker", true}, {"kubelet", false}}));
}

TEST(BuildPlan, WorkerFlannelWaitsForNoLocalEtcd) {
  const auto plan = build_plan(worker_config(), {});
  ASSERT_EQ(plan.size(), 5u);
  EXPECT_EQ(plan[1].deps, (Deps{{"bootstrap-docker", true}}));
}

TEST(BuildPlan, KubeletWaitsForCriDockerdWhenPresent) {
  auto cfg = master_config();
  cfg.k8s_version = "v1.24.3";
  const auto kubelet = stage_of(cfg, kStageKubelet);
  EXPECT_EQ(kubelet.deps, (Deps{{"main-docker", true}, {"cri-dockerd", true}}));
  EXPECT_EQ(stage_of(cfg, kStageCriDockerd).deps, (Deps{{"main-docker", true}}));
}

TEST(BuildPlan, HostProcessesOnlyWaitForTheDaemonTheyDoNotRunIn) {
  auto cfg = master_config();
  for (const char* s : {kStageEtcd, kStageFlannel, kStageKubelet, kStageKubeProxy})
    cfg.stages[s].runtime = RuntimeKind::process;
  EXPECT_EQ(stage_of(cfg, kStageEtcd).deps, (Deps{{"bootstrap-docker", false}}));
  EXPECT_EQ(stage_of(cfg, kStageFlannel).deps, (Deps{{"bootstrap-docker", false}, {"etcd", true}}));
  // The kubelet drives the main dockerd even from the host.
  EXPECT_EQ(stage_of(cfg, kStageKubelet).deps, (Deps{{"main-docker", true}}));
  EXPECT_EQ(stage_of(cfg, kStageKubeProxy).deps,
            (Deps{{"main-docker", false}, {"kubelet", false}}));
}

TEST(BuildPlan, DisabledStagesAndTheirEdgesAreLeftOut) {
  auto cfg = master_config();
  cfg.stages[kStageEtcd].enabled = false;  // an external etcd
  cfg.stages[kStageKubeProxy].enabled = false;
  const auto plan = build_plan(cfg, {});
  EXPECT_EQ(names_of(plan),
            (std::vector<std::string>{"bootstrap-docker", "flannel", "main-docker", "kubelet"}));
  EXPECT_EQ(plan[1].deps, (Deps{{"bootstrap-docker", true}}));
}

TEST(BuildPlan, DisabledDaemonDropsEveryEdgeToIt) {
  auto cfg = worker_config();
  cfg.stages[kStageBootstrapDocker].enabled = false;
  cfg.stages[kStageFlannel].runtime = RuntimeKind::process;
  cfg.stages[kStageMainDocker].enabled = false;
  const auto plan = build_plan(cfg, {});
  EXPECT_EQ(names_of(plan), (std::vector<std::string>{"flannel", "kubelet", "kube-proxy"}));
  EXPECT_EQ(plan[0].deps, Deps{});
  EXPECT_EQ(plan[1].deps, Deps{});
  EXPECT_EQ(plan[2].deps, (Deps{{"kubelet", false}}));
}

TEST(BuildPlan, MissingStageEntryUsesBuiltInDefaults) {
  auto cfg = worker_config();
  cfg.stages.erase(kStageKubeProxy);
  const auto plan = build_plan(cfg, {});
  ASSERT_EQ(plan.size(), 5u);
  EXPECT_EQ(test::container_of(plan[4]).image, "gcr.io/google_containers/hyperkube-amd64:v1.3.6");
}

TEST(BuildPlan, PoliciesComeFromTheStageConfig) {
  auto cfg = worker_config();
  StageConfig& sc = cfg.stages[kStageFlannel];
  sc.probe = ProbePolicy{Millis{250}, Millis{1000}, Millis{45000}, Millis{7000}, 5};
  sc.backoff = BackoffPolicy{Millis{500}, 3.0, Millis{60000}, 0.2, Millis{120000}};
  sc.stop_timeout = Millis{3000};
  const auto flannel = stage_of(cfg, kStageFlannel);
  EXPECT_EQ(flannel.ready.policy.interval, Millis{250});
  EXPECT_EQ(flannel.ready.policy.timeout, Millis{1000});
  EXPECT_EQ(flannel.ready.policy.deadline, Millis{45000});
  EXPECT_EQ(flannel.ready.policy.period, Millis{7000});
  EXPECT_EQ(flannel.ready.policy.failure_threshold, 5);
  EXPECT_EQ(flannel.backoff.initial, Millis{500});
  EXPECT_EQ(flannel.backoff.multiplier, 3.0);
  EXPECT_EQ(flannel.backoff.cap, Millis{60000});
  EXPECT_EQ(flannel.backoff.jitter, 0.2);
  EXPECT_EQ(flannel.backoff.reset_after, Millis{120000});
  EXPECT_EQ(flannel.stop_timeout, Millis{3000});
  // The others keep the defaults.
  EXPECT_EQ(stage_of(cfg, kStageKubelet).stop_timeout, Millis{10000});
}

TEST(BuildStage, MatchesThePlanOnceTheSubnetIsKnown) {
  auto kubeconfig_master = master_config();
  kubeconfig_master.k8s_version = "v1.7.16";
  for (const auto& cfg : {master_config(), worker_config("arm"), kubeconfig_master}) {
    for (const auto& planned : build_plan(cfg, subnet_facts())) {
      const auto single = stage_of(cfg, planned.name);
      EXPECT_EQ(single.name, planned.name);
      EXPECT_EQ(single.deps, planned.deps) << planned.name;
      EXPECT_EQ(single.launch, planned.launch) << planned.name;
      EXPECT_EQ(single.ready, planned.ready) << planned.name;
      EXPECT_EQ(single.prepare, planned.prepare) << planned.name;
    }
  }
}

TEST(BuildStage, RejectsUnknownStage) {
  const auto spec = build_stage(master_config(), "kube-apiserver", subnet_facts());
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message,
            "unknown stage 'kube-apiserver' (stages: bootstrap-docker, etcd, flannel, main-docker, "
            "cri-dockerd, kubelet, kube-proxy)");
}

TEST(BuildStage, RejectsEtcdOnAWorker) {
  const auto spec = build_stage(worker_config(), kStageEtcd, subnet_facts());
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message, "stage 'etcd' is not part of a worker node");
}

TEST(BuildStage, RejectsDisabledStage) {
  auto cfg = master_config();
  cfg.stages[kStageKubeProxy].enabled = false;
  const auto spec = build_stage(cfg, kStageKubeProxy, subnet_facts());
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message,
            "stage 'kube-proxy' is disabled (stages.kube-proxy.enabled is false)");
}

TEST(BuildStage, RejectsCriDockerdBeforeV124) {
  const auto spec = build_stage(worker_config(), kStageCriDockerd, subnet_facts());
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message,
            "stage 'cri-dockerd' is only used with Kubernetes v1.24 and later (K8S_VERSION is "
            "v1.3.6)");
}

TEST(BuildStage, MainDockerWithoutSubnetSaysWhatIsMissing) {
  auto cfg = worker_config();
  cfg.paths.flannel_run_dir = "/tmp/node-2/flannel";
  const auto spec = build_stage(cfg, kStageMainDocker, PlanFacts{});
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message,
            "main-docker needs flannel's subnet: /tmp/node-2/flannel/subnet.env is not there yet");
}

TEST(BuildStage, OtherStagesDoNotNeedTheSubnet) {
  for (const auto& name :
       {kStageBootstrapDocker, kStageEtcd, kStageFlannel, kStageKubelet, kStageKubeProxy}) {
    EXPECT_TRUE(build_stage(master_config(), name, PlanFacts{})) << name;
  }
}

TEST(DefaultImage, FollowsArchAndVersions) {
  struct Case {
    std::string arch, k8s, etcd, flannel;
    std::string etcd_image, flannel_image, hyperkube_image;
  };
  const Case cases[] = {
      {"amd64", "v1.3.6", "2.2.5", "0.5.5", "gcr.io/google_containers/etcd-amd64:2.2.5",
       "quay.io/coreos/flannel:0.5.5-amd64", "gcr.io/google_containers/hyperkube-amd64:v1.3.6"},
      {"arm", "v1.2.4", "2.2.5", "0.5.5", "gcr.io/google_containers/etcd-arm:2.2.5",
       "quay.io/coreos/flannel:0.5.5-arm", "gcr.io/google_containers/hyperkube-arm:v1.2.4"},
      {"arm64", "v1.4.1", "3.0.4", "v0.6.1", "gcr.io/google_containers/etcd-arm64:3.0.4",
       "quay.io/coreos/flannel:v0.6.1-arm64", "gcr.io/google_containers/hyperkube-arm64:v1.4.1"},
      {"ppc64le", "v1.3.0-alpha.4", "2.2.5", "0.5.5", "gcr.io/google_containers/etcd-ppc64le:2.2.5",
       "quay.io/coreos/flannel:0.5.5-ppc64le",
       "gcr.io/google_containers/hyperkube-ppc64le:v1.3.0-alpha.4"},
  };
  for (const auto& c : cases) {
    auto cfg = master_config(c.arch);
    cfg.k8s_version = c.k8s;
    cfg.etcd_version = c.etcd;
    cfg.flannel_version = c.flannel;
    EXPECT_EQ(default_image(cfg, kStageEtcd), c.etcd_image);
    EXPECT_EQ(default_image(cfg, kStageFlannel), c.flannel_image);
    EXPECT_EQ(default_image(cfg, kStageKubelet), c.hyperkube_image);
    EXPECT_EQ(default_image(cfg, kStageKubeProxy), c.hyperkube_image);
    EXPECT_EQ(default_image(cfg, kStageMainDocker), "");
  }
}

TEST(DefaultImage, ConfiguredImageWins) {
  auto cfg = master_config();
  cfg.stages[kStageEtcd].image = "kna/etcd:test";
  EXPECT_EQ(test::container_of(stage_of(cfg, kStageEtcd)).image, "kna/etcd:test");
}

}  // namespace
}  // namespace kna
