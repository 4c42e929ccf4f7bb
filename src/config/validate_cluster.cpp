// Checks of how the node reaches and trusts the API server (cluster.*). Over http nothing of the
// trust applies, and a token or key would cross the network in clear: refused. Over https the node
// must have a way to trust the server (a CA file, or a pin with a join token: kubeadm's discovery)
// and something to authenticate with. The files named must be there now: a join that would fail
// at the kubelet's start fails at load instead, naming the option.
//
// A master serves the API server it uses: the insecure port up to v1.19, TLS from v1.20 with the
// cluster's PKI in control_plane.pki_dir, whose CA key gives every component its identity; its
// only cluster.* credential is the join token it publishes for the workers.

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config/checks.hpp"
#include "config/options.hpp"
#include "config/validate.hpp"
#include "core/join_token.hpp"

namespace kna::config {
namespace {

constexpr const char* kServer = "cluster.api_server";
constexpr const char* kCaFile = "cluster.ca_file";
constexpr const char* kPin = "cluster.ca_cert_hash";
constexpr const char* kToken = "cluster.token";
constexpr const char* kCert = "cluster.client_cert_file";
constexpr const char* kKey = "cluster.client_key_file";
constexpr const char* kPkiDir = "control_plane.pki_dir";

// The files of kubeadm's PKI that a TLS master needs, with what each must hold.
struct PkiFile {
  const char* name;
  const char* marker;
  const char* what;
};
constexpr PkiFile kPkiFiles[] = {
    {"ca.crt", "-----BEGIN CERTIFICATE-----", "the cluster CA's certificate (PEM)"},
    {"ca.key", "PRIVATE KEY-----", "the cluster CA's private key (PEM)"},
    {"apiserver.crt", "-----BEGIN CERTIFICATE-----",
     "the API server's serving certificate (PEM), with MASTER_IP among its addresses"},
    {"apiserver.key", "PRIVATE KEY-----", "the API server's private key (PEM)"},
    {"sa.key", "PRIVATE KEY-----", "the service-account signing key (PEM)"},
    {"sa.pub", "-----BEGIN PUBLIC KEY-----", "the service-account public key (PEM)"},
};

// "https://host[:port]" → scheme; an error message otherwise.
Result<std::string> url_scheme(const std::string& url) {
  std::string scheme;
  std::string rest;
  for (const char* s : {"http", "https"}) {
    const std::string prefix = std::string(s) + "://";
    if (url.starts_with(prefix)) {
      scheme = s;
      rest = url.substr(prefix.size());
    }
  }
  if (scheme.empty()) return Error{"does not start with http:// or https://"};
  if (rest.empty()) return Error{"names no host"};
  if (rest.find_first_of("/?#@ \t") != std::string::npos)
    return Error{
        "has a path, query, user or space after the host; give only scheme, host and port"};
  const auto colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    const bool ok = !port.empty() && port.size() <= 5 &&
                    port.find_first_not_of("0123456789") == std::string::npos &&
                    std::stoi(port) >= 1 && std::stoi(port) <= 65535;
    if (colon == 0) return Error{"names no host"};
    if (!ok) return Error{fmt::format("has port \"{}\"; use 1 to 65535", port)};
  }
  return scheme;
}

// Empty when `path` is an absolute path to a readable file holding `marker`; else why not.
std::string file_problem(const std::string& path, std::string_view marker, std::string_view what) {
  if (!path.starts_with('/')) return "is not an absolute path; use one that starts with '/'";
  std::ifstream in(path, std::ios::binary);
  if (!in) return fmt::format("cannot be read; it must name {}", what);
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find(marker) == std::string::npos)
    return fmt::format("holds no PEM \"{}\"; it must be {}", marker, what);
  return {};
}

class ClusterChecks {
 public:
  explicit ClusterChecks(Layers& l) : l_(l) {}

  void run() {
    check_forms();
    const std::string server = str(kServer);
    if (server.empty()) return;  // no MASTER_IP: reported on its own
    auto scheme = url_scheme(server);
    if (!scheme) {
      fail(kServer, fmt::format("{} {}; use a URL such as https://192.168.1.50:6443 (or "
                                "http://192.168.1.50:8080 up to Kubernetes v1.19)",
                                shown(kServer), scheme.error().message));
      return;
    }
    if (scheme.value() == "http")
      check_plain();
    else
      check_tls();
  }

 private:
  std::string str(const std::string& key) const { return l_.string_at(key); }
  bool set(const std::string& key) const { return !str(key).empty(); }
  std::string shown(const std::string& key) const { return config::shown(l_, key); }
  void fail(const std::string& key, const std::string& message) { l_.problem(key, message); }

  void check_forms() {
    if (set(kToken))
      if (auto token = parse_bootstrap_token(str(kToken)); !token)
        fail(kToken, token.error().message + "; " + how_to_set(kToken));
    if (set(kPin))
      if (auto pin = parse_ca_pin(str(kPin)); !pin) fail(kPin, pin.error().message);
    if (set(kCaFile))
      if (auto why = file_problem(str(kCaFile), "-----BEGIN CERTIFICATE-----",
                                  "the cluster CA's certificate (PEM), such as kubeadm's "
                                  "/etc/kubernetes/pki/ca.crt");
          !why.empty())
        fail(kCaFile, fmt::format("{} {}", shown(kCaFile), why));
    if (set(kCert) != set(kKey)) {
      const char* missing = set(kCert) ? kKey : kCert;
      fail(missing, fmt::format("is not set, but {} is: a client certificate needs its key; {}",
                                set(kCert) ? kCert : kKey, how_to_set(missing)));
    } else if (set(kCert)) {
      if (auto why =
              file_problem(str(kCert), "-----BEGIN CERTIFICATE-----", "a client certificate (PEM)");
          !why.empty())
        fail(kCert, fmt::format("{} {}", shown(kCert), why));
      if (auto why = file_problem(str(kKey), "PRIVATE KEY-----", "a private key (PEM)");
          !why.empty())
        fail(kKey, fmt::format("{} {}", shown(kKey), why));
    }
  }

  // Over the insecure port there is nothing to trust, and a credential would travel in clear.
  void check_plain() {
    if (l_.string_at("role") == "master" && !check_master_scheme(false)) return;
    for (const char* key : {kToken, kPin, kCaFile, kCert, kKey})
      if (set(key))
        fail(key, fmt::format("is set, but {} is plain http: a join token, a CA and a client "
                              "certificate are for TLS; use an https:// API server (port 6443 "
                              "from Kubernetes v1.20) or unset it",
                              shown(kServer)));
  }

  // Up to v1.19 the master runs the insecure port; from v1.20 there is none.
  bool check_master_scheme(bool https) {
    const auto version = kubernetes_minor(str("k8s_version"));
    if (!version) return false;  // reported on its own
    const bool modern = *version >= std::pair{1, 20};
    if (https == modern) return true;
    if (modern)
      fail(kServer, fmt::format("{} is plain http, but a master of {} serves its API server over "
                                "TLS only (Kubernetes removed the insecure port in v1.20); use "
                                "https://MASTER_IP:6443, the default",
                                shown(kServer), shown("k8s_version")));
    else
      fail(kServer, fmt::format("{} is https, but a master of {} runs its API server on the "
                                "insecure port 8080 (TLS masters start at v1.20 here); use "
                                "http://MASTER_IP:8080, the default",
                                shown(kServer), shown("k8s_version")));
    return false;
  }

  // The master trusts and proves itself with its own PKI; it only publishes the join token.
  void check_tls_master() {
    for (const char* key : {kCaFile, kPin, kCert, kKey})
      if (set(key))
        fail(key, fmt::format("is set, but a master's trust and credentials come from its own "
                              "PKI in {} ({}); unset it",
                              kPkiDir, str(kPkiDir)));
    const std::string dir = str(kPkiDir);
    if (!dir.starts_with('/')) {
      fail(kPkiDir, fmt::format("{} is not an absolute path; use one that starts with '/', such "
                                "as /etc/kubernetes/pki",
                                shown(kPkiDir)));
      return;
    }
    std::string missing;
    std::string wrong;
    for (const auto& file : kPkiFiles) {
      const std::string path = dir + "/" + file.name;
      const std::string why = file_problem(path, file.marker, file.what);
      if (why.starts_with("cannot be read"))
        missing += (missing.empty() ? "" : ", ") + std::string(file.name);
      else if (!why.empty())
        wrong += fmt::format("; {} {}", file.name, why);
    }
    if (missing.empty() && wrong.empty()) return;
    fail(kPkiDir,
         fmt::format("{} is not the PKI a TLS master needs: {}{}. Make it with `kubeadm "
                     "init phase certs all --cert-dir {} --apiserver-advertise-address "
                     "MASTER_IP`",
                     shown(kPkiDir), missing.empty() ? "" : "it lacks (or cannot read) " + missing,
                     missing.empty() ? wrong.substr(2) : wrong, dir));
  }

  void check_tls() {
    if (l_.string_at("role") == "master") {
      if (check_master_scheme(true)) check_tls_master();
      return;
    }
    if (set(kCaFile) && set(kPin))
      fail(kPin, fmt::format("is set together with {}: trust the API server through one of them "
                             "(the pin with a join token, as kubeadm join does; or the CA file)",
                             kCaFile));
    else if (!set(kCaFile) && !set(kPin))
      fail(kServer,
           fmt::format("{} is https, but nothing says how to trust it: set {} (sha256:<hex>, "
                       "from `kubeadm token create --print-join-command`) with {}, or {}; the "
                       "agent never trusts an unpinned server",
                       shown(kServer), kPin, kToken, kCaFile));
    if (set(kPin) && !set(kToken))
      fail(kPin, fmt::format("is checked while joining by token, but {} is not set; {}", kToken,
                             how_to_set(kToken)));
    if (set(kToken) && set(kCert))
      fail(kToken, fmt::format("is set together with {}: join with one of them (the token gets "
                               "the kubelet its own certificate)",
                               kCert));
    if (!set(kToken) && !set(kCert) && !set("api_token"))
      fail(kServer, fmt::format("{} is https, but the node has nothing to authenticate with: set "
                                "{} (a bootstrap token), or {} and {}, or api_token",
                                shown(kServer), kToken, kCert, kKey));
  }

  Layers& l_;
};

}  // namespace

void validate_cluster_access(Layers& layers) {
  ClusterChecks(layers).run();
}

}  // namespace kna::config
