#pragma once
// What the agent asks of the components it talks to, counted by target, for
// kna_requests_total: a fleet's shared API server and etcd see every agent's requests multiplied
// by the fleet (docs/architecture.md, "What a node costs the cluster"). Process-wide; any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kna {

// Targets (the catalogue names the health checks' own: ProbeSpec::target).
inline constexpr const char* kTargetApiServer = "apiserver";
inline constexpr const char* kTargetEtcd = "etcd";
inline constexpr const char* kTargetDocker = "docker";
inline constexpr const char* kTargetKubelet = "kubelet";
inline constexpr const char* kTargetKubeProxy = "kube-proxy";

// Kinds: a stage's readiness check of its own workload ("health": etcd's /health, docker's
// _ping, the kubelet's /healthz), or a call of the component's API ("api": a node GET, a key
// read or write, an inspect, a load).
enum class RequestKind { api, health };
const char* to_string(RequestKind kind);

// One request sent (or attempted: a refused connection counts) to `target`.
void count_request(std::string_view target, RequestKind kind = RequestKind::api);

struct RequestCount {
  std::string target;
  RequestKind kind;
  std::uint64_t count;
};
// Every target and kind counted so far, with its count, by target then kind.
std::vector<RequestCount> request_counts();

}  // namespace kna
