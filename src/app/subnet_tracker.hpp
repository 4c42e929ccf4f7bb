#pragma once
// Keeps the main dockerd on the subnet flannel holds: main-docker is launched with the subnet in
// subnet.env (its spec's DeleteStaleBridge step removes a docker0 that carries another address),
// and when flannel writes a different subnet or MTU, main-docker (and what depends on it)
// restarts with the new values.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "kna/catalogue.hpp"
#include "kna/config.hpp"
#include "kna/error.hpp"

namespace boost::asio {
class io_context;
}

namespace kna::app {

class SubnetTracker {
 public:
  // `restart_main_docker(reason)` is called on the loop when the subnet changed under a running
  // main dockerd.
  SubnetTracker(boost::asio::io_context& io, const Config& cfg,
                std::function<void(const std::string& reason)> restart_main_docker);
  ~SubnetTracker();

  Status start();
  void stop();

  // For main-docker's launch: the current subnet (an error if subnet.env is missing or bad).
  // Remembers it as the one main-docker runs with. Reads one small file; no other effect.
  Result<FlannelSubnet> subnet_for_launch();

 private:
  void on_change();

  const Config& cfg_;
  std::function<void(const std::string&)> restart_;
  std::optional<FlannelSubnet> launched_;
  std::string last_error_;
  struct Watch;
  std::unique_ptr<Watch> watch_;
};

}  // namespace kna::app
