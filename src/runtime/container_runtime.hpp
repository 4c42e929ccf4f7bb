#pragma once
// The Runtime for containers (ContainerSpec): launches in the daemon at spec.docker_socket through
// the Engine API on worker threads, adopts a running container made from the same spec, and
// learns of deaths from each daemon's event stream (re-inspecting what it tracks after every
// reconnection, so that no death is missed). Loop thread only, except where noted.

#include <cstddef>
#include <memory>
#include <string>

#include "kna/docker.hpp"
#include "kna/runtime.hpp"
#include "kna/time.hpp"

namespace kna {

struct ContainerRuntimeOptions {
  std::string image_dir;  // *.tar loaded when an image is missing (Paths::image_dir)
  int worker_threads{4};  // blocking Docker calls (a pull or a stop holds one for long)
  Millis pull_log_interval{2'000};
  Millis docker_timeout{60'000};  // one Docker API request
  Millis events_reconnect_initial{100};
  Millis events_reconnect_cap{5'000};
  // In the foreground on a terminal: redraw a progress bar on stderr instead of logging lines.
  bool pull_progress_bar{false};
  // How to reach a daemon; empty: the real client (connect_docker). Tests pass an in-memory one.
  DockerConnector connect{};
};

class ContainerRuntime : public Runtime {
 public:
  // `dispatcher` must outlive this object (and any Workload it handed out).
  ContainerRuntime(Dispatcher& dispatcher, ContainerRuntimeOptions options);
  // Stops the event watchers, aborts Docker calls in flight and waits for the workers. Running
  // containers keep running (a later agent adopts them); pending callbacks never run.
  ~ContainerRuntime() override;
  ContainerRuntime(const ContainerRuntime&) = delete;
  ContainerRuntime& operator=(const ContainerRuntime&) = delete;

  // A Workload's id() is "container <12 hex>", its pid() the container's main process as the
  // host sees it. on_exit: exited (died by itself, or killed from outside: docker exit code
  // 128+N reads as signal N), terminated/killed (after stop()), or lost (the daemon went away).
  void launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) override;
  // Adoption needs nothing more than launch(): it adopts a running container of the same spec.
  void recover(const std::vector<StageSpec>& planned, RecoverDone done) override;
  // Stops the launch's own connection to the daemon: a pull or load in flight is aborted and
  // `done` reports "launch cancelled"; a container that came up first is still handed over.
  void cancel(const std::string& stage) override;

  // Containers launched whose end has not been reported yet.
  std::size_t tracked() const;

 private:
  struct Core;
  class Workers;
  std::shared_ptr<Core> core_;
  std::unique_ptr<Workers> workers_;
};

}  // namespace kna
