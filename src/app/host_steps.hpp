#pragma once
// Carrying out the host steps of a stage's spec (StageSpec::prepare): one function per step, each
// idempotent, blocking (fsync, mount, netlink): for a worker thread, never the loop. The error
// names the path, folder or link and what failed.

#include <optional>
#include <string>

#include "kna/error.hpp"
#include "kna/spec.hpp"

namespace kna::app {

// Writes the file atomically (its folder created) unless its content and mode on disk are those
// already, so that a kubelet watching its manifest folder sees no change on a restart.
Status write_file(const std::string& stage, const WriteFile& step);
// Bind-mounts the folder onto itself unless it is a mount point, and makes it shared.
Status share_mount(const std::string& stage, const SharedMount& step);
// Deletes the link when bridge_is_stale() says so.
Status delete_stale_bridge(const std::string& stage, const DeleteStaleBridge& step);
// Creates each missing folder (and its parents).
Status make_dirs(const std::string& stage, const MakeDirs& step);

// Discovers the cluster by token and pin (clients/cluster_discovery.hpp) unless the files on disk
// already hold a CA of that pin and the bootstrap kubeconfig made of it; then writes both.
Status discover_cluster(const std::string& stage, const DiscoverCluster& step);
Status issue_certificate(const std::string& stage, const IssueClientCertificate& step);
Status publish_join_info(const std::string& stage, const PublishJoinInfo& step);

// Any of the above.
Status run_host_step(const std::string& stage, const HostStep& step);

// The decision of delete_stale_bridge: a link that exists without `keep_cidr` as its (first IPv4)
// address goes; a missing link, or one that has it, stays.
bool bridge_is_stale(bool exists, const std::optional<std::string>& cidr,
                     const std::string& keep_cidr);

}  // namespace kna::app
