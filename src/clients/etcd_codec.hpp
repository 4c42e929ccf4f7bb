#pragma once
// Request building and response parsing for etcd's v2 keys API and v3 JSON gateway: pure
// functions, no I/O, so the wire format is unit-tested without an etcd.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clients/etcd_encoding.hpp"
#include "clients/etcd_types.hpp"
#include "kna/error.hpp"

namespace kna::etcd {

// --- v2 answers ---------------------------------------------------------------------------------

// {"errorCode":100,"message":"Key not found","cause":"/a","index":4}
struct V2Error {
  int code{0};
  std::string message;
  std::string cause;
  std::string describe() const;  // "100: Key not found (/a)", flannel's wording
};
inline constexpr int kV2KeyNotFound = 100;
inline constexpr int kV2TestFailed = 101;
inline constexpr int kV2NodeExist = 105;

std::optional<V2Error> parse_v2_error(const std::string& body);
// The single value node of a get; an error for a directory.
Result<EtcdKeyValue> parse_v2_value(const std::string& body);
// Every leaf (non-directory) node of an answer's "node", depth first in etcd's order.
Result<std::vector<EtcdKeyValue>> parse_v2_nodes(const std::string& body);

// --- v3 requests --------------------------------------------------------------------------------

std::string v3_range_request(std::string_view key, std::optional<std::string_view> range_end);
std::string v3_put_request(std::string_view key, std::string_view value, std::int64_t lease);
// A txn that puts only when the key has never been created (create_revision == 0).
std::string v3_create_txn_request(std::string_view key, std::string_view value, std::int64_t lease);
std::string v3_delete_request(std::string_view key);
std::string v3_lease_grant_request(std::int64_t ttl_seconds);
std::string v3_lease_id_request(std::int64_t lease);  // keepalive and revoke

// --- v3 answers ---------------------------------------------------------------------------------

// The gateway's error body: {"error":"…","message":"…","code":3}; nullopt when it is not one.
std::optional<std::string> parse_v3_error(const std::string& body);
Result<std::vector<EtcdKeyValue>> parse_v3_range(const std::string& body);
Result<std::int64_t> parse_v3_revision(const std::string& body);  // header.revision
Result<bool> parse_v3_txn_succeeded(const std::string& body);
Result<std::int64_t> parse_v3_lease_grant(const std::string& body);  // the new lease ID
// The TTL a keepalive renewed to; 0 when the lease no longer exists.
Result<std::int64_t> parse_v3_keepalive_ttl(const std::string& body);
Result<std::int64_t> parse_v3_deleted(const std::string& body);  // how many keys went

// --- /health ------------------------------------------------------------------------------------

// true for {"health":"true"} (etcd 3.x) and {"health": "true"} (2.x); false for another value.
Result<bool> parse_health(const std::string& body);

}  // namespace kna::etcd
