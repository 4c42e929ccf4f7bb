#pragma once
// Running the node and control-plane stand-ins (the hyperkube binary) in tests: one component as a
// child process with a chosen Kubernetes version, its /healthz, and a clean stop.

#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <httplib.h>

#include "../etcd/harness.hpp"
#include "support/subprocess.hpp"

namespace kna::test::kubelet_standin {

using namespace std::chrono_literals;

inline constexpr const char* kHyperkube = KNA_STANDIN_HYPERKUBE;
inline constexpr const char* kImagesBuild = KNA_IMAGES_BUILD;

// GET http://host:port/healthz: the status, or 0 without an answer.
inline int healthz_status(const std::string& host, int port, std::string* body = nullptr) {
  httplib::Client client(host, port);
  client.set_connection_timeout(1s);
  client.set_read_timeout(2s);
  auto res = client.Get("/healthz");
  if (!res) return 0;
  if (body != nullptr) *body = res->body;
  return res->status;
}

// Polls /healthz until it answers 200 (a server coming up logs nothing to wait on).
inline bool healthz_comes_up(const std::string& host, int port) {
  return eventually([&] { return healthz_status(host, port) == 200; }, 10'000);
}

// `hyperkube COMPONENT ARGS…` with KNA_STANDIN_VERSION=version.
class Standin {
 public:
  Standin(const std::string& component, const std::vector<std::string>& args,
          const std::string& version = "v1.3.6", std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv{kHyperkube, component};
    argv.insert(argv.end(), args.begin(), args.end());
    env["KNA_STANDIN_VERSION"] = version;
    process_ = std::make_unique<ChildProcess>(argv, env);
  }

  ChildProcess& process() { return *process_; }
  std::string output() { return process_->output(); }
  bool logged(const std::string& text, std::chrono::milliseconds timeout = 10s) {
    return process_->wait_for_output(text, timeout);
  }
  int count(const std::string& text) {
    const auto out = output();
    int n = 0;
    for (auto pos = out.find(text); pos != std::string::npos; pos = out.find(text, pos + 1)) ++n;
    return n;
  }

  // SIGTERM, then how it ended ("exit code 0" when it stopped cleanly within 5 s).
  std::string stop() {
    process_->signal(SIGTERM);
    return exit_description(process_->wait_exit(5s));
  }
  // How it ended on its own within `timeout`.
  std::string exit_within(std::chrono::milliseconds timeout) {
    return exit_description(process_->wait_exit(timeout));
  }

 private:
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace kna::test::kubelet_standin
