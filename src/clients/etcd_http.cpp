// cpp-httplib reports a read timeout and a connection closed mid-answer alike (Error::Read), so
// the time the call took tells them apart.

#include "clients/etcd_http.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <httplib.h>

#include "core/request_count.hpp"

namespace kna::etcd {

namespace {

constexpr std::string_view kScheme = "http://";

// The host:port part of a checked endpoint, without a trailing '/'.
std::string strip_slash(const std::string& endpoint) {
  return !endpoint.empty() && endpoint.back() == '/' ? endpoint.substr(0, endpoint.size() - 1)
                                                     : endpoint;
}

httplib::Result call(httplib::Client& client, Method method, const std::string& target,
                     const std::string& body, const std::string& content_type) {
  switch (method) {
    case Method::get:
      return client.Get(target.c_str());
    case Method::put:
      return client.Put(target.c_str(), body, content_type.c_str());
    case Method::post:
      return client.Post(target.c_str(), body, content_type.c_str());
    case Method::del:
      return client.Delete(target.c_str());
  }
  return client.Get(target.c_str());
}

std::string describe_failure(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "connection failed";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::BindIPAddress:
      return "could not bind a local address";
    case httplib::Error::Read:
      return "connection closed before a complete answer";
    case httplib::Error::Write:
      return "connection closed while sending the request";
    default:
      return "HTTP client error " + httplib::to_string(error);
  }
}

}  // namespace

const char* to_string(Method method) {
  switch (method) {
    case Method::get:
      return "GET";
    case Method::put:
      return "PUT";
    case Method::post:
      return "POST";
    case Method::del:
      return "DELETE";
  }
  return "?";
}

std::optional<std::string> endpoint_problem(const std::string& endpoint) {
  if (endpoint.rfind(kScheme, 0) != 0)
    return "etcd endpoint '" + endpoint + "' does not start with http://";
  const auto rest = std::string_view(endpoint).substr(kScheme.size());
  const auto host_port = rest.substr(0, rest.find('/'));
  if (host_port.empty()) return "etcd endpoint '" + endpoint + "' has no host";
  if (rest.size() > host_port.size() + 1)
    return "etcd endpoint '" + endpoint + "' has a path; give only http://host:port";
  if (const auto colon = host_port.rfind(':'); colon != std::string_view::npos) {
    const auto port = host_port.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos ||
        std::stoi(std::string(port)) > 65535)
      return "etcd endpoint '" + endpoint + "' has an invalid port '" + std::string(port) + "'";
  }
  return std::nullopt;
}

struct Http::Clients {
  std::vector<std::unique_ptr<httplib::Client>> by_endpoint;
};

Http::Http(std::vector<std::string> endpoints, Millis timeout)
    : endpoints_(std::move(endpoints)), timeout_(timeout), clients_(std::make_unique<Clients>()) {
  if (endpoints_.empty()) throw std::invalid_argument("etcd client needs at least one endpoint");
  for (auto& endpoint : endpoints_) {
    if (auto problem = endpoint_problem(endpoint)) throw std::invalid_argument(*problem);
    endpoint = strip_slash(endpoint);
    auto client = std::make_unique<httplib::Client>(endpoint);
    client->set_connection_timeout(timeout_);
    client->set_read_timeout(timeout_);
    client->set_write_timeout(timeout_);
    // A fresh connection per request: nothing stale to trip over after etcd restarts.
    client->set_keep_alive(false);
    clients_->by_endpoint.push_back(std::move(client));
  }
}

Http::~Http() = default;

EtcdResult<HttpAnswer> Http::send(Method method, const std::string& target, const std::string& body,
                                  const std::string& content_type) {
  std::vector<std::string> refused;
  std::string last_failure;
  for (std::size_t attempt = 0; attempt < endpoints_.size(); ++attempt) {
    const std::size_t index = (preferred_ + attempt) % endpoints_.size();
    const auto& endpoint = endpoints_[index];
    const auto started = SteadyClock::now();
    count_request(kTargetEtcd);
    auto result = call(*clients_->by_endpoint[index], method, target, body, content_type);
    if (result) {
      preferred_ = index;
      return HttpAnswer{result->status, result->body, endpoint};
    }
    const auto error = result.error();
    const bool connected = error == httplib::Error::Read || error == httplib::Error::Write;
    if (!connected) {
      // Nothing reached this endpoint: safe to try the next one.
      refused.push_back(endpoint);
      last_failure = describe_failure(error);
      continue;
    }
    const auto took = std::chrono::duration_cast<Millis>(SteadyClock::now() - started);
    // The request may have been applied: never resend it elsewhere.
    if (took >= timeout_ - Millis(timeout_.count() / 10))
      return EtcdError{EtcdErrorKind::timeout, endpoint,
                       fmt::format("etcd at {}: no answer to {} {} within {} ms", endpoint,
                                   to_string(method), target, timeout_.count())};
    return EtcdError{EtcdErrorKind::bad_response, endpoint,
                     fmt::format("etcd at {}: {} {}: {}", endpoint, to_string(method), target,
                                 describe_failure(error))};
  }
  return EtcdError{EtcdErrorKind::unreachable, refused.back(),
                   fmt::format("etcd unreachable at {} ({}) for {} {}", fmt::join(refused, ", "),
                               last_failure, to_string(method), target)};
}

}  // namespace kna::etcd
