#include "stages/control_plane.hpp"

#include <nlohmann/json.hpp>

#include "stages/stage_builders.hpp"
#include "stages/version.hpp"

namespace kna::stages {

namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kApiserver = "kube-apiserver";
constexpr const char* kControllerManager = "kube-controller-manager";
constexpr const char* kScheduler = "kube-scheduler";
// The control plane talks to the API server on the master itself, over the insecure port.
constexpr const char* kLocalApiServer = "--master=http://127.0.0.1:8080";

std::vector<std::string> component_flags(const Config& cfg, const std::string& component) {
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

  const Json pod{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", component},
        {"namespace", "kube-system"},
        {"labels", {{"component", component}, {"tier", "control-plane"}}}}},
      {"spec",
       {{"hostNetwork", true},
        {"containers", Json::array({{{"name", component},
                                     {"image", control_plane_image(cfg, component)},
                                     {"command", command}}})}}},
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
