// A request on the agent's socket as the server reads it (src/api/server.cpp, src/api/http.cpp):
// bytes arrive in arbitrary pieces until the head ends, the head is parsed, and the request is
// routed. Whatever a local client sends, the answer is a well-formed response, a stranger never
// reaches a mutating verb, and the TCP metrics address never serves the control API.

#include <set>

#include "api/http.hpp"
#include "api/server.hpp"
#include "fuzz.hpp"

namespace {

using kna::fuzz::check;
namespace api = kna::api;

// The statuses route_simple may answer with; anything else is a bug in a route.
const std::set<int> kStatuses = {200, 202, 403, 404, 405, 500, 503};

struct Routed {
  api::HttpResponse response;
  int restarts{0};
};

Routed route(const api::HttpRequest& req, const api::Peer& peer, bool tcp) {
  static const api::StatusBoard board;  // nothing published: "{}", not ready
  static const api::AccessPolicy policy{0, 4242, "kube-node-agent"};
  Routed out;
  api::ApiHandlers handlers;
  handlers.metrics = [] { return std::string("kna_up 1\n"); };
  handlers.restart = [&](const std::string& stage, const api::Peer&) {
    ++out.restarts;
    check(!stage.empty() && stage.find('/') == std::string::npos,
          "a restart names one stage, without a slash");
    return api::text_response(202, "restarting " + stage);
  };
  out.response = api::route_simple(req, board, handlers, peer, policy, tcp);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = kna::fuzz::text(data, size);

  // The server looks for the head's end after every piece it receives; where it ends cannot
  // depend on how the bytes were cut.
  const auto whole_end = api::find_head_end(input);
  std::string received;
  std::optional<std::size_t> end;
  for (const auto chunk : kna::fuzz::chunks(input)) {
    received.append(chunk);
    if ((end = api::find_head_end(received))) break;
  }
  check(end == whole_end, "the head ends at the same place however the request was cut");
  if (!end) return 0;
  check(*end <= input.size(), "the head ends inside what was received");
  const auto before = input.substr(0, *end);
  check(before.ends_with("\n\n") || before.ends_with("\n\r\n"), "a head ends with a blank line");
  if (*end > api::kMaxRequestHead) return 0;  // answered 431 before any parsing

  const auto parsed = api::parse_request_head(before);
  if (!parsed) {
    check(!parsed.error().message.empty(), "a 400 says what is wrong");
    return 0;
  }
  const auto& req = parsed.value();
  check(!req.method.empty(), "a request has a method");
  check(req.path.starts_with('/'), "a path is absolute");
  for (const auto& [name, value] : req.headers) {
    for (const char c : name) check(!(c >= 'A' && c <= 'Z'), "header names are lower-cased");
  }

  const api::Peer stranger{true, 4000, 65534, 65534, {65534}};
  const api::Peer root{true, 1, 0, 0, {}};
  const api::Peer member{true, 4001, 1000, 1000, {4242}};
  for (const auto* peer : {&stranger, &root, &member}) {
    for (const bool tcp : {false, true}) {
      const auto routed = route(req, *peer, tcp);
      const int status = routed.response.status;
      check(kStatuses.count(status) == 1, "an answer has a status a route may give");
      check(api::serialize(routed.response).starts_with("HTTP/1.1 "), "an answer is HTTP/1.1");
      if (status == 405) {
        bool allow = false;
        for (const auto& [name, value] : routed.response.headers) allow = allow || name == "Allow";
        check(allow, "a 405 says which method is allowed");
      }
      if (tcp) {
        check(routed.restarts == 0, "the TCP address never restarts anything");
        check(status != 200 || req.path == "/metrics" || req.path == "/healthz",
              "the TCP address serves /metrics and /healthz only");
      }
      if (peer == &stranger) check(routed.restarts == 0, "a stranger never restarts a stage");
      if (routed.restarts > 0) {
        check(req.method == "POST", "only a POST restarts");
        check(routed.restarts == 1 && status == 202, "one request, one restart");
      }
    }
  }
  return 0;
}
