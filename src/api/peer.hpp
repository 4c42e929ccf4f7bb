#pragma once
// Who is asking on the API socket (SO_PEERCRED), and whether they may use the verbs that act on
// the node: restarting a stage and reading its logs are for root, the agent's own user and the
// members of the socket's group (api.socket_group).

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kna::api {

struct Peer {
  bool known{false};  // false on TCP, or when the kernel did not say
  pid_t pid{0};
  uid_t uid{0};
  gid_t gid{0};
  std::vector<gid_t> groups;     // supplementary, from /proc/<pid>/status
  std::string describe() const;  // "pid 123 uid 1000 gid 1000" or "an unknown peer"
};

// The credentials of the process at the other end of the unix socket `fd`, with its groups.
Peer peer_of(int fd);

// The "Groups:" line of a /proc/<pid>/status text; empty when it is missing or malformed.
std::vector<gid_t> parse_status_groups(std::string_view proc_status);

struct AccessPolicy {
  uid_t owner{0};              // the agent's effective user
  std::optional<gid_t> group;  // api.socket_group, resolved
  std::string group_name;      // as configured, for messages
};

// Nothing when `peer` may use the node's verbs; else why not (the body of a 403).
std::optional<std::string> refusal(const Peer& peer, const AccessPolicy& policy);

}  // namespace kna::api
