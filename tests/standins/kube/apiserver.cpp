// A stand-in for kube-apiserver written for kube-node-agent's tests and demo (not the real
// program): it takes kube-apiserver's flags, serves the HTTP API for nodes (what kubelet and
// `kubectl get nodes` use), ConfigMaps, Secrets, CertificateSigningRequests and RBAC's roles and
// bindings (stored, not evaluated) and keeps them in etcd (v2 or v3) under the real keys
// (<etcd-prefix>/minions/<name>, …). The insecure port
// authenticates nobody, as the real one; the secure port (given --tls-cert-file and
// --tls-private-key-file) authenticates client certificates, static and bootstrap tokens and
// anonymous users and authorizes them with a few fixed rules (apiserver_auth.hpp,
// apiserver_authz.hpp). It also does kube-controller-manager's part of TLS bootstrapping: CSR
// approval and signing (apiserver_csr.hpp), cluster-info's signatures. Its own addition: every
// request is recorded, served on GET /standin/requests (apiserver_requests.hpp).

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include <spdlog/spdlog.h>

#include "clients/etcd_client.hpp"
#include "kube/apiserver_auth.hpp"
#include "kube/apiserver_csr.hpp"
#include "kube/apiserver_http.hpp"
#include "kube/apiserver_objects.hpp"
#include "kube/apiserver_requests.hpp"
#include "kube/apiserver_resources.hpp"
#include "kube/apiserver_secure.hpp"
#include "kube/apiserver_store.hpp"
#include "kube/components.hpp"
#include "kube/standin_cli.hpp"
#include "kube/standin_process.hpp"

namespace kna::standins {

namespace {

using namespace std::chrono_literals;

// Accepted for the command lines of kubeadm-style clusters; the stand-in has no use for them.
constexpr std::array kIgnoredFlags{"--service-account-key-file",
                                   "--service-account-issuer",
                                   "--service-account-signing-key-file",
                                   "--kubelet-client-certificate",
                                   "--kubelet-client-key",
                                   "--kubelet-certificate-authority",
                                   "--kubelet-preferred-address-types",
                                   "--enable-admission-plugins",
                                   "--requestheader-client-ca-file",
                                   "--requestheader-allowed-names",
                                   "--requestheader-extra-headers-prefix",
                                   "--requestheader-group-headers",
                                   "--requestheader-username-headers",
                                   "--proxy-client-cert-file",
                                   "--proxy-client-key-file",
                                   "--cert-dir",
                                   "--enable-aggregator-routing",
                                   "--etcd-cafile",
                                   "--etcd-certfile",
                                   "--etcd-keyfile"};

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
  // The secure port's.
  std::string tls_cert_file;
  std::string tls_private_key_file;
  std::string client_ca_file;
  std::string token_auth_file;
  bool enable_bootstrap_token_auth{false};
  bool anonymous_auth{true};
  std::string authorization_mode{"AlwaysAllow"};
  std::array<std::string, kIgnoredFlags.size()> ignored;
};

// The flags' names, values and defaults are the real kube-apiserver's. The insecure port is off
// by default from v1.20 and gone from v1.24, as in the real one.
void add_flags(StandinCli& cli, Flags& f) {
  if (cli.at_least(20)) f.insecure_port = 0;
  cli.option("--advertise-address", f.advertise_address);
  cli.option("--insecure-bind-address", f.insecure_bind_address, until(24));
  cli.option("--insecure-port", f.insecure_port, until(24));
  cli.option("--bind-address", f.bind_address);
  cli.option("--secure-port", f.secure_port);
  cli.option("--tls-cert-file", f.tls_cert_file);
  cli.option("--tls-private-key-file", f.tls_private_key_file);
  cli.option("--client-ca-file", f.client_ca_file);
  cli.option("--token-auth-file", f.token_auth_file);
  cli.flag("--experimental-bootstrap-token-auth", f.enable_bootstrap_token_auth, FlagLife{6, 9});
  cli.flag("--enable-bootstrap-token-auth", f.enable_bootstrap_token_auth, since(8));
  cli.flag("--anonymous-auth", f.anonymous_auth, since(5));
  cli.option("--authorization-mode", f.authorization_mode);
  for (std::size_t i = 0; i < kIgnoredFlags.size(); ++i) cli.option(kIgnoredFlags[i], f.ignored[i]);
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

  const bool secure =
      flags.secure_port != 0 && !flags.tls_cert_file.empty() && !flags.tls_private_key_file.empty();
  if (flags.secure_port != 0 && !secure &&
      (!flags.tls_cert_file.empty() || !flags.tls_private_key_file.empty())) {
    spdlog::error("--tls-cert-file and --tls-private-key-file go together");
    return 1;
  }
  if (!secure && flags.insecure_port == 0) {
    spdlog::error(
        "nothing to serve: the insecure port is off and the stand-in serves the secure "
        "port only with --tls-cert-file and --tls-private-key-file");
    return 1;
  }
  std::vector<apiserver::StaticToken> tokens;
  if (!flags.token_auth_file.empty()) {
    auto loaded = apiserver::load_token_file(flags.token_auth_file);
    if (auto* error = std::get_if<std::string>(&loaded)) {
      spdlog::error("invalid --token-auth-file: {}", *error);
      return 1;
    }
    tokens = std::move(std::get<std::vector<apiserver::StaticToken>>(loaded));
  }

  const EtcdOptions etcd{endpoints.value(),
                         flags.storage_backend == "etcd3" ? EtcdApi::v3 : EtcdApi::v2,
                         Millis(3000)};
  apiserver::NodeStore store(etcd, flags.etcd_prefix);
  apiserver::ObjectStore objects(etcd, flags.etcd_prefix);
  const auto csrs = apiserver::make_csr_controller(objects, flags.client_ca_file);
  const apiserver::Authenticator insecure_auth({false, {}, false, true}, objects);
  const apiserver::Authenticator secure_auth(
      {true, std::move(tokens), flags.enable_bootstrap_token_auth, flags.anonymous_auth}, objects);
  // Declared before the servers, which record into it until they are destroyed.
  apiserver::RequestLog requests(apiserver::request_log_capacity_from_env());
  StopFlag watches;  // requested at shutdown: watches end, so that the servers can stop
  std::vector<std::unique_ptr<httplib::Server>> servers;
  if (flags.insecure_port != 0) {
    auto server = std::make_unique<httplib::Server>();
    apiserver::install_request_log(*server, requests);  // before the routes that match everything
    apiserver::install_resource_routes(
        *server, objects, *csrs,
        [&insecure_auth](const httplib::Request& req) { return insecure_auth.authenticate(req); },
        watches);
    apiserver::install_routes(*server, store, info);
    if (!server->bind_to_port(flags.insecure_bind_address, flags.insecure_port)) {
      spdlog::error("failed to listen on {}:{}", flags.insecure_bind_address, flags.insecure_port);
      return 1;
    }
    spdlog::info("Serving insecurely on {}:{}", flags.insecure_bind_address, flags.insecure_port);
    servers.push_back(std::move(server));
  }
  if (secure) {
    std::string error;
    auto server = apiserver::make_tls_server(
        {flags.tls_cert_file, flags.tls_private_key_file, flags.client_ca_file}, &error);
    if (!server) {
      spdlog::error("failed to set up the secure port: {}", error);
      return 1;
    }
    apiserver::install_request_log(
        *server, requests,
        apiserver::secure_guard(secure_auth,
                                apiserver::authorization_mode(flags.authorization_mode)));
    apiserver::install_resource_routes(
        *server, objects, *csrs,
        [&secure_auth](const httplib::Request& req) { return secure_auth.authenticate(req); },
        watches);
    apiserver::install_routes(*server, store, info);
    if (!server->bind_to_port(flags.bind_address, flags.secure_port)) {
      spdlog::error("failed to listen on {}", host_port(flags.bind_address, flags.secure_port));
      return 1;
    }
    spdlog::info("Serving securely on {}", host_port(flags.bind_address, flags.secure_port));
    servers.push_back(std::move(server));
  }

  std::vector<std::unique_ptr<std::atomic<bool>>> done;
  std::vector<std::thread> serving;
  for (auto& server : servers) {
    done.push_back(std::make_unique<std::atomic<bool>>(false));
    serving.emplace_back([s = server.get(), d = done.back().get()] {
      if (!s->listen_after_bind()) spdlog::error("the HTTP server stopped with an error");
      *d = true;
    });
  }
  {
    EtcdWaiter waiter(store, flags.etcd_servers);
    const int sig = wait_for_exit_signal();
    spdlog::info("Received signal {}, shutting down", sig);
  }
  watches.request();
  // stop() does nothing before listen_after_bind has started: wait for that first.
  for (std::size_t i = 0; i < servers.size(); ++i) {
    while (!*done[i]) {
      if (servers[i]->is_running()) {
        servers[i]->stop();
        break;
      }
      std::this_thread::sleep_for(1ms);
    }
    serving[i].join();
  }
  return 0;
}

}  // namespace kna::standins
