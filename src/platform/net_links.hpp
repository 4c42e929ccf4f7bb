#pragma once
// Network links of the node's own namespace: what address a link has, and deleting a stale
// docker0 so that the main dockerd's new --bip applies (dockerd keeps an existing bridge as is).

#include <optional>
#include <string>

#include "kna/error.hpp"

namespace kna {

// The first IPv4 address of `link` with its prefix ("10.1.33.1/24"); nullopt when the link does
// not exist or has no IPv4 address.
std::optional<std::string> link_ipv4_cidr(const std::string& link);
bool link_exists(const std::string& link);

// Deletes `link` through rtnetlink. Deleting a link that does not exist is success.
Status delete_link(const std::string& link);

}  // namespace kna
