#pragma once
// Prometheus metrics of the stages, served as text on the API socket's /metrics.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kna/supervisor.hpp"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace kna::app {

class AgentMetrics {
 public:
  AgentMetrics();
  ~AgentMetrics();
  // Loop thread: count a transition.
  void record(const Transition& t);
  // Loop thread: agent starts in this boot that took over running stages.
  void set_agent_restarts(int n);
  // Any thread: the text exposition format.
  std::string text() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* transitions_;
  prometheus::Family<prometheus::Counter>* restarts_;
  prometheus::Family<prometheus::Gauge>* state_;
  prometheus::Family<prometheus::Gauge>* ready_;
  prometheus::Family<prometheus::Gauge>* agent_restarts_;
};

}  // namespace kna::app
