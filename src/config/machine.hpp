#pragma once
// Reading the machine facts that some defaults come from (see MachineFacts), split into pure
// parsing functions that tests feed with sample text.

#include <string>
#include <string_view>

namespace kna::config {

// amd64, arm, arm64 or ppc64le for a `uname -m` value; "" for a machine we have no images for.
std::string arch_from_uname(std::string_view machine);

// The interface of the default route (destination 00000000, flag RTF_UP) with the lowest metric,
// from the text of /proc/net/route; "" when there is none.
std::string default_route_interface(std::string_view proc_net_route);

}  // namespace kna::config
