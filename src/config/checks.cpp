#include "config/checks.hpp"

#include <cctype>
#include <regex>

#include <fmt/format.h>

namespace kna::config {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!std::isdigit(c)) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += static_cast<char>(std::tolower(c));
  return out;
}

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

std::optional<bool> parse_bool_word(std::string_view s) {
  const std::string w = lower(s);
  if (w == "true" || w == "1" || w == "yes") return true;
  if (w == "false" || w == "0" || w == "no") return false;
  return std::nullopt;
}

std::optional<std::uint32_t> parse_ipv4(std::string_view s) {
  std::uint32_t address = 0;
  int parts = 0;
  std::size_t pos = 0;
  while (true) {
    const auto dot = s.find('.', pos);
    const auto part = s.substr(pos, dot == std::string_view::npos ? dot : dot - pos);
    if (++parts > 4 || !all_digits(part) || part.size() > 3 || (part.size() > 1 && part[0] == '0'))
      return std::nullopt;
    const int value = std::stoi(std::string(part));
    if (value > 255) return std::nullopt;
    address = (address << 8) | static_cast<std::uint32_t>(value);
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  if (parts != 4) return std::nullopt;
  return address;
}

std::string format_ipv4(std::uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

std::uint32_t network_mask(int prefix) {
  return prefix <= 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
}

std::optional<Ipv4Network> parse_cidr(std::string_view s) {
  const auto slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto address = parse_ipv4(s.substr(0, slash));
  const auto prefix = s.substr(slash + 1);
  if (!address || !all_digits(prefix) || prefix.size() > 2) return std::nullopt;
  return Ipv4Network{*address, std::stoi(std::string(prefix))};
}

bool is_kubernetes_version(std::string_view s) {
  static const std::regex re(
      R"(v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?)");
  return std::regex_match(s.begin(), s.end(), re);
}

bool is_component_version(std::string_view s) {
  static const std::regex re(
      R"(v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?)");
  return std::regex_match(s.begin(), s.end(), re);
}

bool is_dns1123_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  std::size_t pos = 0;
  while (true) {
    const auto dot = s.find('.', pos);
    const auto label = s.substr(pos, dot == std::string_view::npos ? dot : dot - pos);
    if (label.empty()) return false;
    if (!is_lower_alnum(label.front()) || !is_lower_alnum(label.back())) return false;
    for (char c : label)
      if (!is_lower_alnum(c) && c != '-') return false;
    if (dot == std::string_view::npos) return true;
    pos = dot + 1;
  }
}

bool is_interface_name(std::string_view s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  for (unsigned char c : s)
    if (c == '/' || c == ':' || std::isspace(c) || !std::isprint(c)) return false;
  return true;
}

}  // namespace kna::config
