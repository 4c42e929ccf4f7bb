#pragma once
// The agent's Prometheus metrics (docs/metrics.md): build info, each stage's state, restarts and
// probe latency, and the agent process's CPU, memory and file descriptors, served as text on the
// API's /metrics. TimedProber times the readiness checks into them.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kna/probe.hpp"
#include "kna/spec.hpp"
#include "kna/supervisor.hpp"
#include "kna/time.hpp"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace kna::app {

// kna_stage_up: the workload has been launched (or adopted) and not asked to stop, so it runs
// unless it died a moment ago: running, ready, unready.
bool stage_up(StageState s);

class ProcessCollector;

// record() and update() come from the loop (one writer keeps a stage's gauges consistent);
// observe_probe() and text() may be called from any thread.
class AgentMetrics {
 public:
  // The process metrics come from /proc.
  AgentMetrics();
  // Tests: the process metrics come from `proc_root` (with self/stat, self/statm, self/limits,
  // self/fd/ and stat under it).
  explicit AgentMetrics(std::string proc_root);
  ~AgentMetrics();
  AgentMetrics(const AgentMetrics&) = delete;
  AgentMetrics& operator=(const AgentMetrics&) = delete;

  // A transition: counts it and sets its stage's state, up and ready gauges.
  void record(const Transition& t);
  // Every stage as the supervisor reports it (after restore() and after each transition or
  // change): state, up, ready, the time of the last transition, and the restart counter, which
  // follows StageStatus::restarts (restored counts included) and never goes down.
  void update(const std::vector<StageStatus>& stages, const Dispatcher& clock);
  // Agent starts in this boot that took over running stages.
  void set_agent_restarts(int n);
  // One readiness check of `stage` took `took` and passed (ok) or not.
  void observe_probe(const std::string& stage, bool ok, Duration took);
  // The text exposition format (version 0.0.4).
  std::string text() const;

 private:
  void set_state(const std::string& stage, StageState state);

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<ProcessCollector> process_;
  prometheus::Family<prometheus::Gauge>* build_info_;
  prometheus::Family<prometheus::Counter>* transitions_;
  prometheus::Family<prometheus::Counter>* failures_;
  prometheus::Family<prometheus::Counter>* restarts_;
  prometheus::Family<prometheus::Gauge>* state_;
  prometheus::Family<prometheus::Gauge>* up_;
  prometheus::Family<prometheus::Gauge>* ready_;
  prometheus::Family<prometheus::Gauge>* last_transition_;
  prometheus::Family<prometheus::Gauge>* agent_restarts_;
  prometheus::Family<prometheus::Histogram>* probe_duration_;

  std::mutex mu_;
  std::map<std::string, int> restarts_seen_;  // by stage: what restarts_ already counts
};

// A Prober that times each check of the prober it wraps into kna_probe_duration_seconds: from
// check() to the result's arrival on the loop. ProbeSpec carries no stage name, so the stage is
// found by the probe's target (kind, url, unix socket, path, argv) among the stages given to
// set_stages(); a probe of no listed stage counts as stage "unknown". Probes of kind `none` are
// not timed. Loop thread only, as every Prober.
class TimedProber : public Prober {
 public:
  // `base`, `clock` and `metrics` must outlive every check in flight.
  TimedProber(Prober& base, const Dispatcher& clock, AgentMetrics& metrics);

  // The stages whose probes this times: at start, and again after a reload changed them.
  void set_stages(const std::vector<StageSpec>& stages);
  void check(const ProbeSpec& spec, std::function<void(ProbeResult)> done) override;

 private:
  std::string stage_of(const ProbeSpec& spec) const;

  Prober& base_;
  const Dispatcher& clock_;
  AgentMetrics& metrics_;
  std::vector<std::pair<std::string, ProbeSpec>> stages_;
};

// Parsers of the /proc files behind the process metrics (proc(5)). Pure; nullopt when the text
// does not parse.
struct ProcStat {
  std::string comm;  // field 2, without its parentheses; may hold spaces and parentheses
  char state{'?'};
  std::uint64_t utime_ticks{0};  // field 14, in clock ticks
  std::uint64_t stime_ticks{0};  // field 15
  std::uint64_t start_ticks{0};  // field 22: start after boot, in clock ticks
  std::uint64_t vsize_bytes{0};  // field 23
  std::int64_t rss_pages{0};     // field 24
};
// /proc/<pid>/stat. The comm field ends at the last ')' of the line.
std::optional<ProcStat> parse_proc_stat(std::string_view text);

struct ProcStatm {
  std::uint64_t size_pages{0};
  std::uint64_t resident_pages{0};
};
// /proc/<pid>/statm (its first two fields).
std::optional<ProcStatm> parse_proc_statm(std::string_view text);

// /proc/stat: the boot time ("btime"), in seconds since the epoch.
std::optional<std::uint64_t> parse_boot_time(std::string_view text);

// /proc/<pid>/limits: the soft limit of "Max open files" (nullopt when unlimited).
std::optional<std::uint64_t> parse_max_open_files(std::string_view text);

}  // namespace kna::app
