#pragma once
// A loopback HTTP server for client tests: answers every request from a script and records what
// it saw; plus a port that refuses and a port that never answers.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

namespace kna::test {

struct Seen {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> params;
  std::string body;
  std::string content_type;
  std::string authorization;
  std::string user_agent;
};

struct Reply {
  int status{200};
  std::string body;
};

// Answers every request with `reply(request)` and records what it saw.
class ScriptedServer {
 public:
  using Script = std::function<Reply(const Seen&)>;

  explicit ScriptedServer(Script script) : script_(std::move(script)) {
    const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      Seen seen{req.method,
                req.path,
                {req.params.begin(), req.params.end()},
                req.body,
                req.get_header_value("Content-Type"),
                req.get_header_value("Authorization"),
                req.get_header_value("User-Agent")};
      Reply reply;
      {
        std::lock_guard lock(mutex_);
        seen_.push_back(seen);
        reply = script_(seen);
      }
      res.status = reply.status;
      res.set_content(reply.body, "application/json");
    };
    server_.Get(".*", handler);
    server_.Put(".*", handler);
    server_.Post(".*", handler);
    server_.Delete(".*", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    // The socket already listens: requests queue until the accept loop runs.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~ScriptedServer() {
    server_.stop();
    thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Seen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  Script script_;
  httplib::Server server_;
  int port_{0};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Seen> seen_;
};

// A loopback port with nothing listening on it.
inline std::string refused_endpoint() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

// A loopback port that accepts connections (in the kernel's backlog) but never answers.
class SilentListener {
 public:
  SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_;
  int port_{0};
};

}  // namespace kna::test
