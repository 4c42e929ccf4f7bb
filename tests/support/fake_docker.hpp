#pragma once
// An in-memory Docker daemon for unit tests of what drives include/kna/docker.hpp (the container
// runtime, the image store, the event watcher). Every connection from connector() shares the
// daemon's state but has its own stop(), as the real client does. The test can hold every pull
// or load open (until it releases them, or until the connection is stopped: a cancelled launch),
// make a container die (with its die event on every event stream), take the daemon down, make the
// next call of a kind fail, and read back every call made.
//
// Thread-safe: the code under test calls it from worker threads while the test scripts it.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kna/docker.hpp"

namespace kna::test {

class FakeDocker {
 public:
  explicit FakeDocker(std::string socket = "/run/fake-docker.sock");
  ~FakeDocker();  // releases every held call
  FakeDocker(const FakeDocker&) = delete;
  FakeDocker& operator=(const FakeDocker&) = delete;

  const std::string& socket() const;
  // Connections to this daemon (whatever the endpoint's socket). The daemon must outlive them.
  DockerConnector connector();
  std::shared_ptr<Docker> connect();

  // --- images ("x" ≡ "x:latest" ≡ "docker.io/library/x:latest")
  void add_image(const std::string& ref);
  bool has_image(const std::string& ref) const;
  // A pull of `ref` succeeds (and adds it); any other pull fails as a registry would ("not found").
  void allow_pull(const std::string& ref);
  // What loading `tar_path` yields (the fake does not read the file).
  void set_tarball(const std::string& tar_path, std::vector<std::string> images);
  // On: every pull (load) waits, once it started, until released or its connection is stopped.
  void hold_pulls(bool on);
  void hold_loads(bool on);
  // Blocks until `n` pulls (loads) wait in a hold, or `timeout` passed; false then.
  bool wait_for_held_pulls(int n, std::chrono::milliseconds timeout);
  bool wait_for_held_loads(int n, std::chrono::milliseconds timeout);
  int held_pulls() const;
  int held_loads() const;

  // --- containers
  struct Container {
    std::string id;  // 64 hex
    ContainerSpec spec;
    bool running{false};
    int pid{0};
    int exit_code{0};
    std::int64_t started_nano{0};
  };
  // A container that was there before (an earlier agent's): running, with these labels.
  std::string add_container(const std::string& name, const std::string& image,
                            std::map<std::string, std::string> labels, bool running = true);
  // It ends by itself with `exit_code`: a die event goes to every event stream.
  void exit_container(const std::string& id, int exit_code);
  std::vector<Container> containers() const;
  std::optional<Container> container(const std::string& id) const;
  std::size_t running_count() const;

  // --- faults and observations
  // Down: every call throws unavailable (event streams in progress end); up again: they work.
  void set_down(bool down);
  // The next call of `op` (as named in calls(): "pull", "load", "create", "start", "stop",
  // "remove", "list", "inspect", "inspect-image", "kill", "events") throws `error`.
  void fail_next(const std::string& op, DockerError error);
  // Every call made, in order, "op argument" (e.g. "create kube_etcd", "pull busybox:latest").
  std::vector<std::string> calls() const;
  std::size_t count(const std::string& op) const;
  // Event streams open now.
  int streams() const;
  bool wait_for_streams(int n, std::chrono::milliseconds timeout);

  struct State;
  class Connection;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace kna::test
