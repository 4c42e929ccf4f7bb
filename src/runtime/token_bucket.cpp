#include "runtime/token_bucket.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

namespace kna {

TokenBucket::TokenBucket(double rate_per_second, double burst)
    : rate_(rate_per_second), burst_(std::max(burst, 1.0)), tokens_(burst_) {}

bool TokenBucket::take(TimePoint now) {
  if (started_ && now > last_) {
    const double seconds = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + seconds * rate_);
  }
  if (!started_ || now > last_) last_ = now;
  started_ = true;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

LineLimiter::Verdict LineLimiter::admit(TimePoint now) {
  if (!bucket_.take(now)) {
    ++suppressed_;
    return {false, 0};
  }
  return {true, std::exchange(suppressed_, 0)};
}

std::uint64_t LineLimiter::take_suppressed() {
  return std::exchange(suppressed_, 0);
}

}  // namespace kna
