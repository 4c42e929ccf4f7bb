#pragma once
// Watches one dockerd's /events stream on its own thread: our containers' die/start/destroy/oom
// events go to a callback as they happen. A broken stream is reconnected (with backoff while the
// daemon is down) from just after the last event seen, and every connection is followed by a
// resync callback, because dockerd keeps only 256 past events and drops events for slow readers.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "clients/docker_client.hpp"
#include "kna/docker.hpp"
#include "kna/time.hpp"

namespace kna {

struct DockerEventsOptions {
  std::string socket_path;
  // /events filters; the default: our containers' lifecycle events only.
  std::map<std::string, std::vector<std::string>> filters = default_filters();
  Millis connect_timeout{5'000};
  Millis reconnect_initial{100};  // doubled after each failed attempt, up to reconnect_cap
  Millis reconnect_cap{5'000};
  DockerConnector connect{};  // empty: the real client (connect_docker)

  static std::map<std::string, std::vector<std::string>> default_filters();
};

class DockerEvents {
 public:
  // Every callback runs on the watcher's thread: hand the work to the loop (Dispatcher::post) and
  // return quickly, or the daemon drops events. None runs after stop() has returned.
  struct Callbacks {
    std::function<void(const DockerEvent&)> on_event;
    // After every successful connection (`first`: the very first one): the owner re-inspects what
    // it tracks, since events may have been missed before or in between.
    std::function<void(bool first)> on_resync;
    // The stream broke after having been connected (daemon stopped, connection lost).
    std::function<void(const std::string& reason)> on_disconnect;
  };

  DockerEvents(DockerEventsOptions options, Callbacks callbacks);
  ~DockerEvents();  // stop()
  DockerEvents(const DockerEvents&) = delete;
  DockerEvents& operator=(const DockerEvents&) = delete;

  void start();  // starts the thread; once
  // Thread-safe, idempotent; ends the stream at once and joins the thread. Not from a callback.
  void stop();

  bool connected() const { return connected_.load(); }
  // How many connections have been made so far.
  std::uint64_t connections() const { return connections_.load(); }

  // The query of the next connection: filters, and since= just after `last_time_nano` (0: none).
  static std::string query(const std::map<std::string, std::vector<std::string>>& filters,
                           std::int64_t last_time_nano);

 private:
  void run();
  // Waits `delay` unless stop() comes first; false when stopping.
  bool wait(Millis delay);

  DockerEventsOptions options_;
  Callbacks callbacks_;
  std::shared_ptr<Docker> client_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> connections_{0};
  std::int64_t last_time_nano_{0};  // watcher thread only
};

}  // namespace kna
