#include "app/metrics.hpp"

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "app/version.hpp"
#include "core/request_count.hpp"
#include "platform/atomic_file.hpp"

namespace kna::app {

namespace {

constexpr StageState kStates[] = {
    StageState::waiting, StageState::starting, StageState::running,  StageState::ready,
    StageState::unready, StageState::backoff,  StageState::stopping, StageState::stopped,
};

// Prometheus' default buckets with 1 ms and 2.5 ms added: a file probe takes microseconds, an HTTP
// one milliseconds, and the default probe timeout is 2 s.
const prometheus::Histogram::BucketBoundaries kProbeBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

std::string compiler() {
#if defined(__clang__)
  return fmt::format("clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
  return fmt::format("gcc {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
  return "unknown";
#endif
}

double seconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

double epoch_seconds(WallTime t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// The whitespace-separated fields of `text`.
std::vector<std::string_view> fields(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::vector<std::string_view> lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    out.push_back(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
  }
  return out;
}

template <typename T>
std::optional<T> number(std::string_view s) {
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

prometheus::MetricFamily one_value(std::string name, std::string help, prometheus::MetricType type,
                                   double value) {
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return {std::move(name), std::move(help), type, {m}};
}

}  // namespace

bool stage_up(StageState s) {
  return s == StageState::running || s == StageState::ready || s == StageState::unready;
}

// The agent process's own metrics, read from /proc at each scrape, under the names of the Go
// client's process collector. A file that cannot be read or parsed leaves its metrics out.
class ProcessCollector : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::string proc_root) : root_(std::move(proc_root)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    std::vector<prometheus::MetricFamily> out;
    const long tick = ::sysconf(_SC_CLK_TCK);
    const long page = ::sysconf(_SC_PAGESIZE);
    const auto stat_text = read_file(root_ + "/self/stat");
    const auto stat = stat_text ? parse_proc_stat(*stat_text) : std::nullopt;
    if (stat && tick > 0) {
      out.push_back(one_value(
          "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
          MetricType::Counter,
          static_cast<double>(stat->utime_ticks + stat->stime_ticks) / static_cast<double>(tick)));
      const auto proc_stat = read_file(root_ + "/stat");
      if (const auto boot = proc_stat ? parse_boot_time(*proc_stat) : std::nullopt) {
        out.push_back(
            one_value("process_start_time_seconds",
                      "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
                      static_cast<double>(*boot) +
                          static_cast<double>(stat->start_ticks) / static_cast<double>(tick)));
      }
    }
    const auto statm_text = read_file(root_ + "/self/statm");
    if (const auto statm = statm_text ? parse_proc_statm(*statm_text) : std::nullopt;
        statm && page > 0) {
      out.push_back(one_value("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::Gauge,
                              static_cast<double>(statm->resident_pages) * page));
      out.push_back(one_value("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::Gauge, static_cast<double>(statm->size_pages) * page));
    }
    std::error_code ec;
    std::size_t open = 0;
    for (std::filesystem::directory_iterator it(root_ + "/self/fd", ec), end; !ec && it != end;
         it.increment(ec))
      ++open;
    if (!ec) {
      out.push_back(one_value("process_open_fds", "Number of open file descriptors.",
                              MetricType::Gauge, static_cast<double>(open)));
    }
    const auto limits = read_file(root_ + "/self/limits");
    if (const auto max = limits ? parse_max_open_files(*limits) : std::nullopt) {
      out.push_back(one_value("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::Gauge, static_cast<double>(*max)));
    }
    return out;
  }

 private:
  std::string root_;
};

AgentMetrics::AgentMetrics() : AgentMetrics("/proc") {}

AgentMetrics::AgentMetrics(std::string proc_root)
    : registry_(std::make_shared<prometheus::Registry>()),
      process_(std::make_unique<ProcessCollector>(std::move(proc_root))) {
  build_info_ = &prometheus::BuildGauge()
                     .Name("kna_build_info")
                     .Help("Always 1; the labels name the agent's version and its compiler")
                     .Register(*registry_);
  transitions_ = &prometheus::BuildCounter()
                      .Name("kna_stage_transitions_total")
                      .Help("State changes of each stage, by the state entered")
                      .Register(*registry_);
  failures_ = &prometheus::BuildCounter()
                   .Name("kna_stage_failures_total")
                   .Help("Times a stage died, failed to start or missed its readiness deadline")
                   .Register(*registry_);
  restarts_ = &prometheus::BuildCounter()
                   .Name("kna_stage_restarts_total")
                   .Help(
                       "Launches of each stage after its first, those of earlier agents of this "
                       "boot included")
                   .Register(*registry_);
  state_ = &prometheus::BuildGauge()
                .Name("kna_stage_state")
                .Help("1 for the state each stage is in now, 0 for the others")
                .Register(*registry_);
  up_ = &prometheus::BuildGauge()
             .Name("kna_stage_up")
             .Help(
                 "1 when the stage's workload is launched and not being stopped (running, "
                 "ready or unready)")
             .Register(*registry_);
  ready_ = &prometheus::BuildGauge()
                .Name("kna_stage_ready")
                .Help("1 when the stage is ready")
                .Register(*registry_);
  last_transition_ =
      &prometheus::BuildGauge()
           .Name("kna_stage_last_transition_timestamp_seconds")
           .Help("When the stage entered its current state, in seconds since the epoch")
           .Register(*registry_);
  agent_restarts_ = &prometheus::BuildGauge()
                         .Name("kna_agent_restarts")
                         .Help(
                             "Agent starts in this boot that took over stages an earlier agent "
                             "left running (crash, kill, re-exec)")
                         .Register(*registry_);
  probe_duration_ = &prometheus::BuildHistogram()
                         .Name("kna_probe_duration_seconds")
                         .Help("Time a readiness check of each stage took, by its result")
                         .Register(*registry_);
  build_info_->Add({{"version", kVersion}, {"compiler", compiler()}}).Set(1);
}

AgentMetrics::~AgentMetrics() = default;

void AgentMetrics::set_agent_restarts(int n) {
  agent_restarts_->Add({}).Set(n);
}

void AgentMetrics::set_state(const std::string& stage, StageState state) {
  for (StageState s : kStates)
    state_->Add({{"stage", stage}, {"state", to_string(s)}}).Set(s == state ? 1 : 0);
  up_->Add({{"stage", stage}}).Set(stage_up(state) ? 1 : 0);
  ready_->Add({{"stage", stage}}).Set(state == StageState::ready ? 1 : 0);
}

void AgentMetrics::record(const Transition& t) {
  transitions_->Add({{"stage", t.stage}, {"to", to_string(t.to)}}).Increment();
  if (t.to == StageState::backoff) failures_->Add({{"stage", t.stage}}).Increment();
  set_state(t.stage, t.to);
}

void AgentMetrics::update(const std::vector<StageStatus>& stages, const Dispatcher& clock) {
  std::lock_guard lock(mu_);
  for (const auto& s : stages) {
    set_state(s.name, s.state);
    last_transition_->Add({{"stage", s.name}}).Set(epoch_seconds(to_wall(clock, s.since)));
    failures_->Add({{"stage", s.name}});  // there at 0 before the first failure
    auto& counter = restarts_->Add({{"stage", s.name}});
    int& seen = restarts_seen_[s.name];
    if (s.restarts > seen) {
      counter.Increment(s.restarts - seen);
      seen = s.restarts;
    }
  }
}

void AgentMetrics::observe_probe(const std::string& stage, bool ok, Duration took) {
  probe_duration_->Add({{"stage", stage}, {"result", ok ? "ok" : "failed"}}, kProbeBuckets)
      .Observe(seconds(took));
}

namespace {

// kna_requests_total: what the agent has sent to each component since it started.
prometheus::MetricFamily requests_family() {
  prometheus::MetricFamily f{"kna_requests_total",
                             "Requests the agent sent, by the component asked (apiserver, etcd, "
                             "docker, kubelet, kube-proxy) and kind (api, health).",
                             prometheus::MetricType::Counter,
                             {}};
  for (const auto& r : request_counts()) {
    prometheus::ClientMetric m;
    m.label.push_back({"target", r.target});
    m.label.push_back({"kind", to_string(r.kind)});
    m.counter.value = static_cast<double>(r.count);
    f.metric.push_back(std::move(m));
  }
  return f;
}

}  // namespace

std::string AgentMetrics::text() const {
  auto families = registry_->Collect();
  for (auto& f : process_->Collect()) families.push_back(std::move(f));
  families.push_back(requests_family());
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

TimedProber::TimedProber(Prober& base, const Dispatcher& clock, AgentMetrics& metrics)
    : base_(base), clock_(clock), metrics_(metrics) {}

void TimedProber::set_stages(const std::vector<StageSpec>& stages) {
  stages_.clear();
  for (const auto& s : stages) stages_.emplace_back(s.name, s.ready);
}

std::string TimedProber::stage_of(const ProbeSpec& spec) const {
  for (const auto& [name, p] : stages_) {
    if (p.kind == spec.kind && p.url == spec.url && p.unix_socket == spec.unix_socket &&
        p.path == spec.path && p.argv == spec.argv)
      return name;
  }
  return "unknown";
}

void TimedProber::check(const ProbeSpec& spec, std::function<void(ProbeResult)> done) {
  if (spec.kind == ProbeKind::none) return base_.check(spec, std::move(done));
  base_.check(spec, [metrics = &metrics_, clock = &clock_, stage = stage_of(spec),
                     start = clock_.now(), done = std::move(done)](ProbeResult result) {
    metrics->observe_probe(stage, result.ok, clock->now() - start);
    done(std::move(result));
  });
}

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return std::nullopt;
  // Fields 3 onwards: rest[0] is field 3 (state).
  const auto rest = fields(text.substr(close + 1));
  if (rest.size() < 22 || rest[0].size() != 1) return std::nullopt;
  const auto utime = number<std::uint64_t>(rest[14 - 3]);
  const auto stime = number<std::uint64_t>(rest[15 - 3]);
  const auto start = number<std::uint64_t>(rest[22 - 3]);
  const auto vsize = number<std::uint64_t>(rest[23 - 3]);
  const auto rss = number<std::int64_t>(rest[24 - 3]);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  ProcStat s;
  s.comm = std::string(text.substr(open + 1, close - open - 1));
  s.state = rest[0][0];
  s.utime_ticks = *utime;
  s.stime_ticks = *stime;
  s.start_ticks = *start;
  s.vsize_bytes = *vsize;
  s.rss_pages = *rss;
  return s;
}

std::optional<ProcStatm> parse_proc_statm(std::string_view text) {
  const auto f = fields(text);
  if (f.size() < 2) return std::nullopt;
  const auto size = number<std::uint64_t>(f[0]);
  const auto resident = number<std::uint64_t>(f[1]);
  if (!size || !resident) return std::nullopt;
  return ProcStatm{*size, *resident};
}

std::optional<std::uint64_t> parse_boot_time(std::string_view text) {
  for (const auto line : lines(text)) {
    const auto f = fields(line);
    if (f.size() == 2 && f[0] == "btime") return number<std::uint64_t>(f[1]);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> parse_max_open_files(std::string_view text) {
  constexpr std::string_view kName = "Max open files";
  for (const auto line : lines(text)) {
    if (!line.starts_with(kName)) continue;
    // "Max open files            1024                 1048576              files"
    const auto f = fields(line.substr(kName.size()));
    if (f.empty()) return std::nullopt;
    return number<std::uint64_t>(f[0]);  // "unlimited" does not parse
  }
  return std::nullopt;
}

}  // namespace kna::app
