#include "app/metrics.hpp"

#include <sstream>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace kna::app {

AgentMetrics::AgentMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  transitions_ = &prometheus::BuildCounter()
                      .Name("kna_stage_transitions_total")
                      .Help("State changes of each stage, by the state entered")
                      .Register(*registry_);
  restarts_ = &prometheus::BuildCounter()
                   .Name("kna_stage_failures_total")
                   .Help("Times a stage died, failed to start or missed its readiness deadline")
                   .Register(*registry_);
  state_ = &prometheus::BuildGauge()
                .Name("kna_stage_state")
                .Help("1 for the state each stage is in now, 0 for the others")
                .Register(*registry_);
  ready_ = &prometheus::BuildGauge()
                .Name("kna_stage_ready")
                .Help("1 when the stage is ready")
                .Register(*registry_);
  agent_restarts_ = &prometheus::BuildGauge()
                         .Name("kna_agent_restarts")
                         .Help(
                             "Agent starts in this boot that took over stages an earlier agent "
                             "left running (crash, kill, re-exec)")
                         .Register(*registry_);
}

AgentMetrics::~AgentMetrics() = default;

void AgentMetrics::set_agent_restarts(int n) {
  agent_restarts_->Add({}).Set(n);
}

void AgentMetrics::record(const Transition& t) {
  transitions_->Add({{"stage", t.stage}, {"to", to_string(t.to)}}).Increment();
  if (t.to == StageState::backoff) restarts_->Add({{"stage", t.stage}}).Increment();
  state_->Add({{"stage", t.stage}, {"state", to_string(t.from)}}).Set(0);
  state_->Add({{"stage", t.stage}, {"state", to_string(t.to)}}).Set(1);
  ready_->Add({{"stage", t.stage}}).Set(t.to == StageState::ready ? 1 : 0);
}

std::string AgentMetrics::text() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace kna::app
