#pragma once
// The HTTP leg of the etcd client: one request, sent to the first endpoint that accepts a
// connection, with failures classified into EtcdErrorKind. Keeps cpp-httplib out of the headers.

#include <memory>
#include <string>
#include <vector>

#include "clients/etcd_types.hpp"
#include "kna/time.hpp"

namespace kna::etcd {

enum class Method { get, put, post, del };
const char* to_string(Method method);

struct HttpAnswer {
  int status{0};
  std::string body;
  std::string endpoint;  // the endpoint that answered
};

class Http {
 public:
  // Throws std::invalid_argument for an empty list or an endpoint that is not http://host[:port].
  Http(std::vector<std::string> endpoints, Millis timeout);
  ~Http();
  Http(const Http&) = delete;
  Http& operator=(const Http&) = delete;

  const std::vector<std::string>& endpoints() const { return endpoints_; }
  // The endpoint that answered last (the first one before any answer).
  const std::string& current_endpoint() const { return endpoints_[preferred_]; }

  // Any HTTP status is an answer; errors are unreachable (no endpoint connected) or timeout.
  EtcdResult<HttpAnswer> send(Method method, const std::string& target, const std::string& body,
                              const std::string& content_type);

 private:
  struct Clients;
  std::vector<std::string> endpoints_;
  Millis timeout_;
  std::unique_ptr<Clients> clients_;
  std::size_t preferred_{0};  // the endpoint that answered last
};

// Checks one endpoint URL; the error says what is wrong with it.
std::optional<std::string> endpoint_problem(const std::string& endpoint);

}  // namespace kna::etcd
