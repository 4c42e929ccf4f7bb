#include "kube/apiserver_requests.hpp"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <utility>

#include <httplib.h>

#include <spdlog/spdlog.h>

namespace kna::standins::apiserver {

namespace {

using json = nlohmann::json;

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A whole decimal number, or nullopt.
std::optional<std::int64_t> parse_int(const std::string& text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

json bad_request_status(const std::string& message) {
  return json{{"kind", "Status"},          {"apiVersion", "v1"}, {"metadata", json::object()},
              {"status", "Failure"},       {"message", message}, {"reason", "BadRequest"},
              {"details", json::object()}, {"code", 400}};
}

// What the log keeps of a request's target: the path, and whether it asked to watch (a watch is
// one long request, not a poll, so a reader needs to tell them apart).
std::string logged_path(const httplib::Request& req) {
  if (!req.has_param("watch")) return req.path;
  return req.path + "?watch=" + req.get_param_value("watch");
}

}  // namespace

RequestLog::RequestLog(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

void RequestLog::record(RequestRecord request) {
  std::lock_guard lock(mu_);
  if (ring_.size() < capacity_) {
    ring_.push_back(std::move(request));
    return;
  }
  ring_[next_] = std::move(request);
  next_ = (next_ + 1) % capacity_;
  ++dropped_;
}

json RequestLog::report(std::int64_t since_ms, std::int64_t until_ms) const {
  // Copied under the lock, turned into JSON after it: the pool's threads record meanwhile.
  std::vector<RequestRecord> picked;
  std::uint64_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < ring_.size(); ++i) {
      const auto& r = ring_[(next_ + i) % ring_.size()];
      if (r.t_ms >= since_ms && r.t_ms < until_ms) picked.push_back(r);
    }
    dropped = dropped_;
  }
  json requests = json::array();
  json by_client = json::object();
  for (auto& r : picked) {
    auto& count = by_client[r.user_agent + " " + r.remote];
    count = count.is_number() ? count.get<std::int64_t>() + 1 : 1;
    requests.push_back({{"t_ms", r.t_ms},
                        {"user_agent", std::move(r.user_agent)},
                        {"remote", std::move(r.remote)},
                        {"method", std::move(r.method)},
                        {"path", std::move(r.path)}});
  }
  return json{{"requests", std::move(requests)},
              {"by_client", std::move(by_client)},
              {"capacity", capacity_},
              {"dropped", dropped},
              {"now_ms", unix_ms_now()}};
}

std::size_t request_log_capacity_from_env() {
  const char* text = std::getenv("KNA_STANDIN_REQUEST_LOG_CAPACITY");
  if (text == nullptr || *text == '\0') return kDefaultRequestLogCapacity;
  const auto value = parse_int(text);
  if (!value || *value <= 0) {
    spdlog::warn("Ignoring KNA_STANDIN_REQUEST_LOG_CAPACITY='{}': not a positive count", text);
    return kDefaultRequestLogCapacity;
  }
  return static_cast<std::size_t>(*value);
}

void install_request_log(httplib::Server& server, RequestLog& log, PreRouting then) {
  server.set_pre_routing_handler(
      [&log, then = std::move(then)](const httplib::Request& req, httplib::Response& res) {
        if (req.path != kRequestLogPath) {
          log.record(RequestRecord{unix_ms_now(), req.get_header_value("User-Agent"),
                                   req.remote_addr, req.method, logged_path(req)});
        }
        if (then && then(req, res)) return httplib::Server::HandlerResponse::Handled;
        return httplib::Server::HandlerResponse::Unhandled;
      });
  server.Get(kRequestLogPath, [&log](const httplib::Request& req, httplib::Response& res) {
    std::int64_t bounds[2] = {0, std::numeric_limits<std::int64_t>::max()};
    const char* names[2] = {"since_ms", "until_ms"};
    for (int i = 0; i < 2; ++i) {
      if (!req.has_param(names[i])) continue;
      const auto value = parse_int(req.get_param_value(names[i]));
      if (!value) {
        res.status = 400;
        res.set_content(
            bad_request_status(std::string(names[i]) + " must be a whole number of unix "
                                                       "milliseconds")
                .dump(),
            "application/json");
        return;
      }
      bounds[i] = *value;
    }
    // A client's User-Agent need not be UTF-8: replaced, not an exception.
    res.set_content(
        log.report(bounds[0], bounds[1]).dump(-1, ' ', false, json::error_handler_t::replace),
        "application/json");
  });
}

}  // namespace kna::standins::apiserver
