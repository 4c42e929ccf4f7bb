#include "kube/kubelet_node.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <string_view>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "kube/standin_api.hpp"
#include "kube/standin_process.hpp"

namespace kna::standins {

namespace {

using nlohmann::json;

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof(buffer) - 1) != 0) return "localhost";
  return buffer;
}

// The first IPv4 address of an interface that is up and not loopback, as the real kubelet picks
// when nothing names one.
std::string first_host_ipv4() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "127.0.0.1";
  std::string found;
  for (auto* it = list; it != nullptr && found.empty(); it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    if ((it->ifa_flags & IFF_LOOPBACK) != 0 || (it->ifa_flags & IFF_UP) == 0) continue;
    char text[INET_ADDRSTRLEN] = {};
    sockaddr_in addr{};
    std::memcpy(&addr, it->ifa_addr, sizeof(addr));
    if (::inet_ntop(AF_INET, &addr.sin_addr, text, sizeof(text)) != nullptr) found = text;
  }
  ::freeifaddrs(list);
  return found.empty() ? "127.0.0.1" : found;
}

json ready_condition(const std::string& heartbeat, const std::string& ready_since) {
  return {{"type", "Ready"},
          {"status", "True"},
          {"reason", "KubeletReady"},
          {"message", "kubelet is posting ready status"},
          {"lastHeartbeatTime", heartbeat},
          {"lastTransitionTime", ready_since}};
}

json node_status(const NodeIdentity& node, const std::string& heartbeat,
                 const std::string& ready_since) {
  return {{"conditions", json::array({ready_condition(heartbeat, ready_since)})},
          {"addresses", json::array({{{"type", "InternalIP"}, {"address", node.internal_ip}},
                                     {{"type", "Hostname"}, {"address", node.name}}})},
          {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
          {"nodeInfo",
           {{"kubeletVersion", node.kubelet_version},
            {"kubeProxyVersion", node.kubelet_version},
            {"operatingSystem", "linux"},
            {"architecture", node.arch},
            {"osImage", "kube-node-agent kubelet stand-in"}}}};
}

}  // namespace

NodeIdentity node_identity(const std::string& hostname_override, const std::string& node_ip,
                           const std::string& address, const std::string& version) {
  NodeIdentity node;
  // The real kubelet lowercases the node name: Kubernetes names are DNS labels.
  node.name = lowercase(hostname_override.empty() ? host_name() : hostname_override);
  if (!node_ip.empty())
    node.internal_ip = node_ip;
  else if (!address.empty() && address != "0.0.0.0")
    node.internal_ip = address;
  else
    node.internal_ip = first_host_ipv4();
  node.kubelet_version = version;
  node.arch = go_arch();
  return node;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  ::gmtime_r(&secs, &utc);
  char text[32] = {};
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

json node_object(const NodeIdentity& node, const std::string& heartbeat,
                 const std::string& ready_since) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata",
           {{"name", node.name},
            {"labels",
             {{"kubernetes.io/hostname", node.name},
              {"beta.kubernetes.io/arch", node.arch},
              {"beta.kubernetes.io/os", "linux"}}}}},
          {"spec", {{"externalID", node.name}}},
          {"status", node_status(node, heartbeat, ready_since)}};
}

json status_patch(const NodeIdentity& node, const std::string& heartbeat,
                  const std::string& ready_since) {
  return {{"status", node_status(node, heartbeat, ready_since)}};
}

NodeStatus::NodeStatus(ApiClient api, NodeIdentity node, std::chrono::milliseconds period)
    : api_(std::move(api)),
      node_(std::move(node)),
      period_(period),
      ready_since_(rfc3339(std::chrono::system_clock::now())),
      reach_(api_.url()) {}

void NodeStatus::run(const StopFlag& stop) {
  bool registered = false;
  do {
    if (!registered) registered = register_node();
    if (registered && heartbeat() == Beat::node_gone) {
      spdlog::warn("Node {} is gone from the API server: registering it again", node_.name);
      registered = register_node() && heartbeat() == Beat::ok;
    }
  } while (!stop.wait_for(period_));
}

bool NodeStatus::register_node() {
  const auto now = rfc3339(std::chrono::system_clock::now());
  const auto reply = api_.post("/api/v1/nodes", node_object(node_, now, ready_since_).dump());
  if (!reach_.record(reply, "POST /api/v1/nodes")) return false;
  if (reply.status == 200 || reply.status == 201) {
    spdlog::info("Successfully registered node {}", node_.name);
    problem_.clear();
    return true;
  }
  if (reply.status == 409) {
    spdlog::info("Node {} was previously registered", node_.name);
    problem_.clear();
    return true;
  }
  const auto problem = "Unable to register node " + node_.name + " with API server: answered " +
                       std::to_string(reply.status) + ": " + shortened(reply.body);
  if (problem != problem_) spdlog::error("{}", problem);
  problem_ = problem;
  return false;
}

NodeStatus::Beat NodeStatus::heartbeat() {
  const auto now = rfc3339(std::chrono::system_clock::now());
  const std::string path = "/api/v1/nodes/" + node_.name + "/status";
  const auto reply = api_.patch(path, status_patch(node_, now, ready_since_).dump(),
                                "application/strategic-merge-patch+json");
  if (!reach_.record(reply, "PATCH " + path)) return Beat::failed;
  if (reply.status == 404) return Beat::node_gone;
  if (reply.status >= 200 && reply.status < 300) {
    problem_.clear();
    return Beat::ok;
  }
  const auto problem = "Error updating node status: PATCH " + path + " answered " +
                       std::to_string(reply.status) + ": " + shortened(reply.body);
  if (problem != problem_) spdlog::error("{}", problem);
  problem_ = problem;
  return Beat::failed;
}

}  // namespace kna::standins
