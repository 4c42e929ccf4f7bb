// A stand-in for kube-apiserver written for kube-node-agent's tests and demo (not the real
// program): it takes kube-apiserver's flags, serves the insecure port's HTTP API for nodes (what
// kubelet and `kubectl get nodes` use) and keeps them in etcd (v2 or v3) under
// <etcd-prefix>/minions/<name>, like the real one. No authentication, no other resources. Its own
// addition: every request is recorded, served on GET /standin/requests (apiserver_requests.hpp).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <httplib.h>

#include <spdlog/spdlog.h>

#include "clients/etcd_client.hpp"
#include "kube/apiserver_http.hpp"
#include "kube/apiserver_requests.hpp"
#include "kube/apiserver_store.hpp"
#include "kube/components.hpp"
#include "kube/standin_cli.hpp"
#include "kube/standin_process.hpp"

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
void add_flags(StandinCli& cli, Flags& f) {
  cli.option("--advertise-address", f.advertise_address);
  cli.option("--insecure-bind-address", f.insecure_bind_address);
  cli.option("--insecure-port", f.insecure_port);
  cli.option("--bind-address", f.bind_address);
  cli.option("--secure-port", f.secure_port);
  cli.option("--etcd-servers", f.etcd_servers);
  cli.option("--etcd-prefix", f.etcd_prefix);
  cli.option("--storage-backend", f.storage_backend);
  cli.option("--service-cluster-ip-range", f.service_cluster_ip_range);
  cli.option("--admission-control", f.admission_control);
  cli.option("--min-request-timeout", f.min_request_timeout);
  cli.flag("--allow-privileged", f.allow_privileged);
  cli.option("--v", f.v);
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
  block_exit_signals();
  Flags flags;
  StandinCli cli("kube-apiserver stand-in for kube-node-agent's tests and demo");
  add_flags(cli, flags);
  if (auto exit_code = cli.parse(argc, argv)) return *exit_code;
  init_logging("apiserver");

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
  const apiserver::ServerInfo info{
      cli.version(),
      (flags.advertise_address.empty() ? flags.insecure_bind_address : flags.advertise_address) +
          ":" + std::to_string(flags.secure_port),
      flags.v};
  spdlog::info("kube-apiserver stand-in {}: storage backend {} at {} with prefix {}",
               info.git_version, flags.storage_backend, flags.etcd_servers, flags.etcd_prefix);

  apiserver::NodeStore store(
      EtcdOptions{endpoints.value(), flags.storage_backend == "etcd3" ? EtcdApi::v3 : EtcdApi::v2,
                  Millis(3000)},
      flags.etcd_prefix);
  // Declared before the server, which records into it until it is destroyed.
  apiserver::RequestLog requests(apiserver::request_log_capacity_from_env());
  httplib::Server server;
  apiserver::install_request_log(server, requests);  // before the routes that match everything
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
    const int sig = wait_for_exit_signal();
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
