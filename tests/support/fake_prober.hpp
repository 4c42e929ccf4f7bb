#pragma once
// A scriptable Prober for tests. Results are set per probe target (the url of an http probe, the
// path of a file probe, the argv of a command probe joined by spaces: see target()). Answers are
// delivered through Dispatcher::post, never synchronously inside check(). A held target keeps
// its checks pending until the test answers them, to test what happens while a probe is in flight.
// A target with no result set fails with "no result set for <target>".

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kna/probe.hpp"
#include "kna/time.hpp"

namespace kna::test {

class FakeProber : public Prober {
 public:
  explicit FakeProber(Dispatcher& dispatcher);
  ~FakeProber() override;
  FakeProber(const FakeProber&) = delete;
  FakeProber& operator=(const FakeProber&) = delete;

  void check(const ProbeSpec& spec, std::function<void(ProbeResult)> done) override;

  static std::string target(const ProbeSpec& spec);

  // The answer to every later check of `target` (unless held).
  void set_result(const std::string& target, ProbeResult result);
  void set_ok(const std::string& target) { set_result(target, {true, ""}); }
  void set_failing(const std::string& target, const std::string& detail) {
    set_result(target, {false, detail});
  }

  // Later checks of `target` wait for answer(); release() answers future checks automatically
  // again (pending ones stay pending).
  void hold(const std::string& target);
  void release(const std::string& target);
  // Answers every pending check of `target` with `result`; returns how many were pending.
  std::size_t answer(const std::string& target, ProbeResult result);

  std::size_t checks(const std::string& target) const;   // check() calls so far
  std::size_t steps(const std::string& target) const;    // of those, with a ProbeSpec::then step
  std::size_t pending(const std::string& target) const;  // held, not yet answered
  // The most checks of `target` that were ever in flight at once (from check() until the answer
  // ran on the loop).
  std::size_t max_in_flight(const std::string& target) const;

  struct State;

 private:
  Dispatcher& dispatcher_;
  std::shared_ptr<State> state_;
};

}  // namespace kna::test
