#include "kube/standin_api.hpp"

#include <sys/utsname.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "clients/etcd_encoding.hpp"
#include "kube/standin_process.hpp"
#include "kube/standin_tls.hpp"

namespace kna::standins {

namespace {

using nlohmann::json;

// obj[key] when both are what they should be, else "".
std::string string_at(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// The entry of the list obj[key] whose "name" is `name` (kubeconfig's named lists).
const json* named(const json& obj, const char* key, const std::string& name) {
  const auto list = obj.find(key);
  if (list == obj.end() || !list->is_array()) return nullptr;
  for (const auto& item : *list)
    if (item.is_object() && string_at(item, "name") == name) return &item;
  return nullptr;
}

// httplib wants scheme://host:port; an API server URL may carry a path, which the API paths
// replace.
std::string scheme_host_port(const std::string& url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return url.substr(0, slash);
}

std::string trimmed_url(std::string url) {
  while (!url.empty() && (url.back() == '/' || url.back() == ' ')) url.pop_back();
  while (!url.empty() && url.front() == ' ') url.erase(url.begin());
  return url;
}

httplib::Headers headers(const std::string& token, const std::string& user_agent) {
  httplib::Headers h{{"Accept", "application/json"}, {"User-Agent", user_agent}};
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  return h;
}

ApiReply reply_of(const httplib::Result& res) {
  if (res) return ApiReply{res->status, res->body, {}};
  switch (res.error()) {
    case httplib::Error::Connection:
      return ApiReply{0, {}, "cannot connect"};
    case httplib::Error::ConnectionTimeout:
      return ApiReply{0, {}, "connection timed out"};
    case httplib::Error::Read:
      return ApiReply{0, {}, "no answer (read failed or timed out)"};
    case httplib::Error::Write:
      return ApiReply{0, {}, "sending the request failed"};
    default:
      return ApiReply{0, {}, httplib::to_string(res.error())};
  }
}

// A kubeconfig path as client-go resolves it: relative to the kubeconfig's folder.
std::string resolved(const std::string& file, const std::filesystem::path& folder) {
  if (file.empty() || file.front() == '/') return file;
  return (folder / file).string();
}

// The base64 field obj[key] decoded ("" when absent); `problem` says why when it is not base64.
std::string decoded(const json& obj, const char* key, std::string& problem) {
  const std::string text = string_at(obj, key);
  if (text.empty()) return "";
  auto bytes = etcd::base64_decode(text);
  if (!bytes && problem.empty()) problem = std::string(key) + " is not base64";
  return bytes ? *bytes : "";
}

// The bearer token: the kubeconfig's, else its tokenFile's first line (read at each request, as
// client-go rereads it); "" without either.
Result<std::string> bearer_token(const ApiServer& server) {
  if (!server.token.empty() || server.token_file.empty()) return server.token;
  std::ifstream in(server.token_file);
  if (!in) return Error{"cannot read tokenFile " + server.token_file + ": " + std::strerror(errno)};
  std::string token;
  std::getline(in, token);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return token;
}

// One request to the API server, over TLS for an https URL. `send` takes the client (httplib's
// plain or TLS one) and the headers.
template <typename Send>
ApiReply call(const ApiServer& server, const std::string& user_agent, Send send) {
  auto token = bearer_token(server);
  if (!token) return ApiReply{0, {}, token.error().message};
  const auto h = headers(token.value(), user_agent);
  if (server.url.rfind("https://", 0) != 0) {
    httplib::Client client(scheme_host_port(server.url));
    client.set_connection_timeout(std::chrono::seconds(2));
    client.set_read_timeout(std::chrono::seconds(5));
    return reply_of(send(client, h));
  }
  auto tls = TlsClient::open(server);
  if (!tls) return ApiReply{0, {}, tls.error().message};
  auto& client = tls.value()->http();
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(5));
  auto res = send(client, h);
  if (res) return ApiReply{res->status, res->body, {}};
  return ApiReply{0, {}, tls.value()->failure(res.error())};
}

}  // namespace

std::string shortened(std::string text) {
  if (text.size() > 200) text = text.substr(0, 200) + "…";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

Result<ApiServer> read_kubeconfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"cannot read kubeconfig " + path + ": " + std::strerror(errno)};
  std::stringstream text;
  text << in.rdbuf();
  const auto config = json::parse(text.str(), nullptr, false);
  if (config.is_discarded() || !config.is_object())
    return Error{"kubeconfig " + path + " is not JSON (the stand-in reads JSON kubeconfigs only)"};
  const std::string current = string_at(config, "current-context");
  const json* context = named(config, "contexts", current);
  if (current.empty() || context == nullptr)
    return Error{"kubeconfig " + path + ": current-context '" + current + "' is not defined"};
  const json ctx = context->value("context", json::object());
  const json* cluster_entry = named(config, "clusters", string_at(ctx, "cluster"));
  const json cluster =
      cluster_entry != nullptr ? cluster_entry->value("cluster", json::object()) : json::object();
  const std::string url = string_at(cluster, "server");
  if (url.empty())
    return Error{"kubeconfig " + path + ": the cluster of context '" + current + "' has no server"};
  ApiServer server;
  server.url = trimmed_url(url);
  const auto fail = [&](const std::string& why) {
    return Error{"kubeconfig " + path + ": " + why};
  };
  const auto relative_to = std::filesystem::path(path).parent_path();
  std::string problem;
  server.ca_file = resolved(string_at(cluster, "certificate-authority"), relative_to);
  server.ca_pem = decoded(cluster, "certificate-authority-data", problem);
  const auto insecure = cluster.find("insecure-skip-tls-verify");
  server.insecure_skip_tls_verify =
      insecure != cluster.end() && insecure->is_boolean() && insecure->get<bool>();
  if (server.insecure_skip_tls_verify && server.has_ca())
    return fail(
        "specifying a root certificates file with the insecure flag is not allowed "
        "(certificate-authority and insecure-skip-tls-verify)");
  if (const json* user_entry = named(config, "users", string_at(ctx, "user"))) {
    const json user = user_entry->value("user", json::object());
    server.token = string_at(user, "token");
    server.token_file = resolved(string_at(user, "tokenFile"), relative_to);
    server.client_cert_file = resolved(string_at(user, "client-certificate"), relative_to);
    server.client_key_file = resolved(string_at(user, "client-key"), relative_to);
    server.client_cert_pem = decoded(user, "client-certificate-data", problem);
    server.client_key_pem = decoded(user, "client-key-data", problem);
  }
  if (!problem.empty()) return fail(problem);
  const bool has_key = !server.client_key_file.empty() || !server.client_key_pem.empty();
  if (server.has_client_cert() != has_key)
    return fail("client-certificate and client-key must both be given, or neither");
  return server;
}

std::string go_arch() {
  utsname u{};
  if (::uname(&u) != 0) return "amd64";
  const std::string_view machine = u.machine;
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64" || machine == "arm64") return "arm64";
  if (machine.substr(0, 3) == "arm") return "arm";
  if (machine == "i386" || machine == "i686") return "386";
  return std::string(machine);  // ppc64le, s390x: same names
}

std::string standin_user_agent(const std::string& component, const std::string& version) {
  return component + "/" + version + " (linux/" + go_arch() + ") kubernetes/standin";
}

std::string first_url(const std::string& urls) {
  return trimmed_url(urls.substr(0, urls.find(',')));
}

ApiReply ApiClient::get(const std::string& path) const {
  return call(server_, user_agent_,
              [&](auto& client, const httplib::Headers& h) { return client.Get(path.c_str(), h); });
}

ApiReply ApiClient::post(const std::string& path, const std::string& body) const {
  return call(server_, user_agent_, [&](auto& client, const httplib::Headers& h) {
    return client.Post(path.c_str(), h, body, "application/json");
  });
}

ApiReply ApiClient::patch(const std::string& path, const std::string& body,
                          const std::string& content_type) const {
  return call(server_, user_agent_, [&](auto& client, const httplib::Headers& h) {
    return client.Patch(path.c_str(), h, body, content_type.c_str());
  });
}

bool ApiReachability::record(const ApiReply& reply, const std::string& what) {
  if (reply.status == 0) {
    failed("unreachable: " + reply.error);
    return false;
  }
  if (reply.status >= 500) {
    failed("answered " + std::to_string(reply.status) + " to " + what + ": " +
           shortened(reply.body));
  } else {
    answered();
  }
  return true;
}

void ApiReachability::answered() {
  if (!problem_.empty() || first_) spdlog::info("API server {} reachable", url_);
  problem_.clear();
  first_ = false;
}

void ApiReachability::failed(const std::string& problem) {
  if (problem != problem_) spdlog::warn("API server {} {}", url_, problem);
  problem_ = problem;
  first_ = false;
}

void watch_api(const ApiClient& api, const std::string& path, std::chrono::milliseconds period,
               const StopFlag& stop) {
  ApiReachability reach(api.url());
  do {
    const auto reply = api.get(path);
    if (reply.status == 0)
      reach.failed("unreachable: " + reply.error);
    else if (reply.status != 200)
      reach.failed("answered " + std::to_string(reply.status) + " to GET " + path + ": " +
                   shortened(reply.body));
    else
      reach.answered();
  } while (!stop.wait_for(period));
}

Result<ApiServer> api_server_from_flags(const std::string& master, const std::string& kubeconfig) {
  ApiServer server;
  if (!kubeconfig.empty()) {
    auto read = read_kubeconfig(kubeconfig);
    if (!read) return read.error();
    server = read.value();
  }
  if (!master.empty()) server.url = first_url(master);
  if (server.url.empty()) {
    spdlog::warn("Neither --kubeconfig nor --master was specified, using http://localhost:8080");
    server.url = "http://localhost:8080";
  }
  return server;
}

std::chrono::milliseconds period_from_env(const char* variable,
                                          std::chrono::milliseconds fallback) {
  const char* text = std::getenv(variable);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const double seconds = std::strtod(text, &end);
  if (end == text || *end != '\0' || seconds <= 0) {
    spdlog::warn("Ignoring {}='{}': not a positive number of seconds", variable, text);
    return fallback;
  }
  return std::chrono::milliseconds(static_cast<long>(seconds * 1000));
}

}  // namespace kna::standins
