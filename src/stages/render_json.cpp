// `kube-node-agent plan --json`: the same content as render_plan_text, for tools.

#include <variant>

#include <nlohmann/json.hpp>

#include "core/redact.hpp"
#include "kna/catalogue.hpp"
#include "stages/render_util.hpp"

namespace kna {

namespace {

using nlohmann::json;

json process_json(const ProcessSpec& p) {
  return json{{"argv", redact_argv(p.argv)},
              {"command", stages::shell_join(redact_argv(p.argv))},
              {"env", redact_env(p.env)},
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
              {"entrypoint", redact_argv(c.entrypoint)},
              {"cmd", redact_argv(c.cmd)},
              {"command", stages::shell_join(redact_argv(c.cmd))},
              {"network_mode", c.network_mode},
              {"pid_mode", c.pid_mode},
              {"privileged", c.privileged},
              {"mounts", mounts},
              {"devices", c.devices},
              {"restart_policy", c.restart_policy},
              {"labels", c.labels},
              {"env", redact_env(c.env)}};
}

json file_json(const WriteFile& f) {
  return json{{"path", f.path},
              {"mode", stages::format_mode(f.mode)},
              {"size", f.content.size()},
              {"content", stages::redact_file_content(f.content)}};
}

json step_json(const HostStep& step) {
  struct Fields {
    json operator()(const WriteFile& f) const {
      json out = file_json(f);
      out["step"] = "write_file";
      return out;
    }
    json operator()(const SharedMount& m) const {
      return json{{"step", "shared_mount"}, {"dir", m.dir}};
    }
    json operator()(const DeleteStaleBridge& b) const {
      return json{{"step", "delete_stale_bridge"}, {"link", b.link}, {"keep_cidr", b.keep_cidr}};
    }
    json operator()(const MakeDirs& d) const {
      return json{{"step", "make_dirs"}, {"dirs", d.dirs}};
    }
    json operator()(const DiscoverCluster& d) const {
      return json{{"step", "discover_cluster"},     {"api_server", d.api_server},
                  {"ca_cert_hash", d.ca_cert_hash}, {"token", d.token.empty() ? "" : "<redacted>"},
                  {"ca_file", d.ca_file},           {"kubeconfig", d.kubeconfig}};
    }
    json operator()(const IssueClientCertificate& c) const {
      return json{{"step", "issue_client_certificate"}, {"ca_cert_file", c.ca_cert_file},
                  {"ca_key_file", c.ca_key_file},       {"common_name", c.common_name},
                  {"organizations", c.organizations},   {"path", c.path}};
    }
    json operator()(const PublishJoinInfo& p) const {
      return json{{"step", "publish_join_info"},
                  {"api_server", p.api_server},
                  {"ca_file", p.ca_file},
                  {"client_cert_file", p.client_cert_file},
                  {"token", p.token.empty() ? "" : "<redacted>"}};
    }
  };
  json out = std::visit(Fields{}, step);
  out["description"] = stages::describe_step(step);
  return out;
}

// null when nothing follows the probe.
json after_json(const AfterProbe& then) {
  struct Fields {
    json operator()(std::monostate) const { return nullptr; }
    json operator()(const StoreFlannelConfig& s) const {
      return json{{"step", "store_flannel_config"},
                  {"etcd_endpoint", s.etcd_endpoint},
                  {"etcd_api", stages::to_string(s.etcd_api)},
                  {"key", s.key},
                  {"value", s.value}};
    }
    json operator()(const LoadAirgapImages& l) const {
      return json{{"step", "load_airgap_images"},
                  {"docker_socket", l.docker_socket},
                  {"image_dir", l.image_dir},
                  {"first", l.first},
                  {"elsewhere", l.elsewhere}};
    }
    json operator()(const NodeReady& n) const {
      return json{{"step", "node_ready"},
                  {"api_server", n.api_server},
                  {"node_name", n.node_name},
                  {"token", n.token.empty() ? "" : "<redacted>"},
                  {"ca_file", n.ca_file},
                  {"client_cert_file", n.client_cert_file},
                  {"client_key_file", n.client_key_file}};
    }
  };
  json out = std::visit(Fields{}, then);
  if (!out.is_null()) out["description"] = stages::describe_after(then);
  return out;
}

json probe_json(const ProbeSpec& p) {
  json out{{"kind", stages::to_string(p.kind)}, {"description", stages::describe_probe(p)}};
  switch (p.kind) {
    case ProbeKind::none:
      break;
    case ProbeKind::http:
      out["url"] = redact_text(p.url);
      out["unix_socket"] = p.unix_socket;
      out["body_contains"] = p.body_contains;
      break;
    case ProbeKind::file:
      out["path"] = p.path;
      out["parse_subnet_env"] = p.parse_subnet_env;
      break;
    case ProbeKind::command:
      out["argv"] = redact_argv(p.argv);
      break;
  }
  out["then"] = after_json(p.then);
  if (!std::holds_alternative<std::monostate>(p.then)) {
    out["then_every_ms"] =
        p.then_every == kThenOncePerRun ? json("once_per_run") : json(p.then_every.count());
  }
  if (!p.target.empty()) out["target"] = p.target;
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
  json prepare = json::array();
  for (const auto& step : spec.prepare) prepare.push_back(step_json(step));
  out["prepare"] = prepare;
  // The write_file and shared_mount steps again, in the shape tools read before `prepare` existed
  // (tests/bench/baseline/plan.sh).
  json files = json::array();
  for (const auto& f : steps_of<WriteFile>(spec.prepare)) files.push_back(file_json(f));
  out["files"] = files;
  json shared = json::array();
  for (const auto& m : steps_of<SharedMount>(spec.prepare)) shared.push_back(m.dir);
  out["shared_dirs"] = shared;
  out["ready"] = probe_json(spec.ready);
  out["backoff"] = json{{"initial_ms", spec.backoff.initial.count()},
                        {"multiplier", spec.backoff.multiplier},
                        {"max_ms", spec.backoff.cap.count()},
                        {"jitter", spec.backoff.jitter},
                        {"reset_after_ms", spec.backoff.reset_after.count()}};
  out["stop_timeout_ms"] = spec.stop_timeout.count();
  if (const auto* p = std::get_if<ProcessSpec>(&spec.launch); p && p->reload_before_stop) {
    out["reload_before_stop"] = json{{"path", p->reload_before_stop->path},
                                     {"content", p->reload_before_stop->content},
                                     {"settle_ms", p->reload_before_stop->settle.count()}};
  }
  return out;
}

}  // namespace

nlohmann::json render_plan_json(const std::vector<StageSpec>& plan) {
  json stages = json::array();
  for (const auto& spec : plan) stages.push_back(stage_json(spec));
  return json{{"stages", stages}};
}

}  // namespace kna
