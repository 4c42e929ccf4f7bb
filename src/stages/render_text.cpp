// `kube-node-agent plan` as text: what each stage runs, exactly, and when it counts as ready.

#include <variant>

#include "core/redact.hpp"
#include "kna/catalogue.hpp"
#include "stages/render_util.hpp"

namespace kna {

namespace {

using stages::format_millis;

class Block {
 public:
  explicit Block(std::string& out) : out_(out) {}
  void line(const std::string& key, const std::string& value) {
    out_ += "  " + key + ":";
    out_.append(key.size() < kWidth ? kWidth - key.size() : 1, ' ');
    out_ += value + "\n";
  }
  // One line per value, the key on the first only; nothing when there are no values.
  void lines(const std::string& key, const std::vector<std::string>& values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i == 0)
        line(key, values[i]);
      else
        out_ += std::string(kWidth + 3, ' ') + values[i] + "\n";
    }
  }

 private:
  static constexpr std::size_t kWidth = 11;  // "privileged", the longest key, and its colon
  std::string& out_;
};

std::vector<std::string> key_values(const std::map<std::string, std::string>& values) {
  std::vector<std::string> out;
  for (const auto& [k, v] : values) out.push_back(k + "=" + v);
  return out;
}

std::string describe_deps(const std::vector<Dependency>& deps) {
  if (deps.empty()) return "-";
  std::string out;
  for (const auto& d : deps) {
    if (!out.empty()) out += ", ";
    out += d.stage;
    if (!d.restart_with) out += " (first start only)";
  }
  return out;
}

void render_process(Block& b, const ProcessSpec& p) {
  b.line("runtime", "process");
  b.line("command", stages::shell_join(redact_argv(p.argv)));
  if (!p.pidfile.empty()) b.line("pid file", p.pidfile);
  b.lines("helper pid", p.helper_pidfiles);
  b.lines("env", key_values(redact_env(p.env)));
}

void render_container(Block& b, const ContainerSpec& c) {
  b.line("runtime", "container in unix://" + c.docker_socket);
  b.line("name", c.name);
  b.line("image", c.image);
  if (!c.entrypoint.empty()) b.line("entrypoint", stages::shell_join(redact_argv(c.entrypoint)));
  b.line("command", c.cmd.empty() ? "(the image's)" : stages::shell_join(redact_argv(c.cmd)));
  b.line("network", c.network_mode.empty() ? "default" : c.network_mode);
  b.line("pid", c.pid_mode.empty() ? "private" : c.pid_mode);
  b.line("privileged", c.privileged ? "yes" : "no");
  std::vector<std::string> mounts;
  for (const auto& m : c.mounts) mounts.push_back(stages::describe_mount(m));
  b.lines("mounts", mounts);
  b.lines("devices", c.devices);
  b.line("restart", c.restart_policy.empty() ? "no" : c.restart_policy);
  b.lines("labels", key_values(c.labels));
  b.lines("env", key_values(redact_env(c.env)));
}

}  // namespace

std::string render_plan_text(const std::vector<StageSpec>& plan) {
  std::string out;
  for (const auto& spec : plan) {
    if (!out.empty()) out += "\n";
    out += spec.name + "\n";
    Block b(out);
    b.line("depends on", describe_deps(spec.deps));
    if (const auto* p = std::get_if<ProcessSpec>(&spec.launch))
      render_process(b, *p);
    else
      render_container(b, std::get<ContainerSpec>(spec.launch));
    std::vector<std::string> steps;
    for (const auto& step : spec.prepare) steps.push_back(stages::describe_step(step));
    b.lines("prepare", steps);
    const ProbePolicy& pp = spec.ready.policy;
    b.line("ready when", stages::describe_probe(spec.ready));
    if (!std::holds_alternative<std::monostate>(spec.ready.then)) {
      b.line("then", stages::describe_after(spec.ready.then));
      b.line("again", stages::describe_then_every(spec.ready.then_every));
    }
    b.line("probing", "every " + format_millis(pp.interval) + " (timeout " +
                          format_millis(pp.timeout) + ") for up to " + format_millis(pp.deadline) +
                          ", then every " + format_millis(pp.period) + "; unready after " +
                          std::to_string(pp.failure_threshold) + " failures");
    const BackoffPolicy& bo = spec.backoff;
    b.line("restarts", "after " + format_millis(bo.initial) + ", x" +
                           stages::format_number(bo.multiplier) + " up to " +
                           format_millis(bo.cap) + ", +/-" +
                           stages::format_number(bo.jitter * 100) + "%, reset after " +
                           format_millis(bo.reset_after) + " ready");
    const auto* process = std::get_if<ProcessSpec>(&spec.launch);
    if (process && process->reload_before_stop) {
      const auto& r = *process->reload_before_stop;
      std::string content = r.content;
      while (!content.empty() && content.back() == '\n') content.pop_back();
      b.line("stop", "write " + r.path + " = " + content + " and SIGHUP, SIGTERM " +
                         format_millis(r.settle) + " later, SIGKILL after " +
                         format_millis(spec.stop_timeout));
    } else {
      b.line("stop", "SIGTERM, SIGKILL after " + format_millis(spec.stop_timeout));
    }
  }
  return out;
}

}  // namespace kna
