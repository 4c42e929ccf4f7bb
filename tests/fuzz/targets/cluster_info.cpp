// cluster-info as an API server answers it before anything about the server is trusted
// (src/clients/cluster_discovery.cpp): the ConfigMap's body, its kubeconfig (kubeadm's YAML or
// JSON) and the JWS beside it. Whatever the bytes, nothing throws; a kubeconfig that is read names
// a server and a CA; and a signature checked against a token either verifies or says why, never
// accepting one that was not made with the token's secret.

#include <nlohmann/json.hpp>

#include "clients/cluster_discovery.hpp"
#include "clients/join_trust.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using kna::fuzz::check;
  const std::string body(kna::fuzz::text(data, size));
  const kna::BootstrapToken token{"abcdef", "0123456789abcdef"};

  // The body as a ConfigMap.
  if (auto info = kna::parse_cluster_info(body)) {
    check(!info.value().kubeconfig.empty(), "a parsed cluster-info has a kubeconfig");
    for (const auto& [id, jws] : info.value().jws) {
      const auto ok = kna::verify_detached_jws(jws, info.value().kubeconfig, token);
      if (ok)
        check(jws == kna::sign_detached_jws(info.value().kubeconfig, token),
              "only the token's own signature verifies");
    }
  }
  // The body as the kubeconfig inside it.
  if (auto cluster = kna::kubeconfig_cluster(body)) {
    check(!cluster.value().server.empty(), "a read kubeconfig names a server");
    check(!cluster.value().ca_pem.empty(), "a read kubeconfig holds CA data");
    (void)kna::ca_pin_of(cluster.value().ca_pem);  // any bytes: a pin or an error
  }
  return 0;
}
