// The kubelet's and kube-proxy's flags across Kubernetes versions: how they reach the API server
// (--api-servers or --master up to v1.5, a kubeconfig from v1.6), where the master's kubelet finds
// its static pods, --allow-privileged before v1.15, dockershim before v1.24, cri-dockerd after.

#include <gtest/gtest.h>

#include "stage_test_util.hpp"
#include "stages/kubeconfig.hpp"
#include "stages/stage_builders.hpp"

namespace kna {
namespace {

using test::container_of;
using test::files_of;
using test::master_config;
using test::process_argv;
using test::shared_dirs_of;
using test::stage_of;
using test::worker_config;
using Argv = std::vector<std::string>;

constexpr const char* kApiServers = "--api-servers=http://192.168.1.50:8080";
constexpr const char* kKubeconfig = "--kubeconfig=/var/lib/kube-node-agent/kubeconfig";
constexpr const char* kDockerEndpoint = "--docker-endpoint=unix:///var/run/docker.sock";
constexpr const char* kCriEndpoint = "--container-runtime-endpoint=unix:///run/cri-dockerd.sock";

struct KubeletCase {
  const char* version;
  Role role;
  Argv argv;  // after the binary
};

Argv common_tail() {
  return {"--cluster-dns=10.0.0.10", "--cluster-domain=cluster.local", "--hostname-override=node-1",
          "--v=2"};
}

Argv join(Argv head, const Argv& tail, const Argv& after = {}) {
  head.insert(head.end(), tail.begin(), tail.end());
  head.insert(head.end(), after.begin(), after.end());
  return head;
}

std::vector<KubeletCase> kubelet_cases() {
  const Role w = Role::worker;
  const Role m = Role::master;
  const std::string config_dir = "--config=/etc/kubernetes/manifests-multi";
  const std::string manifest_path = "--pod-manifest-path=/etc/kubernetes/manifests-multi";
  const Argv tail = common_tail();
  return {
      {"v1.2.4", w, join({"--allow-privileged", kApiServers}, tail, {kDockerEndpoint})},
      {"v1.5.8", w, join({"--allow-privileged", kApiServers}, tail, {kDockerEndpoint})},
      {"v1.5.8", m, join({"--allow-privileged", kApiServers, config_dir}, tail, {kDockerEndpoint})},
      {"v1.6.0", w,
       join({"--allow-privileged", kKubeconfig, "--require-kubeconfig"}, tail, {kDockerEndpoint})},
      {"v1.6.13", m,
       join({"--allow-privileged", kKubeconfig, "--require-kubeconfig", manifest_path}, tail,
            {kDockerEndpoint})},
      {"v1.7.16", w,
       join({"--allow-privileged", kKubeconfig, "--require-kubeconfig"}, tail, {kDockerEndpoint})},
      {"v1.8.15", w, join({"--allow-privileged", kKubeconfig}, tail, {kDockerEndpoint})},
      {"v1.14.10", m,
       join({"--allow-privileged", kKubeconfig, manifest_path}, tail, {kDockerEndpoint})},
      {"v1.15.0", w, join({kKubeconfig}, tail, {kDockerEndpoint})},
      {"v1.19.16", m, join({kKubeconfig, manifest_path}, tail, {kDockerEndpoint})},
      {"v1.23.17", w, join({kKubeconfig}, tail, {kDockerEndpoint})},
      {"v1.24.0", w, join({kKubeconfig}, tail, {kCriEndpoint})},
      {"v1.29.3", m, join({kKubeconfig, manifest_path}, tail, {kCriEndpoint})},
      // A version that does not parse gets the oldest profile.
      {"latest", w, join({"--allow-privileged", kApiServers}, tail, {kDockerEndpoint})},
      {"v1.x.0", m, join({"--allow-privileged", kApiServers, config_dir}, tail, {kDockerEndpoint})},
  };
}

TEST(KubeletVersions, HostProcessFlagsFollowTheVersion) {
  for (const auto& c : kubelet_cases()) {
    auto cfg = test::node_config(c.role);
    cfg.k8s_version = c.version;
    EXPECT_EQ(process_argv(cfg, kStageKubelet), join({"kubelet"}, c.argv))
        << c.version << (c.role == Role::master ? " master" : " worker");
  }
}

TEST(KubeletVersions, ContainerTakesTheSameFlagsWithoutTheDefaultDockerEndpoint) {
  for (const auto& c : kubelet_cases()) {
    auto cfg = test::node_config(c.role);
    cfg.k8s_version = c.version;
    Argv expected = join({"/hyperkube", "kubelet"}, c.argv);
    // In a container the default socket is found through the /var/run mount.
    std::erase(expected, std::string(kDockerEndpoint));
    EXPECT_EQ(container_of(stage_of(cfg, kStageKubelet)).cmd, expected)
        << c.version << (c.role == Role::master ? " master" : " worker");
  }
}

TEST(KubeletVersions, ContainerPassesANonDefaultDockerSocketFromV16Too) {
  auto cfg = worker_config();
  cfg.k8s_version = "v1.6.13";
  cfg.paths.main_docker_socket = "/tmp/n2/docker.sock";
  const auto c = container_of(stage_of(cfg, kStageKubelet));
  EXPECT_EQ(c.cmd.back(), "--docker-endpoint=unix:///tmp/n2/docker.sock");
}

TEST(KubeletVersions, KubeconfigIsMountedReadOnlyAtItsHostPath) {
  auto cfg = worker_config();
  cfg.k8s_version = "v1.8.15";
  cfg.paths.kubeconfig = "/tmp/n2/state/kubeconfig";
  const auto c = container_of(stage_of(cfg, kStageKubelet));
  EXPECT_EQ(c.mounts, (std::vector<Mount>{
                          {"/sys", "/sys", true, ""},
                          {"/var/run", "/var/run", false, ""},
                          {"/var/lib/docker", "/var/lib/docker", false, ""},
                          {"/var/lib/kubelet", "/var/lib/kubelet", false, "shared"},
                          {"/var/log/containers", "/var/log/containers", false, ""},
                          {"/tmp/n2/state/kubeconfig", "/tmp/n2/state/kubeconfig", true, ""},
                      }));
  EXPECT_EQ(c.cmd[3], "--kubeconfig=/tmp/n2/state/kubeconfig");
}

TEST(KubeletVersions, NoKubeconfigMountOrFileBeforeV16) {
  const auto spec = stage_of(worker_config(), kStageKubelet);
  EXPECT_EQ(files_of(spec), std::vector<WriteFile>{});
  EXPECT_EQ(container_of(spec).labels.count(stages::kLabelFilesHash), 0u);
  EXPECT_EQ(container_of(spec).mounts.size(), 5u);
}

TEST(KubeletVersions, WorkerWritesOnlyTheKubeconfigFromV16) {
  auto cfg = worker_config();
  cfg.k8s_version = "v1.6.13";
  cfg.api_token = "abc123";
  const auto spec = stage_of(cfg, kStageKubelet);
  EXPECT_EQ(files_of(spec), (std::vector<WriteFile>{{"/var/lib/kube-node-agent/kubeconfig",
                                                     stages::kubeconfig_content(cfg), 0600}}));
}

TEST(KubeletVersions, ANewKubeconfigMakesANewContainer) {
  // The mounted file keeps its old inode in a running container: a new content must not adopt it.
  auto cfg = worker_config();
  cfg.k8s_version = "v1.8.15";
  const auto before = container_of(stage_of(cfg, kStageKubelet));
  cfg.master_ip = "192.168.1.51";
  const auto moved = container_of(stage_of(cfg, kStageKubelet));
  cfg.master_ip = "192.168.1.50";
  cfg.api_token = "new-token";
  const auto token = container_of(stage_of(cfg, kStageKubelet));
  EXPECT_EQ(before.cmd, moved.cmd);  // the API server's address is only in the file
  EXPECT_NE(before.labels.at(kLabelSpecHash), moved.labels.at(kLabelSpecHash));
  EXPECT_NE(before.labels.at(kLabelSpecHash), token.labels.at(kLabelSpecHash));
  EXPECT_NE(before.name, moved.name);
  cfg.api_token = "";
  EXPECT_EQ(container_of(stage_of(cfg, kStageKubelet)), before);
}

TEST(KubeletVersions, FilesHashLabelIsTheKubeconfigContentHash) {
  auto cfg = master_config();
  cfg.k8s_version = "v1.7.16";
  const auto c = container_of(stage_of(cfg, kStageKubelet));
  EXPECT_EQ(c.labels.at(stages::kLabelFilesHash),
            stages::content_hash(stages::kubeconfig_content(cfg)));
}

TEST(KubeletVersions, RootDirIsSharedOnlyWhenTheKubeletRunsInAContainer) {
  auto cfg = worker_config();
  EXPECT_EQ(shared_dirs_of(stage_of(cfg, kStageKubelet)),
            (std::vector<std::string>{"/var/lib/kubelet"}));
  cfg.paths.kubelet_dir = "/tmp/n2/kubelet";
  EXPECT_EQ(shared_dirs_of(stage_of(cfg, kStageKubelet)),
            (std::vector<std::string>{"/tmp/n2/kubelet"}));
  cfg.stages[kStageKubelet].runtime = RuntimeKind::process;
  EXPECT_EQ(shared_dirs_of(stage_of(cfg, kStageKubelet)), std::vector<std::string>{});
  for (const char* other : {kStageKubeProxy, kStageMainDocker})
    EXPECT_EQ(shared_dirs_of(stage_of(master_config(), other)), std::vector<std::string>{})
        << other;
}

TEST(KubeProxyVersions, FlagsFollowTheVersion) {
  const std::pair<const char*, Argv> cases[] = {
      {"v1.2.4", {"--master=http://192.168.1.50:8080", "--hostname-override=node-1", "--v=2"}},
      {"v1.5.8", {"--master=http://192.168.1.50:8080", "--hostname-override=node-1", "--v=2"}},
      {"v1.6.0", {kKubeconfig, "--hostname-override=node-1", "--v=2"}},
      {"v1.24.3", {kKubeconfig, "--hostname-override=node-1", "--v=2"}},
      {"latest", {"--master=http://192.168.1.50:8080", "--hostname-override=node-1", "--v=2"}},
  };
  for (const auto& [version, flags] : cases) {
    auto cfg = worker_config();
    cfg.k8s_version = version;
    EXPECT_EQ(process_argv(cfg, kStageKubeProxy), join({"kube-proxy"}, flags)) << version;
    EXPECT_EQ(container_of(stage_of(cfg, kStageKubeProxy)).cmd,
              join({"/hyperkube", "proxy"}, flags))
        << version;
  }
}

TEST(KubeProxyVersions, HostnameOverrideIsTheNodeName) {
  auto cfg = worker_config();
  cfg.node_name = "b7e2c41d";
  EXPECT_EQ(process_argv(cfg, kStageKubeProxy)[2], "--hostname-override=b7e2c41d");
}

TEST(KubeProxyVersions, SharesTheKubeletsKubeconfigFromV16) {
  auto cfg = worker_config();
  EXPECT_EQ(files_of(stage_of(cfg, kStageKubeProxy)), std::vector<WriteFile>{});
  cfg.k8s_version = "v1.6.0";
  cfg.api_token = "abc123";
  const auto spec = stage_of(cfg, kStageKubeProxy);
  EXPECT_EQ(files_of(spec), files_of(stage_of(cfg, kStageKubelet)));
  const auto c = container_of(spec);
  EXPECT_EQ(c.mounts, (std::vector<Mount>{{"/var/lib/kube-node-agent/kubeconfig",
                                           "/var/lib/kube-node-agent/kubeconfig", true, ""}}));
  EXPECT_EQ(c.labels.at(stages::kLabelFilesHash),
            stages::content_hash(stages::kubeconfig_content(cfg)));
}

}  // namespace
}  // namespace kna
