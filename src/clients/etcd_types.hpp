#pragma once
// Values and typed errors of the etcd client (src/clients/etcd_client.hpp), kept apart so that the
// codec and callers can use them without cpp-httplib.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "kna/error.hpp"

namespace kna {

enum class EtcdErrorKind {
  unreachable,   // no endpoint accepted a connection
  timeout,       // connected, but no complete answer within the timeout
  not_found,     // the key (or its lease) does not exist
  bad_response,  // an answer we could not use: an HTTP or etcd error, or malformed JSON
  unhealthy,     // /health answered, but not {"health":"true"}
};
const char* to_string(EtcdErrorKind kind);

struct EtcdError {
  EtcdErrorKind kind{EtcdErrorKind::bad_response};
  std::string endpoint;  // the endpoint that answered, or the last one tried
  std::string message;   // complete, endpoint included: ready to log

  Error to_error() const { return Error{message}; }
};

// Success without a value.
struct EtcdDone {};

// The value of an etcd call, or the typed error; shaped like kna::Result.
template <typename T>
class EtcdResult {
 public:
  EtcdResult(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  EtcdResult(EtcdError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const EtcdError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, EtcdError> v_;
};

struct EtcdKeyValue {
  std::string key;
  std::string value;
  std::int64_t revision{0};  // v2: modifiedIndex; v3: mod_revision
  bool expires{false};       // v2: has a TTL; v3: attached to a lease
  std::int64_t lease{0};     // v3: the lease ID, 0 for none; v2: always 0
  bool operator==(const EtcdKeyValue&) const = default;
};

}  // namespace kna
