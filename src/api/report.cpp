#include "api/report.hpp"

#include <ctime>

#include <fmt/format.h>

namespace kna::api {
namespace {

using nlohmann::json;

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

json opt_time(const std::optional<WallTime>& t) {
  return t ? json(format_time(*t)) : json(nullptr);
}

// Reads an optional time field; a present field that does not parse is an error.
Result<std::optional<WallTime>> read_opt_time(const json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return std::optional<WallTime>{};
  if (!j.at(key).is_string()) return Error{fmt::format("field '{}' is not a string", key)};
  auto t = parse_time(j.at(key).get<std::string>());
  if (!t) return Error{fmt::format("field '{}' is not an RFC 3339 time", key)};
  return std::optional<WallTime>{*t};
}

}  // namespace

std::string format_time(WallTime t) {
  const auto ms = std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

std::optional<WallTime> parse_time(const std::string& s) {
  std::tm tm{};
  int millis = 0;
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  if (*rest == '.') {
    ++rest;
    int digits = 0;
    while (*rest >= '0' && *rest <= '9') {
      if (digits < 3) millis = millis * 10 + (*rest - '0');
      ++digits;
      ++rest;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (std::string(rest) != "Z") return std::nullopt;
  const std::time_t secs = timegm(&tm);
  return WallTime{} + std::chrono::seconds(secs) + Millis(millis);
}

std::string format_duration(Duration d) {
  const auto ms = std::chrono::duration_cast<Millis>(d).count();
  if (ms < 0) return "0ms";
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60'000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  const long long s = ms / 1000;
  if (s < 3600) return fmt::format("{}m{}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{}h", s / 86400, (s % 86400) / 3600);
}

AgentReport make_report(const AgentIdentity& who, const std::vector<StageStatus>& stages,
                        bool stopping, const Dispatcher& clock) {
  AgentReport r;
  r.node = who.node;
  r.role = who.role;
  r.version = who.version;
  r.pid = who.pid;
  r.started = who.started;
  r.agent_restarts = who.agent_restarts;
  r.stopping = stopping;
  r.ready = !stages.empty() && !stopping;
  for (const auto& s : stages) {
    StageReport sr;
    sr.name = s.name;
    sr.state = to_string(s.state);
    sr.since = to_wall(clock, s.since);
    if (s.ready_since) sr.ready_since = to_wall(clock, *s.ready_since);
    sr.restarts = s.restarts;
    sr.workload = s.workload;
    sr.pid = s.pid;
    if (s.last_exit) sr.last_exit = s.last_exit->describe();
    sr.last_error = s.last_error;
    if (s.next_retry) sr.next_retry = to_wall(clock, *s.next_retry);
    sr.deps = s.deps;
    if (s.state != StageState::ready) r.ready = false;
    r.stages.push_back(std::move(sr));
  }
  return r;
}

json to_json(const AgentReport& report) {
  json stages = json::array();
  for (const auto& s : report.stages) {
    stages.push_back({
        {"name", s.name},
        {"state", s.state},
        {"since", format_time(s.since)},
        {"ready_since", opt_time(s.ready_since)},
        {"restarts", s.restarts},
        {"workload", s.workload},
        {"pid", s.pid ? json(*s.pid) : json(nullptr)},
        {"last_exit", s.last_exit},
        {"last_error", s.last_error},
        {"next_retry", opt_time(s.next_retry)},
        {"deps", s.deps},
    });
  }
  return {{"node", report.node},
          {"role", report.role},
          {"version", report.version},
          {"pid", report.pid},
          {"started", format_time(report.started)},
          {"agent_restarts", report.agent_restarts},
          {"ready", report.ready},
          {"stopping", report.stopping},
          {"stages", stages}};
}

Result<AgentReport> report_from_json(const json& j) {
  try {
    AgentReport r;
    r.node = j.at("node").get<std::string>();
    r.role = j.at("role").get<std::string>();
    r.version = j.at("version").get<std::string>();
    r.pid = j.at("pid").get<int>();
    auto started = parse_time(j.at("started").get<std::string>());
    if (!started) return Error{"field 'started' is not an RFC 3339 time"};
    r.started = *started;
    r.agent_restarts = j.value("agent_restarts", 0);
    r.ready = j.at("ready").get<bool>();
    r.stopping = j.value("stopping", false);
    for (const auto& js : j.at("stages")) {
      StageReport s;
      s.name = js.at("name").get<std::string>();
      s.state = js.at("state").get<std::string>();
      auto since = parse_time(js.at("since").get<std::string>());
      if (!since) return Error{"field 'since' of stage '" + s.name + "' is not an RFC 3339 time"};
      s.since = *since;
      auto ready_since = read_opt_time(js, "ready_since");
      if (!ready_since) return ready_since.error();
      s.ready_since = ready_since.value();
      s.restarts = js.at("restarts").get<int>();
      s.workload = js.at("workload").get<std::string>();
      if (!js.at("pid").is_null()) s.pid = js.at("pid").get<int>();
      s.last_exit = js.at("last_exit").get<std::string>();
      s.last_error = js.at("last_error").get<std::string>();
      auto next_retry = read_opt_time(js, "next_retry");
      if (!next_retry) return next_retry.error();
      s.next_retry = next_retry.value();
      s.deps = js.at("deps").get<std::vector<std::string>>();
      r.stages.push_back(std::move(s));
    }
    return r;
  } catch (const json::exception& e) {
    return Error{fmt::format("the agent's status is not in the expected form: {}", e.what())};
  }
}

std::string render_status_table(const AgentReport& report, WallTime now) {
  std::string out = fmt::format("node {} ({}), agent {} pid {}, up {}, agent restarts {}, {}\n",
                                report.node, report.role, report.version, report.pid,
                                format_duration(now - report.started), report.agent_restarts,
                                report.stopping ? "stopping"
                                : report.ready  ? "all stages ready"
                                                : "not ready");
  out += fmt::format("{:<17} {:<9} {:<22} {:>8} {:>8}  {}\n", "STAGE", "STATE", "PID/CONTAINER",
                     "UPTIME", "RESTARTS", "LAST ERROR");
  for (const auto& s : report.stages) {
    std::string uptime = "-";
    if (s.state == "ready" || s.state == "running" || s.state == "unready") {
      uptime = format_duration(now - s.since);
      if (s.ready_since) uptime = format_duration(now - *s.ready_since);
    }
    std::string error = s.last_error;
    if (s.next_retry) error += fmt::format(" (retry in {})", format_duration(*s.next_retry - now));
    out += fmt::format("{:<17} {:<9} {:<22} {:>8} {:>8}  {}\n", s.name, s.state,
                       or_dash(s.workload), uptime, s.restarts, or_dash(error));
  }
  return out;
}

}  // namespace kna::api
