#pragma once
// The client side of the local API, used by `kube-node-agent status`, `restart` and `logs`.

#include <functional>
#include <string>
#include <string_view>

#include "api/report.hpp"
#include "kna/error.hpp"
#include "kna/time.hpp"

namespace kna::api {

// GET `path` on the agent's unix socket; the error says whether nothing listens there, the socket
// is missing, the agent did not answer in time, or answered something else.
Result<std::string> get_from_agent(const std::string& socket_path, const std::string& path,
                                   Millis timeout);

// POST `path`; the answer's body when it is 2xx, else an error that carries it (a 403 says why).
Result<std::string> post_to_agent(const std::string& socket_path, const std::string& path,
                                  Millis timeout);

// GET `path` and hand the body to `sink` as it arrives, for as long as the agent sends it (a
// followed log: until the agent stops or `sink` returns false). `timeout` bounds the connection
// and the answer's start, not its length.
Status stream_from_agent(const std::string& socket_path, const std::string& path, Millis timeout,
                         const std::function<bool(std::string_view)>& sink);

Result<AgentReport> fetch_status(const std::string& socket_path, Millis timeout);

}  // namespace kna::api
