#pragma once
// What a stage is: how to launch it, what it waits for, how to tell it is ready. Produced by the
// catalogue (src/stages) as pure data; consumed by the supervisor and the runtimes.

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "kna/config.hpp"

namespace kna {

// A host process, exec'd directly from argv (never through a shell). argv[0] is an absolute path.
struct ProcessSpec {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // added to the agent's environment
  std::string pidfile;  // if the program writes one: a stale one is checked before start
  // Pid files of helpers the program starts and may leave behind when it is killed (dockerd's
  // containerd): before a launch, a live process named there that carries this stage's marker is
  // stopped, and a stale file removed. `{}` keeps three-field aggregate initialisations
  // warning-free.
  std::vector<std::string> helper_pidfiles{};
  bool operator==(const ProcessSpec&) const = default;
};

struct Mount {
  std::string source;  // host path
  std::string target;  // path in the container
  bool read_only{false};
  std::string propagation;  // "", "shared", "rshared", "slave", "rslave", "private", "rprivate"
  bool operator==(const Mount&) const = default;
};

// A container in one of the node's dockerds.
struct ContainerSpec {
  std::string docker_socket;  // which daemon runs it
  std::string name;           // container name, e.g. kube_etcd_3f2a1
  std::string image;
  std::vector<std::string> entrypoint;  // empty: the image's
  std::vector<std::string> cmd;
  std::string network_mode;  // "host", or "" for the daemon's default
  std::string pid_mode;      // "host" or ""
  bool privileged{false};
  std::vector<Mount> mounts;
  std::vector<std::string> devices;  // host device paths, e.g. /dev/net/tun
  std::string restart_policy;        // docker's: "no", "always", "unless-stopped", "on-failure"
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> env;
  bool operator==(const ContainerSpec&) const = default;
};

using LaunchSpec = std::variant<ProcessSpec, ContainerSpec>;

inline constexpr const char* kActionFlannelConfig = "flannel-network-config";
// The API server at MASTER_IP answers /healthz and lists this node with condition Ready=True.
inline constexpr const char* kActionNodeReady = "kubernetes-node-ready";
// Every airgap tarball (paths.image_dir/*.tar) is loaded into the daemon the probe pinged, so that
// the kubelet finds its pods' images (k3s does the same for containerd).
inline constexpr const char* kActionLoadImages = "load-airgap-images";

enum class ProbeKind {
  none,     // ready as soon as launched
  http,     // GET url answers 2xx (and the body contains `body_contains`, if set)
  file,     // `path` exists
  command,  // argv exits 0
};

struct ProbeSpec {
  ProbeKind kind{ProbeKind::none};
  std::string url;            // http: e.g. http://127.0.0.1:2379/health or http://localhost/_ping
  std::string unix_socket;    // http: connect to this unix socket instead of the url's host:port
  std::string body_contains;  // http: optional
  std::string path;           // file
  bool parse_subnet_env{false};   // file: must also parse as flannel's subnet.env
  std::vector<std::string> argv;  // command
  // After the check passes, this named action of the agent must succeed too before the stage is
  // ready; "" for none. kActionFlannelConfig: etcd is ready for flannel once the network config
  // is stored in it.
  std::string action;
  ProbePolicy policy;
  bool operator==(const ProbeSpec&) const = default;
};

struct Dependency {
  std::string stage;
  // true: when `stage` restarts, this stage restarts too. false: only wait for it before the
  // first start (e.g. main-docker needs flannel's subnet, not flanneld itself).
  bool restart_with{true};
  bool operator==(const Dependency&) const = default;
};

// A file the agent writes before launching a stage (a kubeconfig, a static pod manifest):
// atomically (temporary file + rename), with `mode`, and only when its content differs.
struct StageFile {
  std::string path;
  std::string content;
  unsigned mode{0644};
  bool operator==(const StageFile&) const = default;
};

struct StageSpec {
  std::string name;
  std::vector<Dependency> deps;
  LaunchSpec launch;
  ProbeSpec ready;
  BackoffPolicy backoff;
  Millis stop_timeout{10'000};
  std::vector<StageFile> files;  // written before each launch
  // Host folders bind-mounted onto themselves and made shared before launch, unless they already
  // are mount points (the kubelet's root dir: volumes it mounts for pods must reach dockerd).
  std::vector<std::string> shared_dirs;
};

}  // namespace kna
