#pragma once
// The kube-apiserver stand-in's secure port: the TLS server (--tls-cert-file,
// --tls-private-key-file; client certificates verified against --client-ca-file when a client
// presents one), the guard that authenticates and authorizes every request before routing, and
// where the CA key for CSR signing is found.

#include <memory>
#include <string>

#include "kube/apiserver_auth.hpp"
#include "kube/apiserver_requests.hpp"

namespace httplib {
class Server;
}

namespace kna::standins::apiserver {

class CsrController;
class ObjectStore;

struct TlsFiles {
  std::string cert;       // --tls-cert-file: PEM, the serving certificate then its chain
  std::string key;        // --tls-private-key-file
  std::string client_ca;  // --client-ca-file, may be empty: then no client certificates
};

// An httplib::SSLServer for `files`; null with `error` set when a file cannot be used.
std::unique_ptr<httplib::Server> make_tls_server(const TlsFiles& files, std::string* error);

// --authorization-mode: AlwaysAllow anywhere in the list allows everything; AlwaysDeny alone
// denies everything; any other mode (Node, RBAC, ABAC, Webhook) is the stand-in's fixed rules
// (apiserver_authz.hpp).
enum class AuthorizationMode { always_allow, always_deny, rules };
AuthorizationMode authorization_mode(const std::string& flag);

// The secure port's pre-routing step: 401 (the real Status) when authentication fails, 403 when
// the user may not, else the request goes on to the routes. `auth` must outlive the server.
PreRouting secure_guard(const Authenticator& auth, AuthorizationMode mode);

// The controller that approves and signs CSRs, with the CA of kubeadm's layout: the certificate
// is --client-ca-file, the key ca.key beside it (as kube-controller-manager's
// --cluster-signing-cert-file/--cluster-signing-key-file would name them). Without either, CSRs
// stay pending.
std::unique_ptr<CsrController> make_csr_controller(ObjectStore& store,
                                                   const std::string& client_ca_file);

}  // namespace kna::standins::apiserver
