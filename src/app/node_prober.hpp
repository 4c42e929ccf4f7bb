#pragma once
// The agent's prober: the real checks (RealProber) plus the step a ProbeSpec names to run once the
// check passes (ProbeSpec::then), such as writing flannel's network config into etcd once etcd
// answers. Every value a step uses comes from the step.

#include <memory>

#include "kna/probe.hpp"
#include "kna/time.hpp"

namespace kna::app {

class NodeProber : public Prober {
 public:
  // `base` and `dispatcher` must outlive this object.
  NodeProber(Dispatcher& dispatcher, Prober& base);
  ~NodeProber() override;  // waits for a step in flight
  NodeProber(const NodeProber&) = delete;
  NodeProber& operator=(const NodeProber&) = delete;

  void check(const ProbeSpec& spec, std::function<void(ProbeResult)> done) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kna::app
