// Discovery by token and pin against a TLS server in the test (certificates made with the openssl
// command): the CA accepted only when it matches the pin, cluster-info's JWS checked when present,
// the token checked by a second request verified against the pinned CA; and the kubeconfig forms
// cluster-info comes in (kubeadm's YAML, JSON).

#include "clients/cluster_discovery.hpp"

#include <httplib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "clients/etcd_encoding.hpp"
#include "clients/join_trust.hpp"

namespace kna {
namespace {

using testing::HasSubstr;

constexpr const char* kToken = "abcdef.0123456789abcdef";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Two CAs; the server's certificate (127.0.0.1) is signed by the first.
struct Pki {
  std::filesystem::path dir;
  bool made{false};
  std::string skip_reason;

  Pki() {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
      skip_reason = "the openssl command is not installed (apt-get install openssl)";
      return;
    }
    dir = std::filesystem::temp_directory_path() / ("kna-discovery-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string d = dir.string();
    const std::string quiet = " >/dev/null 2>&1";
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes ";
    for (const char* ca : {"ca", "other-ca"})
      if (std::system(("openssl req -x509 " + ec + "-keyout " + d + "/" + ca + ".key -out " + d +
                       "/" + ca + ".crt -days 2 -subj /CN=" + ca + quiet)
                          .c_str()) != 0)
        return;
    std::ofstream(d + "/san.ext") << "subjectAltName=IP:127.0.0.1\n";
    made = std::system(("openssl req " + ec + "-keyout " + d + "/server.key -out " + d +
                        "/server.csr -subj /CN=kube-apiserver" + quiet + " && openssl x509 -req " +
                        "-in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " + d +
                        "/ca.key -CAcreateserial -days 2 -extfile " + d + "/san.ext -out " + d +
                        "/server.crt" + quiet)
                           .c_str()) == 0;
  }
  ~Pki() {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
  std::string pin(const std::string& ca) const { return ca_pin_of(slurp(path(ca))).value(); }
};

const Pki& pki() {
  static const Pki p;
  return p;
}

std::string kubeadm_yaml(const std::string& server, const std::string& ca_pem) {
  return "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: " +
         etcd::base64_encode(ca_pem) + "\n    server: " + server +
         "\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\nkind: Config\npreferences: {}\n"
         "users: null\n";
}

// A TLS API server serving cluster-info and answering the token check.
class FakeApiServer {
 public:
  FakeApiServer() : server_(pki().path("server.crt").c_str(), pki().path("server.key").c_str()) {
    server_.Get("/api/v1/namespaces/kube-public/configmaps/cluster-info",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard lock(mutex_);
                  cluster_info_auth_ = req.get_header_value("Authorization");
                  res.status = cluster_info_status_;
                  res.set_content(cluster_info_.dump(), "application/json");
                });
    server_.Get("/apis/certificates.k8s.io/v1/certificatesigningrequests",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard lock(mutex_);
                  token_check_auth_ = req.get_header_value("Authorization");
                  res.status = token_status_;
                  res.set_content(R"({"kind":"Status"})", "application/json");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeApiServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  // cluster-info naming `ca` (a file of the PKI), signed for `jws_tokens`.
  void serve_ca(const std::string& ca, const std::vector<std::string>& jws_tokens = {}) {
    std::lock_guard lock(mutex_);
    const std::string kubeconfig = kubeadm_yaml(url(), slurp(pki().path(ca)));
    cluster_info_ = {{"kind", "ConfigMap"}, {"data", {{"kubeconfig", kubeconfig}}}};
    for (const auto& t : jws_tokens) {
      const auto token = parse_bootstrap_token(t).value();
      cluster_info_["data"]["jws-kubeconfig-" + token.id] = sign_detached_jws(kubeconfig, token);
    }
  }
  void set_token_status(int status) {
    std::lock_guard lock(mutex_);
    token_status_ = status;
  }
  void set_cluster_info_status(int status) {
    std::lock_guard lock(mutex_);
    cluster_info_status_ = status;
  }
  std::string cluster_info_auth() {
    std::lock_guard lock(mutex_);
    return cluster_info_auth_;
  }
  std::string token_check_auth() {
    std::lock_guard lock(mutex_);
    return token_check_auth_;
  }

 private:
  httplib::SSLServer server_;
  int port_{0};
  std::thread thread_;
  std::mutex mutex_;
  nlohmann::json cluster_info_ = nlohmann::json::object();
  int cluster_info_status_{200};
  int token_status_{200};
  std::string cluster_info_auth_{"unset"};
  std::string token_check_auth_;
};

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
  EXPECT_THAT(ca.error().message, HasSubstr("signature for token id abcdef does not match"));
}

TEST_F(Discovery, NoClusterInfoSaysWhatToDo) {
  server_->serve_ca("ca.crt");
  server_->set_cluster_info_status(404);
  auto ca = discover_cluster(request(pki().pin("ca.crt")));
  ASSERT_FALSE(ca);
  EXPECT_THAT(ca.error().message, HasSubstr("no cluster-info ConfigMap"));
  EXPECT_THAT(ca.error().message, HasSubstr("cluster.ca_file"));
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
