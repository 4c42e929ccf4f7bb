#pragma once
// Component versions as the catalogue needs them: which flags, ports and stages a version implies.
// A version that does not parse counts as the oldest profile (the docker-multinode behaviour).

#include <optional>
#include <string>
#include <string_view>

#include "kna/config.hpp"

namespace kna::stages {

// v1.3.6, 2.2.5, v0.6.1, 3.4, v1.3.0-alpha.5 (the pre-release is kept but not compared).
struct Version {
  int major{0};
  int minor{0};
  int patch{0};
  std::string pre_release;
};
std::optional<Version> parse_version(std::string_view text);
// False for an unparsable version.
bool at_least(const std::optional<Version>& version, int major, int minor);

// How a kubelet reaches the API server and the container runtime. Later profiles (kubeconfig for
// v1.6+) add values here; the stage file switches on them.
struct KubeletProfile {
  enum class Api { api_servers };                  // --api-servers=http://MASTER:8080 (≤ v1.5)
  enum class Runtime { dockershim, cri_dockerd };  // built-in docker; cri-dockerd from v1.24
  Api api{Api::api_servers};
  Runtime runtime{Runtime::dockershim};
};
KubeletProfile kubelet_profile(const std::optional<Version>& k8s);

// kube-proxy served /healthz on 127.0.0.1:10249 until v1.7 moved it to 0.0.0.0:10256.
int kube_proxy_healthz_port(const std::optional<Version>& k8s);

// Kubernetes v1.24 removed dockershim: the kubelet then reaches dockerd through cri-dockerd.
bool needs_cri_dockerd(const Config& cfg);
// etcd 3.4+ serves the v2 keys API (flannel ≤ 0.6) only when asked to.
bool etcd_needs_enable_v2(const Config& cfg);

}  // namespace kna::stages
