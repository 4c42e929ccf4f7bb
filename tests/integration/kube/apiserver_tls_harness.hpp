#pragma once
// What the tests of the kube-apiserver stand-in's secure port run (apiserver_tls_test.cpp,
// apiserver_csr_test.cpp): a private etcd, a PKI made by tests/helpers/make-pki and the stand-in
// serving only HTTPS, and a client that is anonymous, a bearer token or a client certificate.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "apiserver_harness.hpp"

namespace kna::test::apiserver_tls {

inline constexpr const char* kMakePki = KNA_MAKE_PKI;
inline constexpr const char* kOpenssl = "/usr/bin/openssl";
inline constexpr const char* kKubectlBinary = "/usr/bin/kubectl";
inline constexpr const char* kServingSecurely = "Serving securely on ";
inline constexpr const char* kCsrs = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
inline constexpr const char* kKubeletSigner = "kubernetes.io/kube-apiserver-client-kubelet";
// The real apiserver's 401 body, byte for byte.
inline constexpr const char* kUnauthorized =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})";
inline constexpr const char* kStaticNodeToken = "static-node-token-31415926";
inline constexpr const char* kStaticBootstrapToken = "static-bootstrap-token-2718";

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

inline std::string base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  out.resize(static_cast<std::size_t>(EVP_EncodeBlock(
      reinterpret_cast<unsigned char*>(out.data()),
      reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size()))));
  return out;
}

inline std::string unbase64(const std::string& text) {
  std::string out(text.size() / 4 * 3 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return "";
  std::size_t size = static_cast<std::size_t>(n);
  if (!text.empty() && text.back() == '=') --size;
  if (text.size() > 1 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

inline std::string base64url(const std::string& data) {
  auto text = base64(data);
  for (auto& c : text) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

inline std::string unbase64url(std::string text) {
  for (auto& c : text) c = c == '-' ? '+' : c == '_' ? '/' : c;
  text.append((4 - text.size() % 4) % 4, '=');
  return unbase64(text);
}

// Who makes a request: nobody (anonymous), a bearer token or a client certificate.
struct Credentials {
  std::string token;
  std::string cert;  // file paths
  std::string key;
};

// A private etcd, a PKI and the stand-in serving only its secure port (v1.30: no insecure port).
class ApiserverTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KNA_REQUIRE_ETCD();
    etcd_.emplace();
    ASSERT_TRUE(etcd_->ready()) << "etcd did not start:\n" << etcd_->log();
    port_ = free_port();
    ChildProcess pki({kMakePki, pki_ / "pki", "--ip", "127.0.0.1", "--server",
                      "https://127.0.0.1:" + std::to_string(port_)});
    ASSERT_EQ(exit_description(pki.wait_exit(std::chrono::seconds(30))), "exit code 0")
        << pki.output();
    write_file(pki_ / "tokens.csv",
               std::string(kStaticNodeToken) + ",system:node:static-node,1001,\"system:nodes\"\n" +
                   kStaticBootstrapToken + ",kubelet-bootstrap,10001,\"system:bootstrappers\"\n");
  }

  void start(const std::vector<std::string>& extra = {}, const std::string& backend = "etcd3") {
    std::vector<std::string> argv{kHyperkube,
                                  "apiserver",
                                  "--etcd-servers=" + etcd_->endpoint(),
                                  "--storage-backend=" + backend,
                                  "--bind-address=127.0.0.1",
                                  "--secure-port=" + std::to_string(port_),
                                  "--advertise-address=127.0.0.1",
                                  "--tls-cert-file=" + pki("apiserver.crt"),
                                  "--tls-private-key-file=" + pki("apiserver.key"),
                                  "--client-ca-file=" + pki("ca.crt"),
                                  "--enable-bootstrap-token-auth=true",
                                  "--token-auth-file=" + pki_ / "tokens.csv",
                                  "--authorization-mode=Node,RBAC",
                                  "--v=2"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    apiserver_ = std::make_unique<ChildProcess>(
        argv, std::map<std::string, std::string>{{"KNA_STANDIN_VERSION", "v1.30.2"}});
    ASSERT_TRUE(apiserver_->wait_for_output(kServingSecurely, std::chrono::seconds(10)))
        << apiserver_->output();
  }

  void TearDown() override {
    if (apiserver_) {
      apiserver_->signal(SIGTERM);
      EXPECT_EQ(exit_description(apiserver_->wait_exit(std::chrono::seconds(10))), "exit code 0")
          << apiserver_->output();
    }
  }

  std::string pki(const std::string& name) const { return pki_ / ("pki/" + name); }
  Credentials admin() const { return {"", pki("admin.crt"), pki("admin.key")}; }

  Answer call(const std::string& method, const std::string& path, const Credentials& who,
              const json& body = nullptr) {
    httplib::SSLClient client("127.0.0.1", port_, who.cert, who.key);
    client.set_ca_cert_path(pki("ca.crt").c_str());
    client.enable_server_certificate_verification(true);
    httplib::Headers headers{{"Accept", "application/json"}};
    if (!who.token.empty()) headers.emplace("Authorization", "Bearer " + who.token);
    const auto text = body.is_null() ? std::string() : body.dump();
    httplib::Result result =
        method == "GET"    ? client.Get(path.c_str(), headers)
        : method == "POST" ? client.Post(path.c_str(), headers, text, "application/json")
        : method == "PUT"  ? client.Put(path.c_str(), headers, text, "application/json")
        : method == "PATCH"
            ? client.Patch(path.c_str(), headers, text, "application/merge-patch+json")
            : client.Delete(path.c_str(), headers);
    if (!result) return Answer{0, "request failed: " + httplib::to_string(result.error()), {}};
    return Answer{result->status, result->body, json::parse(result->body, nullptr, false)};
  }

  // The Secret kubeadm writes for a bootstrap token, created by the admin.
  void create_bootstrap_token(const std::string& id, const std::string& secret,
                              const json& extra_data = json::object(), bool authentication = true) {
    json data{{"token-id", id},
              {"token-secret", secret},
              {"usage-bootstrap-signing", "true"},
              {"auth-extra-groups", "system:bootstrappers:kubeadm:default-node-token"}};
    if (authentication) data["usage-bootstrap-authentication"] = "true";
    data.update(extra_data);
    const auto created =
        call("POST", "/api/v1/namespaces/kube-system/secrets", admin(),
             {{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", "bootstrap-token-" + id}, {"namespace", "kube-system"}}},
              {"type", "bootstrap.kubernetes.io/token"},
              {"stringData", data}});
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_FALSE(created.object.contains("stringData")) << created.body;
    EXPECT_EQ(unbase64(created.object["data"]["token-secret"]), secret) << created.body;
  }

  // A new key and a PEM CSR for `subject` ("/O=system:nodes/CN=system:node:a"); the key's path.
  std::string make_csr(const std::string& name, const std::string& subject, std::string* pem) {
    const auto key = pki_ / (name + ".key");
    const auto csr = pki_ / (name + ".csr");
    ChildProcess openssl({kOpenssl, "req", "-new", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-subj", subject,
                          "-out", csr});
    EXPECT_EQ(exit_description(openssl.wait_exit(std::chrono::seconds(20))), "exit code 0")
        << openssl.output();
    *pem = read_file(csr);
    return key;
  }

  // Watches `path` until `done` accepts an event (or the stream ends); the events seen.
  std::vector<json> watch(const std::string& path, const Credentials& who,
                          const std::function<bool(const json&)>& done) {
    httplib::SSLClient client("127.0.0.1", port_, who.cert, who.key);
    client.set_ca_cert_path(pki("ca.crt").c_str());
    client.enable_server_certificate_verification(true);
    client.set_read_timeout(std::chrono::seconds(20));
    httplib::Headers headers{{"Accept", "application/json"}};
    if (!who.token.empty()) headers.emplace("Authorization", "Bearer " + who.token);
    std::vector<json> events;
    std::string pending;
    client.Get(path.c_str(), headers, [&](const char* data, std::size_t size) {
      pending.append(data, size);
      for (auto newline = pending.find('\n'); newline != std::string::npos;
           newline = pending.find('\n')) {
        events.push_back(json::parse(pending.substr(0, newline), nullptr, false));
        pending.erase(0, newline + 1);
        if (done(events.back())) return false;
      }
      return true;
    });
    return events;
  }

  json csr_object(const std::string& pem) const {
    return json{{"apiVersion", "certificates.k8s.io/v1"},
                {"kind", "CertificateSigningRequest"},
                {"metadata", {{"generateName", "csr-"}}},
                {"spec",
                 {{"request", base64(pem)},
                  {"signerName", kKubeletSigner},
                  {"usages", {"digital signature", "client auth"}}}}};
  }

  std::optional<EtcdProcess> etcd_;
  TempDir pki_;
  int port_{0};
  std::unique_ptr<ChildProcess> apiserver_;
};

inline void expect_forbidden(const Answer& answer, const std::string& message) {
  EXPECT_EQ(answer.status, 403) << answer.body;
  EXPECT_EQ(answer.object["kind"], "Status") << answer.body;
  EXPECT_EQ(answer.object["reason"], "Forbidden") << answer.body;
  EXPECT_EQ(answer.object["message"], message) << answer.body;
  EXPECT_EQ(answer.object["code"], 403) << answer.body;
}

// Verifies `pem` against the CA for client authentication; "" when it verifies.
inline std::string verify_client_cert(X509* cert, const std::string& ca_path) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_load_file(store, ca_path.c_str());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
  const bool ok = X509_verify_cert(ctx) == 1;
  std::string error = ok ? "" : X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return error;
}

inline std::string name_entry(X509_NAME* name, int nid) {
  char buffer[256] = {};
  X509_NAME_get_text_by_NID(name, nid, buffer, sizeof(buffer));
  return buffer;
}

}  // namespace kna::test::apiserver_tls
