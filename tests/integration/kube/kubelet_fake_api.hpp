#pragma once
// A fake Kubernetes API server for the node stand-in tests: just enough of /api/v1/nodes for a
// kubelet to register and heartbeat, and /healthz for the control-plane stand-ins. It records
// every request so that tests can wait for one and look at what was sent.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace kna::test::kubelet_standin {

struct RecordedRequest {
  std::string method;
  std::string path;
  std::string body;
  std::string content_type;
  std::string authorization;
  std::string user_agent;

  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class FakeApiServer {
 public:
  // Listens on 127.0.0.1:`port`, or on a free port when 0.
  explicit FakeApiServer(int port = 0) {
    server_.set_logger([this](const httplib::Request& req, const httplib::Response&) {
      RecordedRequest r{req.method,
                        req.path,
                        req.body,
                        req.get_header_value("Content-Type"),
                        req.get_header_value("Authorization"),
                        req.get_header_value("User-Agent")};
      {
        std::lock_guard lock(mu_);
        requests_.push_back(std::move(r));
      }
      changed_.notify_all();
    });
    server_.Post("/api/v1/nodes", [this](const httplib::Request& req, httplib::Response& res) {
      const auto node = nlohmann::json::parse(req.body, nullptr, false);
      const std::string name = node.is_object() ? node["metadata"].value("name", "") : "";
      std::lock_guard lock(mu_);
      res.status = nodes_.insert(name).second ? 201 : 409;
      res.set_content(node.dump(), "application/json");
    });
    server_.Patch(R"(/api/v1/nodes/([^/]+)/status)",
                  [this](const httplib::Request& req, httplib::Response& res) {
                    std::lock_guard lock(mu_);
                    res.status = nodes_.count(req.matches[1]) != 0 ? 200 : 404;
                    res.set_content("{}", "application/json");
                  });
    server_.Get("/api/v1/nodes", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"kind":"NodeList","apiVersion":"v1","items":[]})", "application/json");
    });
    server_.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok", "text/plain");
    });
    port_ = port == 0 ? server_.bind_to_any_port("127.0.0.1")
                      : (server_.bind_to_port("127.0.0.1", port) ? port : -1);
    if (port_ <= 0) throw std::runtime_error("the fake API server cannot listen");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeApiServer() { stop(); }
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void stop() {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }

  // As if `kubectl delete node NAME` had run: the next heartbeat gets 404.
  void delete_node(const std::string& name) {
    std::lock_guard lock(mu_);
    nodes_.erase(name);
  }

  std::vector<RecordedRequest> requests(const std::string& method, const std::string& path) {
    std::lock_guard lock(mu_);
    return matching(method, path);
  }

  // The first `count` requests with this method and path, once that many have arrived (fewer
  // when `timeout` passes first).
  std::vector<RecordedRequest> wait_for(const std::string& method, const std::string& path,
                                        std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, timeout, [&] { return matching(method, path).size() >= count; });
    auto found = matching(method, path);
    if (found.size() > count) found.resize(count);
    return found;
  }

 private:
  std::vector<RecordedRequest> matching(const std::string& method, const std::string& path) const {
    std::vector<RecordedRequest> out;
    for (const auto& r : requests_)
      if (r.method == method && r.path == path) out.push_back(r);
    return out;
  }

  httplib::Server server_;
  int port_{-1};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<RecordedRequest> requests_;
  std::set<std::string> nodes_;
};

}  // namespace kna::test::kubelet_standin
