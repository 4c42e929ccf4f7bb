#pragma once
// Strict IPv4 address and CIDR parsing (dotted quad, no leading zeros, no spaces), shared by the
// configuration checks, subnet.env and the flanneld stand-in.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kna {

struct Ipv4Cidr {
  std::uint32_t address{0};  // as written, host bits included
  int prefix{0};

  std::uint32_t mask() const;
  std::uint32_t network() const { return address & mask(); }
  bool host_bits_set() const { return address != network(); }
  // True when `inner` lies entirely within this network.
  bool contains(const Ipv4Cidr& inner) const;
};

std::optional<std::uint32_t> parse_ipv4(std::string_view text);
std::optional<Ipv4Cidr> parse_cidr(std::string_view text);
std::string format_ipv4(std::uint32_t address);
std::string format_cidr(std::uint32_t address, int prefix);

}  // namespace kna
