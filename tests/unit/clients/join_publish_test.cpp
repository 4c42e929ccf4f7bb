// What a TLS master publishes for its workers (src/clients/join_publish.cpp): kubeadm's objects in
// an order that never leaves a usable token without its bindings, cluster-info that discovery
// reads back, and updates that keep what others added (the bootstrap signer's signatures).

#include "clients/join_publish.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "clients/cluster_discovery.hpp"
#include "clients/etcd_encoding.hpp"
#include "support/fake_cluster_info.hpp"

namespace kna {
namespace {

using nlohmann::json;
using testing::HasSubstr;

using test::kToken;
constexpr const char* kCa = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

std::string decoded(const json& secret, const std::string& key) {
  return etcd::base64_decode(secret["data"][key].get<std::string>()).value_or("<not base64>");
}

TEST(JoinObjects, BindingsFirstThenClusterInfoThenTheToken) {
  const auto objects = join_objects("https://10.0.0.1:6443", kCa, kToken);
  ASSERT_EQ(objects.size(), 8u);
  std::vector<std::string> names;
  for (const auto& o : objects) names.push_back(o.body["kind"].get<std::string>() + " " + o.name());
  EXPECT_EQ(names, (std::vector<std::string>{
                       "ClusterRoleBinding kubeadm:kubelet-bootstrap",
                       "ClusterRoleBinding kubeadm:node-autoapprove-bootstrap",
                       "ClusterRoleBinding kubeadm:node-autoapprove-certificate-rotation",
                       "ClusterRoleBinding kube-node-agent:node-proxier",
                       "Role kubeadm:bootstrap-signer-clusterinfo",
                       "RoleBinding kubeadm:bootstrap-signer-clusterinfo",
                       "ConfigMap cluster-info",
                       "Secret bootstrap-token-abcdef",
                   }));
  EXPECT_EQ(objects[0].collection, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings");
  EXPECT_EQ(objects[6].collection, "/api/v1/namespaces/kube-public/configmaps");
  EXPECT_EQ(objects[7].collection, "/api/v1/namespaces/kube-system/secrets");
  // The token's group is the one the bindings name.
  const auto& secret = objects[7].body;
  EXPECT_EQ(secret["type"], "bootstrap.kubernetes.io/token");
  EXPECT_EQ(decoded(secret, "token-id"), "abcdef");
  EXPECT_EQ(decoded(secret, "token-secret"), "0123456789abcdef");
  EXPECT_EQ(decoded(secret, "usage-bootstrap-authentication"), "true");
  EXPECT_EQ(decoded(secret, "usage-bootstrap-signing"), "true");
  EXPECT_EQ(decoded(secret, "auth-extra-groups"), objects[0].body["subjects"][0]["name"]);
  EXPECT_FALSE(secret.contains("expiration")) << "it lasts while cluster.token names it";
}

TEST(JoinObjects, ClusterInfoIsWhatDiscoveryReads) {
  const auto objects = join_objects("https://10.0.0.1:6443", kCa, "");
  ASSERT_EQ(objects.size(), 7u) << "no token, no Secret";
  auto cluster = kubeconfig_cluster(objects.back().body["data"]["kubeconfig"].get<std::string>());
  ASSERT_TRUE(cluster) << cluster.error().message;
  EXPECT_EQ(cluster.value().server, "https://10.0.0.1:6443");
  EXPECT_EQ(cluster.value().ca_pem, kCa);
}

TEST(ObjectUpdate, MissingIsCreatedAndTheSameIsLeftAlone) {
  const json desired = join_objects("https://10.0.0.1:6443", kCa, kToken)[0].body;
  EXPECT_EQ(object_update(desired, json()), desired);
  json stored = desired;
  stored["metadata"]["resourceVersion"] = "7";
  stored["metadata"]["uid"] = "u";
  EXPECT_TRUE(object_update(desired, stored).is_null());
}

TEST(ObjectUpdate, ADifferentBindingIsReplacedKeepingTheStoredMetadata) {
  const json desired = join_objects("https://10.0.0.1:6443", kCa, kToken)[0].body;
  json stored = desired;
  stored["metadata"]["resourceVersion"] = "7";
  stored["subjects"][0]["name"] = "someone-else";
  const json update = object_update(desired, stored);
  ASSERT_FALSE(update.is_null());
  EXPECT_EQ(update["subjects"], desired["subjects"]);
  EXPECT_EQ(update["metadata"]["resourceVersion"], "7") << "a replace names what it replaces";
}

TEST(ObjectUpdate, ClusterInfoKeepsTheSignersEntries) {
  const json desired = join_objects("https://10.0.0.1:6443", kCa, kToken)[6].body;
  json stored = desired;
  stored["data"]["jws-kubeconfig-abcdef"] = "header..signature";
  EXPECT_TRUE(object_update(desired, stored).is_null()) << "the signature is not ours to remove";

  stored["data"]["kubeconfig"] = "an old CA";
  const json update = object_update(desired, stored);
  ASSERT_FALSE(update.is_null());
  EXPECT_EQ(update["data"]["kubeconfig"], desired["data"]["kubeconfig"]);
  EXPECT_EQ(update["data"]["jws-kubeconfig-abcdef"], "header..signature");
}

TEST(JoinPublish, AnUnreadableCaIsNamed) {
  auto done = publish_join_info(PublishRequest{"https://127.0.0.1:1", "/no/such/ca.crt",
                                               "/no/admin.pem", kToken, Millis{1000}, ""});
  ASSERT_FALSE(done);
  EXPECT_THAT(done.error().message, HasSubstr("cannot read the cluster CA /no/such/ca.crt"));
}

}  // namespace
}  // namespace kna
