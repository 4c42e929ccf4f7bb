#pragma once
// The HTTP API of the kube-apiserver stand-in: health, version, the discovery kubectl needs, and
// nodes with their status subresource. Anything else is a 404 Status.

#include <string>

namespace httplib {
class Server;
}

namespace kna::standins::apiserver {

class NodeStore;

struct ServerInfo {
  std::string git_version;     // "v1.3.6"
  std::string public_address;  // host:port of the secure port, for serverAddressByClientCIDRs
  int verbosity{0};            // --v: from 3 on, every request is logged
};

// `store` must outlive `server`.
void install_routes(httplib::Server& server, NodeStore& store, const ServerInfo& info);

}  // namespace kna::standins::apiserver
