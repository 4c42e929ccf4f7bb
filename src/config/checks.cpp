#include "config/checks.hpp"

#include <cctype>
#include <charconv>
#include <regex>

#include <fmt/format.h>

namespace kna::config {
namespace {

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

bool is_kubernetes_version(std::string_view s) {
  static const std::regex re(
      R"(v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?)");
  return std::regex_match(s.begin(), s.end(), re);
}

std::optional<std::pair<int, int>> kubernetes_minor(std::string_view s) {
  if (!is_kubernetes_version(s)) return std::nullopt;
  // v<major>.<minor>.…, each part already known to be digits of a sane length
  const auto dot = s.find('.');
  const auto minor_end = s.find('.', dot + 1);
  int major = 0;
  int minor = 0;
  const auto [p1, e1] = std::from_chars(s.data() + 1, s.data() + dot, major);
  const auto [p2, e2] = std::from_chars(s.data() + dot + 1, s.data() + minor_end, minor);
  if (e1 != std::errc{} || e2 != std::errc{}) return std::nullopt;
  return std::pair{major, minor};
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
