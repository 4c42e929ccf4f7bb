#pragma once
// The agent's prober: the real checks (RealProber) plus the readiness actions a ProbeSpec names,
// such as writing flannel's network config into etcd once etcd answers.

#include <memory>

#include "kna/config.hpp"
#include "kna/probe.hpp"
#include "kna/time.hpp"

namespace kna::app {

class NodeProber : public Prober {
 public:
  // `base` and `dispatcher` must outlive this object.
  NodeProber(Dispatcher& dispatcher, Prober& base, const Config& cfg);
  ~NodeProber() override;  // waits for an action in flight
  NodeProber(const NodeProber&) = delete;
  NodeProber& operator=(const NodeProber&) = delete;

  void check(const ProbeSpec& spec, std::function<void(ProbeResult)> done) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kna::app
