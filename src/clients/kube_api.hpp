#pragma once
// What the agent asks the Kubernetes API server: is it up, and is this node registered and Ready.
// Over plain HTTP (the insecure port, up to v1.19) or TLS, the server verified against a CA file.
// Blocking; for worker threads.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kna/error.hpp"
#include "kna/time.hpp"

namespace kna {

// A node's condition of type Ready, as the API server reports it.
struct NodeReadyCondition {
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  std::string last_heartbeat;  // RFC 3339, as sent
};

// The Ready condition of a Node object; nullopt when it has none (not reported yet).
std::optional<NodeReadyCondition> node_ready_condition(const nlohmann::json& node);

// How an https client trusts the server and proves who it is; ignored over http.
struct ApiTls {
  std::string ca_file;           // PEM; empty: the server is not verified (discovery's first ask)
  std::string client_cert_file;  // PEM; may hold the key too (kubelet-client-current.pem)
  std::string client_key_file;
};

class KubeApiClient {
 public:
  // `server` like "http://10.9.0.1:8080" or "https://10.9.0.1:6443"; `token` empty for none;
  // `user_agent` (empty: httplib's) names the agent and its node to the API server's logs and
  // audit, as the kubelet's does.
  KubeApiClient(std::string server, std::string token, Millis timeout, std::string user_agent = {},
                ApiTls tls = {});

  const std::string& server() const { return server_; }

  // GET `path`: the status and body, or an error naming the server and what failed (a TLS
  // failure included: "certificate verify failed").
  Result<std::pair<int, std::string>> get(const std::string& path) const;
  // `method` "GET", "POST" or "PUT" with a JSON `body` (ignored for GET); as get().
  Result<std::pair<int, std::string>> send(const std::string& method, const std::string& path,
                                           const std::string& body) const;

  // GET /healthz answers 200. The error: "API server http://…:8080 is not reachable: cannot
  // connect" or "API server http://…:8080 is not healthy: /healthz answered 500: <body>".
  Status healthz() const;
  // GET /api/v1/nodes/NAME: the Node, or nullopt when the API server does not know it (404).
  Result<std::optional<nlohmann::json>> get_node(const std::string& name) const;
  // GET /api/v1/nodes: every node's name.
  Result<std::vector<std::string>> node_names() const;

 private:
  // The TLS files it reads ("ca.crt or kubelet-client-current.pem"), for a failed load.
  std::string loaded_files() const;

  std::string server_;
  std::string token_;
  Millis timeout_;
  std::string user_agent_;
  ApiTls tls_;
};

}  // namespace kna
