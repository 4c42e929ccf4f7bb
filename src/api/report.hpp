#pragma once
// The agent's status as the local API serves it and `kube-node-agent status` shows it: plain
// values in wall-clock time, with a JSON form that both sides share.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kna/error.hpp"
#include "kna/supervisor.hpp"
#include "kna/time.hpp"

namespace kna::api {

struct StageReport {
  std::string name;
  std::string state;  // to_string(StageState)
  WallTime since;
  std::optional<WallTime> ready_since;
  int restarts{0};
  std::string workload;
  std::optional<int> pid;
  std::string last_exit;  // ExitStatus::describe(), or empty
  std::string last_error;
  std::optional<WallTime> next_retry;
  std::vector<std::string> deps;
};

struct AgentReport {
  std::string node;
  std::string role;
  std::string version;
  int pid{0};
  WallTime started;
  int agent_restarts{0};  // agent starts in this boot that took over running stages
  bool ready{false};
  bool stopping{false};
  std::vector<StageReport> stages;
};

// Identity of the agent, fixed for its lifetime.
struct AgentIdentity {
  std::string node;
  std::string role;
  std::string version;
  int pid{0};
  WallTime started;
  int agent_restarts{0};
};

AgentReport make_report(const AgentIdentity& who, const std::vector<StageStatus>& stages,
                        bool stopping, const Dispatcher& clock);

nlohmann::json to_json(const AgentReport& report);
// Reads what to_json wrote; an error names the field that is missing or of the wrong type.
Result<AgentReport> report_from_json(const nlohmann::json& j);

// RFC 3339 in UTC with milliseconds, and back.
std::string format_time(WallTime t);
std::optional<WallTime> parse_time(const std::string& s);
// "3h4m", "12.5s", "250ms".
std::string format_duration(Duration d);

// The table of `kube-node-agent status`: stage, state, pid/container, uptime, restarts, last error.
std::string render_status_table(const AgentReport& report, WallTime now);

}  // namespace kna::api
