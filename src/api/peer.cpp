#include "api/peer.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace kna::api {

std::string Peer::describe() const {
  if (!known) return "an unknown peer";
  return fmt::format("pid {} uid {} gid {}", pid, uid, gid);
}

std::vector<gid_t> parse_status_groups(std::string_view text) {
  std::vector<gid_t> groups;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto nl = text.find('\n', at);
    const std::string_view line =
        text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
    at = nl == std::string_view::npos ? text.size() : nl + 1;
    constexpr std::string_view kKey = "Groups:";
    if (!line.starts_with(kKey)) continue;
    std::string_view rest = line.substr(kKey.size());
    while (!rest.empty()) {
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
      if (rest.empty()) break;
      gid_t g = 0;
      const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), g);
      if (ec != std::errc() || (end != rest.data() + rest.size() && *end != ' ' && *end != '\t'))
        return {};
      groups.push_back(g);
      rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    }
    return groups;
  }
  return {};
}

Peer peer_of(int fd) {
  Peer peer;
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred)
    return peer;
  peer.known = true;
  peer.pid = cred.pid;
  peer.uid = cred.uid;
  peer.gid = cred.gid;
  // The supplementary groups are not in SO_PEERCRED; the peer's /proc entry has them while it
  // lives (a peer gone by now loses nothing it would need: its answer goes nowhere).
  std::ifstream status("/proc/" + std::to_string(cred.pid) + "/status");
  std::stringstream text;
  text << status.rdbuf();
  peer.groups = parse_status_groups(text.str());
  return peer;
}

std::optional<std::string> refusal(const Peer& peer, const AccessPolicy& policy) {
  if (!peer.known)
    return std::string(
        "the agent cannot tell who is asking (no peer credentials): only a local "
        "client on the unix socket may restart stages or read their logs");
  if (peer.uid == 0 || peer.uid == policy.owner) return std::nullopt;
  if (policy.group &&
      (peer.gid == *policy.group ||
       std::find(peer.groups.begin(), peer.groups.end(), *policy.group) != peer.groups.end()))
    return std::nullopt;
  if (!policy.group)
    return fmt::format(
        "uid {} is not root: restarting stages and reading their logs are for root (set "
        "api.socket_group to let a group do it)",
        peer.uid);
  return fmt::format(
      "uid {} is neither root nor in the group {} (api.socket_group): restarting stages and "
      "reading their logs are for them",
      peer.uid, policy.group_name);
}

}  // namespace kna::api
