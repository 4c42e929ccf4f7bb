#pragma once
// Process plumbing the Kubernetes stand-ins share: glog-like log lines on stderr, SIGTERM/SIGINT
// as the one way to stop, worker threads that stop with the process, and the /healthz endpoint.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace kna::standins {

// Logs to stderr like glog ("I0102 15:04:05.000000 PID kubelet] message"), thread-safe.
void init_logging(const std::string& component);

// Blocks SIGTERM and SIGINT; call first in main, before any thread starts, so that every thread
// inherits the mask and wait_for_exit_signal() is the only place they arrive.
void block_exit_signals();
// Waits for SIGTERM or SIGINT and returns its number.
int wait_for_exit_signal();

// Set once when the process stops; workers wait on it instead of sleeping.
class StopFlag {
 public:
  void request();
  bool requested() const;
  // Waits up to `timeout`; true when stop was requested.
  bool wait_for(std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool requested_{false};
};

// Threads that run until the StopFlag is set.
class Workers {
 public:
  explicit Workers(StopFlag& stop) : stop_(stop) {}
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  void spawn(std::function<void()> work);
  // Requests stop and joins every worker. One still busy after `grace` (inside a blocking HTTP
  // call) is abandoned by ending the process at once with status 0: exiting promptly on SIGTERM
  // matters more than an orderly teardown.
  void finish(std::chrono::milliseconds grace);

 private:
  StopFlag& stop_;
  std::mutex mu_;
  std::condition_variable done_cv_;
  int running_{0};
  std::vector<std::thread> threads_;
};

// GET /healthz → 200 "ok" on host:port, served by its own thread.
class HealthzServer {
 public:
  HealthzServer();
  ~HealthzServer();
  HealthzServer(const HealthzServer&) = delete;
  HealthzServer& operator=(const HealthzServer&) = delete;

  // Binds and serves; false with `error` set when the address cannot be bound.
  bool start(const std::string& host, int port, std::string* error);
  // Like the kubelet and kube-proxy: a failed bind is logged and retried every 5 s until it
  // works or stop() is called.
  void start_retrying(const std::string& host, int port);
  void stop();  // idempotent

 private:
  bool bind(const std::string& host, int port, std::string* error);

  std::unique_ptr<httplib::Server> server_;
  StopFlag stop_;
  std::atomic<bool> finished_{true};
  std::thread thread_;
};

// "host:port" for logs, with brackets for IPv6.
std::string host_port(const std::string& host, int port);

}  // namespace kna::standins
