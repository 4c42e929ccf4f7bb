#include "stages/version.hpp"

#include <charconv>

namespace kna::stages {

namespace {

std::optional<int> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != text.npos)
    return std::nullopt;
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

}  // namespace

std::optional<Version> parse_version(std::string_view text) {
  if (!text.empty() && text.front() == 'v') text.remove_prefix(1);
  Version v;
  if (const auto dash = text.find('-'); dash != text.npos) {
    v.pre_release = std::string(text.substr(dash + 1));
    if (v.pre_release.empty()) return std::nullopt;
    text = text.substr(0, dash);
  }
  int* parts[] = {&v.major, &v.minor, &v.patch};
  int count = 0;
  while (true) {
    if (count == 3) return std::nullopt;
    const auto dot = text.find('.');
    const auto number = parse_number(text.substr(0, dot));
    if (!number) return std::nullopt;
    *parts[count++] = *number;
    if (dot == text.npos) break;
    text.remove_prefix(dot + 1);
  }
  if (count < 2) return std::nullopt;
  return v;
}

bool at_least(const std::optional<Version>& version, int major, int minor) {
  if (!version) return false;
  if (version->major != major) return version->major > major;
  return version->minor >= minor;
}

KubeletProfile kubelet_profile(const std::optional<Version>& k8s) {
  KubeletProfile profile;
  if (at_least(k8s, 1, 6)) {
    profile.api = KubeletProfile::Api::kubeconfig;
    profile.require_kubeconfig = !at_least(k8s, 1, 8);
    profile.static_pods = KubeletProfile::StaticPods::pod_manifest_path;
  }
  profile.allow_privileged = !at_least(k8s, 1, 15);
  if (at_least(k8s, 1, 24)) profile.runtime = KubeletProfile::Runtime::cri_dockerd;
  return profile;
}

KubeProxyProfile kube_proxy_profile(const std::optional<Version>& k8s) {
  KubeProxyProfile profile;
  if (at_least(k8s, 1, 6)) profile.api = KubeProxyProfile::Api::kubeconfig;
  if (at_least(k8s, 1, 7)) profile.healthz_port = 10256;
  return profile;
}

bool uses_hyperkube_control_plane(const std::optional<Version>& k8s) {
  return !at_least(k8s, 1, 19);
}

bool has_insecure_port_flag(const std::optional<Version>& k8s) {
  return !at_least(k8s, 1, 24);
}

std::string apiserver_storage_backend(const Config& cfg) {
  const bool etcd3 = at_least(parse_version(cfg.etcd_version), 3, 0) &&
                     at_least(parse_version(cfg.k8s_version), 1, 6);
  return etcd3 ? "etcd3" : "etcd2";
}

bool needs_cri_dockerd(const Config& cfg) {
  return kubelet_profile(parse_version(cfg.k8s_version)).runtime ==
         KubeletProfile::Runtime::cri_dockerd;
}

bool etcd_needs_enable_v2(const Config& cfg) {
  return cfg.flannel_etcd_api == EtcdApi::v2 && at_least(parse_version(cfg.etcd_version), 3, 4);
}

}  // namespace kna::stages
