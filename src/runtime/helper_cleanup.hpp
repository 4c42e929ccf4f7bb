#pragma once
// Helpers a supervised program starts and may leave behind when it is killed (dockerd's
// containerd): cleared before the program is launched again, so that it starts its own afresh.

#include <functional>
#include <string>
#include <vector>

#include "kna/error.hpp"
#include "kna/time.hpp"

namespace boost::asio {
class io_context;
}

namespace kna {

// Handles each pid file in turn, as inspect_pidfile classifies it:
//   absent  nothing to do;
//   stale   (no pid, a dead pid, or a zombie) the file is removed;
//   ours    (alive with this stage's marker, which dockerd's containerd inherits from dockerd)
//           stopped with stop_orphan (SIGTERM, SIGKILL after `budget`), then the file is removed;
//   foreign (alive without this stage's marker) never touched; its file is removed when the
//           process is another program than the file's name says (containerd.pid naming a
//           "sleep": the pid was reused after a reboot or in a new PID namespace), else left
//           with a warning (the program will report its own error);
//   error   (unreadable) reported, and the other files handled all the same.
// `done` runs once on the loop, never before this returns: true when a helper had to be stopped,
// false when none had; an Error naming every file that could not be cleared. Loop thread only;
// `io` and `dispatcher` must outlive the operation.
void stop_stale_helpers(boost::asio::io_context& io, Dispatcher& dispatcher,
                        const std::string& stage, const std::vector<std::string>& pidfiles,
                        Millis budget, std::function<void(Result<bool>)> done);

}  // namespace kna
