#pragma once
// Small helpers for unix-domain sockets shared by the API server and client.

#include <string>

namespace kna::api {

// True when something accepts connections on the socket at `path`.
bool socket_is_live(const std::string& path);

}  // namespace kna::api
