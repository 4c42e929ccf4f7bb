#pragma once
// PID-1 / subreaper duty: reaps orphans that the kernel re-parents to the agent, without ever
// stealing the exit status of a child that someone else (Boost.Process) waits for.

#include <cstdint>
#include <functional>
#include <memory>

#include "kna/error.hpp"
#include "kna/time.hpp"

namespace boost::asio {
class io_context;
}

namespace kna {

class ChildReaper {
 public:
  // Claims the pids whose exit someone else collects (ProcessRuntime::owns, RealProber::owns).
  using IsOurs = std::function<bool(int pid)>;
  // Told about every orphan reaped: its pid and wait status.
  using Observer = std::function<void(int pid, int status)>;

  // `retry`: how soon to look again while a claimed child's exit blocks the view of the others.
  ChildReaper(boost::asio::io_context& io, IsOurs is_ours, Millis retry = Millis(50));
  ~ChildReaper();
  ChildReaper(const ChildReaper&) = delete;
  ChildReaper& operator=(const ChildReaper&) = delete;

  // Makes orphans of our descendants our children (PR_SET_CHILD_SUBREAPER); PID 1 needs nothing.
  static Status become_subreaper();

  // Watches SIGCHLD on the loop and reaps what is already waiting. Loop thread only.
  void start();
  void stop();
  void set_observer(Observer observer);
  std::uint64_t reaped() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace kna
