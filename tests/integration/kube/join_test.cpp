// A worker's join by token and pin (issue 14) against the kube-apiserver stand-in serving TLS with
// a CA the test makes: the agent's discovery (clients/cluster_discovery.hpp) takes the CA from
// cluster-info only with the right pin and reports a refused token; the kubelet stand-in
// bootstraps from the kubeconfig discovery wrote; the agent's own check then reads the node as
// the node, with the kubelet's certificate, over TLS. The cluster is set up as `kubeadm init`
// leaves it: a bootstrap token Secret in kube-system and cluster-info in kube-public.

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "clients/cluster_discovery.hpp"
#include "clients/etcd_encoding.hpp"
#include "clients/kube_api.hpp"
#include "kube/standin_api.hpp"
#include "kubelet_fake_tls_api.hpp"
#include "kubelet_harness.hpp"

namespace kna::test::kubelet_standin {
namespace {

using nlohmann::json;
using testing::HasSubstr;

constexpr const char* kToken = "abcdef.0123456789abcdef";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// kubeadm's cluster-info kubeconfig: YAML, the CA as data, no user.
std::string cluster_info_kubeconfig(const std::string& server, const std::string& ca_pem) {
  return "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: " +
         etcd::base64_encode(ca_pem) + "\n    server: " + server +
         "\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\nkind: Config\npreferences: {}\n"
         "users: null\n";
}

// `signing`: the bootstrap signer puts the token's JWS into cluster-info.
json bootstrap_token_secret(const std::string& id, const std::string& secret, bool signing) {
  const auto b64 = [](const std::string& s) { return etcd::base64_encode(s); };
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", "bootstrap-token-" + id}, {"namespace", "kube-system"}}},
          {"type", "bootstrap.kubernetes.io/token"},
          {"data",
           {{"token-id", b64(id)},
            {"token-secret", b64(secret)},
            {"usage-bootstrap-authentication", b64("true")},
            {"usage-bootstrap-signing", b64(signing ? "true" : "false")},
            {"auth-extra-groups", b64("system:bootstrappers:kubeadm:default-node-token")}}}};
}

TEST(JoinWithApiserverStandin, DiscoveryThenTheKubeletsBootstrapThenTheAgentAsksAsTheNode) {
  KNA_REQUIRE_ETCD();
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.ready()) << etcd.log();
  TempDir dir;
  const std::string pki = dir / "pki";
  make_pki(pki);
  const int port = free_port();
  const std::string url = "https://127.0.0.1:" + std::to_string(port);
  ChildProcess apiserver(
      {kHyperkube, "apiserver", "--etcd-servers=" + etcd.endpoint(), "--storage-backend=etcd3",
       "--bind-address=127.0.0.1", "--secure-port=" + std::to_string(port),
       "--advertise-address=127.0.0.1", "--tls-cert-file=" + pki + "/apiserver.crt",
       "--tls-private-key-file=" + pki + "/apiserver.key", "--client-ca-file=" + pki + "/ca.crt",
       "--enable-bootstrap-token-auth=true", "--authorization-mode=Node,RBAC"},
      {{"KNA_STANDIN_VERSION", "v1.28.0"}});
  ASSERT_TRUE(apiserver.wait_for_output("Serving securely on ", 10s)) << apiserver.output();

  // What `kubeadm init` leaves behind, posted as the admin.
  standins::ApiServer admin;
  admin.url = url;
  admin.ca_file = pki + "/ca.crt";
  admin.client_cert_file = pki + "/admin.crt";
  admin.client_key_file = pki + "/admin.key";
  const standins::ApiClient as_admin(admin, "test/v1");
  const std::string ca = slurp(pki + "/ca.crt");
  auto posted = as_admin.post("/api/v1/namespaces/kube-system/secrets",
                              bootstrap_token_secret("abcdef", "0123456789abcdef", false).dump());
  ASSERT_EQ(posted.status, 201) << posted.error << posted.body;
  const json cluster_info{{"apiVersion", "v1"},
                          {"kind", "ConfigMap"},
                          {"metadata", {{"name", "cluster-info"}, {"namespace", "kube-public"}}},
                          {"data", {{"kubeconfig", cluster_info_kubeconfig(url, ca)}}}};
  posted = as_admin.post("/api/v1/namespaces/kube-public/configmaps", cluster_info.dump());
  ASSERT_EQ(posted.status, 201) << posted.error << posted.body;

  // Discovery: the right pin, a wrong pin, a wrong secret.
  const std::string pin = trimmed(slurp(pki + "/ca.pin"));
  const auto request = [&](const std::string& p, const std::string& token) {
    return DiscoveryRequest{url, p, token, dir / "candidate.crt", Millis{3'000}, "test"};
  };
  auto discovered = discover_cluster(request(pin, kToken));
  ASSERT_TRUE(discovered) << discovered.error().message << "\n" << apiserver.output();
  EXPECT_EQ(discovered.value(), ca);
  const std::string wrong_pin = "sha256:" + std::string(64, '0');
  auto refused = discover_cluster(request(wrong_pin, kToken));
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message,
              HasSubstr("the API server's CA does not match ca_cert_hash " + wrong_pin));
  refused = discover_cluster(request(pin, "abcdef.ffffffffffffffff"));
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("the API server refused the join token (401)"));

  // A token that may sign: cluster-info carries its JWS, which is checked; a wrong secret is
  // refused before anything is sent with it, and a token it is not signed for too.
  posted = as_admin.post("/api/v1/namespaces/kube-system/secrets",
                         bootstrap_token_secret("ghijkl", "0123456789ghijkl", true).dump());
  ASSERT_EQ(posted.status, 201) << posted.error << posted.body;
  discovered = discover_cluster(request(pin, "ghijkl.0123456789ghijkl"));
  ASSERT_TRUE(discovered) << discovered.error().message;
  refused = discover_cluster(request(pin, "ghijkl.ffffffffffffffff"));
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message,
              HasSubstr("the API server refused the join token: cluster-info's signature"));
  refused = discover_cluster(request(pin, kToken));
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("not for token id abcdef"));

  // The kubelet bootstraps from what discovery writes.
  std::ofstream(dir / "bootstrap-kubeconfig") << bootstrap_kubeconfig(url, ca, kToken);
  std::ofstream(dir / "cluster-ca.crt") << ca;
  Standin kubelet(
      "kubelet",
      {"--kubeconfig=" + dir / "kubelet.conf",
       "--bootstrap-kubeconfig=" + dir / "bootstrap-kubeconfig", "--cert-dir=" + dir / "kpki",
       "--rotate-certificates", "--hostname-override=node-join"},
      "v1.28.0", {{"KNA_STANDIN_STATUS_PERIOD_S", "0.5"}});
  ASSERT_TRUE(kubelet.logged("Successfully registered node node-join", 30s))
      << kubelet.output() << "\n--- apiserver\n"
      << apiserver.output();

  // The agent's NodeReady: as the node, with the kubelet's certificate, the server verified.
  const std::string pem = dir / "kpki/kubelet-client-current.pem";
  const KubeApiClient as_node(url, "", Millis{3'000}, "kube-node-agent/test (node-join)",
                              ApiTls{dir / "cluster-ca.crt", pem, pem});
  std::optional<NodeReadyCondition> ready;
  for (int i = 0; i < 100 && !(ready && ready->status == "True"); ++i) {
    auto node = as_node.get_node("node-join");
    ASSERT_TRUE(node) << node.error().message;
    if (node.value()) ready = node_ready_condition(*node.value());
    if (!(ready && ready->status == "True")) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(ready) << "the node has no Ready condition";
  EXPECT_EQ(ready->status, "True");

  // A CA file that is not the cluster's: the agent's client gets no answer, and says why.
  std::ofstream(dir / "other.crt") << "not a certificate\n";
  const KubeApiClient unverifiable(url, "", Millis{3'000}, "test",
                                   ApiTls{dir / "other.crt", pem, pem});
  auto unverified = unverifiable.get_node("node-join");
  ASSERT_FALSE(unverified);
  EXPECT_THAT(unverified.error().message, HasSubstr("is not reachable"));

  // The bootstrap token alone may not read nodes (the Node authorizer is for nodes).
  const KubeApiClient as_bootstrapper(url, kToken, Millis{3'000}, "test",
                                      ApiTls{dir / "cluster-ca.crt", "", ""});
  auto forbidden = as_bootstrapper.get_node("node-join");
  ASSERT_FALSE(forbidden);
  EXPECT_THAT(forbidden.error().message, HasSubstr("403"));

  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
  apiserver.signal(SIGTERM);
  EXPECT_EQ(exit_description(apiserver.wait_exit(10s)), "exit code 0");
}

}  // namespace
}  // namespace kna::test::kubelet_standin
