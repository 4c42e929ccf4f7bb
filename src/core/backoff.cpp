#include "core/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace kna::core {

Backoff::Backoff(BackoffPolicy policy, RandomSource random)
    : policy_(policy), random_(std::move(random)) {}

Millis Backoff::next_delay() {
  const double initial = static_cast<double>(std::max<Millis::rep>(policy_.initial.count(), 0));
  const double cap = std::max(static_cast<double>(policy_.cap.count()), initial);
  // Growing from the previous base rather than computing a power keeps this finite forever.
  base_ms_ = failures_ == 0 ? initial : base_ms_ * std::max(policy_.multiplier, 1.0);
  base_ms_ = std::min(base_ms_, cap);
  at_cap_ = base_ms_ >= cap;
  ++failures_;

  double r = random_ ? random_() : 0.5;
  r = std::clamp(r, 0.0, 1.0);
  const double jitter = std::clamp(policy_.jitter, 0.0, 1.0);
  const double factor = 1.0 + jitter * (2.0 * r - 1.0);
  return Millis(std::llround(base_ms_ * factor));
}

void Backoff::reset() {
  failures_ = 0;
  base_ms_ = 0;
  at_cap_ = false;
}

void Backoff::note_ready_for(Duration ready_for) {
  if (ready_for >= policy_.reset_after) reset();
}

}  // namespace kna::core
