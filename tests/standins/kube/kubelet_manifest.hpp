#pragma once
// Static pod manifests as the kubelet stand-in reads them: a v1 Pod (JSON) becomes the Docker
// containers that run it on this node, named and labelled the way the real dockershim kubelet
// names them. Pure data; kubelet_pods.cpp runs them.

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kna/error.hpp"
#include "kna/spec.hpp"

namespace kna::standins {

// Marks every container the stand-in starts: it adopts or removes only containers carrying it.
inline constexpr const char* kManagedByLabel = "io.kubernetes.managed-by";
inline constexpr const char* kManagedByStandin = "kubelet-standin";
inline constexpr const char* kPodNameLabel = "io.kubernetes.pod.name";
inline constexpr const char* kPodNamespaceLabel = "io.kubernetes.pod.namespace";
inline constexpr const char* kContainerNameLabel = "io.kubernetes.container.name";
inline constexpr const char* kPodUidLabel = "io.kubernetes.pod.uid";

enum class RestartPolicy { always, on_failure, never };

struct DesiredContainer {
  ContainerSpec spec;  // docker_socket left empty
  RestartPolicy restart{RestartPolicy::always};
  std::string pod;  // "namespace/name-node", for logs
};

// The containers of the static pod in `manifest` (a v1 Pod) on `node`; an Error says what is wrong
// with the manifest. A real image knows its Kubernetes version; the stand-in image does not, so
// each container gets KNA_STANDIN_VERSION: its image's tag when that is a version
// (hyperkube-amd64:v1.6.0), else `kubelet_version`, unless the manifest sets it.
Result<std::vector<DesiredContainer>> static_pod_containers(const std::string& manifest,
                                                            const std::string& node,
                                                            const std::string& kubelet_version);

// 8 hex digits that change whenever the pod spec changes (FNV-1a of its canonical JSON, whose keys
// nlohmann sorts). The real kubelet hashes the whole manifest into the static pod's UID.
std::string pod_spec_hash(const nlohmann::json& spec);

}  // namespace kna::standins
