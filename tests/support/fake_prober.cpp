#include "support/fake_prober.hpp"

#include <algorithm>
#include <utility>
#include <variant>

namespace kna::test {

struct FakeProber::State {
  struct Target {
    bool has_result{false};
    ProbeResult result;
    bool held{false};
    std::vector<std::function<void(ProbeResult)>> pending;
    std::size_t checks{0};
    std::size_t steps{0};
    std::size_t in_flight{0};
    std::size_t max_in_flight{0};
  };
  std::map<std::string, Target> targets;
};

FakeProber::FakeProber(Dispatcher& dispatcher)
    : dispatcher_(dispatcher), state_(std::make_shared<State>()) {}

FakeProber::~FakeProber() = default;

std::string FakeProber::target(const ProbeSpec& spec) {
  switch (spec.kind) {
    case ProbeKind::http:
      return spec.url;
    case ProbeKind::file:
      return spec.path;
    case ProbeKind::command: {
      std::string joined;
      for (const auto& a : spec.argv) joined += (joined.empty() ? "" : " ") + a;
      return joined;
    }
    case ProbeKind::none:
      break;
  }
  return "";
}

void FakeProber::check(const ProbeSpec& spec, std::function<void(ProbeResult)> done) {
  const std::string key = target(spec);
  auto& t = state_->targets[key];
  ++t.checks;
  if (!std::holds_alternative<std::monostate>(spec.then)) ++t.steps;
  ++t.in_flight;
  t.max_in_flight = std::max(t.max_in_flight, t.in_flight);
  // The answer counts as in flight until it has run on the loop.
  auto deliver = [state = std::weak_ptr<State>(state_), key,
                  done = std::move(done)](ProbeResult result) {
    if (auto s = state.lock()) --s->targets[key].in_flight;
    done(std::move(result));
  };
  if (t.held) {
    t.pending.push_back(std::move(deliver));
    return;
  }
  ProbeResult result = t.has_result ? t.result : ProbeResult{false, "no result set for " + key};
  dispatcher_.post([deliver = std::move(deliver), result]() mutable { deliver(result); });
}

void FakeProber::set_result(const std::string& target, ProbeResult result) {
  auto& t = state_->targets[target];
  t.has_result = true;
  t.result = std::move(result);
}

void FakeProber::hold(const std::string& target) {
  state_->targets[target].held = true;
}
void FakeProber::release(const std::string& target) {
  state_->targets[target].held = false;
}

std::size_t FakeProber::answer(const std::string& target, ProbeResult result) {
  auto& t = state_->targets[target];
  auto pending = std::move(t.pending);
  t.pending.clear();
  for (auto& deliver : pending)
    dispatcher_.post([deliver = std::move(deliver), result]() mutable { deliver(result); });
  return pending.size();
}

std::size_t FakeProber::checks(const std::string& target) const {
  auto it = state_->targets.find(target);
  return it == state_->targets.end() ? 0 : it->second.checks;
}

std::size_t FakeProber::steps(const std::string& target) const {
  auto it = state_->targets.find(target);
  return it == state_->targets.end() ? 0 : it->second.steps;
}

std::size_t FakeProber::pending(const std::string& target) const {
  auto it = state_->targets.find(target);
  return it == state_->targets.end() ? 0 : it->second.pending.size();
}

std::size_t FakeProber::max_in_flight(const std::string& target) const {
  auto it = state_->targets.find(target);
  return it == state_->targets.end() ? 0 : it->second.max_in_flight;
}

}  // namespace kna::test
