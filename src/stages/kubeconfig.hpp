#pragma once
// How the kubelet and kube-proxy reach the API server, and the kubeconfigs the agent writes for
// them from Kubernetes v1.6 (when --api-servers gave way to --kubeconfig).
//  - insecure: the API server's insecure port (up to v1.19), with the bearer token if configured.
//  - token: joined by bootstrap token over TLS. The kubelet starts from a bootstrap kubeconfig (the
//    CA and the token: written by discovery with a pin, or naming cluster.ca_file) and gets its own
//    client certificate through the CSR API into <kubelet_dir>/pki, writing its own kubeconfig.
//    kube-proxy's kubeconfig names that certificate: the node's identity (docs/joining.md says
//    why).
//  - credentials: over TLS with cluster.ca_file and a configured client certificate or api_token,
//    one kubeconfig for both.
//  - control_plane: a TLS master (from v1.20). It holds the cluster's CA key
//    (control_plane.pki_dir) and gives each of its components a certificate of its own, as
//    `kubeadm init` does: the kubelet system:node:NAME, kube-proxy system:kube-proxy, the
//    controller manager and scheduler their system: users, and an admin (system:masters) for the
//    agent's publishing and for kubectl.

#include <string>

#include "kna/spec.hpp"

namespace kna::stages {

enum class JoinMode { insecure, token, credentials, control_plane };
JoinMode join_mode(const Config& cfg);

// cluster.api_server as the loader resolved it; for a configuration built by hand without it, the
// insecure port at MASTER_IP.
std::string api_server_url(const Config& cfg);
// The port of api_server_url (443 or 80 when the URL names none).
int api_server_port(const Config& cfg);
// The CA file the node trusts the API server with: discovery's paths.cluster_ca when joining by
// pin, else cluster.ca_file ("" over http).
std::string cluster_ca_file(const Config& cfg);
// Joining by token: the folder of the kubelet's certificates (<kubelet_dir>/pki, its --cert-dir),
// the certificate and key it keeps current there, and the kubeconfig it writes once it has one.
std::string kubelet_cert_dir(const Config& cfg);
std::string kubelet_client_cert(const Config& cfg);
std::string kubelet_own_kubeconfig(const Config& cfg);

// A TLS master: a file of control_plane.pki_dir ("ca.crt"), and the folder of the certificates
// and kubeconfigs it issues to the controller manager, the scheduler and kube-proxy
// (<state_dir>/control-plane).
std::string pki_file(const Config& cfg, const std::string& name);
std::string control_plane_dir(const Config& cfg);
// The admin's kubeconfig (<state_dir>/admin.conf, 0600), for kubectl on the master; and its
// certificate.
std::string admin_kubeconfig(const Config& cfg);
std::string admin_client_cert(const Config& cfg);
std::string kube_proxy_client_cert(const Config& cfg);
// A TLS master's component: the certificate of `common_name` in `organizations` issued into
// `pem`, and a kubeconfig at `kubeconfig` naming it (mode 0600).
std::vector<HostStep> issue_identity(const Config& cfg, const std::string& common_name,
                                     const std::vector<std::string>& organizations,
                                     const std::string& pem, const std::string& kubeconfig);
// A TLS master: what workers need to join, published once its node is Ready.
PublishJoinInfo publish_step(const Config& cfg);

// JSON (valid YAML; kubelet and kubectl read both), the same bytes for the same configuration.
std::string kubeconfig_content(const Config& cfg);
// {paths.kubeconfig, kubeconfig_content, 0600}: it may hold a token.
WriteFile kubeconfig_file(const Config& cfg);
// Joining by token: what makes the kubelet's --bootstrap-kubeconfig. Discovery with a pin, or the
// file written at once naming cluster.ca_file.
HostStep bootstrap_step(const Config& cfg);
// What the agent's NodeReady check needs to ask the API server as this node.
NodeReady node_ready_step(const Config& cfg);

}  // namespace kna::stages
