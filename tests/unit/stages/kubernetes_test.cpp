// kubelet and kube-proxy: the main daemon's containers, and their host-process forms.

#include <gtest/gtest.h>

#include "stage_test_util.hpp"

namespace kna {
namespace {

using test::agent_labels;
using test::container_of;
using test::master_config;
using test::process_of;
using test::stage_of;
using test::without_identity;
using test::worker_config;
using Argv = std::vector<std::string>;

ContainerSpec expected_kubelet(const std::string& arch, Argv flags) {
  ContainerSpec c;
  c.docker_socket = "/var/run/docker.sock";
  c.image = "gcr.io/google_containers/hyperkube-" + arch + ":v1.3.6";
  c.cmd = {"/hyperkube", "kubelet"};
  c.cmd.insert(c.cmd.end(), flags.begin(), flags.end());
  c.network_mode = "host";
  c.pid_mode = "host";
  c.privileged = true;
  c.mounts = {Mount{"/sys", "/sys", true, ""}, Mount{"/var/run", "/var/run", false, ""},
              Mount{"/var/lib/docker", "/var/lib/docker", false, ""},
              Mount{"/var/lib/kubelet", "/var/lib/kubelet", false, "shared"},
              Mount{"/var/log/containers", "/var/log/containers", false, ""}};
  c.restart_policy = "unless-stopped";
  c.labels = agent_labels("kubelet");
  return c;
}

TEST(Kubelet, WorkerContainerMatchesDockerMultinode) {
  for (const char* arch : {"amd64", "arm", "arm64", "ppc64le"}) {
    const auto c = container_of(stage_of(worker_config(arch), kStageKubelet));
    EXPECT_EQ(
        without_identity(c),
        expected_kubelet(arch, {"--allow-privileged", "--api-servers=http://192.168.1.50:8080",
                                "--cluster-dns=10.0.0.10", "--cluster-domain=cluster.local",
                                "--hostname-override=node-1", "--v=2"}))
        << arch;
    EXPECT_EQ(c.name, "kube_kubelet_" + c.labels.at(kLabelSpecHash).substr(0, 5));
  }
}

TEST(Kubelet, MasterContainerRunsTheStaticPodManifests) {
  auto expected = expected_kubelet(
      "arm", {"--allow-privileged", "--api-servers=http://192.168.1.50:8080",
              "--config=/etc/kubernetes/manifests-multi", "--cluster-dns=10.0.0.10",
              "--cluster-domain=cluster.local", "--hostname-override=node-1", "--v=2"});
  expected.mounts.push_back(
      Mount{"/etc/kubernetes/manifests-multi", "/etc/kubernetes/manifests-multi", true, ""});
  EXPECT_EQ(without_identity(container_of(stage_of(master_config("arm"), kStageKubelet))),
            expected);
}

TEST(Kubelet, DnsAndNodeNameComeFromTheConfiguration) {
  auto cfg = worker_config();
  cfg.dns_server_ip = "10.96.0.10";
  cfg.dns_domain = "k8s.example";
  cfg.node_name = "b7e2c41d";
  const auto c = container_of(stage_of(cfg, kStageKubelet));
  EXPECT_EQ(c.cmd, (Argv{"/hyperkube", "kubelet", "--allow-privileged",
                         "--api-servers=http://192.168.1.50:8080", "--cluster-dns=10.96.0.10",
                         "--cluster-domain=k8s.example", "--hostname-override=b7e2c41d", "--v=2"}));
  EXPECT_EQ(c.labels.at(kLabelNode), "b7e2c41d");
}

TEST(Kubelet, ContainerReachesRelocatedPathsAtTheirHostPaths) {
  auto cfg = worker_config();
  cfg.paths.main_docker_socket = "/tmp/n2/run/docker.sock";
  cfg.paths.main_docker_data_root = "/tmp/n2/docker";
  cfg.paths.kubelet_dir = "/tmp/n2/kubelet";
  cfg.paths.container_logs_dir = "/tmp/n2/logs";
  const auto c = container_of(stage_of(cfg, kStageKubelet));
  EXPECT_EQ(c.docker_socket, "/tmp/n2/run/docker.sock");
  EXPECT_EQ(c.cmd, (Argv{"/hyperkube", "kubelet", "--allow-privileged",
                         "--api-servers=http://192.168.1.50:8080", "--cluster-dns=10.0.0.10",
                         "--cluster-domain=cluster.local", "--hostname-override=node-1", "--v=2",
                         "--root-dir=/tmp/n2/kubelet",
                         "--docker-endpoint=unix:///tmp/n2/run/docker.sock"}));
  EXPECT_EQ(c.mounts, (std::vector<Mount>{{"/sys", "/sys", true, ""},
                                          {"/var/run", "/var/run", false, ""},
                                          {"/tmp/n2/docker", "/tmp/n2/docker", false, ""},
                                          {"/tmp/n2/kubelet", "/tmp/n2/kubelet", false, "shared"},
                                          {"/tmp/n2/logs", "/var/log/containers", false, ""},
                                          {"/tmp/n2/run", "/tmp/n2/run", false, ""}}));
}

TEST(Kubelet, WorkerHostProcessTalksToTheMainDaemon) {
  auto cfg = worker_config();
  cfg.stages[kStageKubelet].runtime = RuntimeKind::process;
  EXPECT_EQ(process_of(stage_of(cfg, kStageKubelet)).argv,
            (Argv{"kubelet", "--allow-privileged", "--api-servers=http://192.168.1.50:8080",
                  "--cluster-dns=10.0.0.10", "--cluster-domain=cluster.local",
                  "--hostname-override=node-1", "--v=2",
                  "--docker-endpoint=unix:///var/run/docker.sock"}));
}

TEST(Kubelet, MasterHostProcessReadsTheHostManifestFolder) {
  auto cfg = master_config();
  cfg.stages[kStageKubelet].runtime = RuntimeKind::process;
  cfg.stages[kStageKubelet].binary = "/opt/k8s/kubelet";
  cfg.stages[kStageKubelet].extra_args = {"--address=0.0.0.0", "--enable-server"};
  cfg.stages[kStageKubelet].env = {{"HTTP_PROXY", "http://proxy:3128"}};
  cfg.paths.kubelet_manifests_dir = "/etc/kna/manifests";
  EXPECT_EQ(
      process_of(stage_of(cfg, kStageKubelet)),
      (ProcessSpec{
          {"/opt/k8s/kubelet", "--allow-privileged", "--api-servers=http://192.168.1.50:8080",
           "--config=/etc/kna/manifests", "--cluster-dns=10.0.0.10",
           "--cluster-domain=cluster.local", "--hostname-override=node-1", "--v=2",
           "--docker-endpoint=unix:///var/run/docker.sock", "--address=0.0.0.0", "--enable-server"},
          {{"HTTP_PROXY", "http://proxy:3128"}},
          ""}));
}

TEST(Kubelet, FromV124ReachesDockerThroughCriDockerd) {
  auto cfg = worker_config();
  cfg.k8s_version = "v1.24.3";
  const auto c = container_of(stage_of(cfg, kStageKubelet));
  EXPECT_EQ(c.cmd.back(), "--container-runtime-endpoint=unix:///run/cri-dockerd.sock");
  EXPECT_EQ(std::count_if(c.cmd.begin(), c.cmd.end(),
                          [](const std::string& a) { return a.starts_with("--docker-endpoint"); }),
            0);
  EXPECT_EQ(std::count(c.mounts.begin(), c.mounts.end(), Mount{"/run", "/run", false, ""}), 1);

  cfg.stages[kStageKubelet].runtime = RuntimeKind::process;
  const auto p = process_of(stage_of(cfg, kStageKubelet));
  EXPECT_EQ(p.argv.back(), "--container-runtime-endpoint=unix:///run/cri-dockerd.sock");
  EXPECT_EQ(p.argv[p.argv.size() - 2], "--v=2");
}

TEST(Kubelet, IsReadyWhenHealthzAnswersAndTheNodeIsReadyInTheApiServer) {
  for (const auto& cfg : {worker_config(), master_config("arm")}) {
    const auto ready = stage_of(cfg, kStageKubelet).ready;
    EXPECT_EQ(ready.kind, ProbeKind::http);
    EXPECT_EQ(ready.url, "http://127.0.0.1:10248/healthz");
    EXPECT_EQ(ready.unix_socket, "");
    EXPECT_EQ(ready.body_contains, "");
    EXPECT_EQ(ready.then,
              (AfterProbe{NodeReady{"http://192.168.1.50:8080", "node-1", "", "", "", ""}}));
  }
}

TEST(KubeProxy, RunsPrivilegedOnTheHostNetworkInTheMainDaemon) {
  for (const auto& cfg : {worker_config("arm"), master_config("ppc64le")}) {
    const auto c = container_of(stage_of(cfg, kStageKubeProxy));
    ContainerSpec expected;
    expected.docker_socket = "/var/run/docker.sock";
    expected.image = "gcr.io/google_containers/hyperkube-" + cfg.arch + ":v1.3.6";
    expected.cmd = {"/hyperkube", "proxy", "--master=http://192.168.1.50:8080",
                    "--hostname-override=node-1", "--v=2"};
    expected.network_mode = "host";
    expected.privileged = true;
    expected.restart_policy = "unless-stopped";
    expected.labels = agent_labels("kube-proxy");
    EXPECT_EQ(without_identity(c), expected);
    EXPECT_EQ(c.name, "kube_proxy_" + c.labels.at(kLabelSpecHash).substr(0, 5));
    EXPECT_EQ(stage_of(cfg, kStageKubeProxy).ready.then, AfterProbe{});
  }
}

TEST(KubeProxy, HostProcessTakesTheSameFlags) {
  auto cfg = worker_config();
  cfg.stages[kStageKubeProxy].runtime = RuntimeKind::process;
  cfg.stages[kStageKubeProxy].extra_args = {"--proxy-mode=iptables"};
  EXPECT_EQ(process_of(stage_of(cfg, kStageKubeProxy)).argv,
            (Argv{"kube-proxy", "--master=http://192.168.1.50:8080", "--hostname-override=node-1",
                  "--v=2", "--proxy-mode=iptables"}));
}

TEST(KubeProxy, HealthzPortFollowsTheVersion) {
  const std::pair<const char*, const char*> cases[] = {
      {"v1.2.4", "http://127.0.0.1:10249/healthz"},  {"v1.3.6", "http://127.0.0.1:10249/healthz"},
      {"v1.6.13", "http://127.0.0.1:10249/healthz"}, {"v1.7.0", "http://127.0.0.1:10256/healthz"},
      {"v1.24.3", "http://127.0.0.1:10256/healthz"},
  };
  for (const auto& [version, url] : cases) {
    auto cfg = worker_config();
    cfg.k8s_version = version;
    const auto ready = stage_of(cfg, kStageKubeProxy).ready;
    EXPECT_EQ(ready.kind, ProbeKind::http);
    EXPECT_EQ(ready.url, url) << version;
  }
}

}  // namespace
}  // namespace kna
