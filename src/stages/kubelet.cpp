// The kubelet: registers the node with the API server and runs its pods in the main dockerd; on
// the master it also runs the control plane as static pods from the manifest folder, whose
// manifests its spec brings as WriteFile steps (stages/control_plane.hpp), like the kubeconfig from
// v1.6. Its flags follow the Kubernetes version (stages/version.hpp).

#include <algorithm>

#include "core/request_count.hpp"
#include "stages/control_plane.hpp"
#include "stages/kubeconfig.hpp"
#include "stages/stage_builders.hpp"
#include "stages/version.hpp"

namespace kna::stages {

namespace {

constexpr const char* kManifestsInContainer = "/etc/kubernetes/manifests-multi";
constexpr const char* kContainerLogs = "/var/log/containers";  // fixed in the kubelet

// The kubelet hands host paths under its root dir (pod volumes) and docker's data root to dockerd,
// so in a container both are mounted at their host paths, and a non-default root dir is passed on.
std::vector<std::string> kubelet_flags(const StageContext& ctx, const KubeletProfile& profile,
                                       bool in_container) {
  const Config& cfg = ctx.cfg;
  const Paths defaults;
  std::vector<std::string> flags;
  if (profile.allow_privileged) flags.push_back("--allow-privileged");
  switch (profile.api) {
    case KubeletProfile::Api::api_servers:
      flags.push_back("--api-servers=" + api_server_url(cfg));
      break;
    case KubeletProfile::Api::kubeconfig:
      // Mounted at their host paths in a container.
      if (join_mode(cfg) == JoinMode::token) {
        // The TLS bootstrap: the kubelet asks for its own certificate (into --cert-dir, named
        // always: its default is /var/lib/kubelet/pki even with another --root-dir), writes
        // --kubeconfig naming it, and renews it before it expires.
        flags.push_back("--bootstrap-kubeconfig=" + cfg.paths.bootstrap_kubeconfig);
        flags.push_back("--kubeconfig=" + kubelet_own_kubeconfig(cfg));
        flags.push_back("--cert-dir=" + kubelet_cert_dir(cfg));
        flags.push_back("--rotate-certificates");
      } else if (join_mode(cfg) == JoinMode::control_plane) {
        // The agent issued the certificate where the TLS bootstrap would have put it; the kubelet
        // renews it through the CSR API (kubeadm's selfnodeclient binding approves that).
        flags.push_back("--kubeconfig=" + kubelet_own_kubeconfig(cfg));
        flags.push_back("--cert-dir=" + kubelet_cert_dir(cfg));
        flags.push_back("--rotate-certificates");
      } else {
        flags.push_back("--kubeconfig=" + cfg.paths.kubeconfig);
      }
      if (profile.require_kubeconfig) flags.push_back("--require-kubeconfig");
      break;
  }
  if (cfg.role == Role::master) {
    const std::string dir =
        in_container ? std::string(kManifestsInContainer) : cfg.paths.kubelet_manifests_dir;
    switch (profile.static_pods) {
      case KubeletProfile::StaticPods::config_dir:
        flags.push_back("--config=" + dir);
        break;
      case KubeletProfile::StaticPods::pod_manifest_path:
        flags.push_back("--pod-manifest-path=" + dir);
        break;
    }
  }
  flags.push_back("--cluster-dns=" + cfg.dns_server_ip);
  flags.push_back("--cluster-domain=" + cfg.dns_domain);
  flags.push_back("--hostname-override=" + cfg.node_name);
  flags.push_back("--v=2");
  if (cfg.paths.kubelet_dir != defaults.kubelet_dir)
    flags.push_back("--root-dir=" + cfg.paths.kubelet_dir);
  switch (profile.runtime) {
    case KubeletProfile::Runtime::dockershim:
      // In a container the kubelet finds the default socket through the /var/run mount.
      if (!in_container || cfg.paths.main_docker_socket != defaults.main_docker_socket)
        flags.push_back("--docker-endpoint=" + unix_url(cfg.paths.main_docker_socket));
      break;
    case KubeletProfile::Runtime::cri_dockerd:
      flags.push_back("--container-runtime-endpoint=" + unix_url(cfg.paths.cri_dockerd_socket));
      break;
  }
  return flags;
}

// Makes a socket outside /var/run reachable from the kubelet container at its host path.
void mount_socket_dir(std::vector<Mount>& mounts, const std::string& socket_path) {
  const std::string dir = parent_dir(socket_path);
  const bool mounted =
      std::any_of(mounts.begin(), mounts.end(), [&](const Mount& m) { return m.target == dir; });
  if (!mounted) mounts.push_back(Mount{dir, dir, false, ""});
}

ContainerSpec kubelet_container(const StageContext& ctx, const KubeletProfile& profile) {
  const Config& cfg = ctx.cfg;
  ContainerSpec c;
  c.cmd = {"/hyperkube", "kubelet"};
  for (auto& flag : kubelet_flags(ctx, profile, true)) c.cmd.push_back(std::move(flag));
  c.network_mode = "host";
  c.pid_mode = "host";
  c.mounts = {
      Mount{"/sys", "/sys", true, ""},
      Mount{"/var/run", "/var/run", false, ""},
      Mount{cfg.paths.main_docker_data_root, cfg.paths.main_docker_data_root, false, ""},
      // shared: volumes the kubelet mounts for pods must show up on the host, for dockerd.
      Mount{cfg.paths.kubelet_dir, cfg.paths.kubelet_dir, false, "shared"},
      Mount{cfg.paths.container_logs_dir, kContainerLogs, false, ""},
  };
  if (cfg.role == Role::master)
    c.mounts.push_back(Mount{cfg.paths.kubelet_manifests_dir, kManifestsInContainer, true, ""});
  switch (profile.runtime) {
    case KubeletProfile::Runtime::dockershim:
      mount_socket_dir(c.mounts, cfg.paths.main_docker_socket);
      break;
    case KubeletProfile::Runtime::cri_dockerd:
      mount_socket_dir(c.mounts, cfg.paths.cri_dockerd_socket);
      break;
  }
  if (profile.api == KubeletProfile::Api::kubeconfig) {
    if (join_mode(cfg) == JoinMode::token) {
      c.mounts.push_back(
          Mount{cfg.paths.bootstrap_kubeconfig, cfg.paths.bootstrap_kubeconfig, true, ""});
      if (const auto ca = cluster_ca_file(cfg); !ca.empty())
        c.mounts.push_back(Mount{ca, ca, true, ""});
    } else if (join_mode(cfg) == JoinMode::control_plane) {
      // Its kubeconfig and certificate are in its root dir, mounted above.
      const auto ca = cluster_ca_file(cfg);
      c.mounts.push_back(Mount{ca, ca, true, ""});
    } else {
      mount_file(c, kubeconfig_file(cfg));
      if (const auto ca = cluster_ca_file(cfg); !ca.empty())
        c.mounts.push_back(Mount{ca, ca, true, ""});
      for (const auto& file : {cfg.cluster.client_cert_file, cfg.cluster.client_key_file})
        if (!file.empty()) c.mounts.push_back(Mount{file, file, true, ""});
    }
  }
  return c;
}

// A TLS master's kubelet starts the control plane: every identity that needs is issued first.
void control_plane_identities(const Config& cfg, std::vector<HostStep>& steps) {
  const auto add = [&](std::vector<HostStep> more) {
    for (auto& step : more) steps.push_back(std::move(step));
  };
  add(issue_identity(cfg, "system:node:" + cfg.node_name, {"system:nodes"},
                     kubelet_client_cert(cfg), kubelet_own_kubeconfig(cfg)));
  for (const char* component : {"kube-controller-manager", "kube-scheduler"}) {
    const std::string name = std::string(component).substr(std::string("kube-").size());
    add(issue_identity(cfg, std::string("system:") + component, {},
                       join_path(control_plane_dir(cfg), name + ".pem"),
                       join_path(control_plane_dir(cfg), name + ".conf")));
  }
  add(issue_identity(cfg, "kubernetes-admin", {"system:masters"}, admin_client_cert(cfg),
                     admin_kubeconfig(cfg)));
}

}  // namespace

Result<StageSpec> build_kubelet(const StageContext& ctx) {
  const Config& cfg = ctx.cfg;
  const KubeletProfile profile = kubelet_profile(parse_version(cfg.k8s_version));
  StageSpec spec;
  spec.name = kStageKubelet;
  // Even as a host process the kubelet drives the main dockerd; it restarts with it.
  spec.deps.push_back(Dependency{kStageMainDocker, true});
  if (profile.runtime == KubeletProfile::Runtime::cri_dockerd)
    spec.deps.push_back(Dependency{kStageCriDockerd, true});
  if (profile.api == KubeletProfile::Api::kubeconfig) {
    switch (join_mode(cfg)) {
      case JoinMode::token:
        spec.prepare.push_back(bootstrap_step(cfg));
        break;
      case JoinMode::control_plane:
        control_plane_identities(cfg, spec.prepare);
        break;
      case JoinMode::insecure:
      case JoinMode::credentials:
        spec.prepare.push_back(kubeconfig_file(cfg));
        break;
    }
  }
  if (cfg.role == Role::master)
    for (auto& manifest : control_plane_manifests(cfg)) spec.prepare.push_back(std::move(manifest));
  if (ctx.in_container(kStageKubelet)) {
    spec.launch = finish_container(ctx, kStageKubelet, "kubelet", cfg.paths.main_docker_socket,
                                   kubelet_container(ctx, profile));
    // The root dir is mounted with shared propagation, which needs a shared mount on the host.
    spec.prepare.push_back(SharedMount{cfg.paths.kubelet_dir});
  } else {
    spec.launch = make_process(ctx.stage(kStageKubelet), kubelet_flags(ctx, profile, false));
  }
  spec.ready = http_probe("http://127.0.0.1:10248/healthz", kTargetKubelet);
  // A healthy kubelet is not yet a node: the API server must list it as Ready.
  spec.ready.then = node_ready_step(cfg);
  // Once Ready, the kubelet's own health check stands for the node between two questions to the
  // fleet's shared API server, at most one a minute (docs/architecture.md).
  spec.ready.then_every = Millis{60'000};
  return spec;
}

}  // namespace kna::stages
