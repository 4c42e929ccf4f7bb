// A stand-in for kube-apiserver written for kube-node-agent's tests and demo (not the real
// program): it takes kube-apiserver's flags, serves the insecure port's HTTP API for nodes (what
// kubelet and `kubectl get nodes` use) and keeps them in etcd (v2 or v3) under
// <etcd-prefix>/minions/<name>, like the real one. No authentication, no other resources.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include <httplib.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "clients/etcd_client.hpp"
#include "kube/apiserver_http.hpp"
#include "kube/apiserver_store.hpp"
#include "kube/components.hpp"

namespace kna::standins {

namespace {

using namespace std::chrono_literals;

struct Flags {
  std::string advertise_address;
  std::string insecure_bind_address{"127.0.0.1"};
  int insecure_port{8080};
  std::string bind_address{"0.0.0.0"};
  int secure_port{6443};
  std::string etcd_servers;
  std::string etcd_prefix{"/registry"};
  std::string storage_backend{"etcd2"};
  std::string service_cluster_ip_range;
  std::string admission_control{"AlwaysAdmit"};
  int min_request_timeout{1800};
  bool allow_privileged{false};
  int v{0};
};

// The flags' names, values and defaults are the real kube-apiserver's (v1.3 to v1.19).
void add_flags(CLI::App& app, Flags& f) {
  app.add_option("--advertise-address", f.advertise_address);
  app.add_option("--insecure-bind-address", f.insecure_bind_address);
  app.add_option("--insecure-port", f.insecure_port);
  app.add_option("--bind-address", f.bind_address);
  app.add_option("--secure-port", f.secure_port);
  app.add_option("--etcd-servers", f.etcd_servers);
  app.add_option("--etcd-prefix", f.etcd_prefix);
  app.add_option("--storage-backend", f.storage_backend);
  app.add_option("--service-cluster-ip-range", f.service_cluster_ip_range);
  app.add_option("--admission-control", f.admission_control);
  app.add_option("--min-request-timeout", f.min_request_timeout);
  app.add_option("--allow-privileged", f.allow_privileged)->expected(0, 1)->default_str("true");
  app.add_option("--v", f.v);
}

// Parses like pflag: an unknown flag is `Error: unknown flag: --X` and exit code 1. Returns the
// exit code when the program should stop now.
std::optional<int> parse_flags(CLI::App& app, int argc, char** argv) {
  app.allow_extras();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
  for (const auto& extra : app.remaining()) {
    if (extra.rfind("-", 0) != 0) continue;  // pflag ignores positional arguments here too
    std::fprintf(stderr, "Error: unknown flag: %s\n", extra.substr(0, extra.find('=')).c_str());
    return 1;
  }
  return std::nullopt;
}

sigset_t exit_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// Until etcd first answers, says so every second: the API answers 500 meanwhile, and the real
// apiserver would not be serving at all.
class EtcdWaiter {
 public:
  EtcdWaiter(apiserver::NodeStore& store, std::string endpoints)
      : thread_([this, &store, endpoints = std::move(endpoints)] { run(store, endpoints); }) {}
  ~EtcdWaiter() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    stop_.notify_all();
    thread_.join();
  }
  EtcdWaiter(const EtcdWaiter&) = delete;
  EtcdWaiter& operator=(const EtcdWaiter&) = delete;

 private:
  void run(apiserver::NodeStore& store, const std::string& endpoints) {
    for (;;) {
      auto health = store.health();
      if (health) {
        spdlog::info("etcd at {} answers", endpoints);
        return;
      }
      spdlog::warn("etcd unreachable, retrying in 1s: {}", health.error().message);
      std::unique_lock lock(mutex_);
      if (stop_.wait_for(lock, 1s, [this] { return stopping_; })) return;
    }
  }

  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_{false};
  std::thread thread_;
};

}  // namespace

int apiserver_main(int argc, char** argv) {
  // Blocked before any thread starts, so only sigwait below sees them.
  const auto signals = exit_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Flags flags;
  CLI::App app{"kube-apiserver stand-in for kube-node-agent's tests and demo", "kube-apiserver"};
  add_flags(app, flags);
  if (auto exit_code = parse_flags(app, argc, argv)) return *exit_code;

  spdlog::set_default_logger(spdlog::stderr_color_mt("kube-apiserver"));
  spdlog::set_pattern("%L%m%d %H:%M:%S.%f %P apiserver] %v");

  if (flags.storage_backend != "etcd2" && flags.storage_backend != "etcd3") {
    spdlog::error("invalid value for --storage-backend: \"{}\" (etcd2 or etcd3)",
                  flags.storage_backend);
    return 1;
  }
  if (flags.etcd_servers.empty()) {
    spdlog::error("--etcd-servers must be specified");
    return 1;
  }
  auto endpoints = parse_etcd_endpoints(flags.etcd_servers);
  if (!endpoints) {
    spdlog::error("invalid --etcd-servers: {}", endpoints.error().message);
    return 1;
  }
  const char* version = std::getenv("KNA_STANDIN_VERSION");
  const apiserver::ServerInfo info{
      version != nullptr && *version != '\0' ? version : "v1.3.6",
      (flags.advertise_address.empty() ? flags.insecure_bind_address : flags.advertise_address) +
          ":" + std::to_string(flags.secure_port),
      flags.v};
  spdlog::info("kube-apiserver stand-in {}: storage backend {} at {} with prefix {}",
               info.git_version, flags.storage_backend, flags.etcd_servers, flags.etcd_prefix);

  apiserver::NodeStore store(
      EtcdOptions{endpoints.value(), flags.storage_backend == "etcd3" ? EtcdApi::v3 : EtcdApi::v2,
                  Millis(3000)},
      flags.etcd_prefix);
  httplib::Server server;
  apiserver::install_routes(server, store, info);
  if (!server.bind_to_port(flags.insecure_bind_address, flags.insecure_port)) {
    spdlog::error("failed to listen on {}:{}", flags.insecure_bind_address, flags.insecure_port);
    return 1;
  }
  spdlog::info("Serving insecurely on {}:{}", flags.insecure_bind_address, flags.insecure_port);
  std::atomic<bool> serving_done{false};
  std::thread serving([&server, &serving_done] {
    if (!server.listen_after_bind()) spdlog::error("the HTTP server stopped with an error");
    serving_done = true;
  });
  {
    EtcdWaiter waiter(store, flags.etcd_servers);
    int sig = 0;
    while (sigwait(&signals, &sig) != 0) {
    }
    spdlog::info("Received signal {}, shutting down", sig);
  }
  // stop() does nothing before listen_after_bind has started: wait for that first.
  while (!serving_done) {
    if (server.is_running()) {
      server.stop();
      break;
    }
    std::this_thread::sleep_for(1ms);
  }
  serving.join();
  return 0;
}

}  // namespace kna::standins
