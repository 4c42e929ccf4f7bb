#include "api/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "api/unix_socket.hpp"

namespace kna::api {

void StatusBoard::publish(const AgentReport& report) {
  std::string text = to_json(report).dump(2);
  std::string not_ready;
  for (const auto& s : report.stages) {
    if (s.state == "ready") continue;
    if (!not_ready.empty()) not_ready += ", ";
    not_ready += s.name + " (" + s.state + ")";
  }
  std::lock_guard lock(mu_);
  json_ = std::move(text);
  ready_ = report.ready;
  not_ready_ = std::move(not_ready);
}

std::string StatusBoard::status_json() const {
  std::lock_guard lock(mu_);
  return json_;
}

bool StatusBoard::ready() const {
  std::lock_guard lock(mu_);
  return ready_;
}

std::string StatusBoard::not_ready_summary() const {
  std::lock_guard lock(mu_);
  return not_ready_;
}

struct ApiServer::Impl {
  httplib::Server server;
  std::thread thread;
  bool started{false};
};

ApiServer::ApiServer(std::string socket_path, const StatusBoard& board,
                     std::function<std::string()> metrics)
    : socket_path_(std::move(socket_path)), impl_(std::make_unique<Impl>()) {
  auto& svr = impl_->server;
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  svr.Get("/readyz", [&board](const httplib::Request&, httplib::Response& res) {
    if (board.ready()) {
      res.set_content("ready\n", "text/plain");
    } else {
      res.status = 503;
      res.set_content("not ready: " + board.not_ready_summary() + "\n", "text/plain");
    }
  });
  svr.Get("/v1/status", [&board](const httplib::Request&, httplib::Response& res) {
    res.set_content(board.status_json(), "application/json");
  });
  svr.Get("/metrics",
          [metrics = std::move(metrics)](const httplib::Request&, httplib::Response& res) {
            res.set_content(metrics ? metrics() : std::string(), "text/plain; version=0.0.4");
          });
  svr.set_read_timeout(5, 0);
  svr.set_write_timeout(5, 0);
}

ApiServer::~ApiServer() {
  stop();
}

Status ApiServer::start() {
  namespace fs = std::filesystem;
  if (socket_path_.size() >= sizeof(sockaddr_un::sun_path)) {
    return Error{"status socket path " + socket_path_ + " is longer than " +
                 std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                 " bytes, the limit of a unix socket: set paths.status_socket to a shorter path"};
  }
  std::error_code ec;
  if (fs::exists(fs::symlink_status(socket_path_, ec))) {
    if (socket_is_live(socket_path_)) {
      return Error{"another agent already answers on " + socket_path_ +
                   ": stop it first, or give this one another paths.status_socket"};
    }
    if (!fs::is_socket(fs::symlink_status(socket_path_, ec))) {
      return Error{socket_path_ +
                   " exists and is not a socket: remove it or choose another "
                   "paths.status_socket"};
    }
    fs::remove(socket_path_, ec);  // stale: left behind by an agent that died
    spdlog::info("api: replaced stale socket {}", socket_path_);
  }
  auto& svr = impl_->server;
  svr.set_address_family(AF_UNIX);
  if (!svr.bind_to_port(socket_path_, 80)) {
    return Error{"cannot listen on " + socket_path_ + ": " + std::strerror(errno) +
                 " (does its folder exist and is it writable?)"};
  }
  if (::chmod(socket_path_.c_str(), 0660) != 0) {
    spdlog::warn("api: cannot set mode 0660 on {}: {}", socket_path_, std::strerror(errno));
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // Until the thread is in its accept loop, httplib's stop() does nothing and a stop right after
  // the start (SIGTERM during start-up) would wait for that thread forever: wait for it.
  for (int i = 0; i < 2'000 && !svr.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  impl_->started = true;
  spdlog::info("api: serving on {}", socket_path_);
  return kOk;
}

void ApiServer::stop() {
  if (!impl_ || !impl_->started) return;
  impl_->started = false;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  std::error_code ec;
  std::filesystem::remove(socket_path_, ec);
}

}  // namespace kna::api
