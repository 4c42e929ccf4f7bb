#pragma once
// Mount points of the agent's mount namespace: the kubelet's root folder must be a shared mount
// so that volumes the kubelet (in a container) mounts for pods reach the host and dockerd.

#include <string>
#include <string_view>
#include <vector>

#include "kna/error.hpp"

namespace kna {

// The mount points listed in /proc/self/mountinfo's text (field 5, octal escapes decoded).
std::vector<std::string> parse_mount_points(std::string_view mountinfo);

// Bind-mounts `dir` onto itself unless it is a mount point already, then marks it shared
// (`mount --bind dir dir && mount --make-shared dir`, as docker-multinode did). Creates `dir` when
// missing. The error names the folder and the step that failed.
Status make_shared_mount(const std::string& dir);

}  // namespace kna
