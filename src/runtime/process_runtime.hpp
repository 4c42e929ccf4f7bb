#pragma once
// The Runtime for host processes (ProcessSpec): spawns from argv with the stage marker in the
// environment, logs the child's output rate-limited per stage, stops with SIGTERM then SIGKILL,
// and deals with pid files left behind by an earlier run. With a record folder it keeps a record
// per stage (runtime/process_record.hpp) and adopts the live processes of an earlier agent
// (the recovery contract in include/kna/runtime.hpp). With a log folder a child writes its output
// to `<log_dir>/<stage>.log`, which the runtime follows and rotates: the output outlives the agent,
// so an adopted child never writes into a pipe nobody reads. Loop thread only.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
    Millis drain_grace{200};      // after an exit, how long to wait for the rest of the output
    std::string record_dir{};     // "" keeps no records and adopts nothing
    std::string log_dir{};        // "" reads the child's output through a pipe
    std::string boot_id{};        // written into records; a record of another boot is stale
    Millis log_poll{250};         // how often a log file is read
    Millis log_idle_poll{2'000};  // ... once it has been quiet for a while (LogFollower::Options)
    std::uint64_t log_max_bytes{10 * 1024 * 1024};  // copied to .1 and truncated beyond this
  };

  // `io` is the loop `dispatcher` runs on; both must outlive this object.
  ProcessRuntime(boost::asio::io_context& io, Dispatcher& dispatcher);
  ProcessRuntime(boost::asio::io_context& io, Dispatcher& dispatcher, Options options);
  // Running children keep running; their workloads still stop them.
  ~ProcessRuntime() override;
  ProcessRuntime(const ProcessRuntime&) = delete;
  ProcessRuntime& operator=(const ProcessRuntime&) = delete;

  void launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) override;
  void adopt(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) override;
  void recover(const std::vector<StageSpec>& planned, RecoverDone done) override;

  // True for a child this runtime started (or adopted) whose exit it has not collected yet
  // (ChildReaper must leave such a pid to us).
  bool owns(int pid) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace kna
