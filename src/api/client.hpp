#pragma once
// The client side of the local API, used by `kube-node-agent status`.

#include <string>

#include "api/report.hpp"
#include "kna/error.hpp"
#include "kna/time.hpp"

namespace kna::api {

// GET `path` on the agent's unix socket; the error says whether nothing listens there, the socket
// is missing, the agent did not answer in time, or answered something else.
Result<std::string> get_from_agent(const std::string& socket_path, const std::string& path,
                                   Millis timeout);

Result<AgentReport> fetch_status(const std::string& socket_path, Millis timeout);

}  // namespace kna::api
