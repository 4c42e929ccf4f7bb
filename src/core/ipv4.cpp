#include "kna/ipv4.hpp"

#include <charconv>

namespace kna {

namespace {

// A decimal number made only of digits, without a leading zero unless it is "0".
std::optional<unsigned> parse_decimal(std::string_view text, unsigned max) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  if (text.size() > 1 && text.front() == '0') return std::nullopt;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

}  // namespace

std::uint32_t Ipv4Cidr::mask() const {
  if (prefix <= 0) return 0;
  return ~std::uint32_t{0} << (32 - prefix);
}

bool Ipv4Cidr::contains(const Ipv4Cidr& inner) const {
  return inner.prefix >= prefix && (inner.address & mask()) == network();
}

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  std::uint32_t address = 0;
  for (int octet = 0; octet < 4; ++octet) {
    const auto dot = text.find('.');
    const bool last = octet == 3;
    if (last != (dot == std::string_view::npos)) return std::nullopt;
    const auto value = parse_decimal(text.substr(0, dot), 255);
    if (!value) return std::nullopt;
    address = (address << 8) | *value;
    if (!last) text.remove_prefix(dot + 1);
  }
  return address;
}

std::optional<Ipv4Cidr> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto address = parse_ipv4(text.substr(0, slash));
  const auto prefix = parse_decimal(text.substr(slash + 1), 32);
  if (!address || !prefix) return std::nullopt;
  return Ipv4Cidr{*address, static_cast<int>(*prefix)};
}

std::string format_ipv4(std::uint32_t address) {
  return std::to_string(address >> 24) + '.' + std::to_string((address >> 16) & 0xff) + '.' +
         std::to_string((address >> 8) & 0xff) + '.' + std::to_string(address & 0xff);
}

std::string format_cidr(std::uint32_t address, int prefix) {
  return format_ipv4(address) + '/' + std::to_string(prefix);
}

}  // namespace kna
