// etcd's v3 JSON gateway (src/clients/etcd_codec.cpp, etcd_encoding.cpp): every reader of an
// answer returns a value or an Error and throws nothing; base64 decodes only what it would encode
// itself; the key-values of a range answer, written back as etcd would, read back the same; a
// prefix's range end lies above every key with that prefix.

#include <nlohmann/json.hpp>

#include "clients/etcd_codec.hpp"
#include "fuzz.hpp"

namespace {

namespace etcd = kna::etcd;
using kna::fuzz::check;

// The range answer etcd would give for `kvs`: base64 keys and values, 64-bit numbers as strings.
std::string range_answer(const std::vector<kna::EtcdKeyValue>& kvs) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& kv : kvs)
    items.push_back({{"key", etcd::base64_encode(kv.key)},
                     {"value", etcd::base64_encode(kv.value)},
                     {"mod_revision", std::to_string(kv.revision)},
                     {"lease", std::to_string(kv.lease)}});
  return nlohmann::json{{"header", {{"revision", "1"}}}, {"kvs", items}}.dump();
}

void check_encodings(std::string_view bytes) {
  const auto decoded = etcd::base64_decode(etcd::base64_encode(bytes));
  check(decoded && *decoded == bytes, "base64 decodes what it encodes");
  if (const auto canonical = etcd::base64_decode(bytes))
    check(etcd::base64_encode(*canonical) == bytes, "base64 decodes only canonical text");

  const std::string end = etcd::prefix_range_end(bytes);
  if (end != std::string(1, '\0')) {
    const std::string prefix(bytes);
    check(prefix < end && prefix + "\xff\xff\xff" < end, "every key with the prefix is below it");
    check(end.compare(0, prefix.size(), prefix) != 0, "the range end lies outside the prefix");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto input = kna::fuzz::text(data, size);
  const std::string body(input);

  etcd::parse_v3_error(body);
  etcd::parse_v3_revision(body);
  etcd::parse_v3_txn_succeeded(body);
  etcd::parse_v3_lease_grant(body);
  if (const auto ttl = etcd::parse_v3_keepalive_ttl(body)) check(ttl.value() >= 0, "a TTL is >= 0");
  etcd::parse_v3_deleted(body);
  etcd::parse_health(body);
  if (const auto kvs = etcd::parse_v3_range(body)) {
    for (const auto& kv : kvs.value()) {
      check(!kv.key.empty(), "a key-value has a key");
      check(kv.expires == (kv.lease != 0), "a key expires exactly when it has a lease");
    }
    const auto again = etcd::parse_v3_range(range_answer(kvs.value()));
    check(again.ok() && again.value() == kvs.value(), "a range answer reads back the same");
  }
  check_encodings(input);
  return 0;
}
