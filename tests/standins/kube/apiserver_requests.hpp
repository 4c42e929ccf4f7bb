#pragma once
// The kube-apiserver stand-in's record of the requests it was sent, so that a bench can tell what
// each client costs the API server (tests/bench/fleet): a bounded ring, served on the stand-in-only
// endpoint GET /standin/requests, which the real kube-apiserver does not have.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace kna::standins::apiserver {

inline constexpr const char* kRequestLogPath = "/standin/requests";
inline constexpr std::size_t kDefaultRequestLogCapacity = 100'000;

struct RequestRecord {
  std::int64_t t_ms{0};    // arrival, unix milliseconds
  std::string user_agent;  // "" when the client sent none
  std::string remote;      // the client's address, without its port
  std::string method;
  std::string path;  // without the query string, except "?watch=…" when the query has it
};

// The last `capacity` requests. Safe to call from several threads: the HTTP pool records while a
// client reads.
class RequestLog {
 public:
  explicit RequestLog(std::size_t capacity);

  void record(RequestRecord request);

  // {"requests": [{"t_ms", "user_agent", "remote", "method", "path"}…] oldest first,
  //  "by_client": {"<user agent> <remote>": count…} over those requests,
  //  "capacity", "dropped" (evicted from the ring so far), "now_ms"} for since_ms ≤ t_ms <
  //  until_ms.
  nlohmann::json report(std::int64_t since_ms,
                        std::int64_t until_ms = std::numeric_limits<std::int64_t>::max()) const;

 private:
  mutable std::mutex mu_;
  std::size_t capacity_;
  std::vector<RequestRecord> ring_;  // grows to capacity_, then next_ is the oldest
  std::size_t next_{0};
  std::uint64_t dropped_{0};
};

// The capacity from KNA_STANDIN_REQUEST_LOG_CAPACITY (a positive count), else the default.
std::size_t request_log_capacity_from_env();

// Records every request `server` receives into `log`, except GET /standin/requests, which it
// serves (?since_ms=N&until_ms=M, both optional). Call before the routes that match everything.
// `log` must outlive `server`. `then`, when given, runs next on every request (the secure port's
// authentication and authorization: cpp-httplib has one pre-routing handler); true when it has
// answered the request itself.
using PreRouting = std::function<bool(const httplib::Request&, httplib::Response&)>;
void install_request_log(httplib::Server& server, RequestLog& log, PreRouting then = nullptr);

}  // namespace kna::standins::apiserver
