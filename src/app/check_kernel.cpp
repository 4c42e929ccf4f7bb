// The kernel half of `check`: cgroup controllers, modules, sysctls, iptables, the kernel config.
// Everything is read from files under Machine::root; nothing is loaded, created or changed.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <dlfcn.h>

#include <fmt/format.h>

#include "app/check.hpp"
#include "app/check_internal.hpp"
#include "platform/atomic_file.hpp"

namespace kna::app {
namespace {

namespace fs = std::filesystem;

std::string normalize_module(std::string name) {
  for (auto& c : name)
    if (c == '-') c = '_';
  return name;
}

// "kernel/net/bridge/br_netfilter.ko.xz" → "br_netfilter"
std::string module_of_path(const std::string& path) {
  std::string base = fs::path(path).filename().string();
  if (const auto ko = base.find(".ko"); ko != std::string::npos) base.resize(ko);
  return normalize_module(base);
}

std::optional<std::set<std::string>> module_set(const std::optional<std::string>& text,
                                                bool first_field_only) {
  if (!text) return std::nullopt;
  std::set<std::string> out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (first_field_only) {  // /proc/modules: "bridge 389120 1 br_netfilter, Live …"
      out.insert(normalize_module(line.substr(0, line.find(' '))));
    } else {  // modules.builtin / modules.dep: a path, then ":" and dependencies for .dep
      out.insert(module_of_path(line.substr(0, line.find(':'))));
    }
  }
  return out;
}

// /proc/config.gz through the zlib the process already has (cpp-httplib links it); the agent
// does not link zlib itself. nullopt when unreadable.
std::optional<std::string> read_gzip(const std::string& path) {
  using GzOpen = void* (*)(const char*, const char*);
  using GzRead = int (*)(void*, void*, unsigned);
  using GzClose = int (*)(void*);
  void* lib = ::dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return std::nullopt;
  auto gzopen = reinterpret_cast<GzOpen>(::dlsym(lib, "gzopen"));
  auto gzread = reinterpret_cast<GzRead>(::dlsym(lib, "gzread"));
  auto gzclose = reinterpret_cast<GzClose>(::dlsym(lib, "gzclose"));
  std::optional<std::string> out;
  if (gzopen != nullptr && gzread != nullptr && gzclose != nullptr) {
    if (void* gz = gzopen(path.c_str(), "rb")) {
      std::string text;
      char buf[16384];
      int n = 0;
      while ((n = gzread(gz, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
      if (n == 0) out = std::move(text);
      gzclose(gz);
    }
  }
  ::dlclose(lib);
  return out;
}

struct KernelConfig {
  std::string source;                        // the file read
  std::map<std::string, std::string> value;  // "CONFIG_VETH" → "y"; "# … is not set" → "n"
};

std::optional<KernelConfig> read_kernel_config(const Machine& m, const std::string& release) {
  KernelConfig kc;
  std::optional<std::string> text;
  if (fs::exists(under(m, "/proc/config.gz"))) {
    text = read_gzip(under(m, "/proc/config.gz"));
    kc.source = "/proc/config.gz";
  }
  if (!text && !release.empty()) {
    text = read_file(under(m, "/boot/config-" + release));
    kc.source = "/boot/config-" + release;
  }
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CONFIG_", 0) == 0) {
      const auto eq = line.find('=');
      if (eq != std::string::npos) kc.value[line.substr(0, eq)] = line.substr(eq + 1);
    } else if (line.rfind("# CONFIG_", 0) == 0 && line.ends_with(" is not set")) {
      kc.value[line.substr(2, line.find(' ', 2) - 2)] = "n";
    }
  }
  return kc;
}

struct Kernel {
  std::string release;
  std::optional<std::set<std::string>> loaded;   // /proc/modules
  std::optional<std::set<std::string>> builtin;  // modules.builtin
  std::optional<std::set<std::string>> dep;      // modules.dep: loadable
  std::optional<KernelConfig> config;
};

Kernel read_kernel(const Machine& m) {
  Kernel k;
  k.release = m.kernel_release();
  k.loaded = module_set(read_file(under(m, "/proc/modules")), true);
  if (!k.release.empty()) {
    const std::string dir = "/lib/modules/" + k.release;
    k.builtin = module_set(read_file(under(m, dir + "/modules.builtin")), false);
    k.dep = module_set(read_file(under(m, dir + "/modules.dep")), false);
  }
  k.config = read_kernel_config(m, k.release);
  return k;
}

enum class ModState { present, loadable, missing, unknown };
struct ModInfo {
  ModState state{ModState::unknown};
  std::string evidence;
};

// Where a kernel module stands, from the strongest evidence available.
ModInfo module_state(const Machine& m, const Kernel& k, const std::string& name,
                     const std::string& symbol) {
  const std::string cfg_value =
      k.config && k.config->value.contains(symbol) ? k.config->value.at(symbol) : "";
  if (k.loaded && k.loaded->contains(name)) return {ModState::present, "loaded (/proc/modules)"};
  if (fs::exists(under(m, "/sys/module/" + name))) {
    return {ModState::present, fs::exists(under(m, "/sys/module/" + name + "/initstate"))
                                   ? "loaded (/sys/module/" + name + ")"
                                   : "built-in (/sys/module/" + name + ")"};
  }
  if (k.builtin && k.builtin->contains(name)) {
    return {ModState::present, "built-in (modules.builtin)"};
  }
  if (cfg_value == "y") {
    return {ModState::present, fmt::format("built-in ({}=y in {})", symbol, k.config->source)};
  }
  if (k.dep && k.dep->contains(name)) {
    return {ModState::loadable,
            "not loaded; loadable (/lib/modules/" + k.release + "/modules.dep)"};
  }
  if (cfg_value == "m") {
    return {ModState::loadable,
            fmt::format("not loaded; a module ({}=m in {})", symbol, k.config->source)};
  }
  if (k.config) {
    return {ModState::missing, fmt::format("{} is not set in {}", symbol, k.config->source)};
  }
  if (k.builtin && k.dep) {
    return {ModState::missing, "not loaded, not in modules.builtin or modules.dep of " + k.release};
  }
  return {ModState::unknown,
          "cannot tell: not loaded, and no kernel config or modules.builtin/modules.dep to read"};
}

// A module the node needs: present → ok; loadable → ok (the daemon that needs it loads it);
// missing → `missing_result`; unknown → warn.
CheckLine module_line(const Machine& m, const Kernel& k, const std::string& title,
                      const std::string& name, const std::string& symbol,
                      CheckResult missing_result, const std::string& why) {
  const auto info = module_state(m, k, name, symbol);
  switch (info.state) {
    case ModState::present:
      return line(title, CheckResult::ok, info.evidence);
    case ModState::loadable:
      return line(title, CheckResult::ok, info.evidence + "; loaded on first use");
    case ModState::missing:
      return line(title, missing_result, info.evidence,
                  fmt::format("a kernel with {} (=y or =m): {}", symbol, why));
    case ModState::unknown:
      break;
  }
  return line(title, CheckResult::warn, info.evidence,
              fmt::format("make sure the kernel has {} ({}); `modprobe {}` shows whether it loads",
                          symbol, why, name));
}

std::vector<CheckLine> kernel_config_lines(const Kernel& k) {
  std::vector<CheckLine> out;
  if (!k.config) {
    out.push_back(line("kernel config", CheckResult::warn,
                       "neither /proc/config.gz nor /boot/config-" + k.release +
                           ": kernel options not checked (modules judged from /sys and "
                           "/lib/modules only)",
                       "`modprobe configs` (CONFIG_IKCONFIG_PROC) provides /proc/config.gz; or "
                       "install the kernel's config as /boot/config-" +
                           k.release));
    out.push_back(line("kernel options", CheckResult::skipped, "no kernel config to read"));
    return out;
  }
  out.push_back(line("kernel config", CheckResult::ok,
                     fmt::format("{} ({} options)", k.config->source, k.config->value.size())));
  // What docker, flannel and kube-proxy need (k3s check-config's required list, less what
  // kernels removed); "A|B": either will do.
  static const std::vector<std::string> required{
      "NAMESPACES",
      "NET_NS",
      "PID_NS",
      "IPC_NS",
      "UTS_NS",
      "CGROUPS",
      "CGROUP_CPUACCT",
      "CGROUP_FREEZER",
      "CGROUP_SCHED",
      "CPUSETS",
      "MEMCG",
      "KEYS",
      "VETH",
      "BRIDGE",
      "BRIDGE_NETFILTER",
      "NF_CONNTRACK",
      "NF_NAT",
      "IP_NF_FILTER",
      "IP_NF_NAT",
      "IP_NF_TARGET_MASQUERADE|NETFILTER_XT_TARGET_MASQUERADE",
      "POSIX_MQUEUE",
      "NETFILTER_XT_MATCH_ADDRTYPE",
      "NETFILTER_XT_MATCH_CONNTRACK"};
  std::vector<std::string> missing;
  for (const auto& want : required) {
    bool have = false;
    std::istringstream alts(want);
    std::string alt;
    while (std::getline(alts, alt, '|')) {
      const auto it = k.config->value.find("CONFIG_" + alt);
      have = have || (it != k.config->value.end() && (it->second == "y" || it->second == "m"));
    }
    if (!have) missing.push_back("CONFIG_" + want);
  }
  if (missing.empty()) {
    out.push_back(line("kernel options", CheckResult::ok,
                       fmt::format("all {} required options are y or m", required.size())));
  } else {
    std::string names;
    for (const auto& n : missing) names += (names.empty() ? "" : ", ") + n;
    out.push_back(line("kernel options", CheckResult::fail, "not set: " + names,
                       "a kernel built with these options (=y or =m)"));
  }
  return out;
}

std::vector<CheckLine> cgroup_lines(const Machine& m) {
  std::vector<CheckLine> out;
  struct Want {
    const char* name;
    CheckResult if_missing;
    const char* remedy;
  };
  static const std::vector<Want> wanted{
      {"cpu", CheckResult::fail,
       "a kernel with CONFIG_CGROUP_SCHED, and no cgroup_disable=cpu on the kernel command line"},
      {"cpuset", CheckResult::fail,
       "a kernel with CONFIG_CPUSETS, and no cgroup_disable=cpuset on the kernel command line"},
      {"memory", CheckResult::fail,
       "add `cgroup_enable=memory cgroup_memory=1` to the kernel command line (Raspberry Pi: "
       "/boot/cmdline.txt; else GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub) and "
       "reboot; the kernel needs CONFIG_MEMCG"},
      {"pids", CheckResult::warn,
       "a kernel with CONFIG_CGROUP_PIDS (kubelet v1.14+ limits the pids of pods with it)"},
  };
  std::set<std::string> enabled;
  if (auto v2 = read_file(under(m, "/sys/fs/cgroup/cgroup.controllers"))) {
    std::istringstream in(*v2);
    std::string c;
    while (in >> c) enabled.insert(c);
    out.push_back(line("cgroups", CheckResult::ok, "v2 (/sys/fs/cgroup/cgroup.controllers)"));
    for (const auto& w : wanted) {
      const std::string title = std::string("cgroup ") + w.name;
      if (enabled.contains(w.name)) {
        out.push_back(line(title, CheckResult::ok, "in /sys/fs/cgroup/cgroup.controllers"));
      } else {
        out.push_back(
            line(title, w.if_missing, "not in /sys/fs/cgroup/cgroup.controllers", w.remedy));
      }
    }
    return out;
  }
  auto v1 = read_file(under(m, "/proc/cgroups"));
  if (!v1) {
    out.push_back(line("cgroups", CheckResult::fail,
                       "neither /sys/fs/cgroup/cgroup.controllers nor /proc/cgroups",
                       "a kernel with CONFIG_CGROUPS, and cgroups mounted at /sys/fs/cgroup"));
    for (const auto& w : wanted) {
      out.push_back(line(std::string("cgroup ") + w.name, CheckResult::skipped, "no cgroups"));
    }
    return out;
  }
  std::map<std::string, bool> v1_enabled;  // "#subsys_name hierarchy num_cgroups enabled"
  std::istringstream in(*v1);
  std::string row;
  while (std::getline(in, row)) {
    if (row.empty() || row[0] == '#') continue;
    std::istringstream fields(row);
    std::string name, hierarchy, count, on;
    fields >> name >> hierarchy >> count >> on;
    v1_enabled[name] = on == "1";
  }
  out.push_back(line("cgroups", CheckResult::ok, "v1 (/proc/cgroups)"));
  for (const auto& w : wanted) {
    const std::string title = std::string("cgroup ") + w.name;
    const auto it = v1_enabled.find(w.name);
    if (it != v1_enabled.end() && it->second) {
      out.push_back(line(title, CheckResult::ok, "enabled in /proc/cgroups"));
    } else {
      out.push_back(line(
          title, w.if_missing,
          it == v1_enabled.end() ? "not in /proc/cgroups" : "disabled in /proc/cgroups", w.remedy));
    }
  }
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

CheckLine sysctl_line(const Machine& m, const std::string& key, CheckResult bad,
                      const std::string& absent_found, const std::string& absent_remedy) {
  std::string file = "/proc/sys/" + key;
  for (auto& c : file)
    if (c == '.') c = '/';
  const auto value = read_file(under(m, file));
  if (!value) return line(key, bad, absent_found, absent_remedy);
  const std::string v = trimmed(*value);
  if (v == "1") return line(key, CheckResult::ok, "1 (" + file + ")");
  return line(
      key, bad, v + " (" + file + ")",
      fmt::format("sysctl -w {}=1, and `{} = 1` in /etc/sysctl.d/99-kubernetes.conf to keep "
                  "it across reboots",
                  key, key));
}

CheckLine iptables_line(const Machine& m, bool host_kube_proxy) {
  const CheckResult absent = host_kube_proxy ? CheckResult::fail : CheckResult::warn;
  auto path = m.find_executable("iptables");
  if (!path) {
    return line("iptables", absent, path.error().message,
                host_kube_proxy ? "install iptables: kube-proxy runs as a host process here"
                                : "install iptables (the containers bring their own, but the "
                                  "host's rules cannot be inspected without it)");
  }
  auto version = m.run({path.value(), "--version"}, Millis(2'000));
  if (!version) {
    return line("iptables", CheckResult::warn, path.value() + ": " + version.error().message,
                "check that `iptables --version` runs");
  }
  const std::string v = trimmed(version.value());
  std::string mode = "legacy mode (no mode shown: iptables before 1.8)";
  if (v.find("(nf_tables)") != std::string::npos) mode = "nf_tables mode";
  if (v.find("(legacy)") != std::string::npos) mode = "legacy mode";
  return line("iptables", CheckResult::ok, fmt::format("{}: {}, {}", path.value(), v, mode));
}

}  // namespace

std::vector<CheckLine> kernel_checks(const Config& cfg, const Machine& m) {
  const Kernel k = read_kernel(m);
  const auto stages = running_stages(cfg);
  const bool kube_proxy = stages.contains(kStageKubeProxy);
  const bool host_kube_proxy =
      kube_proxy && cfg.stage(kStageKubeProxy).runtime == RuntimeKind::process;
  const CheckResult bridge_nf = kube_proxy ? CheckResult::fail : CheckResult::warn;

  std::vector<CheckLine> out = kernel_config_lines(k);
  for (auto& l : cgroup_lines(m)) out.push_back(std::move(l));

  // overlayfs: registered → in use by dockerd's overlay2; without it dockerd falls back to vfs.
  const auto filesystems = read_file(under(m, "/proc/filesystems"));
  if (filesystems && filesystems->find("\toverlay\n") != std::string::npos) {
    out.push_back(line("overlayfs", CheckResult::ok, "registered (/proc/filesystems)"));
  } else {
    out.push_back(module_line(m, k, "overlayfs", "overlay", "CONFIG_OVERLAY_FS", CheckResult::warn,
                              "without it dockerd falls back to the slow vfs storage driver"));
  }
  out.push_back(module_line(m, k, "bridge", "bridge", "CONFIG_BRIDGE", CheckResult::fail,
                            "dockerd's docker0 is a bridge"));
  out.push_back(module_line(m, k, "veth", "veth", "CONFIG_VETH", CheckResult::fail,
                            "every container's network link is a veth pair"));

  // br_netfilter: its sysctls exist only while it is loaded.
  const std::string modprobe_br =
      "modprobe br_netfilter, and `br_netfilter` in /etc/modules-load.d/kubernetes.conf to load it "
      "at boot";
  if (fs::exists(under(m, "/proc/sys/net/bridge"))) {
    out.push_back(line("br_netfilter", CheckResult::ok, "active (/proc/sys/net/bridge present)"));
  } else {
    const auto info = module_state(m, k, "br_netfilter", "CONFIG_BRIDGE_NETFILTER");
    if (info.state == ModState::missing) {
      out.push_back(line("br_netfilter", bridge_nf, info.evidence,
                         "a kernel with CONFIG_BRIDGE_NETFILTER: kube-proxy's rules must see "
                         "bridged pod traffic"));
    } else {
      out.push_back(line("br_netfilter", bridge_nf, "no /proc/sys/net/bridge; " + info.evidence,
                         modprobe_br));
    }
  }
  out.push_back(sysctl_line(m, "net.bridge.bridge-nf-call-iptables", bridge_nf,
                            "absent: br_netfilter is not loaded", modprobe_br));
  out.push_back(sysctl_line(m, "net.ipv4.ip_forward", CheckResult::fail,
                            "absent (/proc/sys/net/ipv4/ip_forward)",
                            "a kernel with IPv4 networking, and /proc mounted"));
  out.push_back(iptables_line(m, host_kube_proxy));

  const bool flannel = stages.contains(kStageFlannel);
  if (flannel && cfg.flannel_backend == "vxlan") {
    out.push_back(module_line(m, k, "vxlan", "vxlan", "CONFIG_VXLAN", CheckResult::fail,
                              "flannel_backend is vxlan"));
  } else {
    out.push_back(line(
        "vxlan", CheckResult::skipped,
        flannel ? "flannel_backend is " + cfg.flannel_backend : "the flannel stage does not run"));
  }
  if (flannel && cfg.flannel_backend == "udp") {
    if (fs::exists(under(m, "/dev/net/tun"))) {
      out.push_back(line("tun", CheckResult::ok, "/dev/net/tun present"));
    } else {
      out.push_back(line("tun", CheckResult::fail,
                         "no /dev/net/tun; " + module_state(m, k, "tun", "CONFIG_TUN").evidence,
                         "modprobe tun (flannel's udp backend needs /dev/net/tun), or use "
                         "flannel_backend vxlan"));
    }
  } else {
    out.push_back(line(
        "tun", CheckResult::skipped,
        flannel ? "flannel_backend is " + cfg.flannel_backend : "the flannel stage does not run"));
  }
  return out;
}

}  // namespace kna::app
