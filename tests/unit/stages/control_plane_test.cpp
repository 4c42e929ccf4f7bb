// What the agent writes for the Kubernetes components: the kubeconfig (v1.6+) and, on the master,
// the control plane's static pod manifests.

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "stage_test_util.hpp"
#include "stages/control_plane.hpp"
#include "stages/kubeconfig.hpp"

namespace kna {
namespace {

using nlohmann::json;
using test::files_of;
using test::master_config;
using test::stage_of;
using test::worker_config;

TEST(Kubeconfig, PointsAtTheInsecurePortOfMasterIp) {
  const auto cfg = worker_config();
  EXPECT_EQ(stages::kubeconfig_content(cfg), R"({
  "apiVersion": "v1",
  "kind": "Config",
  "clusters": [
    {
      "name": "local",
      "cluster": {
        "server": "http://192.168.1.50:8080"
      }
    }
  ],
  "users": [
    {
      "name": "kubelet",
      "user": {}
    }
  ],
  "contexts": [
    {
      "name": "local",
      "context": {
        "cluster": "local",
        "user": "kubelet"
      }
    }
  ],
  "current-context": "local"
}
)");
}

TEST(Kubeconfig, CarriesTheTokenOnlyWhenOneIsConfigured) {
  auto cfg = worker_config();
  cfg.master_ip = "10.9.0.1";
  cfg.api_token = "s3cr3t-token";
  EXPECT_EQ(json::parse(stages::kubeconfig_content(cfg)), json::parse(R"({
    "apiVersion":"v1","kind":"Config",
    "clusters":[{"name":"local","cluster":{"server":"http://10.9.0.1:8080"}}],
    "users":[{"name":"kubelet","user":{"token":"s3cr3t-token"}}],
    "contexts":[{"name":"local","context":{"cluster":"local","user":"kubelet"}}],
    "current-context":"local"})"));
}

TEST(Kubeconfig, FileIsPrivateAtTheConfiguredPath) {
  auto cfg = worker_config();
  cfg.paths.kubeconfig = "/tmp/n2/state/kubeconfig";
  const WriteFile file = stages::kubeconfig_file(cfg);
  EXPECT_EQ(file.path, "/tmp/n2/state/kubeconfig");
  EXPECT_EQ(file.mode, 0600u);
  EXPECT_EQ(file.content, stages::kubeconfig_content(cfg));
}

json manifest_json(const WriteFile& file) {
  return json::parse(file.content);
}

TEST(ControlPlane, HyperkubeManifestsUpToV118) {
  const auto manifests = stages::control_plane_manifests(master_config());
  ASSERT_EQ(manifests.size(), 3u);
  EXPECT_EQ(manifests[0].path, "/etc/kubernetes/manifests-multi/kube-apiserver.json");
  EXPECT_EQ(manifests[1].path, "/etc/kubernetes/manifests-multi/kube-controller-manager.json");
  EXPECT_EQ(manifests[2].path, "/etc/kubernetes/manifests-multi/kube-scheduler.json");
  for (const auto& m : manifests) EXPECT_EQ(m.mode, 0644u) << m.path;

  EXPECT_EQ(manifest_json(manifests[0]), json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "kube-apiserver", "namespace": "kube-system",
                 "labels": {"component": "kube-apiserver", "tier": "control-plane"}},
    "spec": {"hostNetwork": true, "containers": [{
      "name": "kube-apiserver",
      "image": "gcr.io/google_containers/hyperkube-amd64:v1.3.6",
      "command": ["/hyperkube", "apiserver", "--advertise-address=192.168.1.50",
                  "--insecure-bind-address=0.0.0.0", "--insecure-port=8080",
                  "--etcd-servers=http://127.0.0.1:2379", "--storage-backend=etcd2",
                  "--service-cluster-ip-range=10.0.0.1/24", "--allow-privileged=true", "--v=2"]}]}
  })"));
  EXPECT_EQ(manifest_json(manifests[1]), json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "kube-controller-manager", "namespace": "kube-system",
                 "labels": {"component": "kube-controller-manager", "tier": "control-plane"}},
    "spec": {"hostNetwork": true, "containers": [{
      "name": "kube-controller-manager",
      "image": "gcr.io/google_containers/hyperkube-amd64:v1.3.6",
      "command": ["/hyperkube", "controller-manager", "--master=http://127.0.0.1:8080",
                  "--cluster-cidr=10.1.0.0/16", "--leader-elect=true", "--v=2"]}]}
  })"));
  EXPECT_EQ(manifest_json(manifests[2]), json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "kube-scheduler", "namespace": "kube-system",
                 "labels": {"component": "kube-scheduler", "tier": "control-plane"}},
    "spec": {"hostNetwork": true, "containers": [{
      "name": "kube-scheduler",
      "image": "gcr.io/google_containers/hyperkube-amd64:v1.3.6",
      "command": ["/hyperkube", "scheduler", "--master=http://127.0.0.1:8080",
                  "--leader-elect=true", "--v=2"]}]}
  })"));
}

TEST(ControlPlane, ManifestTextKeepsTheDocumentedKeyOrder) {
  const auto manifests = stages::control_plane_manifests(master_config());
  EXPECT_TRUE(manifests[0].content.starts_with(
      "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\n    \"name\": "
      "\"kube-apiserver\",\n"))
      << manifests[0].content;
  EXPECT_TRUE(manifests[0].content.ends_with("}\n"));
  // The same configuration gives the same bytes (the agent rewrites only what changed).
  EXPECT_EQ(stages::control_plane_manifests(master_config()), manifests);
}

TEST(ControlPlane, ImagesFollowArchAndVersion) {
  struct Case {
    const char* arch;
    const char* version;
    std::vector<std::string> images;
    std::vector<std::string> command_heads;
  };
  const Case cases[] = {
      {"arm",
       "v1.18.20",
       {"gcr.io/google_containers/hyperkube-arm:v1.18.20",
        "gcr.io/google_containers/hyperkube-arm:v1.18.20",
        "gcr.io/google_containers/hyperkube-arm:v1.18.20"},
       {"/hyperkube apiserver", "/hyperkube controller-manager", "/hyperkube scheduler"}},
      {"arm64",
       "v1.19.16",
       {"registry.k8s.io/kube-apiserver:v1.19.16",
        "registry.k8s.io/kube-controller-manager:v1.19.16",
        "registry.k8s.io/kube-scheduler:v1.19.16"},
       {"kube-apiserver --advertise-address=192.168.1.50", "kube-controller-manager --master",
        "kube-scheduler --master"}},
      {"ppc64le",
       "latest",
       {"gcr.io/google_containers/hyperkube-ppc64le:latest",
        "gcr.io/google_containers/hyperkube-ppc64le:latest",
        "gcr.io/google_containers/hyperkube-ppc64le:latest"},
       {"/hyperkube apiserver", "/hyperkube controller-manager", "/hyperkube scheduler"}},
  };
  for (const auto& c : cases) {
    auto cfg = master_config(c.arch);
    cfg.k8s_version = c.version;
    const auto manifests = stages::control_plane_manifests(cfg);
    ASSERT_EQ(manifests.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      const auto container = manifest_json(manifests[i])["spec"]["containers"][0];
      EXPECT_EQ(container["image"], c.images[i]) << c.version;
      std::string command;
      for (const auto& arg : container["command"])
        command += (command.empty() ? "" : " ") + arg.get<std::string>();
      EXPECT_TRUE(command.starts_with(c.command_heads[i])) << c.version << ": " << command;
    }
  }
}

TEST(ControlPlane, ConfiguredImagesWin) {
  auto cfg = master_config();
  cfg.k8s_version = "v1.19.16";
  cfg.control_plane.apiserver_image = "kna-test/hyperkube:standin";
  cfg.control_plane.scheduler_image = "example.org/sched:1";
  const auto manifests = stages::control_plane_manifests(cfg);
  EXPECT_EQ(manifest_json(manifests[0])["spec"]["containers"][0]["image"],
            "kna-test/hyperkube:standin");
  EXPECT_EQ(manifest_json(manifests[1])["spec"]["containers"][0]["image"],
            "registry.k8s.io/kube-controller-manager:v1.19.16");
  EXPECT_EQ(manifest_json(manifests[2])["spec"]["containers"][0]["image"], "example.org/sched:1");
  // The command follows the version, not the image.
  EXPECT_EQ(manifest_json(manifests[0])["spec"]["containers"][0]["command"][0], "kube-apiserver");
}

TEST(ControlPlane, NetworksComeFromTheConfiguration) {
  auto cfg = master_config();
  cfg.master_ip = "10.9.0.1";
  cfg.flannel_network = "10.244.0.0/16";
  cfg.control_plane.service_cluster_ip_range = "10.96.0.0/12";
  cfg.etcd_version = "3.0.4";
  cfg.k8s_version = "v1.6.13";
  const auto manifests = stages::control_plane_manifests(cfg);
  const auto apiserver = manifest_json(manifests[0])["spec"]["containers"][0]["command"];
  EXPECT_EQ(apiserver[2], "--advertise-address=10.9.0.1");
  EXPECT_EQ(apiserver[6], "--storage-backend=etcd3");
  EXPECT_EQ(apiserver[7], "--service-cluster-ip-range=10.96.0.0/12");
  EXPECT_EQ(manifest_json(manifests[1])["spec"]["containers"][0]["command"][3],
            "--cluster-cidr=10.244.0.0/16");
}

TEST(ControlPlane, ManifestsGoIntoTheConfiguredFolder) {
  auto cfg = master_config();
  cfg.paths.kubelet_manifests_dir = "/tmp/n1/manifests/";
  const auto manifests = stages::control_plane_manifests(cfg);
  EXPECT_EQ(manifests[0].path, "/tmp/n1/manifests/kube-apiserver.json");
  EXPECT_EQ(manifests[2].path, "/tmp/n1/manifests/kube-scheduler.json");
}

TEST(ControlPlane, MasterKubeletBringsTheManifestsAfterTheKubeconfig) {
  auto cfg = master_config();
  auto files = files_of(stage_of(cfg, kStageKubelet));
  EXPECT_EQ(files, stages::control_plane_manifests(cfg));

  cfg.k8s_version = "v1.7.16";
  files = files_of(stage_of(cfg, kStageKubelet));
  auto expected = stages::control_plane_manifests(cfg);
  expected.insert(expected.begin(), stages::kubeconfig_file(cfg));
  EXPECT_EQ(files, expected);

  // Also when the kubelet runs on the host; the manifests never go to a worker.
  cfg.stages[kStageKubelet].runtime = RuntimeKind::process;
  EXPECT_EQ(files_of(stage_of(cfg, kStageKubelet)), expected);
  auto worker = worker_config();
  worker.k8s_version = "v1.7.16";
  EXPECT_EQ(files_of(stage_of(worker, kStageKubelet)),
            (std::vector<WriteFile>{stages::kubeconfig_file(worker)}));
}

TEST(ControlPlane, ManifestsAreNotMountedAsFiles) {
  // The manifest folder is mounted whole, so the kubelet sees rewritten manifests itself: a
  // changed manifest does not replace the kubelet container.
  auto cfg = master_config();
  const auto before = test::container_of(stage_of(cfg, kStageKubelet));
  cfg.control_plane.apiserver_image = "kna-test/hyperkube:standin";
  EXPECT_EQ(test::container_of(stage_of(cfg, kStageKubelet)), before);
}

}  // namespace
}  // namespace kna
