#pragma once
// A TLS API server in the test that serves kube-public/cluster-info and answers the token check
// of discovery (clients/cluster_discovery.hpp), with two CAs made by the openssl command; the
// server's certificate (127.0.0.1) is signed by the first.

#include <httplib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "clients/etcd_encoding.hpp"
#include "clients/join_trust.hpp"

namespace kna::test {

inline constexpr const char* kToken = "abcdef.0123456789abcdef";

inline std::string slurp(const std::string& path) {
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

inline const Pki& pki() {
  static const Pki p;
  return p;
}

inline std::string kubeadm_yaml(const std::string& server, const std::string& ca_pem) {
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

}  // namespace kna::test
