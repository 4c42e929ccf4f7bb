// flannel's subnet.env: the one fact main-docker needs from flanneld. Parsed strictly because a
// half-written or foreign file must not become a docker --bip.

#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kna/catalogue.hpp"
#include "kna/ipv4.hpp"

namespace kna {

namespace {

constexpr std::string_view kNetwork = "FLANNEL_NETWORK";
constexpr std::string_view kSubnet = "FLANNEL_SUBNET";
constexpr std::string_view kMtu = "FLANNEL_MTU";
constexpr std::string_view kIpmasq = "FLANNEL_IPMASQ";
// flanneld's order, also the order of format_subnet_env.
constexpr std::array<std::string_view, 4> kKeys{kNetwork, kSubnet, kMtu, kIpmasq};
constexpr const char* kKeyList = "FLANNEL_NETWORK, FLANNEL_SUBNET, FLANNEL_MTU and FLANNEL_IPMASQ";
constexpr int kMinMtu = 68;  // the IPv4 minimum (RFC 791)
constexpr int kMaxMtu = 65535;

Error line_error(int line, const std::string& problem) {
  return Error{"subnet.env line " + std::to_string(line) + ": " + problem};
}

std::string quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

bool has_outer_space(std::string_view text) {
  return !text.empty() &&
         (text.front() == ' ' || text.front() == '\t' || text.back() == ' ' || text.back() == '\t');
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::optional<int> parse_mtu(std::string_view text) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != text.npos)
    return std::nullopt;
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value < kMinMtu || value > kMaxMtu) return std::nullopt;
  return value;
}

struct Entry {
  int line{0};  // 0: not seen
  std::string_view value;
};

// Checks one value in isolation; the subnet-inside-network check needs both and comes later.
std::optional<Error> check_value(int line, std::string_view key, std::string_view value,
                                 FlannelSubnet& out) {
  if (key == kNetwork) {
    const auto cidr = parse_cidr(value);
    if (!cidr)
      return line_error(line, "FLANNEL_NETWORK is " + quoted(value) +
                                  ", not an IPv4 network with prefix such as 10.1.0.0/16");
    if (cidr->host_bits_set())
      return line_error(line, "FLANNEL_NETWORK is " + quoted(value) +
                                  ", which has host bits set (expected a network such as " +
                                  format_cidr(cidr->network(), cidr->prefix) + ")");
    out.network = std::string(value);
  } else if (key == kSubnet) {
    const auto cidr = parse_cidr(value);
    if (!cidr)
      return line_error(line, "FLANNEL_SUBNET is " + quoted(value) +
                                  ", not an IPv4 address with prefix such as 10.1.33.1/24");
    if (cidr->prefix <= 30 && !cidr->host_bits_set())
      return line_error(line, "FLANNEL_SUBNET is " + quoted(value) +
                                  ", a network address; expected the bridge address such as " +
                                  format_cidr(cidr->network() + 1, cidr->prefix));
    out.subnet = std::string(value);
  } else if (key == kMtu) {
    const auto mtu = parse_mtu(value);
    if (!mtu)
      return line_error(line, "FLANNEL_MTU is " + quoted(value) + ", not a number between " +
                                  std::to_string(kMinMtu) + " and " + std::to_string(kMaxMtu));
    out.mtu = *mtu;
  } else {
    if (value != "true" && value != "false")
      return line_error(line, "FLANNEL_IPMASQ is " + quoted(value) + ", not true or false");
    out.ipmasq = value == "true";
  }
  return std::nullopt;
}

std::string join_missing(const std::vector<std::string_view>& keys) {
  std::string out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += i + 1 == keys.size() ? " and " : ", ";
    out += keys[i];
  }
  return out;
}

}  // namespace

Result<FlannelSubnet> parse_subnet_env(std::string_view text) {
  std::array<Entry, kKeys.size()> seen{};
  FlannelSubnet out;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto newline = text.find('\n', pos);
    const auto line = text.substr(pos, newline == text.npos ? text.npos : newline - pos);
    pos = newline == text.npos ? text.size() : newline + 1;
    ++line_no;

    if (const auto cr = line.find('\r'); cr != line.npos)
      return line_error(line_no, cr + 1 == line.size()
                                     ? "ends with a carriage return (\\r); flanneld writes plain "
                                       "\\n line endings"
                                     : "contains a carriage return (\\r)");
    if (is_blank(line)) continue;

    const auto eq = line.find('=');
    if (eq == line.npos) return line_error(line_no, quoted(line) + " is not KEY=VALUE (no '=')");
    const auto key = line.substr(0, eq);
    const auto value = line.substr(eq + 1);
    if (key.empty()) return line_error(line_no, quoted(line) + " has no key before '='");

    std::size_t index = 0;
    while (index < kKeys.size() && kKeys[index] != trim(key)) ++index;
    if (index == kKeys.size())
      return line_error(line_no,
                        "unknown key " + quoted(key) + " (subnet.env holds " + kKeyList + ")");
    if (has_outer_space(key))
      return line_error(line_no, "spaces around the key " + quoted(trim(key)) +
                                     " are not allowed (write KEY=VALUE)");
    if (seen[index].line != 0)
      return line_error(line_no, std::string(key) + " appears twice (also on line " +
                                     std::to_string(seen[index].line) + ")");
    seen[index] = Entry{line_no, value};
    if (auto error = check_value(line_no, key, value, out)) return *error;
  }

  std::vector<std::string_view> missing;
  for (std::size_t i = 0; i < kKeys.size(); ++i)
    if (seen[i].line == 0) missing.push_back(kKeys[i]);
  if (missing.size() == kKeys.size())
    return Error{"subnet.env is empty (expected " + std::string(kKeyList) + ")"};
  if (!missing.empty()) return Error{"subnet.env is missing " + join_missing(missing)};

  const auto network = parse_cidr(out.network);
  const auto subnet = parse_cidr(out.subnet);
  if (!network->contains(*subnet))
    return line_error(seen[1].line, "FLANNEL_SUBNET " + out.subnet +
                                        " is not inside FLANNEL_NETWORK " + out.network +
                                        " (line " + std::to_string(seen[0].line) + ")");
  return out;
}

std::string format_subnet_env(const FlannelSubnet& subnet) {
  return std::string(kNetwork) + "=" + subnet.network + "\n" + std::string(kSubnet) + "=" +
         subnet.subnet + "\n" + std::string(kMtu) + "=" + std::to_string(subnet.mtu) + "\n" +
         std::string(kIpmasq) + "=" + (subnet.ipmasq ? "true" : "false") + "\n";
}

}  // namespace kna
