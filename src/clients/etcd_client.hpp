#pragma once
// A blocking etcd client for the v2 keys API and the v3 JSON gateway (cpp-httplib). Every call
// blocks for up to `timeout` per endpoint tried: run it off the event loop. One thread at a time.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clients/etcd_types.hpp"
#include "kna/config.hpp"
#include "kna/error.hpp"
#include "kna/time.hpp"

namespace kna {

struct EtcdOptions {
  // "http://127.0.0.1:2379". Each call starts with the endpoint that last answered and moves on
  // to the next only when one cannot be connected to (so a request is never sent twice).
  std::vector<std::string> endpoints;
  EtcdApi api{EtcdApi::v2};
  Millis timeout{5'000};  // to connect, and then for the answer, per request and endpoint
};

// Splits and checks flanneld-style "http://10.0.0.1:2379,http://10.0.0.2:2379".
Result<std::vector<std::string>> parse_etcd_endpoints(std::string_view comma_list);

class EtcdClient {
 public:
  // Throws std::invalid_argument when the list is empty or an endpoint is not http://host[:port]:
  // configuration is checked (parse_etcd_endpoints) before a client is built.
  explicit EtcdClient(EtcdOptions options);
  ~EtcdClient();
  EtcdClient(EtcdClient&&) noexcept;
  EtcdClient& operator=(EtcdClient&&) noexcept;
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  EtcdApi api() const;
  const std::vector<std::string>& endpoints() const;

  // The key's value and revision, or nullopt when it does not exist.
  EtcdResult<std::optional<EtcdKeyValue>> get(const std::string& key);
  // Sets key = value without expiry; returns the new revision (v2: modifiedIndex).
  EtcdResult<std::int64_t> put(const std::string& key, const std::string& value);
  // Sets key = value only if the key does not exist; true when this call created it. With a ttl
  // the key expires unless refreshed (v2: ttl=; v3: a new lease, which etcd rounds up to its
  // minimum of about 2 s); ttl 0 means no expiry.
  EtcdResult<bool> create(const std::string& key, const std::string& value,
                          std::chrono::seconds ttl);
  // Restarts the key's expiry: v2 sets its TTL to ttl; v3 keeps its lease alive for the TTL the
  // lease was granted with. not_found when the key (or its lease) is gone. ttl must be positive.
  EtcdResult<EtcdDone> refresh(const std::string& key, std::chrono::seconds ttl);
  // Every key under prefix, sorted by key. v2 lists the directory `prefix` recursively; v3 every
  // key that starts with `prefix`: end the prefix with '/' to get the same answer from both.
  EtcdResult<std::vector<EtcdKeyValue>> list(const std::string& prefix);
  // Deletes the key; true when it existed.
  EtcdResult<bool> remove(const std::string& key);
  // Succeeds when an endpoint answers GET /health with {"health":"true"}.
  EtcdResult<EtcdDone> health();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kna
