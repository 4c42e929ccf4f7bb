#include "clients/kube_api.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/x509.h>
#include <nlohmann/json.hpp>

#include "clients/http_error.hpp"
#include "core/request_count.hpp"

namespace kna {

namespace {

std::string excerpt(const std::string& body) {
  std::string out = body.substr(0, 200);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// The message of a Kubernetes Status object, else the body itself.
std::string status_message(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    return j["message"].get<std::string>();
  return excerpt(body);
}

Result<nlohmann::json> parse_object(const std::string& server, const std::string& path,
                                    const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object())
    return Error{
        fmt::format("API server {}: {} answered with something that is not a JSON object: "
                    "'{}'",
                    server, path, excerpt(body))};
  return j;
}

}  // namespace

std::optional<NodeReadyCondition> node_ready_condition(const nlohmann::json& node) {
  const auto status = node.find("status");
  if (status == node.end() || !status->is_object()) return std::nullopt;
  const auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return std::nullopt;
  // Not c.value(): a field that is there but not a string would throw type_error.
  const auto text = [](const nlohmann::json& c, const char* key) {
    const auto it = c.find(key);
    return it != c.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  for (const auto& c : *conditions) {
    if (!c.is_object() || text(c, "type") != "Ready") continue;
    NodeReadyCondition out;
    out.status = text(c, "status");
    out.reason = text(c, "reason");
    out.message = text(c, "message");
    out.last_heartbeat = text(c, "lastHeartbeatTime");
    return out;
  }
  return std::nullopt;
}

KubeApiClient::KubeApiClient(std::string server, std::string token, Millis timeout,
                             std::string user_agent, ApiTls tls)
    : server_(std::move(server)),
      token_(std::move(token)),
      timeout_(timeout),
      user_agent_(std::move(user_agent)),
      tls_(std::move(tls)) {}

Result<std::pair<int, std::string>> KubeApiClient::get(const std::string& path) const {
  return send("GET", path, {});
}

Result<std::pair<int, std::string>> KubeApiClient::send(const std::string& method,
                                                        const std::string& path,
                                                        const std::string& body) const {
  const bool https = server_.starts_with("https://");
  auto client = https && !tls_.client_cert_file.empty()
                    ? httplib::Client(server_, tls_.client_cert_file,
                                      tls_.client_key_file.empty() ? tls_.client_cert_file
                                                                   : tls_.client_key_file)
                    : httplib::Client(server_);
  if (https) {
    client.enable_server_certificate_verification(!tls_.ca_file.empty());
    if (!tls_.ca_file.empty()) client.set_ca_cert_path(tls_.ca_file);
  }
  client.set_connection_timeout(timeout_);
  client.set_read_timeout(timeout_);
  client.set_write_timeout(timeout_);
  httplib::Headers headers{{"Accept", "application/json"}};
  if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
  if (!user_agent_.empty()) headers.emplace("User-Agent", user_agent_);
  // A client certificate or key that cannot be loaded leaves the client unusable, and httplib
  // then reports "Success": say which files instead.
  if (!client.is_valid())
    return Error{
        fmt::format("API server {} is not reachable: cannot load {}", server_, loaded_files())};
  count_request(kTargetApiServer);
  constexpr const char* kJson = "application/json";
  const auto res = method == "POST"  ? client.Post(path, headers, body, kJson)
                   : method == "PUT" ? client.Put(path, headers, body, kJson)
                                     : client.Get(path, headers);
  if (!res) {
    std::string why = describe_http_error(res.error(), timeout_);
    if (res.error() == httplib::Error::SSLServerVerification)
      why += fmt::format(
          ": the server's certificate does not verify against {} ({}); if the cluster's CA was "
          "replaced, give the node the new one (cluster.ca_cert_hash with a join token, or "
          "cluster.ca_file)",
          tls_.ca_file, X509_verify_cert_error_string(client.get_openssl_verify_result()));
    else if (res.error() == httplib::Error::SSLLoadingCerts)
      why += fmt::format(": cannot load {}", loaded_files());
    return Error{fmt::format("API server {} is not reachable: {}", server_, why)};
  }
  return std::pair<int, std::string>{res->status, res->body};
}

std::string KubeApiClient::loaded_files() const {
  std::string out;
  for (const auto* file : {&tls_.ca_file, &tls_.client_cert_file, &tls_.client_key_file})
    if (!file->empty() && out.find(*file) == std::string::npos)
      out += (out.empty() ? "" : " or ") + *file;
  return out;
}

Status KubeApiClient::healthz() const {
  auto res = get("/healthz");
  if (!res) return res.error();
  const auto& [status, body] = res.value();
  if (status != 200)
    return Error{fmt::format("API server {} is not healthy: /healthz answered {}: '{}'", server_,
                             status, excerpt(body))};
  return kOk;
}

Result<std::optional<nlohmann::json>> KubeApiClient::get_node(const std::string& name) const {
  const std::string path = "/api/v1/nodes/" + name;
  auto res = get(path);
  if (!res) return res.error();
  const auto& [status, body] = res.value();
  if (status == 404) return std::optional<nlohmann::json>{};
  if (status != 200)
    return Error{fmt::format("API server {}: GET {} answered {}: {}", server_, path, status,
                             status_message(body))};
  auto node = parse_object(server_, path, body);
  if (!node) return node.error();
  return std::optional<nlohmann::json>{std::move(node).value()};
}

Result<std::vector<std::string>> KubeApiClient::node_names() const {
  const std::string path = "/api/v1/nodes";
  auto res = get(path);
  if (!res) return res.error();
  const auto& [status, body] = res.value();
  if (status != 200)
    return Error{fmt::format("API server {}: GET {} answered {}: {}", server_, path, status,
                             status_message(body))};
  auto list = parse_object(server_, path, body);
  if (!list) return list.error();
  std::vector<std::string> names;
  const auto items = list.value().find("items");
  if (items == list.value().end() || !items->is_array()) return names;
  for (const auto& item : *items) {
    if (item.contains("metadata") && item["metadata"].contains("name") &&
        item["metadata"]["name"].is_string())
      names.push_back(item["metadata"]["name"].get<std::string>());
  }
  return names;
}

}  // namespace kna
