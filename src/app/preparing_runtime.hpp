#pragma once
// A Runtime that prepares the host before it launches: it runs the steps of the spec's `prepare`
// (files, shared mounts, a stale bridge, mount sources) off the loop, then hands the launch to
// the runtime it wraps. The loop never waits for an fsync, a mount or a netlink call.

#include <functional>
#include <memory>
#include <string>

#include "app/host_steps.hpp"
#include "kna/runtime.hpp"
#include "kna/time.hpp"

namespace kna::app {

class PreparingRuntime : public Runtime {
 public:
  // Carries out one step; blocking; called off the loop.
  using StepRunner = std::function<Status(const std::string& stage, const HostStep& step)>;
  // Runs `work` off the loop (tests run it when they choose).
  using Offload = std::function<void(std::function<void()> work)>;

  // `dispatcher` and `inner` must outlive this object. Without `offload` the steps run on a thread
  // of its own, one launch's steps at a time, so that two stages writing the same kubeconfig never
  // race. Loop thread only.
  PreparingRuntime(Dispatcher& dispatcher, Runtime& inner, StepRunner run_step = run_host_step,
                   Offload offload = {});
  // Waits for the step in flight, if any; the `done` of a launch still preparing never runs.
  ~PreparingRuntime() override;
  PreparingRuntime(const PreparingRuntime&) = delete;
  PreparingRuntime& operator=(const PreparingRuntime&) = delete;

  // Runs the steps in order, stopping at the first that fails: then `done` gets its error (which
  // names the file, folder or link), and nothing is launched. Once they all succeeded, the inner
  // runtime's launch() or adopt() takes over, with `done` and `on_exit`.
  void launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) override;
  void adopt(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) override;
  // While the steps run: no further step starts, and once the current one returns `done` gets an
  // error saying the launch was cancelled; nothing is launched. Afterwards: the inner runtime's.
  void cancel(const std::string& stage) override;
  void recover(const std::vector<StageSpec>& planned, RecoverDone done) override;

  struct State;

 private:
  void start(bool adopt, const StageSpec& spec, LaunchDone done, ExitCallback on_exit);

  std::shared_ptr<State> state_;
  StepRunner run_step_;
  Dispatcher& dispatcher_;
  Offload offload_;
  struct Pool;
  std::unique_ptr<Pool> pool_;  // when no offload was given
};

}  // namespace kna::app
