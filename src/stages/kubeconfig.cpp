#include "stages/kubeconfig.hpp"

#include <nlohmann/json.hpp>

namespace kna::stages {

std::string kubeconfig_content(const Config& cfg) {
  using Json = nlohmann::ordered_json;
  Json user = Json::object();
  if (!cfg.api_token.empty()) user["token"] = cfg.api_token;
  const Json config{
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters", Json::array({{{"name", "local"},
                                 {"cluster", {{"server", "http://" + cfg.master_ip + ":8080"}}}}})},
      {"users", Json::array({{{"name", "kubelet"}, {"user", user}}})},
      {"contexts", Json::array({{{"name", "local"},
                                 {"context", {{"cluster", "local"}, {"user", "kubelet"}}}}})},
      {"current-context", "local"},
  };
  return config.dump(2) + "\n";
}

WriteFile kubeconfig_file(const Config& cfg) {
  return WriteFile{cfg.paths.kubeconfig, kubeconfig_content(cfg), 0600};
}

}  // namespace kna::stages
