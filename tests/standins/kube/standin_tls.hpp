#pragma once
// TLS for the stand-ins' API client, on OpenSSL: an HTTPS client that trusts exactly the
// kubeconfig's CA and presents its client certificate, the PEM checks the kubelet's bootstrap
// needs, and TLS failures worded like client-go's ("x509: certificate signed by unknown
// authority").

#include <chrono>
#include <memory>
#include <string>

#include "clients/node_pki.hpp"

#include "kna/error.hpp"

namespace httplib {
class SSLClient;
enum class Error;
}  // namespace httplib

namespace kna::standins {

struct ApiServer;

// OpenSSL's reason for its last failure (the error queue emptied), for error messages: the
// agent's own (clients/node_pki.hpp).
using kna::openssl_error;

// host and port of an https URL ("https://[::1]:6443/x" → "::1", 6443; 443 when not given).
struct HostPort {
  std::string host;
  int port{443};
};
HostPort https_host_port(const std::string& url);

// The PEM bundle the server must chain to: certificate-authority's file or -data; "" when the
// kubeconfig names none (the system's roots then, as in client-go).
Result<std::string> ca_bundle_pem(const ApiServer& server);
// The client certificate's PEM (client-certificate's file or -data) and its key's (client-key);
// "" when the kubeconfig has none.
Result<std::string> client_cert_pem(const ApiServer& server);
Result<std::string> client_key_pem(const ApiServer& server);

// What a certificate says about itself, for the kubelet's "is it still valid" checks.
struct CertificateInfo {
  std::string common_name;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
};
// The first certificate in `pem`.
Result<CertificateInfo> inspect_certificate(const std::string& pem);
// The certificate and key parse, the key is the certificate's, and `now` is within its validity.
Status check_key_pair(const std::string& cert_pem, const std::string& key_pem,
                      std::chrono::system_clock::time_point now);

// One HTTPS client for one request (the API client opens one per call). Owns the OpenSSL state
// its verification reports into; not thread-safe.
class TlsClient {
 public:
  // Error: the CA or client certificate cannot be read or does not parse.
  static Result<std::unique_ptr<TlsClient>> open(const ApiServer& server);
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  httplib::SSLClient& http() { return *client_; }
  // Why a call failed with `error`, in client-go's words where it has them.
  std::string failure(httplib::Error error) const;

  struct Verification {
    long error{0};  // X509_V_ERR_*, 0 when the chain verified
    std::string host;
  };

 private:
  TlsClient() = default;

  std::unique_ptr<httplib::SSLClient> client_;
  std::unique_ptr<Verification> verification_;  // where the verify callback writes
};

}  // namespace kna::standins
