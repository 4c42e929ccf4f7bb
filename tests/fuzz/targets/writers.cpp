// What the agent writes from a configuration, read back (src/stages/kubeconfig.cpp,
// control_plane.cpp, render_util.cpp, src/clients/flannel_config.cpp): for every configuration
// the loader accepts (the input's lines as flags and environment, config_input.hpp), the
// kubeconfig, the control plane's static pod manifests and flannel's network config parse and
// hold exactly the values they were written from, and `plan` never shows the token. (Documents
// are read with the non-const operator[]: a missing field reads as null and fails its check.)

#include <algorithm>

#include <nlohmann/json.hpp>

#include "clients/flannel_config.hpp"
#include "config_input.hpp"
#include "stages/control_plane.hpp"
#include "stages/kubeconfig.hpp"
#include "stages/render_util.hpp"

namespace {

using kna::fuzz::check;
using nlohmann::json;

json parsed(const std::string& written, std::string_view what) {
  const auto j = json::parse(written, nullptr, false);
  if (j.is_discarded()) kna::fuzz::fail(std::string(what) + " does not parse back");
  return j;
}

bool has(const json& command, const std::string& arg) {
  return std::find(command.begin(), command.end(), arg) != command.end();
}

void check_kubeconfig(const kna::Config& cfg) {
  const std::string written = kna::stages::kubeconfig_content(cfg);
  json j = parsed(written, "the kubeconfig");
  check(j["clusters"][0]["cluster"]["server"] == "http://" + cfg.master_ip + ":8080",
        "the kubeconfig's server is MASTER_IP's");
  json& user = j["users"][0]["user"];
  check(cfg.api_token.empty() ? !user.contains("token") : user["token"] == cfg.api_token,
        "the kubeconfig holds the token exactly when one is configured");
  check(j["current-context"] == "local", "the kubeconfig's context is the one it defines");

  json shown = parsed(kna::stages::redact_file_content(written), "the redacted kubeconfig");
  check(cfg.api_token.empty() || shown["users"][0]["user"]["token"] == "<redacted>",
        "the kubeconfig as `plan` shows it hides the token");
}

void check_manifests(const kna::Config& cfg) {
  const auto files = kna::stages::control_plane_manifests(cfg);
  check(files.size() == 3, "three control plane components");
  for (const auto& file : files) {
    json pod = parsed(file.content, "a static pod manifest");
    const auto component = pod["metadata"]["name"].get<std::string>();
    check(file.path.ends_with("/" + component + ".json"), "a manifest is named for its pod");
    json& container = pod["spec"]["containers"][0];
    check(container["image"] == kna::stages::control_plane_image(cfg, component),
          "a manifest runs the configured image");
    json& command = container["command"];
    if (component == "kube-apiserver") {
      check(has(command, "--advertise-address=" + cfg.master_ip) &&
                has(command,
                    "--service-cluster-ip-range=" + cfg.control_plane.service_cluster_ip_range),
            "the API server's manifest holds MASTER_IP and the service range");
    } else if (component == "kube-controller-manager") {
      check(has(command, "--cluster-cidr=" + cfg.flannel_network),
            "the controller manager's manifest holds FLANNEL_NETWORK");
    }
  }
}

void check_flannel_config(const kna::Config& cfg) {
  json j = parsed(kna::flannel_network_config(cfg.flannel_network, cfg.flannel_backend),
                  "flannel's config");
  check(j["Network"] == cfg.flannel_network && j["Backend"]["Type"] == cfg.flannel_backend,
        "flannel's config holds FLANNEL_NETWORK and FLANNEL_BACKEND");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static kna::fuzz::MemFile file;
  file.write("{}");
  const auto inputs = kna::fuzz::config_inputs(kna::fuzz::text(data, size), file.path());
  if (!inputs) return 0;
  const auto loaded = kna::fuzz::load(*inputs);
  if (!loaded) return 0;
  check_kubeconfig(loaded->config);
  check_manifests(loaded->config);
  check_flannel_config(loaded->config);
  return 0;
}
