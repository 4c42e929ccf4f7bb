#include "config/machine.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <spdlog/spdlog.h>

#include "kna/config_load.hpp"

namespace kna {
namespace config {

std::string arch_from_uname(std::string_view machine) {
  if (machine == "x86_64" || machine == "amd64") return "amd64";
  if (machine == "aarch64" || machine == "arm64") return "arm64";
  if (machine == "armv6l" || machine == "armv7l" || machine == "armhf" || machine == "armv7")
    return "arm";
  if (machine == "ppc64le") return "ppc64le";
  return "";
}

std::string default_route_interface(std::string_view proc_net_route) {
  std::istringstream in{std::string(proc_net_route)};
  std::string line;
  std::getline(in, line);  // header
  std::string best;
  long best_metric = std::numeric_limits<long>::max();
  constexpr unsigned long kRtfUp = 0x1;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string iface, destination, gateway, flags_hex;
    long refcnt = 0, use = 0, metric = 0;
    if (!(fields >> iface >> destination >> gateway >> flags_hex >> refcnt >> use >> metric))
      continue;
    const unsigned long flags = std::strtoul(flags_hex.c_str(), nullptr, 16);
    if (destination != "00000000" || (flags & kRtfUp) == 0) continue;
    if (metric < best_metric) {
      best_metric = metric;
      best = iface;
    }
  }
  return best;
}

namespace {

std::string read_text(const char* path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string ipv4_address_of(const std::string& iface) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string address;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET || iface != a->ifa_name)
      continue;
    char text[INET_ADDRSTRLEN] = {};
    sockaddr_in sin{};
    std::memcpy(&sin, a->ifa_addr, sizeof sin);
    if (inet_ntop(AF_INET, &sin.sin_addr, text, sizeof text) != nullptr) {
      address = text;
      break;
    }
  }
  freeifaddrs(list);
  return address;
}

}  // namespace
}  // namespace config

MachineFacts detect_machine() {
  MachineFacts facts;
  utsname u{};
  if (uname(&u) == 0) facts.uname_machine = u.machine;
  facts.default_route_interface =
      config::default_route_interface(config::read_text("/proc/net/route"));
  if (!facts.default_route_interface.empty())
    facts.default_route_address = config::ipv4_address_of(facts.default_route_interface);
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) facts.hostname = host;
  spdlog::debug("machine: uname -m \"{}\", default route via \"{}\" ({}), host name \"{}\"",
                facts.uname_machine, facts.default_route_interface, facts.default_route_address,
                facts.hostname);
  return facts;
}

}  // namespace kna
