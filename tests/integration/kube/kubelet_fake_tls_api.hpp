#pragma once
// A fake Kubernetes API server over TLS for the kubelet's TLS bootstrap tests: it serves with a
// certificate of a test CA, takes client certificates signed by that CA when offered (like the
// real one), a bootstrap token, and the certificates.k8s.io/v1 CSR API, which it approves and
// signs with the test CA after a few polls. It records every request with the identity it
// authenticated, so that tests can see who registered the node.

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <nlohmann/json.hpp>

#include "clients/etcd_encoding.hpp"
#include "support/subprocess.hpp"

namespace kna::test::kubelet_standin {

inline constexpr const char* kMakePki = KNA_MAKE_PKI;

// A test PKI from tests/helpers/make-pki in `dir`: ca.crt/.key, apiserver.crt/.key for
// 127.0.0.1, admin.crt/.key (CN=kubernetes-admin).
inline void make_pki(const std::string& dir) {
  const auto done =
      run_program({kMakePki, dir, "--ip", "127.0.0.1"}, {{"PATH", "/usr/local/bin:/usr/bin:/bin"}});
  if (done.exit_code != 0) throw std::runtime_error("make-pki failed: " + done.err);
}

// The common name of the certificate of `pem` (a certificate or a CSR), "" when none.
inline std::string common_name_of(X509_NAME* name) {
  char cn[256] = {};
  return name != nullptr && X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof(cn)) > 0
             ? std::string(cn)
             : std::string();
}

// Signs the PEM CSR `csr_pem` with the CA in `pki` for `days` (negative: already expired).
inline std::string sign_csr(const std::string& pki, const std::string& csr_pem, int days = 1) {
  auto read = [](const std::string& path) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
    return bio;
  };
  auto ca_bio = read(pki + "/ca.crt");
  auto key_bio = read(pki + "/ca.key");
  std::unique_ptr<X509, decltype(&X509_free)> ca(
      PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr), X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> ca_key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> csr_bio(
      BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())), BIO_free);
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> req(
      PEM_read_bio_X509_REQ(csr_bio.get(), nullptr, nullptr, nullptr), X509_REQ_free);
  if (!ca || !ca_key || !req) throw std::runtime_error("sign_csr: unreadable CA or CSR");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pub(X509_REQ_get_pubkey(req.get()),
                                                          EVP_PKEY_free);
  if (X509_REQ_verify(req.get(), pub.get()) != 1)
    throw std::runtime_error("sign_csr: the CSR's signature does not verify");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  static long serial = 1000;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++serial);
  X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(req.get()));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  const long day = 24L * 3600;
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), days > 0 ? -60 : (days - 1) * day);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * day);
  X509_set_pubkey(cert.get(), pub.get());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : std::vector<std::pair<int, const char*>>{
           {NID_key_usage, "critical,digitalSignature"}, {NID_ext_key_usage, "clientAuth"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) <= 0)
    throw std::runtime_error("sign_csr: signing failed");
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(out.get(), cert.get());
  char* data = nullptr;
  const long size = BIO_ctrl(out.get(), BIO_CTRL_INFO, 0, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

struct TlsRequest {
  std::string method;
  std::string path;
  std::string body;
  std::string authorization;
  std::string client_cn;  // the CN of the verified client certificate, "" without one
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class FakeTlsApiServer {
 public:
  struct Options {
    std::string token{"abcdef.0123456789abcdef"};  // the bootstrap token it accepts
    int unauthorized_csr_posts{0};                 // the first N CSR POSTs answer 401
    int polls_before_issue{2};      // GETs of a CSR before it carries its certificate
    bool deny{false};               // deny every CSR instead
    int cert_days{1};               // validity of the issued certificates
    std::string host{"127.0.0.1"};  // the address it listens on
  };

  // Serves on options.host (a free port) with `pki`'s apiserver.crt, trusting its ca.crt.
  FakeTlsApiServer(std::string pki, Options options) : pki_(std::move(pki)), options_(options) {
    server_ = std::make_unique<httplib::SSLServer>([this](SSL_CTX& ctx) {
      const auto ca = pki_ + "/ca.crt";
      return SSL_CTX_use_certificate_chain_file(&ctx, (pki_ + "/apiserver.crt").c_str()) == 1 &&
             SSL_CTX_use_PrivateKey_file(&ctx, (pki_ + "/apiserver.key").c_str(),
                                         SSL_FILETYPE_PEM) == 1 &&
             SSL_CTX_load_verify_locations(&ctx, ca.c_str(), nullptr) == 1 &&
             (SSL_CTX_set_client_CA_list(&ctx, SSL_load_client_CA_file(ca.c_str())), true) &&
             // A client certificate is optional, and verified when given (Go's
             // VerifyClientCertIfGiven).
             (SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr), true);
    });
    if (!server_->is_valid()) throw std::runtime_error("the fake TLS API server has no TLS setup");
    server_->set_logger([this](const httplib::Request& req, const httplib::Response&) {
      TlsRequest r{req.method, req.path, req.body, req.get_header_value("Authorization"),
                   client_cn(req)};
      {
        std::lock_guard lock(mu_);
        requests_.push_back(std::move(r));
      }
      changed_.notify_all();
    });
    routes();
    port_ = server_->bind_to_any_port(options_.host);
    if (port_ <= 0) throw std::runtime_error("the fake TLS API server cannot listen");
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeTlsApiServer() { stop(); }
  FakeTlsApiServer(const FakeTlsApiServer&) = delete;
  FakeTlsApiServer& operator=(const FakeTlsApiServer&) = delete;

  std::string url() const { return "https://" + options_.host + ":" + std::to_string(port_); }
  const std::string& token() const { return options_.token; }

  void stop() {
    if (!thread_.joinable()) return;
    server_->stop();
    thread_.join();
  }

  std::vector<TlsRequest> requests(const std::string& method, const std::string& path) {
    std::lock_guard lock(mu_);
    return matching(method, path);
  }

  std::vector<TlsRequest> wait_for(const std::string& method, const std::string& path,
                                   std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, timeout, [&] { return matching(method, path).size() >= count; });
    auto found = matching(method, path);
    if (found.size() > count) found.resize(count);
    return found;
  }

 private:
  static std::string client_cn(const httplib::Request& req) {
    if (req.ssl == nullptr) return "";
    X509* cert = SSL_get0_peer_certificate(req.ssl);
    if (cert == nullptr || SSL_get_verify_result(req.ssl) != X509_V_OK) return "";
    return common_name_of(X509_get_subject_name(cert));
  }

  // Who sent `req`: "system:node:…" (a client certificate), "system:bootstrap:…" (the token),
  // "" for nobody; `bad` when it sent credentials that are wrong.
  std::string identity(const httplib::Request& req, bool& bad) const {
    bad = false;
    const auto cn = client_cn(req);
    if (!cn.empty()) return cn;
    const auto auth = req.get_header_value("Authorization");
    if (auth.empty()) return "";
    if (auth == "Bearer " + options_.token)
      return "system:bootstrap:" + options_.token.substr(0, options_.token.find('.'));
    bad = true;
    return "";
  }

  static void status(httplib::Response& res, int code, const std::string& reason,
                     const std::string& message) {
    res.status = code;
    res.set_content(nlohmann::json{{"kind", "Status"},
                                   {"apiVersion", "v1"},
                                   {"status", "Failure"},
                                   {"reason", reason},
                                   {"message", message},
                                   {"code", code}}
                        .dump(),
                    "application/json");
  }

  // 401 for bad credentials, 403 when `who` may not; true when the request may go on.
  static bool allowed(httplib::Response& res, const std::string& who, bool bad,
                      const std::string& needed_prefix) {
    if (bad) {
      status(res, 401, "Unauthorized", "Unauthorized");
      return false;
    }
    if (who.rfind(needed_prefix, 0) != 0) {
      status(
          res, 403, "Forbidden",
          "User \"" + (who.empty() ? std::string("system:anonymous") : who) + "\" cannot do this");
      return false;
    }
    return true;
  }

  void routes() {
    const std::string csrs = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
    server_->Post(csrs, [this](const httplib::Request& req, httplib::Response& res) {
      bool bad = false;
      const auto who = identity(req, bad);
      std::lock_guard lock(mu_);
      if (refused_posts_ < options_.unauthorized_csr_posts) {
        ++refused_posts_;
        status(res, 401, "Unauthorized", "Unauthorized");
        return;
      }
      if (!allowed(res, who, bad, "system:bootstrap:")) return;
      auto csr = nlohmann::json::parse(req.body, nullptr, false);
      const auto name = "node-csr-" + std::to_string(++csr_count_);
      csr["metadata"] = {{"name", name}};
      csrs_[name] = {csr, 0};
      res.status = 201;
      res.set_content(csr.dump(), "application/json");
    });
    server_->Get(csrs + "/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
      bool bad = false;
      const auto who = identity(req, bad);
      if (!allowed(res, who, bad, "system:bootstrap:")) return;
      std::lock_guard lock(mu_);
      const auto it = csrs_.find(req.matches[1]);
      if (it == csrs_.end()) return status(res, 404, "NotFound", "not found");
      auto& [csr, polls] = it->second;
      ++polls;
      auto conditions = nlohmann::json::array();
      if (options_.deny) {
        conditions.push_back(
            {{"type", "Denied"}, {"reason", "TestDenied"}, {"message", "denied by the test"}});
      } else if (polls >= options_.polls_before_issue - 1) {
        conditions.push_back({{"type", "Approved"},
                              {"reason", "AutoApproved"},
                              {"message", "Auto approving kubelet client certificate"}});
      }
      csr["status"] = {{"conditions", conditions}};
      if (!options_.deny && polls >= options_.polls_before_issue) {
        const auto request = etcd::base64_decode(csr["spec"].value("request", ""));
        csr["status"]["certificate"] =
            etcd::base64_encode(sign_csr(pki_, request.value_or(""), options_.cert_days));
      }
      res.set_content(csr.dump(), "application/json");
    });
    server_->Post("/api/v1/nodes", [this](const httplib::Request& req, httplib::Response& res) {
      bool bad = false;
      const auto who = identity(req, bad);
      if (!allowed(res, who, bad, "system:node:")) return;
      const auto node = nlohmann::json::parse(req.body, nullptr, false);
      const std::string name = node.is_object() ? node["metadata"].value("name", "") : "";
      std::lock_guard lock(mu_);
      res.status = nodes_.insert(name).second ? 201 : 409;
      res.set_content(node.dump(), "application/json");
    });
    server_->Patch(R"(/api/v1/nodes/([^/]+)/status)",
                   [this](const httplib::Request& req, httplib::Response& res) {
                     bool bad = false;
                     const auto who = identity(req, bad);
                     if (!allowed(res, who, bad, "system:node:")) return;
                     std::lock_guard lock(mu_);
                     res.status = nodes_.count(req.matches[1]) != 0 ? 200 : 404;
                     res.set_content("{}", "application/json");
                   });
    server_->Get("/api/v1/nodes", [this](const httplib::Request& req, httplib::Response& res) {
      bool bad = false;
      const auto who = identity(req, bad);
      if (!allowed(res, who, bad, "")) return;
      res.set_content(R"({"kind":"NodeList","apiVersion":"v1","items":[]})", "application/json");
    });
    server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok", "text/plain");
    });
  }

  std::vector<TlsRequest> matching(const std::string& method, const std::string& path) const {
    std::vector<TlsRequest> out;
    for (const auto& r : requests_)
      if (r.method == method && r.path == path) out.push_back(r);
    return out;
  }

  std::string pki_;
  Options options_;
  std::unique_ptr<httplib::SSLServer> server_;
  int port_{-1};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<TlsRequest> requests_;
  int refused_posts_{0};
  int csr_count_{0};
  std::map<std::string, std::pair<nlohmann::json, int>> csrs_;
  std::set<std::string> nodes_;
};

}  // namespace kna::test::kubelet_standin
