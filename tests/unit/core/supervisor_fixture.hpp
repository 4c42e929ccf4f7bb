#pragma once
// A Supervisor on simulated time with a FakeRuntime and a FakeProber, and helpers to declare
// stages and walk them through their lifecycle.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kna/supervisor.hpp"
#include "support/fake_prober.hpp"
#include "support/fake_runtime.hpp"
#include "support/log_capture.hpp"
#include "support/sim_dispatcher.hpp"

namespace kna::test {

using std::chrono::seconds;

class SupervisorTest : public ::testing::Test {
 protected:
  // Adds a stage with an http readiness probe at probe_url(name) and default policies.
  StageSpec& add(const std::string& name, std::vector<Dependency> deps = {}) {
    StageSpec s;
    s.name = name;
    s.deps = std::move(deps);
    s.launch = ProcessSpec{{"/usr/bin/" + name}, {}, ""};
    s.ready.kind = ProbeKind::http;
    s.ready.url = probe_url(name);
    specs.push_back(std::move(s));
    return specs.back();
  }
  static std::string probe_url(const std::string& name) { return "http://" + name + "/ready"; }

  // Builds the supervisor from `specs` (the resolver hands out `specs` as they are at each launch,
  // or the error in resolve_errors) and records every transition.
  Supervisor& make() {
    if (sup) return *sup;
    sup = std::make_unique<Supervisor>(
        sim, runtime, prober, specs,
        [this](const std::string& name) -> Result<StageSpec> {
          ++resolves[name];
          if (auto it = resolve_errors.find(name); it != resolve_errors.end())
            return Error{it->second};
          for (const auto& s : specs)
            if (s.name == name) return s;
          return Error{"unknown stage " + name};
        },
        [this] { return random_value; });
    sup->add_observer([this](const Transition& t) { transitions.push_back(t); });
    return *sup;
  }

  void start() {
    make().start();
    sim.run_posted();
  }

  // Launch succeeds and the probe passes: the stage becomes ready now.
  void bring_up(const std::string& name) {
    prober.set_ok(probe_url(name));
    runtime.complete_launch(name);
    sim.run_posted();
  }

  // Everything launches and becomes ready by itself; stops complete at once.
  void automatic() {
    runtime.set_auto_launch(true);
    runtime.set_auto_stop(true);
    for (const auto& s : specs) prober.set_ok(probe_url(s.name));
  }

  StageStatus status(const std::string& name) const {
    for (auto& s : sup->status())
      if (s.name == name) return s;
    ADD_FAILURE() << "no stage " << name;
    return {};
  }
  StageState state(const std::string& name) const { return status(name).state; }

  // The stop callback, counting its calls.
  std::function<void()> count_done() {
    return [this] { ++done_calls; };
  }

  LogCapture logs;  // first: captures everything, restores the logger last
  SimDispatcher sim;
  FakeRuntime runtime{sim};
  FakeProber prober{sim};
  std::vector<StageSpec> specs;
  std::map<std::string, std::string> resolve_errors;
  std::map<std::string, int> resolves;
  double random_value = 0.5;
  std::vector<Transition> transitions;
  int done_calls = 0;
  std::unique_ptr<Supervisor> sup;  // last: destroyed before what it uses
};

}  // namespace kna::test
