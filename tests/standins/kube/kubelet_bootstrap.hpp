#pragma once
// The kubelet stand-in's TLS bootstrap, as the real kubelet's (pkg/kubelet/certificate/bootstrap)
// does it: a client certificate for the node from the certificates.k8s.io/v1 CSR API, asked for
// with the bootstrap kubeconfig's token, kept in --cert-dir and named by a kubeconfig written to
// --kubeconfig.

#include <chrono>
#include <functional>
#include <string>

#include "kna/error.hpp"

namespace kna::standins {

struct BootstrapOptions {
  std::string kubeconfig;  // --kubeconfig: used when its certificate is valid, else written
  std::string bootstrap_kubeconfig;  // --bootstrap-kubeconfig
  std::string cert_dir;              // --cert-dir
  std::string node_name;             // the CSR's CN is system:node:<node_name>
  std::string user_agent;
};

// Waits up to `timeout`; true when the kubelet is to stop (SIGTERM) instead.
using StopWait = std::function<bool(std::chrono::milliseconds timeout)>;

enum class Bootstrap {
  ready,    // --kubeconfig now names a valid client certificate
  stopped,  // the wait was cut short by a stop
};

// Makes --kubeconfig usable: kept when its client certificate is valid; else pointed at
// <cert-dir>/kubelet-client-current.pem when that is valid; else a new key and a CSR, retried
// with back-off while the API server is unreachable or refuses it, and polled every second until
// the certificate is issued. Error: the CSR was denied or failed, or a file cannot be read or
// written.
Result<Bootstrap> bootstrap_client_certificate(const BootstrapOptions& options,
                                               const StopWait& wait);

// The file names in --cert-dir: "kubelet-client-2006-01-02-15-04-05.pem" for a certificate
// issued at `t` (UTC), and the link to the current one.
std::string client_pem_name(std::chrono::system_clock::time_point t);
inline constexpr const char* kClientCurrentPem = "kubelet-client-current.pem";

}  // namespace kna::standins
