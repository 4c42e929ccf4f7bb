#pragma once
// One readiness check of a stage (HTTP over TCP or a unix socket, a file, a command). The
// supervisor decides when to probe and what a result means.

#include <functional>
#include <string>

#include "kna/spec.hpp"

namespace kna {

struct ProbeResult {
  bool ok{false};
  std::string detail;  // why not, e.g. "GET http://127.0.0.1:2379/health: connection refused"
  // The failure lies outside the workload (the API server is down): the stage shows it and stays
  // unready, but restarting the workload would not help, so no readiness deadline restarts it.
  bool outside{false};
  // The step after the check (ProbeSpec::then) passed but has work left that the next check
  // continues (main-docker's airgap images still loading behind): run it again next time.
  bool again{false};
};

class Prober {
 public:
  virtual ~Prober() = default;
  // Runs one attempt bounded by spec.policy.timeout. `done` runs on the loop exactly once, never
  // synchronously inside check(). Blocking work happens off the loop.
  virtual void check(const ProbeSpec& spec, std::function<void(ProbeResult)> done) = 0;
};

}  // namespace kna
