#pragma once
// What a stage is: how to launch it, what it waits for, how to tell it is ready. Produced by the
// catalogue (src/stages) as pure data; consumed by the supervisor and the runtimes.

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "kna/config.hpp"

namespace kna {

// Before the agent stops a process (shutdown, a restart, a replacement by another spec), `content`
// is written to `path`, the process gets SIGHUP, and SIGTERM follows `settle` later. dockerd: its
// --config-file turns live-restore off, so that an ordered stop ends its containers, while a
// dockerd that dies without being asked leaves them running for the next one to restore.
struct ReloadBeforeStop {
  std::string path;
  std::string content;
  Millis settle{500};
  bool operator==(const ReloadBeforeStop&) const = default;
};

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
  std::optional<ReloadBeforeStop> reload_before_stop{};  // not part of the spec hash
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

// What must succeed after a stage's readiness check passes before the stage counts as ready. Each
// carries every value it uses, so that `plan` shows exactly what will be done. Run by the agent's
// node prober, off the loop, after a passing check (each is idempotent); how often once it has
// passed is ProbeSpec::then_every.

// etcd is ready for flannel once flannel's network config is in it: `key` (<prefix>/config) holds
// `value` (JSON; a stored value that only differs in formatting or key order is left alone).
struct StoreFlannelConfig {
  std::string etcd_endpoint;  // "http://127.0.0.1:2379"
  EtcdApi etcd_api{EtcdApi::v2};
  std::string key;    // "/coreos.com/network/config"
  std::string value;  // {"Network":"10.1.0.0/16","Backend":{"Type":"udp"}}
  bool operator==(const StoreFlannelConfig&) const = default;
};

// Every airgap tarball (image_dir/*.tar) whose images the daemon lacks is loaded into it, so that
// the kubelet finds its pods' images (k3s does the same for containerd). Pipelined: the tarballs
// naming `first` (the images the kubelet needs to start: its own, kube-proxy's, a master's
// control plane) are loaded before the step succeeds; the others load behind it, while the
// kubelet starts, as k3s imports its airgap folder while its kubelet comes up. A tarball naming
// only images of `elsewhere` (those of the stages another daemon runs: the bootstrap dockerd's
// etcd and flannel) is not loaded here: no pod needs them, and loading the test images of both
// cost a main dockerd 0.66 CPU-seconds, a quarter of a worker's join (docs/benchmarks.md, scale).
struct LoadAirgapImages {
  std::string docker_socket;
  std::string image_dir;
  std::vector<std::string> first;
  std::vector<std::string> elsewhere;
  bool operator==(const LoadAirgapImages&) const = default;
};

// The API server answers /healthz and lists this node with condition Ready=True.
struct NodeReady {
  std::string api_server;  // "http://192.168.1.50:8080" or "https://192.168.1.50:6443"
  std::string node_name;
  std::string token;  // bearer token, or empty; a secret: never shown by `plan`
  // https: the server verified against this CA (PEM file); the client certificate and key (PEM
  // files, may be one file: the kubelet's kubelet-client-current.pem) when set.
  std::string ca_file;
  std::string client_cert_file;
  std::string client_key_file;
  bool operator==(const NodeReady&) const = default;
};

using AfterProbe = std::variant<std::monostate, StoreFlannelConfig, LoadAirgapImages, NodeReady>;

inline constexpr Millis kThenOncePerRun = Millis::max();

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
  // http: whom the check asks ("docker", "etcd", "kubelet", "kube-proxy"), for
  // kna_requests_total.
  std::string target;
  // After the check passes, this must succeed too before the stage is ready (monostate: nothing).
  AfterProbe then{};
  // Once `then` has passed in this run of the stage, how long the check alone tells that the
  // stage is still ready: zero runs `then` at every check; kThenOncePerRun only again after the
  // stage, or one that depends on it, starts again or after a failed check. The supervisor adds
  // up to a fifth at random, so that a fleet's agents do not ask the cluster in step.
  Millis then_every{0};
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

// Host effects before a stage launches, in the order of StageSpec::prepare; each carries every
// value it uses, so that `plan` shows exactly what will be done. The agent runs them off the loop
// before each launch (and adoption); the first that fails fails the launch, naming the step.

// Written atomically (temporary file + rename) with `mode`, its folder created, and only when the
// content or mode on disk differs, so that a kubelet watching its manifest folder sees no change on
// a restart. A kubeconfig, a static pod manifest.
struct WriteFile {
  std::string path;
  std::string content;
  unsigned mode{0644};
  bool operator==(const WriteFile&) const = default;
};

// `dir` bind-mounted onto itself and made a shared mount, unless it already is a mount point (the
// kubelet's root dir: volumes it mounts for pods must reach dockerd). Stays when the agent stops.
struct SharedMount {
  std::string dir;
  bool operator==(const SharedMount&) const = default;
};

// The network link `link` deleted when it exists without the address `keep_cidr`: dockerd keeps an
// existing bridge as it is, so a docker0 with another address would defeat --bip.
struct DeleteStaleBridge {
  std::string link;       // "docker0"
  std::string keep_cidr;  // "10.1.33.1/24"
  bool operator==(const DeleteStaleBridge&) const = default;
};

// Each missing folder created, as `docker run -v` does for a bind mount's source (etcd's data,
// flannel's run folder), rather than failing the container.
struct MakeDirs {
  std::vector<std::string> dirs;
  bool operator==(const MakeDirs&) const = default;
};

// Joining by token with a pinned CA, as `kubeadm join` discovers the cluster: the `cluster-info`
// ConfigMap (kube-public) fetched from `api_server` over TLS; its CA accepted only when the SHA-256
// of its SubjectPublicKeyInfo is `ca_cert_hash`, and its JWS for the token's id checked when the
// ConfigMap has one; the server then asked again, verified against that CA. The CA is written to
// `ca_file` and the bootstrap kubeconfig (that CA and the token) to `kubeconfig`, mode 0600; both
// only when they differ. A restart whose files already match the pin asks nothing.
struct DiscoverCluster {
  std::string api_server;    // "https://192.168.1.50:6443"
  std::string ca_cert_hash;  // "sha256:<hex>"
  std::string token;         // "<id>.<secret>"; a secret: never shown by `plan`
  std::string ca_file;
  std::string kubeconfig;
  bool operator==(const DiscoverCluster&) const = default;
};

// A TLS master's component gets an identity, as `kubeadm init phase kubeconfig` gives one: a
// client certificate for `common_name` in `organizations`, signed with the cluster CA's key, in
// `path` (PEM: the certificate, then its fresh EC P-256 key; mode 0600). Issued when the file is
// missing or unreadable, names someone else, was not signed by this CA, or is in the last third of
// its life; kept otherwise, so that a restart changes nothing.
struct IssueClientCertificate {
  std::string ca_cert_file;                // <pki_dir>/ca.crt
  std::string ca_key_file;                 // <pki_dir>/ca.key
  std::string common_name;                 // the user: "system:node:master-1"
  std::vector<std::string> organizations;  // its groups: {"system:nodes"}
  std::string path;
  bool operator==(const IssueClientCertificate&) const = default;
};

// A TLS master publishes what `kubeadm init` leaves for the workers, through `api_server` as the
// admin (`client_cert_file`, system:masters): the kube-public/cluster-info ConfigMap (a kubeconfig
// naming `api_server` with the CA of `ca_file`, what workers discover), the bootstrap token Secret
// for `token` when one is set, and kubeadm's RBAC bindings for joining nodes. Each object is
// created when missing and replaced when it differs; left alone when it matches.
struct PublishJoinInfo {
  std::string api_server;        // "https://192.168.1.50:6443", as workers reach it too
  std::string ca_file;           // verifies the server; its PEM goes into cluster-info
  std::string client_cert_file;  // the admin's certificate and key (PEM)
  std::string token;             // "<id>.<secret>" or ""; a secret: never shown by `plan`
  bool operator==(const PublishJoinInfo&) const = default;
};

using HostStep = std::variant<WriteFile, SharedMount, DeleteStaleBridge, MakeDirs, DiscoverCluster,
                              IssueClientCertificate, PublishJoinInfo>;

struct StageSpec {
  std::string name;
  std::vector<Dependency> deps;
  LaunchSpec launch;
  ProbeSpec ready;
  BackoffPolicy backoff;
  Millis stop_timeout{10'000};
  std::vector<HostStep> prepare;  // run in order before each launch
  bool operator==(const StageSpec&) const = default;
};

// The steps of one kind in `steps`, in order (the files a stage writes, for instance).
template <class Step>
std::vector<Step> steps_of(const std::vector<HostStep>& steps) {
  std::vector<Step> out;
  for (const auto& step : steps)
    if (const auto* s = std::get_if<Step>(&step)) out.push_back(*s);
  return out;
}

}  // namespace kna
