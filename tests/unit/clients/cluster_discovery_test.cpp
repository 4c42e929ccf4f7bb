// Discovery by token and pin against a TLS server in the test (certificates made with the openssl
// command): the CA accepted only when it matches the pin, cluster-info's JWS checked when present,
// the token checked by a second request verified against the pinned CA; and the kubeconfig forms
// cluster-info comes in (kubeadm's YAML, JSON).

#include "clients/cluster_discovery.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "clients/join_trust.hpp"
#include "clients/kube_api.hpp"
#include "support/fake_cluster_info.hpp"

namespace kna {
namespace {

using test::FakeApiServer;
using test::kToken;
using test::kubeadm_yaml;
using test::pki;
using test::slurp;
using testing::HasSubstr;

class Discovery : public testing::Test {
 protected:
  void SetUp() override {
    if (!pki().skip_reason.empty()) GTEST_SKIP() << pki().skip_reason;
    ASSERT_TRUE(pki().made) << "openssl could not make the test certificates";
    server_ = std::make_unique<FakeApiServer>();
  }
  DiscoveryRequest request(const std::string& pin) const {
    return DiscoveryRequest{server_->url(), pin,   kToken, pki().path("candidate.crt"),
                            Millis{3'000},  "test"};
  }
  std::unique_ptr<FakeApiServer> server_;
};

TEST_F(Discovery, TheRightPinGivesTheCaAndTheTokenIsShownOnlyOnTheVerifiedAsk) {
  server_->serve_ca("ca.crt", {kToken});
  auto ca = discover_cluster(request(pki().pin("ca.crt")));
  ASSERT_TRUE(ca) << ca.error().message;
  EXPECT_EQ(ca.value(), slurp(pki().path("ca.crt")));
  EXPECT_EQ(slurp(pki().path("candidate.crt")), ca.value());
  EXPECT_EQ(server_->cluster_info_auth(), "") << "cluster-info is asked for anonymously";
  EXPECT_EQ(server_->token_check_auth(), std::string("Bearer ") + kToken);
}

TEST_F(Discovery, AnUnsignedClusterInfoIsTrustedThroughThePinAlone) {
  server_->serve_ca("ca.crt");
  auto ca = discover_cluster(request(pki().pin("ca.crt")));
  ASSERT_TRUE(ca) << ca.error().message;
}

TEST_F(Discovery, AWrongPinIsRefusedNamingBothPinsAndTheTokenIsNeverSent) {
  server_->serve_ca("ca.crt", {kToken});
  const std::string wrong = pki().pin("other-ca.crt");
  auto ca = discover_cluster(request(wrong));
  ASSERT_FALSE(ca);
  EXPECT_THAT(ca.error().message,
              HasSubstr("the API server's CA does not match ca_cert_hash " + wrong));
  EXPECT_THAT(ca.error().message, HasSubstr(pki().pin("ca.crt")));
  EXPECT_EQ(server_->token_check_auth(), "");
}

TEST_F(Discovery, ACaThatDidNotSignTheServerIsRefusedEvenWhenPinned) {
  // cluster-info names other-ca, and the pin is other-ca's: but the server's certificate is ca's.
  server_->serve_ca("other-ca.crt", {kToken});
  auto ca = discover_cluster(request(pki().pin("other-ca.crt")));
  ASSERT_FALSE(ca);
  EXPECT_THAT(ca.error().message, HasSubstr("not signed by that CA"));
  EXPECT_EQ(server_->token_check_auth(), "") << "the token went to an unverified server";
}

TEST_F(Discovery, ARefusedTokenIsReportedAs401) {
  server_->serve_ca("ca.crt");
  server_->set_token_status(401);
  auto ca = discover_cluster(request(pki().pin("ca.crt")));
  ASSERT_FALSE(ca);
  EXPECT_THAT(ca.error().message, HasSubstr("the API server refused the join token (401)"));
  EXPECT_THAT(ca.error().message, testing::Not(HasSubstr("0123456789abcdef")));
}

TEST_F(Discovery, ClusterInfoSignedForOtherTokensOnlyRefusesOurs) {
  server_->serve_ca("ca.crt", {"zzzzzz.0123456789abcdef"});
  auto ca = discover_cluster(request(pki().pin("ca.crt")));
  ASSERT_FALSE(ca);
  EXPECT_THAT(ca.error().message, HasSubstr("not for token id abcdef"));
}

TEST_F(Discovery, ASignatureMadeWithAnotherSecretIsRefused) {
  server_->serve_ca("ca.crt", {"abcdef.ffffffffffffffff"});
  auto ca = discover_cluster(request(pki().pin("ca.crt")));
  ASSERT_FALSE(ca);
  EXPECT_THAT(
      ca.error().message,
      HasSubstr("the API server refused the join token: cluster-info's signature for token id "
                "abcdef does not match"));
}

TEST_F(Discovery, NoClusterInfoSaysWhatToDo) {
  server_->serve_ca("ca.crt");
  server_->set_cluster_info_status(404);
  auto ca = discover_cluster(request(pki().pin("ca.crt")));
  ASSERT_FALSE(ca);
  EXPECT_THAT(ca.error().message, HasSubstr("no cluster-info ConfigMap"));
  EXPECT_THAT(ca.error().message, HasSubstr("cluster.ca_file"));
}

// The cluster's CA replaced on the master: a node still holding the old one is told what failed
// and what to do.
TEST_F(Discovery, ACaReplacedOnTheServerIsReportedByTheApiClient) {
  server_->serve_ca("ca.crt");
  const KubeApiClient old_ca(server_->url(), kToken, Millis{3'000}, "test",
                             ApiTls{pki().path("other-ca.crt"), "", ""});
  auto node = old_ca.get_node("node-1");
  ASSERT_FALSE(node);
  EXPECT_THAT(node.error().message, HasSubstr("the server's certificate does not verify against " +
                                              pki().path("other-ca.crt")));
  EXPECT_THAT(node.error().message, HasSubstr("if the cluster's CA was replaced"));
}

// Before the kubelet has its certificate, the agent's check says which file it could not load.
TEST_F(Discovery, AMissingClientCertificateIsNamed) {
  server_->serve_ca("ca.crt");
  const std::string missing = pki().path("kubelet-client-current.pem");
  const KubeApiClient as_node(server_->url(), "", Millis{3'000}, "test",
                              ApiTls{pki().path("ca.crt"), missing, missing});
  auto node = as_node.get_node("node-1");
  ASSERT_FALSE(node);
  EXPECT_THAT(node.error().message,
              HasSubstr("cannot load " + pki().path("ca.crt") + " or " + missing));
}

TEST(KubeconfigCluster, ReadsKubeadmsYamlAndJson) {
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  auto yaml = kubeconfig_cluster(kubeadm_yaml("https://10.0.0.1:6443", pem));
  ASSERT_TRUE(yaml) << yaml.error().message;
  EXPECT_EQ(yaml.value().server, "https://10.0.0.1:6443");
  EXPECT_EQ(yaml.value().ca_pem, pem);

  auto json = kubeconfig_cluster(bootstrap_kubeconfig("https://10.0.0.2:6443", pem, kToken));
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_EQ(json.value().server, "https://10.0.0.2:6443");
  EXPECT_EQ(json.value().ca_pem, pem);

  EXPECT_FALSE(kubeconfig_cluster("apiVersion: v1\nkind: Config\n"));
  EXPECT_FALSE(kubeconfig_cluster("server: https://x\ncertificate-authority-data: !!!\n"));
  EXPECT_FALSE(kubeconfig_cluster("{\"clusters\": 5}"));
}

TEST(ClusterInfo, TakesTheKubeconfigAndEachTokensSignature) {
  auto info = parse_cluster_info(
      R"({"data": {"kubeconfig": "k", "jws-kubeconfig-abcdef": "s1", "jws-kubeconfig-zzzzzz": "s2",
                   "other": 3}})");
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info.value().kubeconfig, "k");
  EXPECT_EQ(info.value().jws.size(), 2u);
  EXPECT_EQ(info.value().jws.at("abcdef"), "s1");
  EXPECT_FALSE(parse_cluster_info(R"({"data": {}})"));
  EXPECT_FALSE(parse_cluster_info("not json"));
}

}  // namespace
}  // namespace kna
