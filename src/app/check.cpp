#include "app/check.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/check_internal.hpp"
#include "kna/catalogue.hpp"
#include "platform/atomic_file.hpp"
#include "stages/kubeconfig.hpp"

namespace kna::app {

namespace fs = std::filesystem;

std::string under(const Machine& m, const std::string& path) {
  if (m.root.empty() || m.root == "/") return path;
  return (fs::path(m.root) / fs::path(path).relative_path()).string();
}

std::set<std::string> running_stages(const Config& cfg) {
  std::set<std::string> names;
  for (const auto& spec : build_plan(cfg, PlanFacts{})) names.insert(spec.name);
  return names;
}

const char* to_string(CheckResult r) {
  switch (r) {
    case CheckResult::ok:
      return "ok";
    case CheckResult::warn:
      return "warn";
    case CheckResult::fail:
      return "FAIL";
    case CheckResult::skipped:
      return "skipped";
  }
  return "?";
}

CheckLine line(std::string name, CheckResult r, std::string found, std::string remedy,
               bool enforced) {
  return CheckLine{std::move(name), r, std::move(found), std::move(remedy), enforced};
}

namespace {

// Stages in start order, as the table lists them.
std::vector<std::string> running_in_order(const Config& cfg) {
  const auto running = running_stages(cfg);
  std::vector<std::string> out;
  for (const auto& name : all_stage_names())
    if (running.contains(name)) out.push_back(name);
  return out;
}

bool runs_as_process(const Config& cfg, const std::set<std::string>& running,
                     const std::string& stage) {
  return running.contains(stage) && cfg.stage(stage).runtime == RuntimeKind::process;
}

// A folder the agent or a stage writes: it must be a writable folder, or be creatable under its
// nearest existing ancestor. Nothing is created here.
CheckLine writable_line(const std::string& key, const std::string& path, bool enforced) {
  const std::string name = "path " + key;
  const std::string remedy = fmt::format(
      "make {} a folder the agent (uid {}) can write, or set {} to one", path, ::getuid(), key);
  std::error_code ec;
  fs::path p(path);
  fs::path existing = p;
  while (!fs::exists(existing, ec) && existing.has_parent_path() &&
         existing != existing.parent_path()) {
    existing = existing.parent_path();
  }
  if (!fs::is_directory(existing, ec)) {
    return line(name, CheckResult::fail,
                fmt::format("{}: {} is not a folder", path, existing.string()), remedy, enforced);
  }
  if (::access(existing.c_str(), W_OK) != 0) {
    return line(
        name, CheckResult::fail,
        fmt::format("{}: {} is not writable ({})", path, existing.string(), std::strerror(errno)),
        remedy, enforced);
  }
  if (existing == p) return line(name, CheckResult::ok, path + ": writable", "", enforced);
  return line(name, CheckResult::ok,
              fmt::format("{}: missing; would be created under {}", path, existing.string()), "",
              enforced);
}

}  // namespace

std::vector<CheckLine> binary_checks(const Config& cfg, const Machine& m) {
  std::vector<CheckLine> out;
  const auto running = running_stages(cfg);
  for (const auto& stage : running_in_order(cfg)) {
    if (!runs_as_process(cfg, running, stage)) continue;
    const std::string& binary = cfg.stage(stage).binary;
    auto found = m.find_executable(binary);
    if (found) {
      out.push_back(line("binary " + stage, CheckResult::ok,
                         binary == found.value() ? binary : binary + " → " + found.value(), "",
                         true));
    } else {
      out.push_back(line(
          "binary " + stage, CheckResult::fail, found.error().message,
          fmt::format("install {}, or set stages.{}.binary to its absolute path", binary, stage),
          true));
    }
  }
  const bool dockerd = runs_as_process(cfg, running, kStageBootstrapDocker) ||
                       runs_as_process(cfg, running, kStageMainDocker);
  if (!dockerd) {
    out.push_back(line("binary dockerd", CheckResult::skipped, "no dockerd runs as a process"));
  }
  // dockerd starts containerd from PATH and runs containers with runc, unless its args point it
  // elsewhere (--containerd, --add-runtime): so `run` does not insist on them.
  struct Helper {
    const char* program;
    const char* remedy;
  };
  for (const Helper& h :
       {Helper{"containerd",
               "install containerd (dockerd starts it from PATH), or give dockerd "
               "--containerd=<socket> in stages.<stage>.args"},
        Helper{"runc", "install runc (dockerd's default container runtime)"}}) {
    const std::string name = std::string("binary ") + h.program;
    if (!dockerd) {
      out.push_back(line(name, CheckResult::skipped, "no dockerd runs as a process"));
      continue;
    }
    auto found = m.find_executable(h.program);
    if (found) {
      out.push_back(line(name, CheckResult::ok, found.value()));
    } else {
      out.push_back(line(name, CheckResult::fail, found.error().message, h.remedy));
    }
  }
  return out;
}

std::vector<CheckLine> path_checks(const Config& cfg) {
  const auto running = running_stages(cfg);
  const Paths& p = cfg.paths;
  std::vector<CheckLine> out;
  out.push_back(writable_line("paths.run_dir", p.run_dir, true));
  out.push_back(writable_line("paths.state_dir", p.state_dir, true));
  const std::string socket_dir = fs::path(p.status_socket).parent_path().string();
  if (socket_dir != p.run_dir) {
    out.push_back(writable_line("paths.status_socket (its folder)", socket_dir, true));
  }
  if (runs_as_process(cfg, running, kStageBootstrapDocker)) {
    out.push_back(
        writable_line("paths.bootstrap_docker_data_root", p.bootstrap_docker_data_root, true));
    out.push_back(
        writable_line("paths.bootstrap_docker_exec_root", p.bootstrap_docker_exec_root, true));
  }
  if (runs_as_process(cfg, running, kStageMainDocker)) {
    out.push_back(writable_line("paths.main_docker_data_root", p.main_docker_data_root, true));
    out.push_back(writable_line("paths.main_docker_exec_root", p.main_docker_exec_root, true));
  }
  if (running.contains(kStageEtcd)) {
    out.push_back(writable_line("paths.etcd_data_dir", p.etcd_data_dir, true));
  }
  if (running.contains(kStageFlannel)) {
    out.push_back(writable_line("paths.flannel_run_dir", p.flannel_run_dir, true));
  }
  if (running.contains(kStageKubelet)) {
    out.push_back(writable_line("paths.kubelet_dir", p.kubelet_dir, true));
    if (cfg.role == Role::master) {
      out.push_back(writable_line("paths.kubelet_manifests_dir", p.kubelet_manifests_dir, true));
    }
  }
  // The kubeconfig (v1.6+) is a file the kubelet's and kube-proxy's specs write.
  bool kubeconfig = false;
  for (const auto& spec : build_plan(cfg, PlanFacts{})) {
    for (const auto& w : steps_of<WriteFile>(spec.prepare)) kubeconfig |= w.path == p.kubeconfig;
  }
  if (kubeconfig) {
    out.push_back(writable_line("paths.kubeconfig (its folder)",
                                fs::path(p.kubeconfig).parent_path().string(), true));
  }
  // The airgap folder is only read: absent is fine (nothing to load).
  if (running.contains(kStageMainDocker)) {
    std::error_code ec;
    if (!fs::exists(p.image_dir, ec)) {
      out.push_back(line("path paths.image_dir", CheckResult::ok,
                         p.image_dir + ": absent (no airgap images to load)"));
    } else if (!fs::is_directory(p.image_dir, ec) || ::access(p.image_dir.c_str(), R_OK | X_OK)) {
      out.push_back(line("path paths.image_dir", CheckResult::warn,
                         p.image_dir + ": not a readable folder; its images cannot be loaded",
                         "make paths.image_dir a readable folder of *.tar images, or remove it"));
    } else {
      int tars = 0;
      for (const auto& e : fs::directory_iterator(p.image_dir, ec))
        tars += e.path().extension() == ".tar" ? 1 : 0;
      out.push_back(line("path paths.image_dir", CheckResult::ok,
                         fmt::format("{}: {} *.tar to load", p.image_dir, tars)));
    }
  }
  return out;
}

std::vector<WantedPort> local_ports_of(const Config& cfg) {
  const auto running = running_stages(cfg);
  std::vector<WantedPort> out;
  if (running.contains(kStageEtcd)) out.push_back({2379, "etcd client"});
  if (cfg.role == Role::master && running.contains(kStageKubelet)) {
    out.push_back({8080, "kube-apiserver (static pod)"});
  }
  if (running.contains(kStageKubelet)) {
    out.push_back({10248, "kubelet healthz"});
    out.push_back({10250, "kubelet API"});
  }
  if (running.contains(kStageKubeProxy)) out.push_back({10256, "kube-proxy healthz"});
  return out;
}

std::vector<WantedPort> master_ports_of(const Config& cfg) {
  if (cfg.role == Role::master) return {};
  const auto running = running_stages(cfg);
  std::vector<WantedPort> out;
  if (running.contains(kStageKubelet) || running.contains(kStageKubeProxy)) {
    // The insecure port up to v1.19, 6443 over TLS: where cluster.api_server says.
    out.push_back({stages::api_server_port(cfg), "kube-apiserver"});
  }
  if (running.contains(kStageFlannel)) out.push_back({2379, "etcd"});
  return out;
}

std::vector<CheckLine> port_checks(const Config& cfg, const Machine& m, const CheckOptions& opts) {
  const auto ports = opts.local_ports.value_or(local_ports_of(cfg));
  std::vector<CheckLine> out;
  if (ports.empty()) {
    out.push_back(line("ports", CheckResult::skipped, "no stage of this node listens"));
  }
  for (const auto& p : ports) {
    const std::string name = fmt::format("port {}", p.port);
    auto bound = m.bind_port(p.port);
    if (bound) {
      out.push_back(line(name, CheckResult::ok, "free (" + p.who + ")"));
      continue;
    }
    const std::string holder = m.port_holder(p.port);
    out.push_back(
        line(name, CheckResult::fail,
             fmt::format("in use{}, needed by {}: {}", holder.empty() ? "" : " by " + holder, p.who,
                         bound.error().message),
             fmt::format("stop {} (or move it off port {}); if this node's agent already runs, "
                         "this is its own {} and nothing is wrong",
                         holder.empty() ? "what listens there" : holder, p.port, p.who)));
  }
  return out;
}

std::vector<CheckLine> master_checks(const Config& cfg, const Machine& m,
                                     const CheckOptions& opts) {
  std::vector<CheckLine> out;
  if (cfg.role == Role::master) {
    out.push_back(line("master", CheckResult::skipped, "this node is the master"));
    return out;
  }
  const auto ports = opts.master_ports.value_or(master_ports_of(cfg));
  if (ports.empty()) {
    out.push_back(line("master", CheckResult::skipped, "no stage of this node talks to it"));
    return out;
  }
  // In parallel: an unreachable master costs one timeout, not one per port.
  std::vector<std::future<Status>> answers;
  for (const auto& p : ports) {
    answers.push_back(std::async(std::launch::async, [&m, &cfg, &opts, port = p.port] {
      return m.connect(cfg.master_ip, port, opts.timeout);
    }));
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    const auto& p = ports[i];
    const std::string name = fmt::format("master {}:{}", cfg.master_ip, p.port);
    auto r = answers[i].get();
    if (r) {
      out.push_back(line(name, CheckResult::ok, "accepts connections (" + p.who + ")"));
    } else {
      out.push_back(line(
          name, CheckResult::fail, p.who + ": " + r.error().message,
          fmt::format("start the master's {} first, or correct MASTER_IP; a firewall on the way "
                      "must let TCP {} through (`run` waits for the master: not enforced)",
                      p.who, p.port)));
    }
  }
  return out;
}

std::vector<CheckLine> run_checks(const Config& cfg, const Machine& m, const CheckOptions& opts) {
  std::vector<CheckLine> out = kernel_checks(cfg, m);
  for (auto& l : binary_checks(cfg, m)) out.push_back(std::move(l));
  for (auto& l : path_checks(cfg)) out.push_back(std::move(l));
  for (auto& l : port_checks(cfg, m, opts)) out.push_back(std::move(l));
  for (auto& l : master_checks(cfg, m, opts)) out.push_back(std::move(l));
  return out;
}

bool any_failed(const std::vector<CheckLine>& lines) {
  return std::any_of(lines.begin(), lines.end(),
                     [](const CheckLine& l) { return l.result == CheckResult::fail; });
}

std::string render_check_text(const std::vector<CheckLine>& lines) {
  size_t width = 5;
  for (const auto& l : lines) width = std::max(width, l.name.size());
  const size_t found_col = width + 2 + 9;
  std::string out = fmt::format("{:<{}}  {:<7}  {}\n", "CHECK", width, "RESULT", "FOUND");
  int counts[4] = {0, 0, 0, 0};
  for (const auto& l : lines) {
    ++counts[static_cast<int>(l.result)];
    out += fmt::format("{:<{}}  {:<7}  {}\n", l.name, width, to_string(l.result), l.found);
    if (!l.remedy.empty() && (l.result == CheckResult::fail || l.result == CheckResult::warn)) {
      out += fmt::format("{:<{}}fix: {}\n", "", found_col, l.remedy);
    }
  }
  out += fmt::format("{} ok, {} warn, {} FAIL, {} skipped\n", counts[0], counts[1], counts[2],
                     counts[3]);
  return out;
}

nlohmann::json render_check_json(const std::vector<CheckLine>& lines) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& l : lines) {
    checks.push_back({{"name", l.name},
                      {"result", to_string(l.result)},
                      {"found", l.found},
                      {"remedy", l.remedy},
                      {"enforced_by_run", l.enforced_by_run}});
  }
  return {{"ok", !any_failed(lines)}, {"checks", checks}};
}

std::vector<CheckLine> preflight_lines(const Config& cfg, const Machine& m) {
  std::vector<CheckLine> out;
  for (auto& l : binary_checks(cfg, m))
    if (l.enforced_by_run) out.push_back(std::move(l));
  for (auto& l : path_checks(cfg))
    if (l.enforced_by_run) out.push_back(std::move(l));
  return out;
}

Status preflight_for_run(const Config& cfg) {
  std::string failed;
  for (const auto& l : preflight_lines(cfg, real_machine())) {
    if (l.result != CheckResult::fail) continue;
    failed += fmt::format("  - {}: {}\n    fix: {}\n", l.name, l.found, l.remedy);
  }
  if (failed.empty()) return kOk;
  return Error{"this machine cannot run the node:\n" + failed +
               "Nothing was started. `kube-node-agent check` checks the rest (docs/check.md).\n"};
}

int cmd_check(const Config& cfg, const CheckCommandOptions& opts) {
  CheckOptions options;
  options.timeout = Millis(opts.timeout_ms);
  const auto lines = run_checks(cfg, real_machine(), options);
  if (opts.output == "json") {
    std::cout << render_check_json(lines).dump(2) << "\n";
  } else {
    std::cout << render_check_text(lines);
  }
  return any_failed(lines) ? 1 : 0;
}

}  // namespace kna::app
