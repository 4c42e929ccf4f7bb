#include "clients/cluster_discovery.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "clients/etcd_encoding.hpp"
#include "clients/join_trust.hpp"
#include "clients/kube_api.hpp"

namespace kna {

namespace {

constexpr const char* kClusterInfoPath = "/api/v1/namespaces/kube-public/configmaps/cluster-info";
// Any request the token authenticates for: the node-bootstrapper role may list CSRs; a 403 still
// proves the token was accepted.
constexpr const char* kTokenCheckPath =
    "/apis/certificates.k8s.io/v1/certificatesigningrequests?limit=1";
constexpr std::string_view kJwsPrefix = "jws-kubeconfig-";
constexpr const char* kNewToken = "make a new one on the control plane with `kubeadm token create`";

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  std::string out(s.substr(first, last - first + 1));
  if (out.size() >= 2 && (out.front() == '"' || out.front() == '\'') && out.back() == out.front())
    out = out.substr(1, out.size() - 2);
  return out;
}

// The value of the first `key:` line of a YAML document, at any depth or list position.
std::string yaml_value(const std::string& text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) continue;
    line.remove_prefix(start);
    if (line.starts_with("- ")) line.remove_prefix(2);
    if (line.starts_with(key) && line.substr(key.size()).starts_with(':'))
      return trim(line.substr(key.size() + 1));
  }
  return {};
}

Result<KubeconfigCluster> cluster_from_fields(const std::string& server, const std::string& data) {
  if (server.empty()) return Error{"its kubeconfig names no server"};
  if (data.empty()) return Error{"its kubeconfig holds no certificate-authority-data"};
  auto pem = etcd::base64_decode(data);
  if (!pem) return Error{"its kubeconfig's certificate-authority-data is not base64"};
  return KubeconfigCluster{server, *pem};
}

}  // namespace

Result<KubeconfigCluster> kubeconfig_cluster(const std::string& kubeconfig) {
  const auto first = kubeconfig.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && kubeconfig[first] == '{') {
    const auto j = nlohmann::json::parse(kubeconfig, nullptr, false);
    if (!j.is_object()) return Error{"its kubeconfig is not valid JSON"};
    const auto clusters = j.find("clusters");
    if (clusters == j.end() || !clusters->is_array() || clusters->empty() ||
        !(*clusters)[0].is_object() || !(*clusters)[0].contains("cluster") ||
        !(*clusters)[0]["cluster"].is_object())
      return Error{"its kubeconfig has no cluster"};
    const auto& c = (*clusters)[0]["cluster"];
    const auto text = [&c](const char* key) {
      const auto it = c.find(key);
      return it != c.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    return cluster_from_fields(text("server"), text("certificate-authority-data"));
  }
  return cluster_from_fields(yaml_value(kubeconfig, "server"),
                             yaml_value(kubeconfig, "certificate-authority-data"));
}

Result<ClusterInfo> parse_cluster_info(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_object())
    return Error{"cluster-info is not a ConfigMap with data"};
  ClusterInfo info;
  for (const auto& [key, value] : j["data"].items()) {
    if (!value.is_string()) continue;
    if (key == "kubeconfig")
      info.kubeconfig = value.get<std::string>();
    else if (key.starts_with(kJwsPrefix))
      info.jws.emplace(key.substr(kJwsPrefix.size()), value.get<std::string>());
  }
  if (info.kubeconfig.empty()) return Error{"cluster-info has no kubeconfig"};
  return info;
}

std::string bootstrap_kubeconfig(const std::string& server, const std::string& ca_pem,
                                 const std::string& token) {
  using Json = nlohmann::ordered_json;
  const Json config{
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters",
       Json::array({{{"name", "cluster"},
                     {"cluster",
                      {{"server", server},
                       {"certificate-authority-data", etcd::base64_encode(ca_pem)}}}}})},
      {"users",
       Json::array({{{"name", "tls-bootstrap-token-user"}, {"user", {{"token", token}}}}})},
      {"contexts",
       Json::array(
           {{{"name", "tls-bootstrap-token-user@cluster"},
             {"context", {{"cluster", "cluster"}, {"user", "tls-bootstrap-token-user"}}}}})},
      {"current-context", "tls-bootstrap-token-user@cluster"},
  };
  return config.dump(2) + "\n";
}

Result<std::string> discover_cluster(const DiscoveryRequest& r) {
  auto token = parse_bootstrap_token(r.token);
  if (!token) return token.error();
  auto pin = parse_ca_pin(r.pin);
  if (!pin) return pin.error();
  const std::string want = "sha256:" + pin.value();

  // First ask: anonymous and unverified, as kubeadm's; nothing from it is trusted before the pin.
  const KubeApiClient anonymous(r.api_server, "", r.timeout, r.user_agent);
  auto first = anonymous.get(kClusterInfoPath);
  if (!first) return first.error();
  const auto& [status, body] = first.value();
  if (status == 404)
    return Error{fmt::format(
        "the API server {} has no cluster-info ConfigMap in kube-public (kubeadm init creates "
        "it; `kubeadm init phase bootstrap-token` makes it again); without it, join with "
        "cluster.ca_file instead of cluster.ca_cert_hash",
        r.api_server)};
  if (status != 200)
    return Error{
        fmt::format("the API server {} answered {} for cluster-info in kube-public: "
                    "anonymous clients must be able to read it to join by token",
                    r.api_server, status)};
  auto info = parse_cluster_info(body);
  if (!info) return Error{fmt::format("the API server {}: {}", r.api_server, info.error().message)};
  auto cluster = kubeconfig_cluster(info.value().kubeconfig);
  if (!cluster)
    return Error{
        fmt::format("the API server {}: cluster-info: {}", r.api_server, cluster.error().message)};
  auto served = ca_pin_of(cluster.value().ca_pem);
  if (!served)
    return Error{fmt::format("the API server {}: cluster-info's CA: {}", r.api_server,
                             served.error().message)};
  if (served.value() != want)
    return Error{fmt::format(
        "the API server's CA does not match ca_cert_hash {} (its cluster-info holds a CA "
        "pinned {}): refusing to trust {}; if the cluster's CA was replaced, take the new pin "
        "from `kubeadm token create --print-join-command`",
        want, served.value(), r.api_server)};
  const auto& jws = info.value().jws;
  if (!jws.empty()) {
    const auto it = jws.find(token.value().id);
    if (it == jws.end())
      return Error{
          fmt::format("the API server refused the join token: cluster-info is signed for "
                      "other tokens, not for token id {} (unknown to the cluster or "
                      "expired); {}",
                      token.value().id, kNewToken)};
    if (auto ok = verify_detached_jws(it->second, info.value().kubeconfig, token.value()); !ok)
      return Error{
          fmt::format("the API server refused the join token: cluster-info's signature for "
                      "token id {} does not match the token's secret ({}); check the token or {}",
                      token.value().id, ok.error().message, kNewToken)};
  }

  // The candidate CA on disk, for the verified second ask.
  {
    ::unlink(r.candidate_ca_file.c_str());
    std::ofstream out(r.candidate_ca_file, std::ios::binary | std::ios::trunc);
    out << cluster.value().ca_pem;
    out.close();
    if (!out || ::chmod(r.candidate_ca_file.c_str(), 0600) != 0)
      return Error{fmt::format("cannot write {}: {}", r.candidate_ca_file, std::strerror(errno))};
  }
  const KubeApiClient verified(r.api_server, r.token, r.timeout, r.user_agent,
                               ApiTls{r.candidate_ca_file, "", ""});
  auto second = verified.get(kTokenCheckPath);
  if (!second)
    return Error{
        fmt::format("{} (after cluster-info's CA matched the pin: the server's own "
                    "certificate is not signed by that CA)",
                    second.error().message)};
  if (second.value().first == 401)
    return Error{
        fmt::format("the API server refused the join token (401): token id {} is wrong "
                    "or has expired; {}",
                    token.value().id, kNewToken)};
  return cluster.value().ca_pem;
}

}  // namespace kna
