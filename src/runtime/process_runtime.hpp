#pragma once
// The Runtime for host processes (ProcessSpec): spawns from argv with the stage marker in the
// environment, logs the child's output rate-limited per stage, stops with SIGTERM then SIGKILL,
// and deals with pid files left behind by an earlier run. Loop thread only.

#include <memory>

#include "kna/runtime.hpp"
#include "kna/time.hpp"

namespace boost::asio {
class io_context;
}

namespace kna {

class ProcessRuntime : public Runtime {
 public:
  struct Options {
    double output_lines_per_second{50};  // per stage, stdout and stderr together
    double output_burst{200};
    Millis drain_grace{200};  // after an exit, how long to wait for the rest of the output
  };

  // `io` is the loop `dispatcher` runs on; both must outlive this object.
  ProcessRuntime(boost::asio::io_context& io, Dispatcher& dispatcher);
  ProcessRuntime(boost::asio::io_context& io, Dispatcher& dispatcher, Options options);
  // Running children keep running; their workloads still stop them.
  ~ProcessRuntime() override;
  ProcessRuntime(const ProcessRuntime&) = delete;
  ProcessRuntime& operator=(const ProcessRuntime&) = delete;

  void launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) override;

  // True for a child this runtime started whose exit it has not collected yet (ChildReaper must
  // leave such a pid to us).
  bool owns(int pid) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace kna
