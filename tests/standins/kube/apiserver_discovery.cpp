// Discovery documents of the kube-apiserver stand-in. kubectl ≥ 1.26 first asks /api and /apis for
// aggregated discovery (application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList);
// answering with plain application/json APIVersions / APIGroupList, as servers before 1.26 did,
// makes it fall back to GET /api/v1.

#include "kube/apiserver_discovery.hpp"

#include <cstdio>

namespace kna::standins::apiserver {

using json = nlohmann::json;

json version_info(const std::string& git_version) {
  int major = 0;
  int minor = 0;
  std::sscanf(git_version.c_str(), "v%d.%d", &major, &minor);
#if defined(__aarch64__)
  const char* arch = "arm64";
#elif defined(__arm__)
  const char* arch = "arm";
#else
  const char* arch = "amd64";
#endif
  return json{{"major", std::to_string(major)},
              {"minor", std::to_string(minor)},
              {"gitVersion", git_version},
              {"gitCommit", "0000000000000000000000000000000000000000"},
              {"gitTreeState", "clean"},
              {"buildDate", "1970-01-01T00:00:00Z"},
              {"goVersion", "go1.6.2"},
              {"compiler", "gc"},
              {"platform", std::string("linux/") + arch}};
}

json api_versions(const std::string& public_address) {
  return json{{"kind", "APIVersions"},
              {"versions", {"v1"}},
              {"serverAddressByClientCIDRs",
               {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", public_address}}}}};
}

json core_v1_resources() {
  const auto resource = [](const char* name, const char* singular, bool namespaced,
                           const char* kind, json verbs, json short_names) {
    json r{{"name", name},
           {"singularName", singular},
           {"namespaced", namespaced},
           {"kind", kind},
           {"verbs", std::move(verbs)}};
    if (!short_names.empty()) r["shortNames"] = std::move(short_names);
    return r;
  };
  const json read_write{"create", "delete", "get", "list", "update"};
  // Nodes first: what the stand-in was first written for, and what its tests look up.
  return json{
      {"kind", "APIResourceList"},
      {"groupVersion", "v1"},
      {"resources",
       {resource("nodes", "node", false, "Node",
                 {"create", "delete", "get", "list", "patch", "update"}, {"no"}),
        resource("nodes/status", "", false, "Node", {"get", "patch", "update"}, json::array()),
        resource("configmaps", "configmap", true, "ConfigMap", read_write, {"cm"}),
        resource("namespaces", "namespace", false, "Namespace", {"get", "list"}, {"ns"}),
        resource("secrets", "secret", true, "Secret", read_write, json::array())}}};
}

json api_group(const std::string& group) {
  const json version{{"groupVersion", group + "/v1"}, {"version", "v1"}};
  return json{{"kind", "APIGroup"},
              {"apiVersion", "v1"},
              {"name", group},
              {"versions", {version}},
              {"preferredVersion", version}};
}

json api_groups() {
  json groups = json::array();
  for (const char* name : {"certificates.k8s.io", "rbac.authorization.k8s.io"}) {
    auto group = api_group(name);
    group.erase("kind");
    group.erase("apiVersion");
    groups.push_back(std::move(group));
  }
  return json{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(groups)}};
}

json certificates_v1_resources() {
  return json{{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", "certificates.k8s.io/v1"},
              {"resources",
               {{{"name", "certificatesigningrequests"},
                 {"singularName", "certificatesigningrequest"},
                 {"namespaced", false},
                 {"kind", "CertificateSigningRequest"},
                 {"verbs", {"create", "delete", "get", "list", "update"}},
                 {"shortNames", {"csr"}}},
                {{"name", "certificatesigningrequests/approval"},
                 {"singularName", ""},
                 {"namespaced", false},
                 {"kind", "CertificateSigningRequest"},
                 {"verbs", {"get", "update"}}}}}};
}

json rbac_v1_resources() {
  const auto resource = [](const char* name, const char* singular, bool namespaced,
                           const char* kind) {
    return json{{"name", name},
                {"singularName", singular},
                {"namespaced", namespaced},
                {"kind", kind},
                {"verbs", {"create", "delete", "get", "list", "update", "watch"}}};
  };
  return json{{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", "rbac.authorization.k8s.io/v1"},
              {"resources",
               {resource("clusterrolebindings", "clusterrolebinding", false, "ClusterRoleBinding"),
                resource("clusterroles", "clusterrole", false, "ClusterRole"),
                resource("rolebindings", "rolebinding", true, "RoleBinding"),
                resource("roles", "role", true, "Role")}}};
}

}  // namespace kna::standins::apiserver
