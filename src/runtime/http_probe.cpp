// The HTTP readiness check (cpp-httplib, blocking): kept apart so that only this file pays for
// httplib's header.
#include <sys/socket.h>

#include <fmt/format.h>
#include <httplib.h>

#include "clients/http_error.hpp"
#include "core/request_count.hpp"
#include "kna/error.hpp"
#include "runtime/prober.hpp"

namespace kna {

namespace {

struct Url {
  std::string scheme_host_port;  // "http://127.0.0.1:2379"
  std::string path;              // "/health"
};

Result<Url> parse_url(const std::string& url) {
  const auto sep = url.find("://");
  if (sep == std::string::npos) return Error{fmt::format("\"{}\" is not a URL", url)};
  const std::string scheme = url.substr(0, sep);
  if (scheme != "http" && scheme != "https") {
    return Error{fmt::format("\"{}\": scheme must be http or https", url)};
  }
  const auto slash = url.find('/', sep + 3);
  Url u;
  u.scheme_host_port = url.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : url.substr(slash);
  if (u.scheme_host_port.size() == sep + 3) return Error{fmt::format("\"{}\": no host", url)};
  return u;
}

}  // namespace

ProbeResult check_http(const ProbeSpec& spec) {
  const std::string& url = spec.url.empty() ? std::string("http://localhost/") : spec.url;
  const std::string target =
      spec.unix_socket.empty() ? url : fmt::format("{} via {}", url, spec.unix_socket);
  auto parsed = parse_url(url);
  if (!parsed) return {false, fmt::format("GET {}: {}", target, parsed.error().message)};

  const Millis timeout = spec.policy.timeout;
  std::unique_ptr<httplib::Client> client;
  if (spec.unix_socket.empty()) {
    client = std::make_unique<httplib::Client>(parsed.value().scheme_host_port);
  } else {
    // The (host, port) constructor takes the socket path as is; the port is ignored.
    client = std::make_unique<httplib::Client>(spec.unix_socket, 80);
    client->set_address_family(AF_UNIX);
    // dockerd rejects httplib's default Host header for a socket path.
    client->set_default_headers({{"Host", "localhost"}});
  }
  client->set_connection_timeout(timeout);
  client->set_read_timeout(timeout);
  client->set_write_timeout(timeout);

  if (!spec.target.empty()) count_request(spec.target, RequestKind::health);
  const auto res = client->Get(parsed.value().path.c_str());
  if (!res)
    return {false, fmt::format("GET {}: {}", target, describe_http_error(res.error(), timeout))};
  if (res->status < 200 || res->status > 299) {
    return {false, fmt::format("GET {}: status {}", target, res->status)};
  }
  if (!spec.body_contains.empty() && res->body.find(spec.body_contains) == std::string::npos) {
    return {false, fmt::format("GET {}: status {} but the body does not contain \"{}\"", target,
                               res->status, spec.body_contains)};
  }
  return {true, fmt::format("GET {}: status {}", target, res->status)};
}

}  // namespace kna
