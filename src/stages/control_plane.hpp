#pragma once
// The master's control plane (kube-apiserver, kube-controller-manager, kube-scheduler) as static
// pods: JSON v1 Pod manifests that the master's kubelet runs from paths.kubelet_manifests_dir.

#include <string>
#include <vector>

#include "kna/spec.hpp"

namespace kna::stages {

// The image of "kube-apiserver", "kube-controller-manager" or "kube-scheduler":
// control_plane.*_image when set, else hyperkube-ARCH up to v1.18, registry.k8s.io/<component>
// from v1.19.
std::string control_plane_image(const Config& cfg, const std::string& component);

// kube-apiserver.json, kube-controller-manager.json and kube-scheduler.json in the manifest
// folder, mode 0644, in that order.
std::vector<WriteFile> control_plane_manifests(const Config& cfg);

}  // namespace kna::stages
