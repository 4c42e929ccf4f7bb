#pragma once
// `kube-node-agent reset`: undoes on this machine whatever an agent on this configuration did —
// stops its daemons and their containers (even when the agent that started them is dead),
// unmounts, deletes the links, removes the files — and says, one line each, what it undid.
// The pure parts (what to undo, in which order) are apart from the actions so that they can be
// tested without a machine to undo.

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "kna/config.hpp"
#include "kna/time.hpp"

namespace kna::app {

// Exit codes beyond the configuration's own (kExitConfig) and kExitUnavailable (an agent runs).
inline constexpr int kExitResetIncomplete = 1;  // something could not be undone; each is named

// One docker daemon of the node, as reset stops it.
struct ResetDockerd {
  std::string stage;  // bootstrap-docker or main-docker
  std::string socket;
  std::string pidfile;
  std::string data_root;
  std::string exec_root;
  std::string daemon_json;  // <run_dir>/<stage>.daemon.json (live-restore)
  bool runs_pods{false};    // the main dockerd: the kubelet's pods are the node's too
};

// What reset undoes for a configuration, in the order it does it.
struct ResetTargets {
  std::vector<std::string> process_stages;  // host-process stages, in stop order (reverse start)
  std::vector<ResetDockerd> dockerds;       // in stop order: main, then bootstrap
  std::vector<std::string> mount_roots;     // every mount point below one of these is unmounted
  // Mount points unmounted themselves too: the bind mounts the agent made (the kubelet's shared
  // folder). A root that is a mount point of its own (a disk at /var/lib/docker) stays mounted.
  std::vector<std::string> own_mounts;
  std::vector<std::string> links;   // network links deleted when present
  std::vector<std::string> remove;  // files and folders removed (recursively)
  // Folders removed only when empty once the rest is gone (never recursively): the folders the
  // agent created around its files, which may hold what is not ours (the airgap images).
  std::vector<std::string> prune;
};

// Pure: from the configuration alone (and the plan it builds, with placeholders). `data` adds
// the daemons' data roots, etcd's data, flannel's subnet.env, the kubelet's folders and the logs.
ResetTargets reset_targets(const Config& cfg, bool data);

// True when `path` is `root` or lies below it (component-wise: /a/bc is not under /a/b).
bool path_is_under(std::string_view path, std::string_view root);

// Pure: the mount points of a /proc/self/mountinfo text that lie strictly below one of `roots`
// or are one of `own_mounts`, in the order to unmount them: deepest first; a point mounted
// several times once per mount, the latest (topmost) first.
std::vector<std::string> mounts_to_unmount(std::string_view mountinfo,
                                           const std::vector<std::string>& roots,
                                           const std::vector<std::string>& own_mounts);

// A folder reset never removes, even when the configuration names it (run_dir=/run): "/", the
// top-level folders, and the shared ones below them (/var/lib, /var/run, /usr/local …).
bool is_system_folder(std::string_view path);

// The links flanneld makes for a backend: flannel0 (udp), flannel.1 (vxlan), none (host-gw …).
std::vector<std::string> flannel_links(const std::string& backend);

struct ResetOptions {
  bool data{false};
  Millis agent_timeout{1'000};  // how long the status socket may take to answer
  Millis kill_wait{5'000};      // after SIGKILL, how long a process may take to disappear
};

// Does it all. Writes one line per thing undone to `out` ("nothing to undo" when there was none)
// and one per thing that could not be undone to `err`. Returns 0, kExitUnavailable when an agent
// answers on the configuration's status socket (nothing is touched), or kExitResetIncomplete.
int run_reset(const Config& cfg, const ResetOptions& options, std::ostream& out, std::ostream& err);

}  // namespace kna::app
