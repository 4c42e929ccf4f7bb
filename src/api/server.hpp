#pragma once
// The agent's local API on a unix socket (never TCP):
//   GET  /healthz, /readyz, /v1/status, /metrics           anyone who can open the socket
//   POST /v1/stages/STAGE/restart                          root, the agent's user, api.socket_group
//   GET  /v1/stages/STAGE/logs?tail=N&follow=1             the same
// and, when metrics.address is set, GET /metrics (and /healthz) on that TCP address.
// Each connection gets a thread of its own (at most max_connections at once; one more is answered
// 503 at once), reads one request within the read timeout and is closed after the answer. The
// server only reads what the loop publishes (StatusBoard) and calls the handlers the agent gives
// it, so a slow or hostile client never blocks the loop or another client.

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/http.hpp"
#include "api/peer.hpp"
#include "api/report.hpp"
#include "api/stage_logs.hpp"
#include "kna/error.hpp"
#include "kna/time.hpp"

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

struct ApiOptions {
  std::string socket_path;
  mode_t socket_mode{0660};
  std::string socket_group;     // a name or a number; "" keeps the agent's group
  std::string metrics_address;  // "host:port" for /metrics over TCP; "" for none
  std::size_t max_connections{32};
  Millis read_timeout{5000};   // to receive a whole request
  Millis write_timeout{5000};  // for each piece of the answer to leave
};

// What the server calls; each may be empty (the route then answers 503 or an empty body). They
// run on a connection's thread.
struct ApiHandlers {
  std::function<std::string()> metrics;  // the Prometheus text exposition
  // Restart STAGE and what restarts with it; the peer is allowed already.
  std::function<HttpResponse(const std::string& stage, const Peer& peer)> restart;
  // Where STAGE's output is; an error (unknown stage) is a 404.
  std::function<Result<LogSource>(const std::string& stage)> log_source;
};

class ApiServer {
 public:
  ApiServer(ApiOptions options, const StatusBoard& board, ApiHandlers handlers);
  // The read-only routes only, on `socket_path` with the defaults.
  ApiServer(std::string socket_path, const StatusBoard& board,
            std::function<std::string()> metrics);
  ~ApiServer();  // stops and removes the socket
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the socket with its mode and group from the start (a stale socket is replaced, a live
  // one held by another agent is an error), the metrics address if any, and starts serving.
  // Blocking, but quick: call before the loop starts.
  Status start();
  void stop();  // idempotent; ends every connection, followed logs included
  const std::string& socket_path() const { return options_.socket_path; }

 private:
  struct Impl;
  ApiOptions options_;
  std::unique_ptr<Impl> impl_;
};

// The response to one request (no streaming routes): exposed for tests and the fuzzer.
HttpResponse route_simple(const HttpRequest& request, const StatusBoard& board,
                          const ApiHandlers& handlers, const Peer& peer, const AccessPolicy& policy,
                          bool tcp);

}  // namespace kna::api
