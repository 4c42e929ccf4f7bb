#pragma once
// Sends each LaunchSpec to the runtime that can run it: host processes to the process runtime,
// containers to the container runtime once there is one (Docker comes up after the agent).

#include "kna/runtime.hpp"
#include "kna/time.hpp"

namespace kna {

class RuntimeRouter : public Runtime {
 public:
  // `containers` may be null until a container runtime exists. Loop thread only.
  RuntimeRouter(Dispatcher& dispatcher, Runtime& processes, Runtime* containers = nullptr);

  void set_container_runtime(Runtime* containers) { containers_ = containers; }

  void launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) override;
  void adopt(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) override;
  // Both runtimes: a stage's launch is in at most one of them.
  void cancel(const std::string& stage) override;
  // The process runtime's report, then the container runtime's, merged.
  void recover(const std::vector<StageSpec>& planned, RecoverDone done) override;

 private:
  Dispatcher& dispatcher_;
  Runtime& processes_;
  Runtime* containers_;
};

}  // namespace kna
