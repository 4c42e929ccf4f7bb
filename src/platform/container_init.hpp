#pragma once
// PID 1 of a privileged container (a Resin/balena device, a docker-in-docker node): what an init
// owes the programs it starts, done before it starts any. Anchors: jpetazzo's wrapdocker (which
// the Resin start.sh ran) for cgroup v1, moby's dind script for cgroup v2.
//
// Every path is relative to a configurable /proc and cgroup root, and every mount goes through
// MountOps, so that tests run the whole set-up against a fake tree.

#include <string>
#include <vector>

#include "kna/error.hpp"

namespace kna {

class MountOps {
 public:
  virtual ~MountOps() = default;
  // mount(2); the error names the target and errno's text.
  virtual Status mount(const std::string& source, const std::string& target,
                       const std::string& type, unsigned long flags, const std::string& data) = 0;
  virtual bool is_mount_point(const std::string& path) = 0;
};

// The real mount(2) and /proc/self/mountinfo.
MountOps& system_mounts();

struct CgroupTree {
  std::string proc{"/proc"};  // reads <proc>/1/cgroup and <proc>/self/cgroup
  std::string cgroup_root{"/sys/fs/cgroup"};
};

// What setup_cgroups did, one line each, for the log.
using InitSteps = std::vector<std::string>;

// Cgroups as dockerd needs them to start containers.
// - cgroup v1 (balenaOS): a tmpfs at the cgroup root unless one is mounted, and each hierarchy
//   listed in <proc>/1/cgroup mounted in a folder of its own unless it is already ("cpu,cpuacct"
//   gets the links cpu and cpuacct, "name=systemd" the folder systemd), as wrapdocker did.
// - cgroup v2 (the root holds cgroup.controllers): every process of the agent's own group moved
//   into a child group `init`, and every controller enabled in the own group's
//   cgroup.subtree_control, as moby's dind does; else no container can get a cgroup of its own.
// Idempotent. Without the privilege to mount: an error that says to run the container with
// --privileged.
Result<InitSteps> setup_cgroups(const CgroupTree& tree, MountOps& mounts);

// `mount --make-rshared /`: mounts the kubelet makes for pods reach dockerd's containers.
Status make_root_shared(MountOps& mounts);

// sethostname(2), as the Resin start.sh did with the device's UUID.
Status set_host_name(const std::string& name);

}  // namespace kna
