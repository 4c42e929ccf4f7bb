#include "config/tree.hpp"

#include "core/redact.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <utility>
#include <vector>

namespace kna::config {
namespace {

using PathField = std::pair<const char*, std::string Paths::*>;

const std::vector<PathField>& path_fields() {
  static const std::vector<PathField> fields{
      {"bootstrap_docker_socket", &Paths::bootstrap_docker_socket},
      {"bootstrap_docker_data_root", &Paths::bootstrap_docker_data_root},
      {"bootstrap_docker_exec_root", &Paths::bootstrap_docker_exec_root},
      {"bootstrap_docker_pidfile", &Paths::bootstrap_docker_pidfile},
      {"main_docker_socket", &Paths::main_docker_socket},
      {"main_docker_data_root", &Paths::main_docker_data_root},
      {"main_docker_exec_root", &Paths::main_docker_exec_root},
      {"main_docker_pidfile", &Paths::main_docker_pidfile},
      {"cri_dockerd_socket", &Paths::cri_dockerd_socket},
      {"flannel_run_dir", &Paths::flannel_run_dir},
      {"etcd_data_dir", &Paths::etcd_data_dir},
      {"kubelet_dir", &Paths::kubelet_dir},
      {"kubelet_manifests_dir", &Paths::kubelet_manifests_dir},
      {"container_logs_dir", &Paths::container_logs_dir},
      {"state_dir", &Paths::state_dir},
      {"run_dir", &Paths::run_dir},
      {"status_socket", &Paths::status_socket},
      {"image_dir", &Paths::image_dir},
      {"kubeconfig", &Paths::kubeconfig},
      {"bootstrap_kubeconfig", &Paths::bootstrap_kubeconfig},
      {"cluster_ca", &Paths::cluster_ca},
  };
  return fields;
}

using ControlPlaneField = std::pair<const char*, std::string ControlPlaneConfig::*>;

const std::vector<ControlPlaneField>& control_plane_fields() {
  static const std::vector<ControlPlaneField> fields{
      {"apiserver_image", &ControlPlaneConfig::apiserver_image},
      {"controller_manager_image", &ControlPlaneConfig::controller_manager_image},
      {"scheduler_image", &ControlPlaneConfig::scheduler_image},
      {"service_cluster_ip_range", &ControlPlaneConfig::service_cluster_ip_range},
      {"pki_dir", &ControlPlaneConfig::pki_dir},
  };
  return fields;
}

using ClusterField = std::pair<const char*, std::string ClusterAccess::*>;

const std::vector<ClusterField>& cluster_fields() {
  static const std::vector<ClusterField> fields{
      {"api_server", &ClusterAccess::api_server},
      {"ca_file", &ClusterAccess::ca_file},
      {"ca_cert_hash", &ClusterAccess::ca_cert_hash},
      {"token", &ClusterAccess::token},
      {"client_cert_file", &ClusterAccess::client_cert_file},
      {"client_key_file", &ClusterAccess::client_key_file},
  };
  return fields;
}

Tree stage_to_tree(const StageConfig& s) {
  Tree t = Tree::object();
  t["enabled"] = s.enabled;
  t["runtime"] = runtime_name(s.runtime);
  t["image"] = s.image;
  t["binary"] = s.binary;
  t["args"] = Tree::array();
  for (const auto& a : s.extra_args) t["args"].push_back(a);
  t["env"] = Tree::object();
  for (const auto& [k, v] : s.env) t["env"][k] = v;
  t["privileged"] = s.privileged;
  t["backoff"] = Tree::object();
  t["backoff"]["initial_ms"] = s.backoff.initial.count();
  t["backoff"]["multiplier"] = s.backoff.multiplier;
  t["backoff"]["max_ms"] = s.backoff.cap.count();
  t["backoff"]["jitter"] = s.backoff.jitter;
  t["backoff"]["reset_after_ms"] = s.backoff.reset_after.count();
  t["probe"] = Tree::object();
  t["probe"]["interval_ms"] = s.probe.interval.count();
  t["probe"]["timeout_ms"] = s.probe.timeout.count();
  t["probe"]["deadline_ms"] = s.probe.deadline.count();
  t["probe"]["period_ms"] = s.probe.period.count();
  t["probe"]["failure_threshold"] = s.probe.failure_threshold;
  t["stop_timeout_ms"] = s.stop_timeout.count();
  return t;
}

Millis ms(const Tree& t) {
  return Millis{t.get<std::int64_t>()};
}

StageConfig tree_to_stage(const Tree& t) {
  StageConfig s;
  s.enabled = t.at("enabled").get<bool>();
  const auto runtime = t.at("runtime").get<std::string>();
  if (runtime == "container")
    s.runtime = RuntimeKind::container;
  else if (runtime == "process")
    s.runtime = RuntimeKind::process;
  else
    throw std::logic_error("unvalidated stage runtime " + runtime);
  s.image = t.at("image").get<std::string>();
  s.binary = t.at("binary").get<std::string>();
  s.extra_args = t.at("args").get<std::vector<std::string>>();
  for (const auto& [k, v] : t.at("env").items()) s.env[k] = v.get<std::string>();
  const Tree& b = t.at("backoff");
  s.backoff.initial = ms(b.at("initial_ms"));
  s.backoff.multiplier = b.at("multiplier").get<double>();
  s.backoff.cap = ms(b.at("max_ms"));
  s.backoff.jitter = b.at("jitter").get<double>();
  s.backoff.reset_after = ms(b.at("reset_after_ms"));
  const Tree& p = t.at("probe");
  s.probe.interval = ms(p.at("interval_ms"));
  s.probe.timeout = ms(p.at("timeout_ms"));
  s.probe.deadline = ms(p.at("deadline_ms"));
  s.probe.period = ms(p.at("period_ms"));
  s.probe.failure_threshold = p.at("failure_threshold").get<int>();
  s.stop_timeout = ms(t.at("stop_timeout_ms"));
  s.privileged = t.at("privileged").get<bool>();
  return s;
}

}  // namespace

const char* role_name(Role role) {
  return role == Role::master ? "master" : "worker";
}
const char* runtime_name(RuntimeKind runtime) {
  return runtime == RuntimeKind::container ? "container" : "process";
}
const char* log_format_name(LogFormat format) {
  return format == LogFormat::json ? "json" : "text";
}
const char* etcd_api_name(EtcdApi api) {
  return api == EtcdApi::v3 ? "v3" : "v2";
}

Tree config_to_tree(const Config& c) {
  Tree t = Tree::object();
  t["role"] = role_name(c.role);
  t["node_name"] = c.node_name;
  t["k8s_version"] = c.k8s_version;
  t["etcd_version"] = c.etcd_version;
  t["flannel_version"] = c.flannel_version;
  t["flannel_ipmasq"] = c.flannel_ipmasq;
  t["flannel_network"] = c.flannel_network;
  t["flannel_backend"] = c.flannel_backend;
  t["flannel_etcd_api"] = etcd_api_name(c.flannel_etcd_api);
  t["flannel_etcd_prefix"] = c.flannel_etcd_prefix;
  t["dns_domain"] = c.dns_domain;
  t["dns_server_ip"] = c.dns_server_ip;
  t["restart_policy"] = c.restart_policy;
  t["master_ip"] = c.master_ip;
  t["arch"] = c.arch;
  t["net_interface"] = c.net_interface;
  t["timeout_for_services"] = c.timeout_for_services;
  t["api_token"] = c.api_token;
  t["cluster"] = Tree::object();
  for (const auto& [name, member] : cluster_fields()) t["cluster"][name] = c.cluster.*member;
  t["control_plane"] = Tree::object();
  for (const auto& [name, member] : control_plane_fields())
    t["control_plane"][name] = c.control_plane.*member;
  t["log"] = Tree::object();
  t["log"]["level"] = c.log_level;
  t["log"]["format"] = log_format_name(c.log_format);
  t["init"] = Tree::object();
  t["init"]["container"] = c.init.container == ContainerInit::on    ? "on"
                           : c.init.container == ContainerInit::off ? "off"
                                                                    : "auto";
  t["init"]["hostname"] = c.init.hostname;
  t["api"] = Tree::object();
  t["api"]["socket_group"] = c.api.socket_group;
  t["api"]["socket_mode"] = c.api.socket_mode;
  t["metrics"] = Tree::object();
  t["metrics"]["address"] = c.api.metrics_address;
  t["paths"] = Tree::object();
  for (const auto& [name, member] : path_fields()) t["paths"][name] = c.paths.*member;
  t["stages"] = Tree::object();
  // Start order first; a hand-built Config may hold extra names, which follow.
  for (const auto& name : all_stage_names()) {
    auto it = c.stages.find(name);
    if (it != c.stages.end()) t["stages"][name] = stage_to_tree(it->second);
  }
  for (const auto& [name, stage] : c.stages)
    if (!t["stages"].contains(name)) t["stages"][name] = stage_to_tree(stage);
  return t;
}

Config tree_to_config(const Tree& t) {
  Config c;
  const auto role = t.at("role").get<std::string>();
  if (role == "master")
    c.role = Role::master;
  else if (role == "worker")
    c.role = Role::worker;
  else
    throw std::logic_error("unvalidated role " + role);
  c.node_name = t.at("node_name").get<std::string>();
  c.k8s_version = t.at("k8s_version").get<std::string>();
  c.etcd_version = t.at("etcd_version").get<std::string>();
  c.flannel_version = t.at("flannel_version").get<std::string>();
  c.flannel_ipmasq = t.at("flannel_ipmasq").get<bool>();
  c.flannel_network = t.at("flannel_network").get<std::string>();
  c.flannel_backend = t.at("flannel_backend").get<std::string>();
  c.flannel_etcd_api =
      t.at("flannel_etcd_api").get<std::string>() == "v3" ? EtcdApi::v3 : EtcdApi::v2;
  c.flannel_etcd_prefix = t.at("flannel_etcd_prefix").get<std::string>();
  c.dns_domain = t.at("dns_domain").get<std::string>();
  c.dns_server_ip = t.at("dns_server_ip").get<std::string>();
  c.restart_policy = t.at("restart_policy").get<std::string>();
  c.master_ip = t.at("master_ip").get<std::string>();
  c.arch = t.at("arch").get<std::string>();
  c.net_interface = t.at("net_interface").get<std::string>();
  c.timeout_for_services = t.at("timeout_for_services").get<int>();
  c.api_token = t.at("api_token").get<std::string>();
  for (const auto& [name, member] : cluster_fields())
    c.cluster.*member = t.at("cluster").at(name).get<std::string>();
  for (const auto& [name, member] : control_plane_fields())
    c.control_plane.*member = t.at("control_plane").at(name).get<std::string>();
  c.log_level = t.at("log").at("level").get<std::string>();
  c.log_format =
      t.at("log").at("format").get<std::string>() == "json" ? LogFormat::json : LogFormat::text;
  const auto container_init = t.at("init").at("container").get<std::string>();
  c.init.container = container_init == "on"    ? ContainerInit::on
                     : container_init == "off" ? ContainerInit::off
                                               : ContainerInit::auto_detect;
  c.init.hostname = t.at("init").at("hostname").get<bool>();
  c.api.socket_group = t.at("api").at("socket_group").get<std::string>();
  c.api.socket_mode = t.at("api").at("socket_mode").get<std::string>();
  c.api.metrics_address = t.at("metrics").at("address").get<std::string>();
  for (const auto& [name, member] : path_fields())
    c.paths.*member = t.at("paths").at(name).get<std::string>();
  for (const auto& [name, stage] : t.at("stages").items()) c.stages[name] = tree_to_stage(stage);
  return c;
}

bool is_free_map(std::string_view key) {
  constexpr std::string_view prefix = "stages.";
  constexpr std::string_view suffix = ".env";
  if (!key.starts_with(prefix) || !key.ends_with(suffix)) return false;
  const auto stage = key.substr(prefix.size(), key.size() - prefix.size() - suffix.size());
  return !stage.empty() && stage.find('.') == std::string_view::npos;
}

bool is_secret_key(std::string_view key) {
  // stages.<stage>.env.<NAME>, where NAME may itself hold dots: the variable's name decides
  constexpr std::string_view prefix = "stages.";
  if (key.starts_with(prefix)) {
    const auto stage_end = key.find('.', prefix.size());
    if (stage_end != std::string_view::npos && key.substr(stage_end).starts_with(".env."))
      return looks_secret(key.substr(stage_end + 5));
  }
  const auto dot = key.rfind('.');
  return looks_secret(dot == std::string_view::npos ? key : key.substr(dot + 1));
}

Tree redacted_value(std::string_view key, const Tree& value) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.empty()) return value;
    return is_secret_key(key) ? Tree(std::string(kRedacted)) : Tree(redact_text(text));
  }
  if (is_secret_key(key) && !value.is_null()) return Tree(std::string(kRedacted));
  if (value.is_array()) {
    // a command line (stages.<stage>.args): its secrets as plan and the log hide them
    std::vector<std::string> argv;
    for (const auto& item : value) {
      if (!item.is_string()) return value;
      argv.push_back(item.get<std::string>());
    }
    return Tree(redact_argv(argv));
  }
  return value;
}

}  // namespace kna::config
