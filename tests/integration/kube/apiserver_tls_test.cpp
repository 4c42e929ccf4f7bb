// The kube-apiserver stand-in's secure port (issue 14): TLS with a PKI made by
// tests/helpers/make-pki, client certificates, static and bootstrap tokens, anonymous requests,
// the fixed authorization rules, ConfigMaps, cluster-info's signatures, and the real kubectl with
// admin.conf. CSRs are in apiserver_csr_test.cpp.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "apiserver_tls_harness.hpp"

namespace kna::test::apiserver_tls {
namespace {

TEST_F(ApiserverTlsTest, AnonymousReadsClusterInfoAndHealthButIsForbiddenNodes) {
  start();
  const json cluster_info{{"apiVersion", "v1"},
                          {"kind", "ConfigMap"},
                          {"metadata", {{"name", "cluster-info"}}},
                          {"data", {{"kubeconfig", "apiVersion: v1\nkind: Config\n"}}}};
  ASSERT_EQ(call("POST", "/api/v1/namespaces/kube-public/configmaps", admin(), cluster_info).status,
            201);

  const Credentials anonymous;
  const auto info =
      call("GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", anonymous);
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(info.object["data"]["kubeconfig"], "apiVersion: v1\nkind: Config\n");
  EXPECT_EQ(call("GET", "/healthz", anonymous).body, "ok");
  EXPECT_EQ(call("GET", "/version", anonymous).object["gitVersion"], "v1.30.2");

  expect_forbidden(call("GET", "/api/v1/nodes/node-a", anonymous),
                   "nodes \"node-a\" is forbidden: User \"system:anonymous\" cannot get resource "
                   "\"nodes\" in API group \"\" at the cluster scope");
  const auto list = call("GET", "/api/v1/nodes", anonymous);
  expect_forbidden(list,
                   "nodes is forbidden: User \"system:anonymous\" cannot list resource "
                   "\"nodes\" in API group \"\" at the cluster scope");
  EXPECT_EQ(list.object["details"], json({{"kind", "nodes"}})) << list.body;
  expect_forbidden(call("GET", "/api/v1/namespaces/kube-system/configmaps/cluster-info", anonymous),
                   "configmaps \"cluster-info\" is forbidden: User \"system:anonymous\" cannot get "
                   "resource \"configmaps\" in API group \"\" in the namespace \"kube-system\"");
  expect_forbidden(call("GET", "/api", anonymous),
                   "forbidden: User \"system:anonymous\" cannot get path \"/api\"");
}

TEST_F(ApiserverTlsTest, ServesOnlyTlsWithTheCertificateOfTheTestPki) {
  start();
  httplib::Client plain("127.0.0.1", port_);
  const auto plain_answer = plain.Get("/healthz");
  EXPECT_TRUE(!plain_answer || plain_answer->status != 200);

  // A client that trusts another certificate than the CA refuses the server's.
  httplib::SSLClient trusting_another("127.0.0.1", port_);
  trusting_another.set_ca_cert_path(pki("admin.crt").c_str());
  trusting_another.enable_server_certificate_verification(true);
  const auto refused = trusting_another.Get("/healthz");
  EXPECT_FALSE(refused);
  EXPECT_EQ(refused.error(), httplib::Error::SSLServerVerification);

  EXPECT_EQ(call("GET", "/healthz", {}).status, 200);
  EXPECT_NE(apiserver_->output().find("Signing kubelet client certificates with " + pki("ca.crt")),
            std::string::npos)
      << apiserver_->output();
  EXPECT_EQ(apiserver_->output().find("Serving insecurely"), std::string::npos);
}

TEST_F(ApiserverTlsTest, AdminClientCertificateListsAndWritesNodes) {
  start();
  ASSERT_EQ(call("POST", "/api/v1/nodes", admin(), kubelet_node("node-a", "")).status, 201);
  const auto list = call("GET", "/api/v1/nodes", admin());
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.object["items"].size(), 1U) << list.body;
  EXPECT_EQ(list.object["items"][0]["metadata"]["name"], "node-a");
  EXPECT_EQ(call("GET", "/api", admin()).object["versions"], json({"v1"}));
}

TEST_F(ApiserverTlsTest, StaticTokenFileAuthenticatesANodeThatMayWriteOnlyItself) {
  start();
  const Credentials node{kStaticNodeToken, "", ""};
  ASSERT_EQ(call("POST", "/api/v1/nodes", admin(), kubelet_node("other", "")).status, 201);
  EXPECT_EQ(call("POST", "/api/v1/nodes", node, kubelet_node("static-node", "")).status, 201);
  EXPECT_EQ(call("GET", "/api/v1/nodes", node).object["items"].size(), 2U);
  EXPECT_EQ(
      call("PATCH", "/api/v1/nodes/static-node/status", node, {{"status", {{"phase", "Running"}}}})
          .status,
      200);
  expect_forbidden(call("PATCH", "/api/v1/nodes/other", node, {{"metadata", json::object()}}),
                   "nodes \"other\" is forbidden: User \"system:node:static-node\" cannot patch "
                   "resource \"nodes\" in API group \"\" at the cluster scope");
  expect_forbidden(call("GET", "/api/v1/namespaces/kube-system/secrets", node),
                   "secrets is forbidden: User \"system:node:static-node\" cannot list resource "
                   "\"secrets\" in API group \"\" in the namespace \"kube-system\"");
  const auto unknown = call("GET", "/api/v1/nodes", {"no-such-token", "", ""});
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.body, kUnauthorized);
}

TEST_F(ApiserverTlsTest, BootstrapTokenCreatesCsrsOnlyWhenValidAndMeantForAuthentication) {
  start();
  create_bootstrap_token("abcdef", "0123456789abcdef");
  create_bootstrap_token("expire", "0123456789abcdef", {{"expiration", "2020-01-01T00:00:00Z"}});
  create_bootstrap_token("nouse0", "0123456789abcdef", json::object(), false);
  create_bootstrap_token("future", "0123456789abcdef", {{"expiration", "2999-01-01T00:00:00Z"}});
  std::string pem;
  make_csr("node-a", "/O=system:nodes/CN=system:node:node-a", &pem);

  const auto created = call("POST", kCsrs, {"abcdef.0123456789abcdef", "", ""}, csr_object(pem));
  ASSERT_EQ(created.status, 201) << created.body;
  const auto& spec = created.object["spec"];
  EXPECT_EQ(spec["username"], "system:bootstrap:abcdef");
  EXPECT_EQ(spec["groups"],
            json({"system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token",
                  "system:authenticated"}));
  EXPECT_EQ(created.object["metadata"]["name"].get<std::string>().rfind("csr-", 0), 0U);
  EXPECT_EQ(created.object["status"], json::object()) << created.body;
  EXPECT_EQ(call("POST", kCsrs, {"future.0123456789abcdef", "", ""}, csr_object(pem)).status, 201);

  for (const char* token :
       {"abcdef.0123456789abcdeX", "abcdef.fedcba9876543210", "expire.0123456789abcdef",
        "nouse0.0123456789abcdef", "absent.0123456789abcdef"}) {
    const auto refused = call("POST", kCsrs, {token, "", ""}, csr_object(pem));
    EXPECT_EQ(refused.status, 401) << token;
    EXPECT_EQ(refused.body, kUnauthorized) << token;
  }
  expect_forbidden(call("GET", "/api/v1/nodes", {"abcdef.0123456789abcdef", "", ""}),
                   "nodes is forbidden: User \"system:bootstrap:abcdef\" cannot list resource "
                   "\"nodes\" in API group \"\" at the cluster scope");
}

TEST_F(ApiserverTlsTest, ClusterInfoCarriesTheJwsOfEachSigningTokenLikeTheBootstrapSigner) {
  start();
  create_bootstrap_token("abcdef", "0123456789abcdef");
  create_bootstrap_token("expire", "0123456789abcdef", {{"expiration", "2020-01-01T00:00:00Z"}});
  const std::string kubeconfig = read_file(pki("admin.conf"));
  ASSERT_EQ(call("POST", "/api/v1/namespaces/kube-public/configmaps", admin(),
                 {{"metadata", {{"name", "cluster-info"}}}, {"data", {{"kubeconfig", kubeconfig}}}})
                .status,
            201);
  const auto info = call("GET", "/api/v1/namespaces/kube-public/configmaps/cluster-info", {});
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_FALSE(info.object["data"].contains("jws-kubeconfig-expire")) << info.body;
  const std::string jws = info.object["data"].value("jws-kubeconfig-abcdef", "");
  // RFC 7515 appendix F: header..signature, HS256 over header.payload keyed by the secret.
  const auto dots = jws.find("..");
  ASSERT_NE(dots, std::string::npos) << jws;
  const auto header = jws.substr(0, dots);
  const auto signing_input = header + "." + base64url(kubeconfig);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  const std::string secret = "0123456789abcdef";
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &mac_size);
  EXPECT_EQ(jws.substr(dots + 2),
            base64url(std::string(reinterpret_cast<const char*>(mac), mac_size)));
  const auto header_json = json::parse(unbase64url(header), nullptr, false);
  EXPECT_EQ(header_json["kid"], "abcdef") << jws;
  EXPECT_EQ(header_json["alg"], "HS256") << jws;
}

TEST_F(ApiserverTlsTest, ConfigMapsLiveUnderTheRealEtcdKeysOnBothBackends) {
  for (const auto api : {EtcdApi::v2, EtcdApi::v3}) {
    SCOPED_TRACE(api_name(api));
    start({}, api == EtcdApi::v2 ? "etcd2" : "etcd3");
    const std::string path = "/api/v1/namespaces/kube-system/configmaps";
    const auto name = std::string("config-") + api_name(api);
    const auto created =
        call("POST", path, admin(), {{"metadata", {{"name", name}}}, {"data", {{"a", "1"}}}});
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(created.object["metadata"]["namespace"], "kube-system");
    auto stored = etcd_->client(api).get("/registry/configmaps/kube-system/" + name);
    ASSERT_TRUE(stored.ok() && stored.value()) << "not in etcd";
    EXPECT_EQ(json::parse(stored.value()->value)["data"]["a"], "1");

    EXPECT_EQ(call("POST", path, admin(), created.object).object["reason"], "AlreadyExists");
    EXPECT_EQ(call("POST", "/api/v1/namespaces/elsewhere/configmaps", admin(),
                   {{"metadata", {{"name", "x"}}}})
                  .object["message"],
              "namespaces \"elsewhere\" not found");
    auto changed = created.object;
    changed["data"]["a"] = "2";
    const auto replaced = call("PUT", path + "/" + name, admin(), changed);
    ASSERT_EQ(replaced.status, 200) << replaced.body;
    EXPECT_EQ(replaced.object["metadata"]["uid"], created.object["metadata"]["uid"]);
    const auto stale = call("PUT", path + "/" + name, admin(), changed);
    EXPECT_EQ(stale.status, 409) << stale.body;
    EXPECT_EQ(stale.object["reason"], "Conflict") << stale.body;
    const auto list = call("GET", path, admin());
    EXPECT_EQ(list.object["kind"], "ConfigMapList") << list.body;
    ASSERT_EQ(list.object["items"].size(), 1U) << list.body;
    EXPECT_EQ(list.object["items"][0]["data"]["a"], "2");
    EXPECT_EQ(call("DELETE", path + "/" + name, admin()).status, 200);
    const auto gone = call("GET", path + "/" + name, admin());
    EXPECT_EQ(gone.status, 404);
    EXPECT_EQ(gone.object["message"], "configmaps \"" + name + "\" not found");
    EXPECT_EQ(gone.object["details"], json({{"name", name}, {"kind", "configmaps"}}));
    TearDown();
    apiserver_.reset();
  }
}

// The real kubectl with make-pki's admin.conf: client certificate, discovery, create and get.
TEST_F(ApiserverTlsTest, KubectlWithAdminConfGetsNodesAndCreatesClusterInfo) {
  if (::access(kKubectlBinary, X_OK) != 0) GTEST_SKIP() << kKubectlBinary << " is not installed";
  start();
  ASSERT_EQ(
      call("POST", "/api/v1/nodes", admin(), kubelet_node("node-a", rfc3339(std::time(nullptr))))
          .status,
      201);
  const auto kubectl = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv{kKubectlBinary, "--kubeconfig", pki("admin.conf"), "--cache-dir",
                                  pki_ / "cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess child(argv, {{"HOME", pki_.path().string()}});
    const auto status = child.wait_exit(std::chrono::seconds(30));
    EXPECT_EQ(exit_description(status), "exit code 0") << child.output();
    return child.output();
  };
  const auto nodes = kubectl({"get", "nodes"});
  EXPECT_NE(nodes.find("node-a"), std::string::npos) << nodes;
  EXPECT_NE(nodes.find("Ready"), std::string::npos) << nodes;

  const auto file = pki_ / "kubeconfig";
  write_file(file, "apiVersion: v1\nkind: Config\nclusters: []\n");
  EXPECT_NE(kubectl({"create", "configmap", "cluster-info", "-n", "kube-public",
                     "--from-file=kubeconfig=" + file})
                .find("configmap/cluster-info created"),
            std::string::npos);
  const auto got =
      json::parse(kubectl({"get", "configmap", "-n", "kube-public", "cluster-info", "-o", "json"}),
                  nullptr, false);
  ASSERT_FALSE(got.is_discarded());
  EXPECT_EQ(got["data"]["kubeconfig"], "apiVersion: v1\nkind: Config\nclusters: []\n") << got;

  write_file(pki_ / "secret.json",
             json{{"apiVersion", "v1"},
                  {"kind", "Secret"},
                  {"metadata", {{"name", "bootstrap-token-kubect"}, {"namespace", "kube-system"}}},
                  {"type", "bootstrap.kubernetes.io/token"},
                  {"stringData",
                   {{"token-id", "kubect"},
                    {"token-secret", "0123456789abcdef"},
                    {"usage-bootstrap-authentication", "true"}}}}
                 .dump());
  EXPECT_NE(kubectl({"create", "-f", pki_ / "secret.json", "--validate=false"})
                .find("secret/bootstrap-token-kubect created"),
            std::string::npos);
  std::string pem;
  make_csr("kubectl-node", "/O=system:nodes/CN=system:node:kubectl-node", &pem);
  EXPECT_EQ(call("POST", kCsrs, {"kubect.0123456789abcdef", "", ""}, csr_object(pem)).status, 201);

  // Server-side Tables, the real columns.
  const auto csrs = kubectl({"get", "csr"});
  EXPECT_NE(csrs.find("SIGNERNAME"), std::string::npos) << csrs;
  EXPECT_NE(csrs.find("system:bootstrap:kubect"), std::string::npos) << csrs;
  EXPECT_NE(csrs.find("Approved,Issued"), std::string::npos) << csrs;
  const auto configmaps = kubectl({"get", "configmaps", "-n", "kube-public"});
  EXPECT_NE(configmaps.find("DATA"), std::string::npos) << configmaps;
}

}  // namespace
}  // namespace kna::test::apiserver_tls
