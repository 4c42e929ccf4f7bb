#pragma once
// The steps of loading after the sources are layered: values taken from the machine, values
// derived from other options, then every rule checked, each problem added to the Layers.

#include <cstdint>
#include <map>
#include <string>

#include "config/layers.hpp"
#include "kna/config_load.hpp"

namespace kna::config {

// A readiness wait longer than a day is a typo; the bound also keeps milliseconds in range.
inline constexpr std::int64_t kMaxTimeoutForServices = 86'400;
// flannel refuses networks smaller than /28; a network wider than /8 swallows unrelated addresses.
inline constexpr int kMinFlannelPrefix = 8;
inline constexpr int kMaxFlannelPrefix = 28;

// node_name, arch, net_interface and master_ip when no source set them.
void apply_machine_defaults(Layers& layers, const std::map<std::string, std::string>& env,
                            const MachineFacts& machine);

// Defaults that follow other options: probe deadlines from timeout_for_services, the status
// socket from run_dir, the image folder and the kubeconfigs from state_dir, the API server's URL
// from MASTER_IP and K8S_VERSION.
void apply_derived_defaults(Layers& layers);

void validate(Layers& layers);

// Parts of validate(), in files of their own.
void validate_control_plane(Layers& layers);
// cluster.*: the API server's URL, and over https a way to trust it and to authenticate.
void validate_cluster_access(Layers& layers);
// An image reference, or empty for the agent's choice: no whitespace, no leading '-'.
void check_image(Layers& layers, const std::string& key);

}  // namespace kna::config
