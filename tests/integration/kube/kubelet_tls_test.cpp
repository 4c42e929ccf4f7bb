// The stand-ins' side of joining a cluster over TLS (issue 14): read_kubeconfig's credential
// forms, the API client over HTTPS (the CA verified, the client certificate presented, the token
// sent), and the kubelet stand-in's TLS bootstrap against a fake API server that signs its CSR.

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "kube/standin_api.hpp"
#include "kubelet_fake_tls_api.hpp"
#include "kubelet_harness.hpp"

namespace kna::test::kubelet_standin {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using standins::ApiClient;
using standins::ApiServer;
using standins::read_kubeconfig;

void write_file(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string base64_of_file(const std::string& path) {
  return etcd::base64_encode(read_text(path));
}

// A JSON kubeconfig with one cluster, user and context.
json kubeconfig(const json& cluster, const json& user) {
  return {{"apiVersion", "v1"},
          {"kind", "Config"},
          {"clusters", {{{"name", "c"}, {"cluster", cluster}}}},
          {"users", {{{"name", "u"}, {"user", user}}}},
          {"contexts", {{{"name", "x"}, {"context", {{"cluster", "c"}, {"user", "u"}}}}}},
          {"current-context", "x"}};
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 0777) : 0;
}

// --- read_kubeconfig

TEST(StandinKubeconfig, ReadsFilePathsRelativeToTheKubeconfigsFolder) {
  TempDir dir;
  fs::create_directories(dir / "conf");
  write_file(dir / "conf/kubeconfig", kubeconfig({{"server", "https://10.0.0.1:6443/"},
                                                  {"certificate-authority", "pki/ca.crt"}},
                                                 {{"client-certificate", "/abs/admin.crt"},
                                                  {"client-key", "pki/admin.key"},
                                                  {"tokenFile", "token"}})
                                          .dump());
  const auto server = read_kubeconfig(dir / "conf/kubeconfig");
  ASSERT_TRUE(server) << server.error().message;
  EXPECT_EQ(server.value().url, "https://10.0.0.1:6443");
  EXPECT_EQ(server.value().ca_file, dir / "conf/pki/ca.crt");
  EXPECT_EQ(server.value().client_cert_file, "/abs/admin.crt");
  EXPECT_EQ(server.value().client_key_file, dir / "conf/pki/admin.key");
  EXPECT_EQ(server.value().token_file, dir / "conf/token");
  EXPECT_FALSE(server.value().insecure_skip_tls_verify);
}

TEST(StandinKubeconfig, DecodesTheDataFormsAndReadsTokenAndInsecure) {
  TempDir dir;
  write_file(dir / "kubeconfig",
             kubeconfig({{"server", "https://h:6443"}, {"certificate-authority-data", "Q0EK"}},
                        {{"client-certificate-data", "Q0VSVAo="},
                         {"client-key-data", "S0VZCg=="},
                         {"token", "abcdef.0123456789abcdef"}})
                 .dump());
  const auto server = read_kubeconfig(dir / "kubeconfig");
  ASSERT_TRUE(server) << server.error().message;
  EXPECT_EQ(server.value().ca_pem, "CA\n");
  EXPECT_EQ(server.value().client_cert_pem, "CERT\n");
  EXPECT_EQ(server.value().client_key_pem, "KEY\n");
  EXPECT_EQ(server.value().token, "abcdef.0123456789abcdef");

  write_file(
      dir / "insecure",
      kubeconfig({{"server", "https://h:6443"}, {"insecure-skip-tls-verify", true}}, {}).dump());
  const auto insecure = read_kubeconfig(dir / "insecure");
  ASSERT_TRUE(insecure) << insecure.error().message;
  EXPECT_TRUE(insecure.value().insecure_skip_tls_verify);
}

TEST(StandinKubeconfig, RefusesYamlBadBase64AndHalfACredential) {
  TempDir dir;
  write_file(dir / "yaml", "apiVersion: v1\nkind: Config\n");
  const auto yaml = read_kubeconfig(dir / "yaml");
  ASSERT_FALSE(yaml);
  EXPECT_NE(yaml.error().message.find("is not JSON"), std::string::npos);

  write_file(
      dir / "b64",
      kubeconfig({{"server", "https://h"}, {"certificate-authority-data", "%%%"}}, {}).dump());
  const auto b64 = read_kubeconfig(dir / "b64");
  ASSERT_FALSE(b64);
  EXPECT_NE(b64.error().message.find("certificate-authority-data is not base64"),
            std::string::npos);

  write_file(dir / "half",
             kubeconfig({{"server", "https://h"}}, {{"client-certificate", "c"}}).dump());
  const auto half = read_kubeconfig(dir / "half");
  ASSERT_FALSE(half);
  EXPECT_NE(half.error().message.find("client-certificate and client-key"), std::string::npos);

  write_file(dir / "both", kubeconfig({{"server", "https://h"},
                                       {"certificate-authority", "ca.crt"},
                                       {"insecure-skip-tls-verify", true}},
                                      {})
                               .dump());
  EXPECT_FALSE(read_kubeconfig(dir / "both"));
}

// --- the API client over HTTPS

class StandinApiClientTls : public ::testing::Test {
 protected:
  StandinApiClientTls() {
    make_pki(pki_);
    api_ = std::make_unique<FakeTlsApiServer>(pki_, FakeTlsApiServer::Options{});
  }

  ApiServer server_with_ca() {
    ApiServer s;
    s.url = api_->url();
    s.ca_file = pki_ + "/ca.crt";
    return s;
  }

  TempDir dir_;
  std::string pki_ = dir_ / "pki";
  std::unique_ptr<FakeTlsApiServer> api_;
};

TEST_F(StandinApiClientTls, VerifiesTheServerAgainstTheCaAndPresentsTheClientCertificate) {
  auto s = server_with_ca();
  s.client_cert_file = pki_ + "/admin.crt";
  s.client_key_file = pki_ + "/admin.key";
  const auto reply = ApiClient(s, "test/v1").get("/api/v1/nodes");
  EXPECT_EQ(reply.status, 200) << reply.error << reply.body;
  const auto seen = api_->requests("GET", "/api/v1/nodes");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].client_cn, "kubernetes-admin");
  EXPECT_EQ(seen[0].authorization, "");
}

TEST_F(StandinApiClientTls, SendsTheTokenAndTakesTheCaAsData) {
  ApiServer s;
  s.url = api_->url();
  s.ca_pem = read_text(pki_ + "/ca.crt");
  s.token = api_->token();
  const auto reply = ApiClient(s, "test/v1").get("/api/v1/nodes");
  EXPECT_EQ(reply.status, 200) << reply.error << reply.body;
  const auto seen = api_->requests("GET", "/api/v1/nodes");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].authorization, "Bearer " + api_->token());
  EXPECT_EQ(seen[0].client_cn, "");
}

TEST_F(StandinApiClientTls, AnotherCaIsRefusedBeforeAnyRequestIsSent) {
  TempDir other;
  make_pki(other / "pki");
  auto s = server_with_ca();
  s.ca_file = other / "pki/ca.crt";
  s.token = api_->token();
  const auto reply = ApiClient(s, "test/v1").get("/api/v1/nodes");
  EXPECT_EQ(reply.status, 0);
  EXPECT_EQ(reply.error, "x509: certificate signed by unknown authority");
  EXPECT_TRUE(api_->requests("GET", "/api/v1/nodes").empty());
  // No CA at all: the system's roots, which do not hold the test CA either.
  s.ca_file.clear();
  EXPECT_EQ(ApiClient(s, "test/v1").get("/api/v1/nodes").error,
            "x509: certificate signed by unknown authority");
  // insecure-skip-tls-verify is the one way past it.
  s.insecure_skip_tls_verify = true;
  EXPECT_EQ(ApiClient(s, "test/v1").get("/api/v1/nodes").status, 200);
}

TEST_F(StandinApiClientTls, AServerCertificateForAnotherAddressIsRefused) {
  auto s = server_with_ca();
  // The certificate names 127.0.0.1 and localhost.
  const auto port = api_->url().substr(api_->url().rfind(':') + 1);
  s.url = "https://localhost:" + port;
  EXPECT_EQ(ApiClient(s, "test/v1").get("/healthz").status, 200);
  FakeTlsApiServer::Options elsewhere;
  elsewhere.host = "127.0.0.2";
  FakeTlsApiServer other(pki_, elsewhere);
  s.url = other.url();
  const auto reply = ApiClient(s, "test/v1").get("/healthz");
  EXPECT_EQ(reply.status, 0);
  EXPECT_EQ(reply.error, "x509: certificate is not valid for 127.0.0.2");
  EXPECT_TRUE(other.requests("GET", "/healthz").empty());
}

TEST_F(StandinApiClientTls, UnreadableCredentialsAreReportedNotSent) {
  auto s = server_with_ca();
  s.client_cert_file = dir_ / "missing.crt";
  s.client_key_file = dir_ / "missing.key";
  const auto reply = ApiClient(s, "test/v1").get("/api/v1/nodes");
  EXPECT_EQ(reply.status, 0);
  EXPECT_NE(reply.error.find("cannot read client-certificate " + dir_ / "missing.crt"),
            std::string::npos)
      << reply.error;
  EXPECT_TRUE(api_->requests("GET", "/api/v1/nodes").empty());
}

// --- the kubelet's TLS bootstrap

class KubeletTlsBootstrap : public ::testing::Test {
 protected:
  void SetUp() override { make_pki(pki_); }

  void start_api(FakeTlsApiServer::Options options = {}) {
    api_ = std::make_unique<FakeTlsApiServer>(pki_, options);
    // The CA by a path relative to the bootstrap kubeconfig's folder.
    fs::copy_file(pki_ + "/ca.crt", dir_ / "ca.crt", fs::copy_options::overwrite_existing);
    write_file(bootstrap_,
               kubeconfig({{"server", api_->url()}, {"certificate-authority", "ca.crt"}},
                          {{"token", api_->token()}})
                   .dump());
  }

  Standin start_kubelet(const std::string& version = "v1.18.0") {
    return Standin(
        "kubelet",
        {"--kubeconfig=" + kubeconfig_, "--bootstrap-kubeconfig=" + bootstrap_,
         "--cert-dir=" + cert_dir_, "--rotate-certificates", "--hostname-override=node-tls"},
        version, {{"KNA_STANDIN_STATUS_PERIOD_S", "0.3"}});
  }

  TempDir dir_;
  std::string pki_ = dir_ / "pki";
  std::string bootstrap_ = dir_ / "bootstrap-kubelet.conf";
  std::string kubeconfig_ = dir_ / "kubelet.conf";
  std::string cert_dir_ = dir_ / "kubelet-pki";
  std::string current_ = cert_dir_ + "/kubelet-client-current.pem";
  std::unique_ptr<FakeTlsApiServer> api_;
};

const std::string kCsrs = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

TEST_F(KubeletTlsBootstrap, AsksForACertificateWithTheTokenThenRegistersWithIt) {
  start_api();
  auto kubelet = start_kubelet();
  const auto posts = api_->wait_for("POST", kCsrs, 1, 10s);
  ASSERT_EQ(posts.size(), 1u) << kubelet.output();
  EXPECT_EQ(posts[0].authorization, "Bearer " + api_->token());
  const auto csr = posts[0].json();
  EXPECT_EQ(csr["apiVersion"], "certificates.k8s.io/v1");
  EXPECT_EQ(csr["kind"], "CertificateSigningRequest");
  EXPECT_EQ(csr["metadata"]["generateName"], "node-csr-");
  EXPECT_EQ(csr["spec"]["signerName"], "kubernetes.io/kube-apiserver-client-kubelet");
  EXPECT_EQ(csr["spec"]["usages"], json::parse(R"(["digital signature","client auth"])"));
  const auto request = etcd::base64_decode(csr["spec"].value("request", ""));
  ASSERT_TRUE(request);
  EXPECT_NE(request->find("-----BEGIN CERTIFICATE REQUEST-----"), std::string::npos);

  // Registered with the issued certificate, not the token.
  const auto nodes = api_->wait_for("POST", "/api/v1/nodes", 1, 20s);
  ASSERT_EQ(nodes.size(), 1u) << kubelet.output();
  EXPECT_EQ(nodes[0].client_cn, "system:node:node-tls");
  EXPECT_EQ(nodes[0].authorization, "");
  EXPECT_GE(api_->requests("GET", kCsrs + "/node-csr-1").size(), 2u);
  EXPECT_TRUE(
      kubelet.logged("certificate signing request node-csr-1 is approved, waiting to be "
                     "issued"))
      << kubelet.output();
  EXPECT_TRUE(kubelet.logged("Successfully registered node node-tls"));
  const auto beats = api_->wait_for("PATCH", "/api/v1/nodes/node-tls/status", 2, 10s);
  ASSERT_EQ(beats.size(), 2u) << kubelet.output();
  EXPECT_EQ(beats[1].client_cn, "system:node:node-tls");

  // The certificate and key in one file, 0600, behind the -current link; the kubeconfig 0600.
  ASSERT_TRUE(fs::is_symlink(current_));
  const auto target = fs::read_symlink(current_);
  EXPECT_TRUE(
      std::regex_match(target.filename().string(),
                       std::regex(R"(kubelet-client-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.pem)")))
      << target;
  EXPECT_EQ(mode_of(current_), 0600u);
  const auto pem = read_text(current_);
  EXPECT_NE(pem.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  EXPECT_NE(pem.find("-----BEGIN EC PRIVATE KEY-----"), std::string::npos);
  EXPECT_EQ(mode_of(kubeconfig_), 0600u);
  const auto written = json::parse(read_text(kubeconfig_), nullptr, false);
  ASSERT_TRUE(written.is_object()) << read_text(kubeconfig_);
  EXPECT_EQ(written["clusters"][0]["cluster"]["server"], api_->url());
  EXPECT_EQ(written["clusters"][0]["cluster"]["certificate-authority"], dir_ / "ca.crt");
  EXPECT_EQ(written["users"][0]["user"]["client-certificate"], current_);
  EXPECT_EQ(written["users"][0]["user"]["client-key"], current_);
  EXPECT_FALSE(written["users"][0]["user"].contains("token"));
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();

  // A second start uses the kubeconfig as it is: no new CSR.
  auto again = start_kubelet();
  EXPECT_TRUE(
      again.logged("Kubeconfig " + kubeconfig_ + " exists and is valid, skipping bootstrap"))
      << again.output();
  ASSERT_EQ(api_->wait_for("POST", "/api/v1/nodes", 2, 10s).size(), 2u) << again.output();
  EXPECT_EQ(api_->requests("POST", kCsrs).size(), 1u);
  EXPECT_EQ(again.stop(), "exit code 0") << again.output();

  // Without the kubeconfig, the certificate in the cert-dir is reused and the kubeconfig
  // written again.
  fs::remove(kubeconfig_);
  auto third = start_kubelet();
  EXPECT_TRUE(third.logged("Current client certificate " + current_ + " is still valid"))
      << third.output();
  ASSERT_EQ(api_->wait_for("POST", "/api/v1/nodes", 3, 10s).size(), 3u) << third.output();
  EXPECT_EQ(api_->requests("POST", kCsrs).size(), 1u);
  EXPECT_TRUE(fs::exists(kubeconfig_));
  EXPECT_EQ(third.stop(), "exit code 0") << third.output();
}

TEST_F(KubeletTlsBootstrap, AnIssuedCertificateThatHasExpiredIsRefused) {
  FakeTlsApiServer::Options expired;
  expired.cert_days = -1;
  start_api(expired);
  auto first = start_kubelet();
  EXPECT_EQ(first.exit_within(20s), "exit code 1") << first.output();
  EXPECT_NE(first.output().find("the certificate has expired"), std::string::npos)
      << first.output();
}

TEST_F(KubeletTlsBootstrap, RetriesACsrRefusedWith401AndLogsItOnce) {
  FakeTlsApiServer::Options refuse;
  refuse.unauthorized_csr_posts = 2;
  start_api(refuse);
  auto kubelet = start_kubelet();
  ASSERT_EQ(api_->wait_for("POST", "/api/v1/nodes", 1, 30s).size(), 1u) << kubelet.output();
  EXPECT_EQ(api_->requests("POST", kCsrs).size(), 3u);
  EXPECT_EQ(kubelet.count("Failed to create certificate signing request: 401 Unauthorized"), 1)
      << kubelet.output();
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
}

TEST_F(KubeletTlsBootstrap, WaitsForAnApiServerThatIsNotUpYetAndStopsOnSigterm) {
  start_api();
  api_->stop();
  auto kubelet = start_kubelet();
  EXPECT_TRUE(kubelet.logged("Failed to connect to apiserver " + api_->url() + ": cannot connect"))
      << kubelet.output();
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
  EXPECT_FALSE(fs::exists(kubeconfig_));
}

TEST_F(KubeletTlsBootstrap, ADeniedCsrEndsTheKubeletWithTheReason) {
  FakeTlsApiServer::Options deny;
  deny.deny = true;
  start_api(deny);
  auto kubelet = start_kubelet();
  EXPECT_EQ(kubelet.exit_within(20s), "exit code 1") << kubelet.output();
  EXPECT_NE(kubelet.output().find("certificate signing request node-csr-1 is denied, reason: "
                                  "TestDenied, message: denied by the test"),
            std::string::npos)
      << kubelet.output();
  EXPECT_FALSE(fs::exists(kubeconfig_));
}

// --- with the kube-apiserver stand-in

// The whole join against the API server stand-in's secure port: a static bootstrap token
// (--token-auth-file, group system:bootstrappers), its CSR auto-approval and signing with the
// cluster CA, and the Node authorizer letting the kubelet write its own node.
TEST(KubeletWithApiserverStandin, BootstrapsOverTlsAndRegistersTheNodeWithItsCertificate) {
  KNA_REQUIRE_ETCD();
  EtcdProcess etcd;
  ASSERT_TRUE(etcd.ready()) << etcd.log();
  TempDir dir;
  const std::string pki = dir / "pki";
  make_pki(pki);
  const std::string token = "kubelet-bootstrap-token-4711";
  write_file(dir / "tokens.csv", token + ",kubelet-bootstrap,10001,\"system:bootstrappers\"\n");
  const int port = free_port();
  const std::string url = "https://127.0.0.1:" + std::to_string(port);
  ChildProcess apiserver(
      {kHyperkube, "apiserver", "--etcd-servers=" + etcd.endpoint(), "--storage-backend=etcd3",
       "--bind-address=127.0.0.1", "--secure-port=" + std::to_string(port),
       "--advertise-address=127.0.0.1", "--tls-cert-file=" + pki + "/apiserver.crt",
       "--tls-private-key-file=" + pki + "/apiserver.key", "--client-ca-file=" + pki + "/ca.crt",
       "--enable-bootstrap-token-auth=true", "--token-auth-file=" + dir / "tokens.csv",
       "--authorization-mode=Node,RBAC"},
      {{"KNA_STANDIN_VERSION", "v1.30.2"}});
  ASSERT_TRUE(apiserver.wait_for_output("Serving securely on ", 10s)) << apiserver.output();

  write_file(
      dir / "bootstrap.conf",
      kubeconfig({{"server", url}, {"certificate-authority-data", base64_of_file(pki + "/ca.crt")}},
                 {{"token", token}})
          .dump());
  Standin kubelet(
      "kubelet",
      {"--kubeconfig=" + dir / "kubelet.conf", "--bootstrap-kubeconfig=" + dir / "bootstrap.conf",
       "--cert-dir=" + dir / "kubelet-pki", "--rotate-certificates",
       "--hostname-override=node-real"},
      "v1.30.2", {{"KNA_STANDIN_STATUS_PERIOD_S", "0.5"}});
  EXPECT_TRUE(kubelet.logged("Successfully registered node node-real", 30s))
      << kubelet.output() << "\n--- apiserver\n"
      << apiserver.output();

  // The admin sees the node, Ready, and the CSR approved and issued.
  ApiServer admin;
  admin.url = url;
  admin.ca_file = pki + "/ca.crt";
  admin.client_cert_file = pki + "/admin.crt";
  admin.client_key_file = pki + "/admin.key";
  const ApiClient as_admin(admin, "test/v1");
  const auto node = as_admin.get("/api/v1/nodes/node-real");
  ASSERT_EQ(node.status, 200) << node.error << node.body;
  const auto csrs = json::parse(as_admin.get(kCsrs).body, nullptr, false);
  ASSERT_TRUE(csrs.is_object() && csrs["items"].size() == 1u) << csrs;
  EXPECT_EQ(csrs["items"][0]["spec"]["username"], "kubelet-bootstrap");
  EXPECT_FALSE(csrs["items"][0]["status"].value("certificate", "").empty());
  const auto written = json::parse(read_text(dir / "kubelet.conf"), nullptr, false);
  EXPECT_EQ(written["clusters"][0]["cluster"]["certificate-authority-data"],
            base64_of_file(pki + "/ca.crt"));
  EXPECT_EQ(kubelet.stop(), "exit code 0") << kubelet.output();
  apiserver.signal(SIGTERM);
  EXPECT_EQ(exit_description(apiserver.wait_exit(10s)), "exit code 0");
}

// --- flags and the other components

TEST(KubeletTlsFlags, BootstrapFlagsExistOnlyInTheVersionsThatHaveThem) {
  struct FlagCase {
    std::string version;
    std::string flag;
    bool known;
  };
  const FlagCase cases[] = {
      {"v1.3.6", "--cert-dir=/tmp/pki", true},
      {"v1.3.6", "--experimental-bootstrap-kubeconfig=/tmp/b", false},
      {"v1.4.0", "--experimental-bootstrap-kubeconfig=/tmp/b", true},
      {"v1.6.0", "--bootstrap-kubeconfig=/tmp/b", false},
      {"v1.7.0", "--bootstrap-kubeconfig=/tmp/b", true},
      {"v1.22.0", "--experimental-bootstrap-kubeconfig=/tmp/b", true},
      {"v1.23.0", "--experimental-bootstrap-kubeconfig=/tmp/b", false},
      {"v1.7.0", "--rotate-certificates", false},
      {"v1.8.0", "--rotate-certificates", true},
      {"v1.30.0", "--bootstrap-kubeconfig=/tmp/b", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.version + " " + c.flag);
    Standin kubelet("kubelet", {c.flag, "--version"}, c.version);
    EXPECT_EQ(kubelet.exit_within(10s), c.known ? "exit code 0" : "exit code 1")
        << kubelet.output();
  }
}

TEST_F(StandinApiClientTls, ProxyAndControllerManagerUseTheKubeconfigsTlsCredentials) {
  // The admin's certificate as data, the CA as a file.
  write_file(dir_ / "admin.conf",
             kubeconfig({{"server", api_->url()}, {"certificate-authority", "pki/ca.crt"}},
                        {{"client-certificate-data", base64_of_file(pki_ + "/admin.crt")},
                         {"client-key-data", base64_of_file(pki_ + "/admin.key")}})
                 .dump());
  Standin proxy("proxy", {"--kubeconfig=" + dir_ / "admin.conf"}, "v1.18.0",
                {{"KNA_STANDIN_STATUS_PERIOD_S", "0.2"}});
  EXPECT_TRUE(proxy.logged("API server " + api_->url() + " reachable")) << proxy.output();
  const auto lists = api_->requests("GET", "/api/v1/nodes");
  ASSERT_FALSE(lists.empty());
  EXPECT_EQ(lists[0].client_cn, "kubernetes-admin");
  EXPECT_EQ(proxy.stop(), "exit code 0") << proxy.output();

  // Another CA: the controller-manager says why, once, and goes on.
  TempDir other;
  make_pki(other / "pki");
  write_file(dir_ / "wrong-ca.conf",
             kubeconfig({{"server", api_->url()}, {"certificate-authority", other / "pki/ca.crt"}},
                        {{"token", api_->token()}})
                 .dump());
  Standin cm("controller-manager", {"--kubeconfig=" + dir_ / "wrong-ca.conf"}, "v1.18.0",
             {{"KNA_STANDIN_STATUS_PERIOD_S", "0.2"}});
  EXPECT_TRUE(cm.logged("API server " + api_->url() +
                        " unreachable: x509: certificate signed by unknown authority"))
      << cm.output();
  EXPECT_EQ(cm.stop(), "exit code 0") << cm.output();
  EXPECT_EQ(cm.count("unknown authority"), 1) << cm.output();
}

}  // namespace
}  // namespace kna::test::kubelet_standin
