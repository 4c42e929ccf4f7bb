#include "stages/control_plane.hpp"

#include <nlohmann/json.hpp>

#include "stages/kubeconfig.hpp"
#include "stages/stage_builders.hpp"
#include "stages/version.hpp"

namespace kna::stages {

namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kApiserver = "kube-apiserver";
constexpr const char* kControllerManager = "kube-controller-manager";
constexpr const char* kScheduler = "kube-scheduler";
// Up to v1.19 the control plane talks to the API server on the master itself, over the insecure
// port.
constexpr const char* kLocalApiServer = "--master=http://127.0.0.1:8080";

bool tls(const Config& cfg) {
  return join_mode(cfg) == JoinMode::control_plane;
}

// A component's kubeconfig on a TLS master (kubelet.cpp issues it).
std::string component_kubeconfig(const Config& cfg, const std::string& component) {
  return join_path(control_plane_dir(cfg), component.substr(std::string("kube-").size()) + ".conf");
}

// kubeadm's flags, less what needs more than the cluster CA (front proxy, etcd over TLS, the
// API server's client certificate for kubelets' logs and exec: docs/joining.md).
std::vector<std::string> tls_flags(const Config& cfg, const std::string& component) {
  const auto pki = [&](const char* name) { return pki_file(cfg, name); };
  if (component == kApiserver) {
    std::vector<std::string> flags{
        "--advertise-address=" + cfg.master_ip,
        "--secure-port=" + std::to_string(api_server_port(cfg)),
        "--tls-cert-file=" + pki("apiserver.crt"),
        "--tls-private-key-file=" + pki("apiserver.key"),
        "--client-ca-file=" + pki("ca.crt"),
        "--enable-bootstrap-token-auth=true",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        "--service-account-issuer=https://kubernetes.default.svc." + cfg.dns_domain,
        "--service-account-key-file=" + pki("sa.pub"),
        "--service-account-signing-key-file=" + pki("sa.key"),
        "--etcd-servers=http://127.0.0.1:2379",
        "--storage-backend=" + apiserver_storage_backend(cfg),
        "--service-cluster-ip-range=" + cfg.control_plane.service_cluster_ip_range,
        "--allow-privileged=true",
    };
    // Said explicitly while the flag exists (v1.20 to v1.23; off by default there).
    if (has_insecure_port_flag(parse_version(cfg.k8s_version)))
      flags.push_back("--insecure-port=0");
    flags.push_back("--v=2");
    return flags;
  }
  const std::string kubeconfig = "--kubeconfig=" + component_kubeconfig(cfg, component);
  if (component == kControllerManager)
    return {kubeconfig, "--cluster-cidr=" + cfg.flannel_network, "--leader-elect=true",
            "--cluster-signing-cert-file=" + pki("ca.crt"),
            "--cluster-signing-key-file=" + pki("ca.key"), "--root-ca-file=" + pki("ca.crt"),
            "--service-account-private-key-file=" + pki("sa.key"),
            "--use-service-account-credentials=true",
            // bootstrapsigner signs cluster-info for each join token; tokencleaner removes
            // expired tokens.
            "--controllers=*,bootstrapsigner,tokencleaner", "--v=2"};
  return {kubeconfig, "--leader-elect=true", "--v=2"};
}

std::vector<std::string> component_flags(const Config& cfg, const std::string& component) {
  if (tls(cfg)) return tls_flags(cfg, component);
  if (component == kApiserver)
    return {"--advertise-address=" + cfg.master_ip,
            "--insecure-bind-address=0.0.0.0",
            "--insecure-port=8080",
            "--etcd-servers=http://127.0.0.1:2379",
            "--storage-backend=" + apiserver_storage_backend(cfg),
            "--service-cluster-ip-range=" + cfg.control_plane.service_cluster_ip_range,
            "--allow-privileged=true",
            "--v=2"};
  if (component == kControllerManager)
    return {kLocalApiServer, "--cluster-cidr=" + cfg.flannel_network, "--leader-elect=true",
            "--v=2"};
  return {kLocalApiServer, "--leader-elect=true", "--v=2"};
}

const std::string& configured_image(const Config& cfg, const std::string& component) {
  if (component == kApiserver) return cfg.control_plane.apiserver_image;
  if (component == kControllerManager) return cfg.control_plane.controller_manager_image;
  return cfg.control_plane.scheduler_image;
}

WriteFile manifest(const Config& cfg, const std::string& component) {
  // hyperkube names its sub-commands without the kube- prefix: /hyperkube apiserver.
  std::vector<std::string> command;
  if (uses_hyperkube_control_plane(parse_version(cfg.k8s_version)))
    command = {"/hyperkube", component.substr(std::string("kube-").size())};
  else
    command = {component};
  for (auto& flag : component_flags(cfg, component)) command.push_back(std::move(flag));

  Json container{
      {"name", component}, {"image", control_plane_image(cfg, component)}, {"command", command}};
  Json spec{{"hostNetwork", true}};
  if (tls(cfg)) {
    // The PKI and the components' kubeconfigs, read only, at their host paths.
    Json volumes = Json::array();
    Json mounts = Json::array();
    const auto add = [&](const std::string& name, const std::string& dir) {
      volumes.push_back({{"name", name}, {"hostPath", {{"path", dir}, {"type", "Directory"}}}});
      mounts.push_back({{"name", name}, {"mountPath", dir}, {"readOnly", true}});
    };
    add("k8s-certs", cfg.control_plane.pki_dir);
    if (component != kApiserver) add("kubeconfig", control_plane_dir(cfg));
    container["volumeMounts"] = std::move(mounts);
    spec["volumes"] = std::move(volumes);
  }
  spec["containers"] = Json::array({std::move(container)});
  const Json pod{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", component},
        {"namespace", "kube-system"},
        {"labels", {{"component", component}, {"tier", "control-plane"}}}}},
      {"spec", std::move(spec)},
  };
  return WriteFile{join_path(cfg.paths.kubelet_manifests_dir, component + ".json"),
                   pod.dump(2) + "\n", 0644};
}

}  // namespace

std::string control_plane_image(const Config& cfg, const std::string& component) {
  if (const auto& image = configured_image(cfg, component); !image.empty()) return image;
  if (uses_hyperkube_control_plane(parse_version(cfg.k8s_version)))
    return "gcr.io/google_containers/hyperkube-" + cfg.arch + ":" + cfg.k8s_version;
  return "registry.k8s.io/" + component + ":" + cfg.k8s_version;
}

std::vector<WriteFile> control_plane_manifests(const Config& cfg) {
  return {manifest(cfg, kApiserver), manifest(cfg, kControllerManager), manifest(cfg, kScheduler)};
}

}  // namespace kna::stages
