#pragma once
// Rate limiting of child output: a token bucket, and the per-stage line limiter built on it that
// counts what it drops so that a summary can be logged when lines pass again.

#include <cstdint>

#include "kna/time.hpp"

namespace kna {

// Refills `rate` tokens per second up to `burst`; starts full. Time comes from the caller.
class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst);
  // Takes one token if there is one at `now`.
  bool take(TimePoint now);

 private:
  double rate_;
  double burst_;
  double tokens_;
  bool started_{false};
  TimePoint last_{};
};

class LineLimiter {
 public:
  LineLimiter(double lines_per_second, double burst) : bucket_(lines_per_second, burst) {}

  struct Verdict {
    bool pass{false};
    std::uint64_t suppressed_before{0};  // lines dropped since the last one that passed
  };
  Verdict admit(TimePoint now);
  // Lines dropped and not yet reported; resets the count (e.g. to report them when output ends).
  std::uint64_t take_suppressed();

 private:
  TokenBucket bucket_;
  std::uint64_t suppressed_{0};
};

}  // namespace kna
