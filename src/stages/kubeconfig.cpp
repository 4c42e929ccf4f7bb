#include "stages/kubeconfig.hpp"

#include <nlohmann/json.hpp>

#include "stages/stage_builders.hpp"

namespace kna::stages {

namespace {

using Json = nlohmann::ordered_json;

Json kubeconfig_json(const std::string& server, const Json& cluster_extra, const Json& user,
                     const std::string& user_name) {
  Json cluster{{"server", server}};
  cluster.update(cluster_extra);
  return Json{
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters", Json::array({{{"name", "local"}, {"cluster", cluster}}})},
      {"users", Json::array({{{"name", user_name}, {"user", user}}})},
      {"contexts", Json::array({{{"name", "local"},
                                 {"context", {{"cluster", "local"}, {"user", user_name}}}}})},
      {"current-context", "local"},
  };
}

// One user's kubeconfig over TLS: the server verified against `ca`, the client certificate and
// key in one PEM file.
std::string tls_kubeconfig(const std::string& server, const std::string& ca, const std::string& pem,
                           const std::string& user_name) {
  return kubeconfig_json(server, Json{{"certificate-authority", ca}},
                         Json{{"client-certificate", pem}, {"client-key", pem}}, user_name)
             .dump(2) +
         "\n";
}

}  // namespace

JoinMode join_mode(const Config& cfg) {
  if (!api_server_url(cfg).starts_with("https://")) return JoinMode::insecure;
  if (cfg.role == Role::master) return JoinMode::control_plane;
  return cfg.cluster.token.empty() ? JoinMode::credentials : JoinMode::token;
}

std::string pki_file(const Config& cfg, const std::string& name) {
  return join_path(cfg.control_plane.pki_dir, name);
}

std::string control_plane_dir(const Config& cfg) {
  return join_path(cfg.paths.state_dir, "control-plane");
}

std::string admin_kubeconfig(const Config& cfg) {
  return join_path(cfg.paths.state_dir, "admin.conf");
}

std::string kube_proxy_client_cert(const Config& cfg) {
  return join_path(control_plane_dir(cfg), "kube-proxy.pem");
}

std::string admin_client_cert(const Config& cfg) {
  return join_path(control_plane_dir(cfg), "admin.pem");
}

std::vector<HostStep> issue_identity(const Config& cfg, const std::string& common_name,
                                     const std::vector<std::string>& organizations,
                                     const std::string& pem, const std::string& kubeconfig) {
  const std::string ca = pki_file(cfg, "ca.crt");
  return {IssueClientCertificate{ca, pki_file(cfg, "ca.key"), common_name, organizations, pem},
          WriteFile{kubeconfig, tls_kubeconfig(api_server_url(cfg), ca, pem, common_name), 0600}};
}

PublishJoinInfo publish_step(const Config& cfg) {
  return PublishJoinInfo{api_server_url(cfg), pki_file(cfg, "ca.crt"), admin_client_cert(cfg),
                         cfg.cluster.token};
}

std::string api_server_url(const Config& cfg) {
  return cfg.cluster.api_server.empty() ? "http://" + cfg.master_ip + ":8080"
                                        : cfg.cluster.api_server;
}

int api_server_port(const Config& cfg) {
  const std::string url = api_server_url(cfg);
  const bool https = url.starts_with("https://");
  const std::string rest = url.substr(url.find("://") + 3);
  const auto colon = rest.rfind(':');
  // "[::1]" has colons of its own: a port comes after the bracket.
  if (colon == std::string::npos || rest.find(']', colon) != std::string::npos)
    return https ? 443 : 80;
  try {
    return std::stoi(rest.substr(colon + 1));
  } catch (const std::exception&) {
    return https ? 443 : 80;  // the loader refuses such a URL; a hand-built one keeps a default
  }
}

std::string cluster_ca_file(const Config& cfg) {
  switch (join_mode(cfg)) {
    case JoinMode::insecure:
      return {};
    case JoinMode::control_plane:
      return pki_file(cfg, "ca.crt");
    case JoinMode::token:
    case JoinMode::credentials:
      break;
  }
  return cfg.cluster.ca_cert_hash.empty() ? cfg.cluster.ca_file : cfg.paths.cluster_ca;
}

std::string kubelet_cert_dir(const Config& cfg) {
  return join_path(cfg.paths.kubelet_dir, "pki");
}

std::string kubelet_client_cert(const Config& cfg) {
  return join_path(kubelet_cert_dir(cfg), "kubelet-client-current.pem");
}

std::string kubelet_own_kubeconfig(const Config& cfg) {
  return join_path(cfg.paths.kubelet_dir, "kubeconfig");
}

std::string kubeconfig_content(const Config& cfg) {
  Json user = Json::object();
  Json cluster = Json::object();
  switch (join_mode(cfg)) {
    case JoinMode::insecure:
      if (!cfg.api_token.empty()) user["token"] = cfg.api_token;
      break;
    case JoinMode::token:
      // The node's own certificate, which the kubelet keeps current.
      cluster["certificate-authority"] = cluster_ca_file(cfg);
      user["client-certificate"] = kubelet_client_cert(cfg);
      user["client-key"] = kubelet_client_cert(cfg);
      break;
    case JoinMode::credentials:
      cluster["certificate-authority"] = cluster_ca_file(cfg);
      if (!cfg.cluster.client_cert_file.empty()) {
        user["client-certificate"] = cfg.cluster.client_cert_file;
        user["client-key"] = cfg.cluster.client_key_file;
      } else if (!cfg.api_token.empty()) {
        user["token"] = cfg.api_token;
      }
      break;
    case JoinMode::control_plane:
      // kube-proxy's own identity, which the default RBAC binds to system:node-proxier.
      return tls_kubeconfig(api_server_url(cfg), cluster_ca_file(cfg), kube_proxy_client_cert(cfg),
                            "system:kube-proxy");
  }
  return kubeconfig_json(api_server_url(cfg), cluster, user, "kubelet").dump(2) + "\n";
}

WriteFile kubeconfig_file(const Config& cfg) {
  return WriteFile{cfg.paths.kubeconfig, kubeconfig_content(cfg), 0600};
}

HostStep bootstrap_step(const Config& cfg) {
  if (!cfg.cluster.ca_cert_hash.empty())
    return DiscoverCluster{api_server_url(cfg), cfg.cluster.ca_cert_hash, cfg.cluster.token,
                           cfg.paths.cluster_ca, cfg.paths.bootstrap_kubeconfig};
  const Json config =
      kubeconfig_json(api_server_url(cfg), Json{{"certificate-authority", cfg.cluster.ca_file}},
                      Json{{"token", cfg.cluster.token}}, "tls-bootstrap-token-user");
  return WriteFile{cfg.paths.bootstrap_kubeconfig, config.dump(2) + "\n", 0600};
}

NodeReady node_ready_step(const Config& cfg) {
  NodeReady step{api_server_url(cfg), cfg.node_name, cfg.api_token, "", "", ""};
  switch (join_mode(cfg)) {
    case JoinMode::insecure:
      break;
    case JoinMode::token:
    case JoinMode::control_plane:
      step.ca_file = cluster_ca_file(cfg);
      step.client_cert_file = kubelet_client_cert(cfg);
      step.client_key_file = kubelet_client_cert(cfg);
      step.token.clear();
      break;
    case JoinMode::credentials:
      step.ca_file = cluster_ca_file(cfg);
      step.client_cert_file = cfg.cluster.client_cert_file;
      step.client_key_file = cfg.cluster.client_key_file;
      if (!step.client_cert_file.empty()) step.token.clear();
      break;
  }
  return step;
}

}  // namespace kna::stages
