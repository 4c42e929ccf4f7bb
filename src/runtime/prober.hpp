#pragma once
// The real readiness checks: HTTP over TCP or a unix socket and file checks run on a small thread
// pool (they block); a command probe is a child process on the loop, killed at its timeout.
// Results come back through the Dispatcher.

#include <cstddef>
#include <functional>
#include <memory>

#include "kna/probe.hpp"
#include "kna/time.hpp"

namespace boost::asio {
class io_context;
}

namespace kna {

class RealProber : public Prober {
 public:
  // `io` is the loop `dispatcher` runs on; both must outlive this object.
  RealProber(boost::asio::io_context& io, Dispatcher& dispatcher, std::size_t threads = 2);
  // Waits for checks in flight on the pool; their results are then dropped.
  ~RealProber() override;
  RealProber(const RealProber&) = delete;
  RealProber& operator=(const RealProber&) = delete;

  void check(const ProbeSpec& spec, std::function<void(ProbeResult)> done) override;

  // True for a command-probe child whose exit has not been collected yet (for ChildReaper).
  bool owns(int pid) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The blocking checks behind RealProber, each bounded by spec.policy.timeout. Any thread.
ProbeResult check_http(const ProbeSpec& spec);
ProbeResult check_file(const ProbeSpec& spec);

}  // namespace kna
