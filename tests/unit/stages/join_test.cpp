// A worker joining a current cluster over TLS (Kubernetes v1.20 on): by token with a pinned CA
// (discovery, then the kubelet's TLS bootstrap), by token with a CA file, or with a configured
// client certificate; what the kubelet, kube-proxy and the agent's own Ready check are given.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "stage_test_util.hpp"
#include "stages/kubeconfig.hpp"
#include "stages/render_util.hpp"

namespace kna {
namespace {

using test::files_of;
using test::process_argv;
using test::stage_of;
using testing::Contains;
using testing::Not;

constexpr const char* kToken = "abcdef.0123456789abcdef";
const std::string kPin = "sha256:" + std::string(64, 'b');

Config tls_worker() {
  Config c = test::worker_config();
  c.k8s_version = "v1.28.0";
  c.cluster.api_server = "https://192.168.1.50:6443";
  c.cluster.token = kToken;
  c.cluster.ca_cert_hash = kPin;
  return c;
}

TEST(JoinByToken, TheKubeletBootstrapsFromADiscoveredKubeconfig) {
  const Config cfg = tls_worker();
  const auto argv = process_argv(cfg, kStageKubelet);
  EXPECT_THAT(argv,
              Contains("--bootstrap-kubeconfig=/var/lib/kube-node-agent/bootstrap-kubeconfig"));
  EXPECT_THAT(argv, Contains("--kubeconfig=/var/lib/kubelet/kubeconfig"));
  EXPECT_THAT(argv, Contains("--rotate-certificates"));
  EXPECT_THAT(argv, Contains("--cert-dir=/var/lib/kubelet/pki"));
  // The kubelet's --cert-dir default ignores --root-dir: a relocated root names it.
  Config relocated = tls_worker();
  relocated.paths.kubelet_dir = "/srv/node-2/kubelet";
  EXPECT_THAT(process_argv(relocated, kStageKubelet),
              Contains("--cert-dir=/srv/node-2/kubelet/pki"));
  EXPECT_THAT(argv, Not(Contains("--kubeconfig=/var/lib/kube-node-agent/kubeconfig")));

  const StageSpec kubelet = stage_of(cfg, kStageKubelet);
  const auto discover = steps_of<DiscoverCluster>(kubelet.prepare);
  ASSERT_EQ(discover.size(), 1u);
  EXPECT_EQ(discover[0], (DiscoverCluster{"https://192.168.1.50:6443", kPin, kToken,
                                          "/var/lib/kube-node-agent/cluster-ca.crt",
                                          "/var/lib/kube-node-agent/bootstrap-kubeconfig"}));
  EXPECT_TRUE(files_of(kubelet).empty()) << "the kubelet writes its own kubeconfig";
}

TEST(JoinByToken, TheAgentAsksAsTheNodeWithTheKubeletsCertificate) {
  const StageSpec kubelet = stage_of(tls_worker(), kStageKubelet);
  const auto* ready = std::get_if<NodeReady>(&kubelet.ready.then);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(*ready, (NodeReady{"https://192.168.1.50:6443", "node-1", "",
                               "/var/lib/kube-node-agent/cluster-ca.crt",
                               "/var/lib/kubelet/pki/kubelet-client-current.pem",
                               "/var/lib/kubelet/pki/kubelet-client-current.pem"}));
}

TEST(JoinByToken, KubeProxyUsesTheNodesCertificateAndWaitsForTheKubelet) {
  const Config cfg = tls_worker();
  const StageSpec proxy = stage_of(cfg, kStageKubeProxy);
  const auto files = files_of(proxy);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, "/var/lib/kube-node-agent/kubeconfig");
  EXPECT_EQ(files[0].mode, 0600u);
  const auto kubeconfig = nlohmann::json::parse(files[0].content);
  EXPECT_EQ(kubeconfig["clusters"][0]["cluster"]["server"], "https://192.168.1.50:6443");
  EXPECT_EQ(kubeconfig["clusters"][0]["cluster"]["certificate-authority"],
            "/var/lib/kube-node-agent/cluster-ca.crt");
  EXPECT_EQ(kubeconfig["users"][0]["user"]["client-certificate"],
            "/var/lib/kubelet/pki/kubelet-client-current.pem");
  EXPECT_EQ(files[0].content.find(kToken), std::string::npos) << "kube-proxy never gets the token";
  EXPECT_THAT(proxy.deps, Contains(Dependency{kStageKubelet, false}));

  // In a container it sees the CA and the kubelet's certificates at their host paths.
  Config in_container = cfg;
  in_container.stages[kStageKubeProxy].runtime = RuntimeKind::container;
  const auto c = test::container_of(stage_of(in_container, kStageKubeProxy));
  EXPECT_THAT(c.mounts, Contains(Mount{"/var/lib/kube-node-agent/cluster-ca.crt",
                                       "/var/lib/kube-node-agent/cluster-ca.crt", true, ""}));
  EXPECT_THAT(c.mounts, Contains(Mount{"/var/lib/kubelet/pki", "/var/lib/kubelet/pki", true, ""}));
}

TEST(JoinByToken, WithACaFileTheBootstrapKubeconfigIsWrittenAtOnce) {
  Config cfg = tls_worker();
  cfg.cluster.ca_cert_hash.clear();
  cfg.cluster.ca_file = "/etc/kubernetes/pki/ca.crt";
  const StageSpec kubelet = stage_of(cfg, kStageKubelet);
  EXPECT_TRUE(steps_of<DiscoverCluster>(kubelet.prepare).empty());
  const auto files = files_of(kubelet);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, "/var/lib/kube-node-agent/bootstrap-kubeconfig");
  EXPECT_EQ(files[0].mode, 0600u);
  const auto kubeconfig = nlohmann::json::parse(files[0].content);
  EXPECT_EQ(kubeconfig["clusters"][0]["cluster"]["certificate-authority"],
            "/etc/kubernetes/pki/ca.crt");
  EXPECT_EQ(kubeconfig["users"][0]["user"]["token"], kToken);
  // plan shows it with the token redacted.
  EXPECT_EQ(stages::redact_file_content(files[0].content).find(kToken), std::string::npos);
}

TEST(JoinWithACertificate, OneKubeconfigNamesTheCaAndTheClientCertificate) {
  Config cfg = tls_worker();
  cfg.cluster.token.clear();
  cfg.cluster.ca_cert_hash.clear();
  cfg.cluster.ca_file = "/etc/kna/ca.crt";
  cfg.cluster.client_cert_file = "/etc/kna/node.crt";
  cfg.cluster.client_key_file = "/etc/kna/node.key";
  const auto argv = process_argv(cfg, kStageKubelet);
  EXPECT_THAT(argv, Contains("--kubeconfig=/var/lib/kube-node-agent/kubeconfig"));
  EXPECT_THAT(argv, Not(Contains("--rotate-certificates")));
  const auto kubeconfig = nlohmann::json::parse(stages::kubeconfig_content(cfg));
  EXPECT_EQ(kubeconfig["clusters"][0]["cluster"]["certificate-authority"], "/etc/kna/ca.crt");
  EXPECT_EQ(kubeconfig["users"][0]["user"]["client-certificate"], "/etc/kna/node.crt");
  EXPECT_EQ(kubeconfig["users"][0]["user"]["client-key"], "/etc/kna/node.key");
  const StageSpec kubelet = stage_of(cfg, kStageKubelet);
  const auto* ready = std::get_if<NodeReady>(&kubelet.ready.then);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->ca_file, "/etc/kna/ca.crt");
  EXPECT_EQ(ready->client_cert_file, "/etc/kna/node.crt");
}

TEST(JoinInsecure, TheOldProfilesKeepTheInsecurePortByteForByte) {
  Config cfg = test::worker_config();
  cfg.k8s_version = "v1.19.16";
  const auto kubeconfig = nlohmann::json::parse(stages::kubeconfig_content(cfg));
  EXPECT_EQ(kubeconfig["clusters"][0]["cluster"],
            (nlohmann::json{{"server", "http://192.168.1.50:8080"}}));
  EXPECT_EQ(kubeconfig["users"][0]["user"], nlohmann::json::object());
  cfg.cluster.api_server = "http://192.168.1.50:8080";  // as the loader resolves it
  EXPECT_EQ(stages::kubeconfig_content(cfg), stages::kubeconfig_content(test::worker_config()));
}

TEST(JoinByToken, PlanDescribesDiscoveryWithoutTheToken) {
  const StageSpec kubelet = stage_of(tls_worker(), kStageKubelet);
  for (const auto& step : kubelet.prepare) {
    const std::string text = stages::describe_step(step);
    EXPECT_EQ(text.find("0123456789abcdef"), std::string::npos) << text;
  }
  const std::string first = stages::describe_step(kubelet.prepare.front());
  EXPECT_THAT(first, testing::HasSubstr("accept its CA only if it matches " + kPin));
}

}  // namespace
}  // namespace kna
