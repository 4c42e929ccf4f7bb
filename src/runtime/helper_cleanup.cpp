#include "runtime/helper_cleanup.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "runtime/pidfile.hpp"

namespace kna {

namespace {

// One pass over a stage's helper pid files; lives in its pending callbacks.
struct HelperSweep : std::enable_shared_from_this<HelperSweep> {
  HelperSweep(boost::asio::io_context& i, Dispatcher& d) : io(i), dispatcher(d) {}
  boost::asio::io_context& io;
  Dispatcher& dispatcher;
  std::string stage;
  std::vector<std::string> pidfiles;
  Millis budget{0};
  std::size_t next{0};
  bool stopped_any{false};
  std::vector<std::string> errors;
  std::function<void(Result<bool>)> done;

  // Handles the files from `next` on, and returns early while a helper is being stopped.
  void run() {
    using Kind = PidfileCheck::Kind;
    while (next < pidfiles.size()) {
      const std::string& path = pidfiles[next++];
      const PidfileCheck check = inspect_pidfile(path, stage);
      switch (check.kind) {
        case Kind::absent:
          break;
        case Kind::stale:
          // Even a zombie's file must go: dockerd tests its containerd with kill(pid, 0), which
          // a zombie passes, and would then wait 15 s for a socket nobody serves.
          remove(path, check.detail);
          break;
        case Kind::foreign:
          if (auto other = other_program(path, check.pid)) {
            // The pid was reused (the file is from another boot or PID namespace, e.g. a
            // container restarted over the same exec root): the program would wait for a helper
            // that is not there. The file goes; the process is not ours and is left alone.
            remove(path,
                   fmt::format("pid {} is now {}, not {}", check.pid, other->first, other->second));
            break;
          }
          spdlog::warn(
              "{}: helper pid file \"{}\" names pid {}, which is not ours ({}); leaving it", stage,
              path, check.pid, check.detail);
          break;
        case Kind::error:
          errors.push_back(check.detail);
          break;
        case Kind::ours:
          return stop(path, check.pid);
      }
    }
    finish();
  }

  void stop(const std::string& path, int pid) {
    spdlog::warn("{}: helper pid {} from \"{}\" outlived the process that started it, stopping it",
                 stage, pid, path);
    stop_orphan(io, dispatcher, pid, stage, budget,
                [self = shared_from_this(), path, pid](Result<bool> stopped) {
                  if (stopped) {
                    self->stopped_any = true;
                    self->remove(path, fmt::format("pid {} was stopped", pid));
                  } else {
                    self->after_failed_stop(path, stopped.error().message);
                  }
                  self->run();
                });
  }

  // stop_orphan gives up when the pid lost our marker (it ended and the pid was reused) or
  // survived SIGKILL: look again to tell those apart.
  void after_failed_stop(const std::string& path, const std::string& message) {
    const PidfileCheck check = inspect_pidfile(path, stage);
    if (check.kind == PidfileCheck::Kind::stale) return remove(path, check.detail);
    if (check.kind == PidfileCheck::Kind::foreign) {
      spdlog::warn(
          "{}: helper pid file \"{}\" now names pid {}, which is not ours ({}); leaving it", stage,
          path, check.pid, check.detail);
      return;
    }
    std::string_view why = message;  // stop_orphan's messages start with the stage's name
    if (why.starts_with(stage + ": ")) why.remove_prefix(stage.size() + 2);
    errors.push_back(fmt::format("helper pid file \"{}\": {}", path, why));
  }

  // A helper's pid file is named after its program (containerd.pid): the live process's name
  // and the program's when they differ, nullopt when they match or cannot be read.
  static std::optional<std::pair<std::string, std::string>> other_program(const std::string& path,
                                                                          int pid) {
    const std::string program = std::filesystem::path(path).stem().string();
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string comm;
    if (!std::getline(in, comm) || comm.empty() || program.empty()) return std::nullopt;
    // comm holds at most 15 characters of the name.
    if (program.compare(0, comm.size(), comm) == 0) return std::nullopt;
    return std::make_pair(comm, program);
  }

  void remove(const std::string& path, const std::string& why) {
    if (::unlink(path.c_str()) == -1 && errno != ENOENT) {
      errors.push_back(
          fmt::format("cannot remove helper pid file \"{}\": {}", path, std::strerror(errno)));
      return;
    }
    spdlog::info("{}: removed helper pid file \"{}\": {}", stage, path, why);
  }

  void finish() {
    Result<bool> result(stopped_any);
    if (!errors.empty()) {
      std::string message;
      for (const auto& e : errors) message += (message.empty() ? "" : "; ") + e;
      result = Error{std::move(message)};
    }
    // Posted, so that `done` never runs inside stop_stale_helpers' caller.
    dispatcher.post(
        [fn = std::move(done), result = std::move(result)]() mutable { fn(std::move(result)); });
  }
};

}  // namespace

void stop_stale_helpers(boost::asio::io_context& io, Dispatcher& dispatcher,
                        const std::string& stage, const std::vector<std::string>& pidfiles,
                        Millis budget, std::function<void(Result<bool>)> done) {
  auto sweep = std::make_shared<HelperSweep>(io, dispatcher);
  sweep->stage = stage;
  sweep->pidfiles = pidfiles;
  sweep->budget = budget;
  sweep->done = std::move(done);
  sweep->run();
}

}  // namespace kna
