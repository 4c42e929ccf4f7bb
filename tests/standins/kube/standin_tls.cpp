#include "kube/standin_tls.hpp"

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "kube/standin_api.hpp"

namespace kna::standins {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;

BioPtr memory_bio(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

Result<std::string> read_file(const std::string& what, const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"cannot read " + what + " " + path + ": " + std::strerror(errno)};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

X509Ptr first_certificate(const std::string& pem) {
  auto bio = memory_bio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return cert;
}

// The first private key in `pem`, skipping certificate blocks before it.
KeyPtr first_private_key(const std::string& pem) {
  auto bio = memory_bio(pem);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return key;
}

// Every certificate of a PEM bundle in a new store; nullptr when there is none.
StorePtr store_of(const std::string& pem) {
  StorePtr store(X509_STORE_new());
  auto bio = memory_bio(pem);
  int added = 0;
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)})
    if (X509_STORE_add_cert(store.get(), cert.get()) == 1) ++added;
  ERR_clear_error();
  return added > 0 ? std::move(store) : nullptr;
}

std::chrono::system_clock::time_point time_of(const ASN1_TIME* t) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

bool is_ip_literal(const std::string& host) {
  unsigned char buffer[16];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// Records the first verification failure of the chain where TlsClient::failure finds it.
int remember_verify_error(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1) return 1;
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return 0;
  auto* verification =
      static_cast<TlsClient::Verification*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), 0));
  if (verification != nullptr && verification->error == 0)
    verification->error = X509_STORE_CTX_get_error(ctx);
  return 0;
}

std::string verify_error_text(long error, const std::string& host) {
  switch (error) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      return "x509: certificate signed by unknown authority";
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "x509: certificate has expired or is not yet valid";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "x509: certificate is not valid for " + host;
    default:
      return std::string("x509: ") + X509_verify_cert_error_string(error);
  }
}

// The reason OpenSSL left in this thread's error queue ("tlsv13 alert certificate required"),
// or "".
std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "";
}

}  // namespace

HostPort https_host_port(const std::string& url) {
  HostPort out;
  auto rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  std::string port;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    const auto close = rest.find(']');
    out.host = rest.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < rest.size() && rest[close + 1] == ':')
      port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    out.host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (!port.empty()) out.port = std::atoi(port.c_str());
  return out;
}

Result<std::string> ca_bundle_pem(const ApiServer& server) {
  if (!server.ca_pem.empty()) return server.ca_pem;
  if (server.ca_file.empty()) return std::string();
  return read_file("certificate-authority", server.ca_file);
}

Result<std::string> client_cert_pem(const ApiServer& server) {
  if (!server.client_cert_pem.empty()) return server.client_cert_pem;
  if (server.client_cert_file.empty()) return std::string();
  return read_file("client-certificate", server.client_cert_file);
}

Result<std::string> client_key_pem(const ApiServer& server) {
  if (!server.client_key_pem.empty()) return server.client_key_pem;
  if (server.client_key_file.empty()) return std::string();
  return read_file("client-key", server.client_key_file);
}

Result<CertificateInfo> inspect_certificate(const std::string& pem) {
  const auto cert = first_certificate(pem);
  if (!cert) return Error{"no PEM certificate"};
  CertificateInfo info;
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof(cn)) >
      0)
    info.common_name = cn;
  info.not_before = time_of(X509_get0_notBefore(cert.get()));
  info.not_after = time_of(X509_get0_notAfter(cert.get()));
  return info;
}

Status check_key_pair(const std::string& cert_pem, const std::string& key_pem,
                      std::chrono::system_clock::time_point now) {
  const auto cert = first_certificate(cert_pem);
  if (!cert) return Error{"no PEM certificate"};
  const auto key = first_private_key(key_pem);
  if (!key) return Error{"no PEM private key"};
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Error{"the private key does not belong to the certificate"};
  }
  const auto info = inspect_certificate(cert_pem);
  if (now < info.value().not_before) return Error{"the certificate is not valid yet"};
  if (now >= info.value().not_after) return Error{"the certificate has expired"};
  return kOk;
}

Result<std::unique_ptr<TlsClient>> TlsClient::open(const ApiServer& server) {
  const auto target = https_host_port(server.url);
  std::unique_ptr<TlsClient> tls(new TlsClient());
  tls->verification_ = std::make_unique<Verification>();
  tls->verification_->host = target.host;

  if (server.has_client_cert()) {
    auto cert_pem = client_cert_pem(server);
    if (!cert_pem) return cert_pem.error();
    auto key_pem = client_key_pem(server);
    if (!key_pem) return key_pem.error();
    const auto cert = first_certificate(cert_pem.value());
    if (!cert) return Error{"client-certificate: no PEM certificate"};
    const auto key = first_private_key(key_pem.value());
    if (!key) return Error{"client-key: no PEM private key"};
    // The SSL_CTX takes its own references.
    tls->client_ =
        std::make_unique<httplib::SSLClient>(target.host, target.port, cert.get(), key.get());
    if (!tls->client_->is_valid())
      return Error{"the client certificate and client key do not belong together"};
  } else {
    tls->client_ = std::make_unique<httplib::SSLClient>(target.host, target.port);
  }
  SSL_CTX* ctx = tls->client_->ssl_context();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);  // as Go's crypto/tls
  // httplib verifies after the handshake and trusts the system roots besides a given store;
  // client-go fails the handshake and trusts the given CA alone. OpenSSL does it here, with the
  // host checked as part of the chain.
  tls->client_->enable_server_certificate_verification(false);
  if (server.insecure_skip_tls_verify) return tls;
  auto bundle = ca_bundle_pem(server);
  if (!bundle) return bundle.error();
  if (!bundle.value().empty()) {
    auto store = store_of(bundle.value());
    if (!store) return Error{"certificate-authority: no PEM certificate in it"};
    SSL_CTX_set_cert_store(ctx, store.release());
  } else {
    SSL_CTX_set_default_verify_paths(ctx);
  }
  X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
  if (is_ip_literal(target.host))
    X509_VERIFY_PARAM_set1_ip_asc(param, target.host.c_str());
  else
    X509_VERIFY_PARAM_set1_host(param, target.host.c_str(), 0);
  SSL_CTX_set_ex_data(ctx, 0, tls->verification_.get());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, remember_verify_error);
  ERR_clear_error();
  return tls;
}

TlsClient::~TlsClient() = default;

std::string TlsClient::failure(httplib::Error error) const {
  if (verification_->error != 0) {
    ERR_clear_error();
    return verify_error_text(verification_->error, verification_->host);
  }
  const auto reason = openssl_reason();
  switch (error) {
    case httplib::Error::Connection:
      return "cannot connect";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed" + (reason.empty() ? "" : ": " + reason);
    case httplib::Error::Read:  // TLS 1.3: a refused client certificate shows on the first read
      return reason.empty() ? "no answer (read failed or timed out)" : "tls: " + reason;
    case httplib::Error::Write:
      return reason.empty() ? "sending the request failed" : "tls: " + reason;
    default:
      return httplib::to_string(error) + (reason.empty() ? "" : ": " + reason);
  }
}

}  // namespace kna::standins
