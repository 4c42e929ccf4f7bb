// `kube-node-agent plan --json`: the same content as render_plan_text, for tools.

#include <variant>

#include <nlohmann/json.hpp>

#include "kna/catalogue.hpp"
#include "stages/render_util.hpp"

namespace kna {

namespace {

using nlohmann::json;

json process_json(const ProcessSpec& p) {
  return json{{"argv", p.argv},
              {"command", stages::shell_join(p.argv)},
              {"env", stages::redact_env(p.env)},
              {"pidfile", p.pidfile},
              {"helper_pidfiles", p.helper_pidfiles}};
}

json container_json(const ContainerSpec& c) {
  json mounts = json::array();
  for (const auto& m : c.mounts)
    mounts.push_back(json{{"source", m.source},
                          {"target", m.target},
                          {"read_only", m.read_only},
                          {"propagation", m.propagation}});
  return json{{"docker_socket", c.docker_socket},
              {"name", c.name},
              {"image", c.image},
              {"entrypoint", c.entrypoint},
              {"cmd", c.cmd},
              {"command", stages::shell_join(c.cmd)},
              {"network_mode", c.network_mode},
              {"pid_mode", c.pid_mode},
              {"privileged", c.privileged},
              {"mounts", mounts},
              {"devices", c.devices},
              {"restart_policy", c.restart_policy},
              {"labels", c.labels},
              {"env", stages::redact_env(c.env)}};
}

json probe_json(const ProbeSpec& p) {
  json out{{"kind", stages::to_string(p.kind)}, {"description", stages::describe_probe(p)}};
  switch (p.kind) {
    case ProbeKind::none:
      break;
    case ProbeKind::http:
      out["url"] = p.url;
      out["unix_socket"] = p.unix_socket;
      out["body_contains"] = p.body_contains;
      break;
    case ProbeKind::file:
      out["path"] = p.path;
      out["parse_subnet_env"] = p.parse_subnet_env;
      break;
    case ProbeKind::command:
      out["argv"] = p.argv;
      break;
  }
  out["action"] = p.action;
  out["policy"] = json{{"interval_ms", p.policy.interval.count()},
                       {"timeout_ms", p.policy.timeout.count()},
                       {"deadline_ms", p.policy.deadline.count()},
                       {"period_ms", p.policy.period.count()},
                       {"failure_threshold", p.policy.failure_threshold}};
  return out;
}

json stage_json(const StageSpec& spec) {
  json deps = json::array();
  for (const auto& d : spec.deps)
    deps.push_back(json{{"stage", d.stage}, {"restart_with", d.restart_with}});
  json out{{"name", spec.name}, {"deps", deps}};
  if (const auto* p = std::get_if<ProcessSpec>(&spec.launch)) {
    out["runtime"] = "process";
    out["process"] = process_json(*p);
  } else {
    out["runtime"] = "container";
    out["container"] = container_json(std::get<ContainerSpec>(spec.launch));
  }
  json files = json::array();
  for (const auto& f : spec.files)
    files.push_back(json{{"path", f.path},
                         {"mode", stages::format_mode(f.mode)},
                         {"size", f.content.size()},
                         {"content", stages::redact_file_content(f.content)}});
  out["files"] = files;
  out["shared_dirs"] = spec.shared_dirs;
  out["ready"] = probe_json(spec.ready);
  out["backoff"] = json{{"initial_ms", spec.backoff.initial.count()},
                        {"multiplier", spec.backoff.multiplier},
                        {"max_ms", spec.backoff.cap.count()},
                        {"jitter", spec.backoff.jitter},
                        {"reset_after_ms", spec.backoff.reset_after.count()}};
  out["stop_timeout_ms"] = spec.stop_timeout.count();
  return out;
}

}  // namespace

nlohmann::json render_plan_json(const std::vector<StageSpec>& plan) {
  json stages = json::array();
  for (const auto& spec : plan) stages.push_back(stage_json(spec));
  return json{{"stages", stages}};
}

}  // namespace kna
