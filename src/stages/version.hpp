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

// The kubelet flags a Kubernetes version takes (the real history, as the catalogue uses it). A
// version that does not parse gets the oldest profile.
struct KubeletProfile {
  // How the kubelet reaches the API server.
  enum class Api {
    api_servers,  // --api-servers=http://MASTER:8080 (≤ v1.5; removed in v1.8)
    kubeconfig,   // --kubeconfig=PATH (from v1.6)
  };
  // Where the master's kubelet reads its static pod manifests.
  enum class StaticPods {
    config_dir,         // --config=DIR (≤ v1.5; from v1.10 --config names a KubeletConfiguration)
    pod_manifest_path,  // --pod-manifest-path=DIR (from v1.6)
  };
  // How the kubelet reaches dockerd.
  enum class Runtime {
    dockershim,   // built in: --docker-endpoint (before v1.24)
    cri_dockerd,  // --container-runtime-endpoint (from v1.24, dockershim removed)
  };
  Api api{Api::api_servers};
  // v1.6 and v1.7 fall back to standalone mode unless told that the kubeconfig is required.
  bool require_kubeconfig{false};
  StaticPods static_pods{StaticPods::config_dir};
  bool allow_privileged{true};  // --allow-privileged, removed in v1.15
  Runtime runtime{Runtime::dockershim};
  bool operator==(const KubeletProfile&) const = default;
};
KubeletProfile kubelet_profile(const std::optional<Version>& k8s);

struct KubeProxyProfile {
  enum class Api {
    master_url,  // --master=http://MASTER:8080 (≤ v1.5)
    kubeconfig,  // --kubeconfig=PATH (from v1.6)
  };
  Api api{Api::master_url};
  // /healthz was on 127.0.0.1:10249 until v1.7 moved it to 0.0.0.0:10256.
  int healthz_port{10249};
  bool operator==(const KubeProxyProfile&) const = default;
};
KubeProxyProfile kube_proxy_profile(const std::optional<Version>& k8s);

// The control plane's images: one hyperkube for all components up to v1.18, one image per
// component from v1.19 (hyperkube was discontinued).
bool uses_hyperkube_control_plane(const std::optional<Version>& k8s);
// The API server's --insecure-port: off by default from v1.20, the flag removed in v1.24.
bool has_insecure_port_flag(const std::optional<Version>& k8s);
// The API server's --storage-backend: "etcd3" when both etcd (3.0+) and Kubernetes (v1.6+, where
// etcd3 became the default) support it, else "etcd2".
std::string apiserver_storage_backend(const Config& cfg);

// Kubernetes v1.24 removed dockershim: the kubelet then reaches dockerd through cri-dockerd.
bool needs_cri_dockerd(const Config& cfg);
// etcd 3.4+ serves the v2 keys API (flannel ≤ 0.6) only when asked to.
bool etcd_needs_enable_v2(const Config& cfg);

}  // namespace kna::stages
