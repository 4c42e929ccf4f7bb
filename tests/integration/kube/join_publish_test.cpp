// A TLS master's publishing (clients/join_publish.hpp) against the kube-apiserver stand-in's
// secure port: as the admin it creates kubeadm's objects, a second pass changes nothing, and a
// worker's discovery then accepts the CA by its pin and the token by cluster-info's signature,
// which is the whole handshake `kubeadm join` makes. Anyone else is refused by name.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apiserver_tls_harness.hpp"
#include "clients/cluster_discovery.hpp"
#include "clients/join_publish.hpp"

namespace kna::test::apiserver_tls {
namespace {

using testing::HasSubstr;

constexpr const char* kToken = "abcdef.0123456789abcdef";

class JoinPublishTest : public ApiserverTlsTest {
 protected:
  std::string server() const { return "https://127.0.0.1:" + std::to_string(port_); }
  // The certificate and key in one file, as the master's issue step writes them.
  std::string admin_pem() {
    const std::string path = pki_ / "admin.pem";
    write_file(path, read_file(pki("admin.crt")) + read_file(pki("admin.key")));
    return path;
  }
  Result<std::vector<std::string>> publish(const std::string& client_pem) {
    return publish_join_info(
        PublishRequest{server(), pki("ca.crt"), client_pem, kToken, Millis{5'000}, "test"});
  }
};

TEST_F(JoinPublishTest, TheAdminPublishesOnceAndAWorkerDiscoversTheClusterByPinAndToken) {
  start();
  const std::string admin_file = admin_pem();
  auto first = publish(admin_file);
  ASSERT_TRUE(first) << first.error().message << "\n" << apiserver_->output();
  EXPECT_EQ(first.value().size(), 8u) << testing::PrintToString(first.value());
  EXPECT_THAT(first.value(), testing::Contains("created configmaps cluster-info"));
  EXPECT_THAT(first.value(), testing::Contains("created secrets bootstrap-token-abcdef"));

  auto again = publish(admin_file);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again.value().empty())
      << "a restart changes nothing: " << testing::PrintToString(again.value());

  // The binding is there as kubeadm writes it.
  const auto binding = call(
      "GET", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:kubelet-bootstrap",
      admin());
  ASSERT_EQ(binding.status, 200) << binding.body;
  EXPECT_EQ(binding.object["roleRef"]["name"], "system:node-bootstrapper");

  // A worker with the token and the pin: the CA it accepts is the master's.
  const std::string pin = read_file(pki("ca.pin"));
  auto ca = discover_cluster(DiscoveryRequest{server(), pin.substr(0, pin.find('\n')), kToken,
                                              pki_ / "candidate.crt", Millis{5'000}, "worker"});
  ASSERT_TRUE(ca) << ca.error().message;
  EXPECT_EQ(ca.value(), read_file(pki("ca.crt")));
}

TEST_F(JoinPublishTest, ANewCaInClusterInfoIsPublishedAndTheSignaturesStay) {
  start();
  const std::string admin_file = admin_pem();
  ASSERT_TRUE(publish(admin_file));
  // Someone replaced cluster-info's kubeconfig: the next pass puts the master's back.
  auto info = call("GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", admin());
  ASSERT_EQ(info.status, 200) << info.body;
  info.object["data"]["kubeconfig"] = "stale";
  ASSERT_EQ(
      call("PUT", "/api/v1/namespaces/kube-public/configmaps/cluster-info", admin(), info.object)
          .status,
      200);
  auto fixed = publish(admin_file);
  ASSERT_TRUE(fixed) << fixed.error().message;
  EXPECT_EQ(fixed.value(), std::vector<std::string>{"replaced configmaps cluster-info"});
  const auto now = call("GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", {});
  ASSERT_EQ(now.status, 200) << now.body;
  EXPECT_THAT(now.object["data"]["kubeconfig"].get<std::string>(), HasSubstr(server()));
  EXPECT_TRUE(now.object["data"].contains("jws-kubeconfig-abcdef")) << now.body;
}

TEST_F(JoinPublishTest, OnlyAnAdminMayPublish) {
  start();
  // A node's certificate, not in system:masters.
  std::string csr;
  const std::string key = make_csr("node", "/O=system:nodes/CN=system:node:n1", &csr);
  const std::string cert = pki_ / "node.crt";
  ChildProcess sign({kOpenssl, "x509", "-req", "-in", pki_ / "node.csr", "-CA", pki("ca.crt"),
                     "-CAkey", pki("ca.key"), "-CAcreateserial", "-CAserial", pki_ / "ca.srl",
                     "-days", "1", "-out", cert});
  ASSERT_EQ(exit_description(sign.wait_exit(std::chrono::seconds(20))), "exit code 0")
      << sign.output();
  write_file(pki_ / "node.pem", read_file(cert) + read_file(key));
  auto refused = publish(pki_ / "node.pem");
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message,
              HasSubstr("cannot publish clusterrolebindings kubeadm:kubelet-bootstrap"));
  EXPECT_THAT(refused.error().message, HasSubstr("User \"system:node:n1\" cannot get"));
  EXPECT_THAT(refused.error().message, HasSubstr("(403)"));
  EXPECT_THAT(refused.error().message, HasSubstr("must hold a certificate in system:masters"));
}

}  // namespace
}  // namespace kna::test::apiserver_tls
