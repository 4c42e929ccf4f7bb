// Compiled into every test binary: a peer (dockerd, etcd, an agent) that closes a connection while
// cpp-httplib writes to it raises SIGPIPE, which would end the test binary instead of failing one
// request. The agent ignores SIGPIPE in main() for the same reason.

#include <csignal>

namespace {

const bool kSigpipeIgnored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

}  // namespace
