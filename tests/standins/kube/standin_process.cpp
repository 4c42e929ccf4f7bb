#include "kube/standin_process.hpp"

#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <httplib.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace kna::standins {

namespace {

sigset_t exit_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void init_logging(const std::string& component) {
  spdlog::set_default_logger(spdlog::stderr_color_mt(component));
  spdlog::set_pattern("%L%m%d %H:%M:%S.%f %P " + component + "] %v");
  spdlog::flush_on(spdlog::level::trace);  // tests and `docker logs` read the lines as they come
}

void block_exit_signals() {
  const auto set = exit_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int wait_for_exit_signal() {
  const auto set = exit_signals();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) == 0) return sig;
  }
}

void StopFlag::request() {
  {
    std::lock_guard lock(mu_);
    requested_ = true;
  }
  cv_.notify_all();
}

bool StopFlag::requested() const {
  std::lock_guard lock(mu_);
  return requested_;
}

bool StopFlag::wait_for(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requested_; });
}

Workers::~Workers() {
  finish(std::chrono::seconds(5));
}

void Workers::spawn(std::function<void()> work) {
  std::lock_guard lock(mu_);
  ++running_;
  threads_.emplace_back([this, work = std::move(work)] {
    try {
      work();
    } catch (const std::exception& e) {
      spdlog::critical("Worker thread failed: {}", e.what());
      std::_Exit(1);
    }
    std::lock_guard done(mu_);
    --running_;
    done_cv_.notify_all();
  });
}

void Workers::finish(std::chrono::milliseconds grace) {
  stop_.request();
  {
    std::unique_lock lock(mu_);
    if (!done_cv_.wait_for(lock, grace, [&] { return running_ == 0; })) {
      spdlog::warn("Exiting while {} worker(s) still wait on the network", running_);
      spdlog::default_logger()->flush();
      std::_Exit(0);
    }
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

std::string host_port(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

HealthzServer::HealthzServer() : server_(std::make_unique<httplib::Server>()) {
  // httplib's default adds SO_REUSEPORT, which would let a second process bind the same port
  // and share its connections; a real component fails to bind instead.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain; charset=utf-8");
  });
}

HealthzServer::~HealthzServer() {
  stop();
}

bool HealthzServer::bind(const std::string& host, int port, std::string* error) {
  errno = 0;
  if (server_->bind_to_port(host, port)) return true;
  if (error != nullptr) {
    *error = "listen tcp " + host_port(host, port) +
             ": bind: " + (errno != 0 ? std::strerror(errno) : "address unusable");
  }
  return false;
}

bool HealthzServer::start(const std::string& host, int port, std::string* error) {
  if (!bind(host, port, error)) return false;
  finished_ = false;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    finished_ = true;
  });
  return true;
}

void HealthzServer::start_retrying(const std::string& host, int port) {
  finished_ = false;
  thread_ = std::thread([this, host, port] {
    std::string last_error;
    for (;;) {
      std::string error;
      if (bind(host, port, &error)) {
        if (!last_error.empty()) spdlog::info("Serving /healthz on {} now", host_port(host, port));
        server_->listen_after_bind();
        break;
      }
      if (error != last_error) spdlog::error("Starting health server failed: {}", error);
      last_error = error;
      if (stop_.wait_for(std::chrono::seconds(5))) break;
    }
    finished_ = true;
  });
}

void HealthzServer::stop() {
  stop_.request();
  if (!thread_.joinable()) return;
  // httplib's stop() does nothing until listen has begun: repeat it until the thread is done.
  while (!finished_) {
    server_->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  thread_.join();
}

}  // namespace kna::standins
