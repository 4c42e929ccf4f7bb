// The API server's Node object and the kubelet's readiness decided from it
// (src/clients/kube_api.cpp, src/app/node_readiness.cpp). Whatever the object holds, the decision
// is made without throwing: Ready exactly when the Ready condition's status is "True", and a
// node that is not is the kubelet's own failure, never one outside it.

#include <nlohmann/json.hpp>

#include "app/node_readiness.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using kna::fuzz::check;
  // As KubeApiClient::get_node takes a 200 answer: a JSON object, else an error before any
  // decision.
  const auto node = nlohmann::json::parse(kna::fuzz::text(data, size), nullptr, false);
  if (!node.is_object()) return 0;

  const auto ready = kna::node_ready_condition(node);
  const auto decided = kna::app::node_readiness(node, "w1", "http://10.9.0.1:8080");
  check(decided.ok == (ready && ready->status == "True"), "Ready exactly when Ready=True");
  check(!decided.outside, "the node's own state is never a failure outside the kubelet");
  check(decided.detail.find("'w1'") != std::string::npos, "the decision names the node");
  return 0;
}
