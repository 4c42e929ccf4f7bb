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
  return json{{"kind", "APIResourceList"},
              {"groupVersion", "v1"},
              {"resources",
               {{{"name", "nodes"},
                 {"singularName", "node"},
                 {"namespaced", false},
                 {"kind", "Node"},
                 {"verbs", {"create", "delete", "get", "list", "patch", "update"}},
                 {"shortNames", {"no"}}},
                {{"name", "nodes/status"},
                 {"singularName", ""},
                 {"namespaced", false},
                 {"kind", "Node"},
                 {"verbs", {"get", "patch", "update"}}}}}};
}

json api_groups() {
  return json{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", json::array()}};
}

}  // namespace kna::standins::apiserver
