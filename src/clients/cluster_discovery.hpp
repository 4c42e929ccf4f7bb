#pragma once
// Discovery of a cluster joined by token, as `kubeadm join --discovery-token-ca-cert-hash` does
// it: the `cluster-info` ConfigMap in kube-public (readable without credentials) names the
// cluster's CA; the node accepts that CA only when it matches the pin it was given, and checks the
// ConfigMap's JWS for its token when there is one (the API server's bootstrap signer writes one per
// valid token). Then it asks again, verifying the server against that CA and showing the token, so
// that a refused token is reported before the kubelet starts. Blocking; for worker threads.

#include <map>
#include <string>

#include "core/join_token.hpp"
#include "kna/error.hpp"
#include "kna/time.hpp"

namespace kna {

// What a kubeconfig says of its (first) cluster: kubeadm writes cluster-info's as YAML, the agent
// and k3s as JSON; both are read (the YAML only as far as these two keys).
struct KubeconfigCluster {
  std::string server;
  std::string ca_pem;  // certificate-authority-data, decoded
};
Result<KubeconfigCluster> kubeconfig_cluster(const std::string& kubeconfig);

// The cluster-info ConfigMap's body: its kubeconfig and its JWS by token id.
struct ClusterInfo {
  std::string kubeconfig;
  std::map<std::string, std::string> jws;  // token id → detached JWS
};
Result<ClusterInfo> parse_cluster_info(const std::string& body);

// The bootstrap kubeconfig (JSON) the kubelet's TLS bootstrap starts from: `server`, the CA's
// data, and the token as the user's credential.
std::string bootstrap_kubeconfig(const std::string& server, const std::string& ca_pem,
                                 const std::string& token);

struct DiscoveryRequest {
  std::string api_server;  // "https://192.168.1.50:6443"
  std::string pin;         // "sha256:<hex>"
  std::string token;       // "<id>.<secret>"
  // Where the candidate CA is written for the verified second request (then renamed by the
  // caller); a file beside the final one.
  std::string candidate_ca_file;
  Millis timeout{5'000};
  std::string user_agent;
};

// The CA's PEM (written to candidate_ca_file, 0600) once every check passed. The errors say what
// to do: "the API server's CA does not match ca_cert_hash sha256:… (it serves sha256:…)", "the
// API server refused the join token (401)", "cluster-info has no signature for token id …".
Result<std::string> discover_cluster(const DiscoveryRequest& request);

}  // namespace kna
