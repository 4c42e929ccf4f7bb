#pragma once
// A fake dockerd for unit tests: a cpp-httplib server on a unix socket in a temporary folder,
// whose handlers the test sets, and which records every request it saw.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

namespace kna::test {

class FakeDockerDaemon {
 public:
  struct Seen {
    std::string method;
    std::string path;  // without the query
    std::string host;  // the Host header
    httplib::Params params;
    std::string body;
  };

  FakeDockerDaemon() {
    char tmpl[] = "/tmp/kna-fakedocker-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    socket_ = dir_ + "/d.sock";
    server_.set_address_family(AF_UNIX);
    // Before routing, so that a request is recorded before its answer reaches the client.
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
      std::lock_guard lock(mu_);
      seen_.push_back(
          Seen{req.method, req.path, req.get_header_value("Host"), req.params, req.body});
      return httplib::Server::HandlerResponse::Unhandled;
    });
  }
  ~FakeDockerDaemon() {
    stop();
    std::filesystem::remove_all(dir_);
  }

  httplib::Server& server() { return server_; }
  const std::string& socket() const { return socket_; }
  const std::string& dir() const { return dir_; }

  // Binds now (so a client can connect as soon as this returns) and serves on a thread.
  void start() {
    ASSERT_TRUE(server_.bind_to_port(socket_, 80)) << "cannot bind " << socket_;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // httplib's stop() does nothing before the accept loop runs, and the loop would then never
    // end: a stop() right after start() must find it running.
    while (!server_.is_running()) std::this_thread::yield();
  }
  void stop() {
    if (!thread_.joinable()) return;
    server_.stop();
    // httplib's stop() shuts the listening socket down, which does not wake an accept() on a unix
    // socket: one last connection does.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_.c_str(), sizeof addr.sun_path - 1);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::close(fd);
    thread_.join();
  }

  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  // The paths of every request seen, in order.
  std::vector<std::string> paths() const {
    std::vector<std::string> out;
    for (const auto& s : seen()) out.push_back(s.path);
    return out;
  }

 private:
  std::string dir_;
  std::string socket_;
  httplib::Server server_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

}  // namespace kna::test
