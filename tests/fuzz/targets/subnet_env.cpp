// flannel's subnet.env (src/stages/subnet_env.cpp): any text is parsed or refused with a line
// number, and what is accepted is a usable docker --bip: the subnet is a host address inside the
// network, and writing it back as flanneld would parses to the same value.

#include "fuzz.hpp"
#include "kna/catalogue.hpp"
#include "kna/ipv4.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using kna::fuzz::check;
  const auto parsed = kna::parse_subnet_env(kna::fuzz::text(data, size));
  if (!parsed) {
    check(!parsed.error().message.empty(), "a refused subnet.env says why");
    return 0;
  }
  const auto& subnet = parsed.value();
  const auto network = kna::parse_cidr(subnet.network);
  const auto bridge = kna::parse_cidr(subnet.subnet);
  check(network && bridge, "the accepted network and subnet are CIDRs");
  check(!network->host_bits_set(), "the accepted network has no host bits");
  check(network->contains(*bridge), "the accepted subnet lies inside the network");
  check(subnet.mtu >= 68 && subnet.mtu <= 65535, "the accepted MTU is one an interface takes");

  const std::string written = kna::format_subnet_env(subnet);
  const auto reparsed = kna::parse_subnet_env(written);
  check(reparsed.ok(), "what format_subnet_env writes parses");
  check(reparsed.value() == subnet, "what format_subnet_env writes parses to the same value");
  check(kna::format_subnet_env(reparsed.value()) == written, "writing is deterministic");
  return 0;
}
