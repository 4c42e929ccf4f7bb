// etcd's v2 keys API answers and /health (src/clients/etcd_codec.cpp): every reader returns a
// value or an Error and throws nothing. A single value read as a tree is that one leaf.

#include "clients/etcd_codec.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace etcd = kna::etcd;
  using kna::fuzz::check;
  const std::string body(kna::fuzz::text(data, size));

  if (const auto error = etcd::parse_v2_error(body)) error->describe();
  etcd::parse_health(body);
  const auto nodes = etcd::parse_v2_nodes(body);
  const auto value = etcd::parse_v2_value(body);
  if (value) {
    check(nodes.ok(), "an answer read as a value also reads as a tree");
    check(nodes.value().size() == 1 && nodes.value().front() == value.value(),
          "a value read as a tree is that one leaf");
    check(value.value().lease == 0, "v2 has no leases");
  }
  return 0;
}
