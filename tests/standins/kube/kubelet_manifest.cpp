#include "kube/kubelet_manifest.hpp"

#include <cstdint>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "stages/version.hpp"

namespace kna::standins {

namespace {

using nlohmann::json;

// Each reader returns an Error naming the field when the manifest has the wrong type there.
Result<std::string> string_field(const json& obj, const char* key, const std::string& where,
                                 bool required) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return Error{where + "." + key + " is required"};
    return std::string();
  }
  if (!it->is_string()) return Error{where + "." + key + " must be a string"};
  return it->get<std::string>();
}

Result<bool> bool_field(const json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return false;
  if (!it->is_boolean()) return Error{where + "." + key + " must be true or false"};
  return it->get<bool>();
}

Result<std::vector<std::string>> strings_field(const json& obj, const char* key,
                                               const std::string& where) {
  std::vector<std::string> out;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return Error{where + "." + key + " must be a list of strings"};
  for (const auto& item : *it) {
    if (!item.is_string()) return Error{where + "." + key + " must be a list of strings"};
    out.push_back(item.get<std::string>());
  }
  return out;
}

const json& object_field(const json& obj, const char* key) {
  static const json empty = json::object();
  const auto it = obj.find(key);
  return it != obj.end() && it->is_object() ? *it : empty;
}

const json& array_field(const json& obj, const char* key) {
  static const json empty = json::array();
  const auto it = obj.find(key);
  return it != obj.end() && it->is_array() ? *it : empty;
}

// hostPath volumes by name; other volume kinds have no meaning without an API server here.
std::map<std::string, std::string> host_path_volumes(const json& spec) {
  std::map<std::string, std::string> out;
  for (const auto& volume : array_field(spec, "volumes")) {
    if (!volume.is_object()) continue;
    const auto& host_path = object_field(volume, "hostPath");
    const auto name = volume.find("name");
    const auto path = host_path.find("path");
    if (name != volume.end() && name->is_string() && path != host_path.end() && path->is_string())
      out[name->get<std::string>()] = path->get<std::string>();
  }
  return out;
}

Result<DesiredContainer> container_of(const json& c, std::size_t index, const json& pod_spec,
                                      const std::string& pod_name, const std::string& ns,
                                      const std::string& hash) {
  const std::string where = fmt::format("spec.containers[{}]", index);
  if (!c.is_object()) return Error{where + " must be an object"};
  auto name = string_field(c, "name", where, true);
  if (!name) return name.error();
  auto image = string_field(c, "image", where, true);
  if (!image) return image.error();
  auto command = strings_field(c, "command", where);
  if (!command) return command.error();
  auto args = strings_field(c, "args", where);
  if (!args) return args.error();
  auto host_network = bool_field(pod_spec, "hostNetwork", "spec");
  if (!host_network) return host_network.error();
  auto host_pid = bool_field(pod_spec, "hostPID", "spec");
  if (!host_pid) return host_pid.error();
  auto privileged =
      bool_field(object_field(c, "securityContext"), "privileged", where + ".securityContext");
  if (!privileged) return privileged.error();

  DesiredContainer out;
  ContainerSpec& spec = out.spec;
  spec.name = fmt::format("k8s_{}_{}_{}_{}_0", name.value(), pod_name, ns, hash);
  spec.image = image.value();
  spec.entrypoint = command.value();
  spec.cmd = args.value();
  spec.network_mode = host_network.value() ? "host" : "";
  spec.pid_mode = host_pid.value() ? "host" : "";
  spec.privileged = privileged.value();
  spec.restart_policy = "no";  // the kubelet restarts its containers itself
  spec.labels = {{kPodNameLabel, pod_name},
                 {kPodNamespaceLabel, ns},
                 {kContainerNameLabel, name.value()},
                 {kPodUidLabel, hash},
                 {kManagedByLabel, kManagedByStandin}};
  for (const auto& var : array_field(c, "env")) {
    if (var.is_object() && var.contains("name") && var["name"].is_string())
      spec.env[var["name"].get<std::string>()] =
          var.contains("value") && var["value"].is_string() ? var["value"].get<std::string>() : "";
  }
  const auto volumes = host_path_volumes(pod_spec);
  for (const auto& mount : array_field(c, "volumeMounts")) {
    if (!mount.is_object()) continue;
    auto volume = string_field(mount, "name", where + ".volumeMounts", true);
    auto target = string_field(mount, "mountPath", where + ".volumeMounts", true);
    if (!volume) return volume.error();
    if (!target) return target.error();
    const auto source = volumes.find(volume.value());
    if (source == volumes.end())
      return Error{where + ": volume '" + volume.value() + "' is not a hostPath volume of the pod"};
    auto read_only = bool_field(mount, "readOnly", where + ".volumeMounts");
    if (!read_only) return read_only.error();
    spec.mounts.push_back(Mount{source->second, target.value(), read_only.value(), ""});
  }
  out.pod = ns + "/" + pod_name;
  return out;
}

// The tag of an image reference when it is a Kubernetes version ("v1.6.0").
std::optional<std::string> image_version(const std::string& image) {
  const auto colon = image.rfind(':');
  if (colon == std::string::npos || image.find('/', colon) != std::string::npos) return {};
  const std::string tag = image.substr(colon + 1);
  if (tag.empty() || tag.front() != 'v' || !stages::parse_version(tag)) return {};
  return tag;
}

}  // namespace

std::string pod_spec_hash(const json& spec) {
  std::uint32_t hash = 2166136261u;
  for (const unsigned char ch : spec.dump()) {
    hash ^= ch;
    hash *= 16777619u;
  }
  return fmt::format("{:08x}", hash);
}

Result<std::vector<DesiredContainer>> static_pod_containers(const std::string& manifest,
                                                            const std::string& node,
                                                            const std::string& kubelet_version) {
  const auto pod = json::parse(manifest, nullptr, false);
  if (pod.is_discarded()) return Error{"not JSON"};
  if (!pod.is_object()) return Error{"not a JSON object"};
  auto kind = string_field(pod, "kind", "", false);
  if (!kind) return kind.error();
  if (!kind.value().empty() && kind.value() != "Pod")
    return Error{"kind is '" + kind.value() + "', not 'Pod'"};
  const auto& metadata = object_field(pod, "metadata");
  auto name = string_field(metadata, "name", "metadata", true);
  if (!name) return name.error();
  auto ns = string_field(metadata, "namespace", "metadata", false);
  if (!ns) return ns.error();
  const auto& spec = object_field(pod, "spec");
  auto policy = string_field(spec, "restartPolicy", "spec", false);
  if (!policy) return policy.error();
  RestartPolicy restart = RestartPolicy::always;
  if (policy.value() == "OnFailure")
    restart = RestartPolicy::on_failure;
  else if (policy.value() == "Never")
    restart = RestartPolicy::never;
  else if (!policy.value().empty() && policy.value() != "Always")
    return Error{"spec.restartPolicy '" + policy.value() + "' is not Always, OnFailure or Never"};
  const auto& containers = array_field(spec, "containers");
  if (containers.empty()) return Error{"spec.containers is empty"};

  // Static pods carry the node's name, as the API server's mirror pods show them.
  const std::string pod_name = name.value() + "-" + node;
  const std::string hash = pod_spec_hash(spec);
  std::vector<DesiredContainer> out;
  for (std::size_t i = 0; i < containers.size(); ++i) {
    auto c = container_of(containers[i], i, spec, pod_name,
                          ns.value().empty() ? "default" : ns.value(), hash);
    if (!c) return c.error();
    c.value().restart = restart;
    c.value().spec.env.emplace("KNA_STANDIN_VERSION",
                               image_version(c.value().spec.image).value_or(kubelet_version));
    out.push_back(std::move(c).value());
  }
  return out;
}

}  // namespace kna::standins
