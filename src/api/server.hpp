#pragma once
// The agent's local HTTP API on a unix socket: GET /healthz, /readyz, /v1/status, /metrics.
// Runs on its own thread; it only reads a StatusBoard that the loop publishes into, so a slow or
// hung client can never block the event loop.

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/report.hpp"
#include "kna/error.hpp"

namespace kna::api {

// The latest report, published by the loop thread after every change; read by the server thread.
class StatusBoard {
 public:
  void publish(const AgentReport& report);
  // The last published report's JSON text and readiness; "{}" / false before the first publish.
  std::string status_json() const;
  bool ready() const;
  std::string not_ready_summary() const;  // "flannel (backoff), main-docker (waiting)"

 private:
  mutable std::mutex mu_;
  std::string json_{"{}"};
  bool ready_{false};
  std::string not_ready_;
};

class ApiServer {
 public:
  // `metrics` produces the Prometheus text exposition; called on the server thread.
  ApiServer(std::string socket_path, const StatusBoard& board,
            std::function<std::string()> metrics);
  ~ApiServer();  // stops and removes the socket
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the socket (mode 0660; a stale socket is replaced, a live one held by another agent is
  // an error) and starts serving. Blocking, but quick: call before the loop starts.
  Status start();
  void stop();  // idempotent
  const std::string& socket_path() const { return socket_path_; }

 private:
  struct Impl;
  std::string socket_path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kna::api
