#pragma once
// Restart delays of one stage: capped, jittered, exponential, reset after sustained health.

#include "kna/config.hpp"
#include "kna/supervisor.hpp"
#include "kna/time.hpp"

namespace kna::core {

class Backoff {
 public:
  // A null `random` means no jitter (as if it always returned 0.5).
  Backoff(BackoffPolicy policy, RandomSource random);

  // Counts one more failure and returns the delay before the next attempt:
  // min(initial × multiplier^(failures-1), cap), then randomised uniformly by ±jitter.
  Millis next_delay();
  // Forgets past failures: the next delay is `initial` again.
  void reset();
  // Resets when the workload that just died had been ready for at least reset_after.
  void note_ready_for(Duration ready_for);

  int failures() const { return failures_; }
  // Whether the last delay reached the cap (before jitter).
  bool at_cap() const { return at_cap_; }
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  RandomSource random_;
  int failures_{0};
  double base_ms_{0};  // the un-jittered delay of the last failure
  bool at_cap_{false};
};

}  // namespace kna::core
