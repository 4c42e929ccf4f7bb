#pragma once
// The kubeconfig the agent writes for the kubelet and kube-proxy from Kubernetes v1.6 (when
// --api-servers gave way to --kubeconfig): the API server's insecure port at MASTER_IP, plus the
// bearer token when one is configured.

#include <string>

#include "kna/spec.hpp"

namespace kna::stages {

// JSON (valid YAML; kubelet and kubectl read both), the same bytes for the same configuration.
std::string kubeconfig_content(const Config& cfg);
// {paths.kubeconfig, kubeconfig_content, 0600}: it may hold a token.
WriteFile kubeconfig_file(const Config& cfg);

}  // namespace kna::stages
