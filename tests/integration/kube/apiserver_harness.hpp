#pragma once
// What the kube-apiserver stand-in's tests run: the stand-in as a child process on a free
// loopback port against a private etcd (../etcd/harness.hpp), and a JSON client for its API.

#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "../etcd/harness.hpp"

namespace kna::test {

using json = nlohmann::json;

inline constexpr const char* kHyperkube = KNA_STANDIN_HYPERKUBE;
inline constexpr const char* kServing = "Serving insecurely on ";

// RFC 3339 in UTC, as a kubelet writes lastHeartbeatTime.
inline std::string rfc3339(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

// A node as a kubelet registers it: Ready with the given heartbeat time.
inline json kubelet_node(const std::string& name, const std::string& heartbeat) {
  return json{{"kind", "Node"},
              {"apiVersion", "v1"},
              {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
              {"spec", {{"externalID", name}}},
              {"status",
               {{"conditions",
                 {{{"type", "Ready"},
                   {"status", "True"},
                   {"reason", "KubeletReady"},
                   {"lastHeartbeatTime", heartbeat},
                   {"lastTransitionTime", heartbeat}}}},
                {"nodeInfo", {{"kubeletVersion", "v1.3.6"}}}}}};
}

// An HTTP answer with its body parsed when it is JSON.
struct Answer {
  int status{0};
  std::string body;
  json object;  // discarded when the body is not JSON
};

// The stand-in apiserver, stopped with SIGTERM at the end.
class ApiserverProcess {
 public:
  ApiserverProcess(const std::string& etcd_endpoint, const std::string& backend,
                   const std::map<std::string, std::string>& env = {})
      : port_(free_port()) {
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{
            kHyperkube, "apiserver", "--etcd-servers=" + etcd_endpoint,
            "--storage-backend=" + backend, "--insecure-bind-address=127.0.0.1",
            "--insecure-port=" + std::to_string(port_), "--advertise-address=127.0.0.1",
            "--allow-privileged=true", "--service-cluster-ip-range=10.0.0.1/24", "--v=2"},
        env);
    ready_ = process_->wait_for_output(kServing, std::chrono::seconds(10));
  }
  ~ApiserverProcess() { stop(); }
  ApiserverProcess(const ApiserverProcess&) = delete;
  ApiserverProcess& operator=(const ApiserverProcess&) = delete;

  // False when it did not start serving; log() says why.
  bool ready() const { return ready_; }
  std::string log() { return process_->output(); }
  ChildProcess& process() { return *process_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // SIGTERM, then the wait status (nullopt if it still ran after 10 s).
  std::optional<int> stop() {
    process_->signal(SIGTERM);
    return process_->wait_exit(std::chrono::seconds(10));
  }

  Answer get(const std::string& path, const std::string& accept = "application/json") {
    httplib::Client client("127.0.0.1", port_);
    return answer(client.Get(path.c_str(), {{"Accept", accept}}));
  }
  Answer post(const std::string& path, const json& body) {
    httplib::Client client("127.0.0.1", port_);
    return answer(client.Post(path.c_str(), body.dump(), "application/json"));
  }
  Answer put(const std::string& path, const json& body) {
    httplib::Client client("127.0.0.1", port_);
    return answer(client.Put(path.c_str(), body.dump(), "application/json"));
  }
  Answer patch(const std::string& path, const json& body, const std::string& content_type) {
    httplib::Client client("127.0.0.1", port_);
    return answer(client.Patch(path.c_str(), body.dump(), content_type.c_str()));
  }
  Answer del(const std::string& path) {
    httplib::Client client("127.0.0.1", port_);
    return answer(client.Delete(path.c_str()));
  }

 private:
  static Answer answer(const httplib::Result& result) {
    if (!result) return Answer{0, "request failed: " + httplib::to_string(result.error()), {}};
    return Answer{result->status, result->body, json::parse(result->body, nullptr, false)};
  }

  int port_;
  std::unique_ptr<ChildProcess> process_;
  bool ready_{false};
};

}  // namespace kna::test
