#pragma once
// `kube-node-agent check`: a preflight of this machine for one configuration (kernel features,
// binaries, folders, ports, the master), and the fatal subset of it that `run` enforces. The
// machine is reached through `Machine`, so that tests drive a fake /proc and /sys tree and fake
// commands; docs/check.md lists every check.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kna/config.hpp"
#include "kna/error.hpp"
#include "kna/time.hpp"

namespace kna::app {

enum class CheckResult { ok, warn, fail, skipped };
const char* to_string(CheckResult r);  // "ok", "warn", "FAIL", "skipped"

struct CheckLine {
  std::string name;  // "cgroup memory", "port 10250", "path state_dir"
  CheckResult result{CheckResult::ok};
  std::string found;   // what was seen, and where
  std::string remedy;  // what to do: set for every warn and FAIL line
  // A FAIL here makes a node impossible, so `run` refuses to start (preflight_for_run).
  bool enforced_by_run{false};
};

// What the checks read and do. Kernel facts are files under `root` ("/" on the machine, a temp
// tree in tests: <root>/proc/cgroups, <root>/sys/module/…, <root>/lib/modules/<release>/…); the
// configured folders are checked where they are (tests configure temp folders). Every function
// must be set; real_machine() sets them all.
struct Machine {
  std::string root{"/"};
  std::function<std::string()> kernel_release;  // `uname -r`
  // An absolute path, or a bare name looked up in PATH, as the process runtime does at launch.
  std::function<Result<std::string>(const std::string& program)> find_executable;
  // Runs argv (no shell); its stdout, or an error when it cannot run, fails or times out.
  std::function<Result<std::string>(const std::vector<std::string>& argv, Millis timeout)> run;
  // kOk when a TCP listener could bind `port` on 0.0.0.0 and 127.0.0.1 (then closed at once).
  std::function<Status(int port)> bind_port;
  // Who listens on `port` ("pid 812 (kubelet)"), "" when that cannot be told cheaply.
  std::function<std::string(int port)> port_holder;
  // kOk when a TCP connection to ip:port is accepted within `timeout` (then closed).
  std::function<Status(const std::string& ip, int port, Millis timeout)> connect;
};
Machine real_machine();

struct WantedPort {
  int port{0};
  std::string who;  // "kubelet API"
};

struct CheckOptions {
  Millis timeout{2'000};  // of each connection to the master
  // nullopt: the ports this configuration's stages listen on / the master's, from the config.
  std::optional<std::vector<WantedPort>> local_ports{};
  std::optional<std::vector<WantedPort>> master_ports{};
};

// The groups of checks, in the order the table shows them.
std::vector<CheckLine> kernel_checks(const Config& cfg, const Machine& m);
std::vector<CheckLine> binary_checks(const Config& cfg, const Machine& m);
std::vector<CheckLine> path_checks(const Config& cfg);
std::vector<CheckLine> port_checks(const Config& cfg, const Machine& m, const CheckOptions& opts);
std::vector<CheckLine> master_checks(const Config& cfg, const Machine& m, const CheckOptions& opts);
std::vector<CheckLine> run_checks(const Config& cfg, const Machine& m, const CheckOptions& opts);

std::vector<WantedPort> local_ports_of(const Config& cfg);
std::vector<WantedPort> master_ports_of(const Config& cfg);

bool any_failed(const std::vector<CheckLine>& lines);
std::string render_check_text(const std::vector<CheckLine>& lines);
nlohmann::json render_check_json(const std::vector<CheckLine>& lines);

// The checks whose failure makes a node impossible: the binary of every process stage that runs,
// and every folder the agent and its stages write. Not ports (an agent restarted on a running node
// finds its own stages holding them), not the master (the agent waits for it), not the kernel.
// Cheap and local: no command runs, no connection is made.
std::vector<CheckLine> preflight_lines(const Config& cfg, const Machine& m);
// preflight_lines on this machine; the error lists every failed line with its remedy.
Status preflight_for_run(const Config& cfg);

struct CheckCommandOptions {
  std::string output{"text"};  // text or json
  int timeout_ms{2'000};
};
// `kube-node-agent check`: prints the table (or JSON); 0 when nothing FAILed, else 1.
int cmd_check(const Config& cfg, const CheckCommandOptions& opts);

}  // namespace kna::app
