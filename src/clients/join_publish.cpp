#include "clients/join_publish.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "clients/etcd_encoding.hpp"
#include "clients/kube_api.hpp"
#include "core/join_token.hpp"

namespace kna {

namespace {

using Json = nlohmann::json;

constexpr const char* kRbac = "/apis/rbac.authorization.k8s.io/v1";
// kubeadm's group for its default tokens; its bindings name it.
constexpr const char* kTokenGroup = "system:bootstrappers:kubeadm:default-node-token";

Json cluster_role_binding(const std::string& name, const std::string& role,
                          const std::string& group) {
  return Json{
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "ClusterRoleBinding"},
      {"metadata", {{"name", name}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role}}},
      {"subjects",
       Json::array(
           {{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", group}}})}};
}

// The kind of an object in a collection path's last segment ("clusterrolebindings").
std::string resource_of(const std::string& collection) {
  return collection.substr(collection.rfind('/') + 1);
}

// What the server said, shortened: a Status's message, else the body's start.
std::string answer_of(int status, const std::string& body) {
  const auto parsed = Json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string())
    return fmt::format("{} ({})", parsed["message"].get<std::string>(), status);
  return fmt::format("{} {}", status, body.substr(0, 200));
}

}  // namespace

std::vector<ApiObject> join_objects(const std::string& server, const std::string& ca_pem,
                                    const std::string& token) {
  const std::string crbs = std::string(kRbac) + "/clusterrolebindings";
  std::vector<ApiObject> objects{
      // A token may ask for a node certificate, and is approved automatically; a node may renew
      // its own (kubeadm's three bindings).
      {crbs,
       cluster_role_binding("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", kTokenGroup)},
      {crbs, cluster_role_binding(
                 "kubeadm:node-autoapprove-bootstrap",
                 "system:certificates.k8s.io:certificatesigningrequests:nodeclient", kTokenGroup)},
      {crbs,
       cluster_role_binding("kubeadm:node-autoapprove-certificate-rotation",
                            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                            "system:nodes")},
      // A worker's kube-proxy runs as its node (docs/joining.md).
      {crbs,
       cluster_role_binding("kube-node-agent:node-proxier", "system:node-proxier", "system:nodes")},
      // Anyone may read cluster-info: discovery asks before it trusts anything.
      {std::string(kRbac) + "/namespaces/kube-public/roles",
       Json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
            {"kind", "Role"},
            {"metadata",
             {{"name", "kubeadm:bootstrap-signer-clusterinfo"}, {"namespace", "kube-public"}}},
            {"rules", Json::array({{{"apiGroups", {""}},
                                    {"resources", {"configmaps"}},
                                    {"resourceNames", {"cluster-info"}},
                                    {"verbs", {"get"}}}})}}},
      {std::string(kRbac) + "/namespaces/kube-public/rolebindings",
       Json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
            {"kind", "RoleBinding"},
            {"metadata",
             {{"name", "kubeadm:bootstrap-signer-clusterinfo"}, {"namespace", "kube-public"}}},
            {"roleRef",
             {{"apiGroup", "rbac.authorization.k8s.io"},
              {"kind", "Role"},
              {"name", "kubeadm:bootstrap-signer-clusterinfo"}}},
            {"subjects", Json::array({{{"apiGroup", "rbac.authorization.k8s.io"},
                                       {"kind", "User"},
                                       {"name", "system:anonymous"}}})}}},
  };

  const Json kubeconfig{
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters",
       Json::array({{{"name", ""},
                     {"cluster",
                      {{"server", server},
                       {"certificate-authority-data", etcd::base64_encode(ca_pem)}}}}})},
      {"contexts", Json::array()},
      {"users", Json::array()},
      {"current-context", ""},
  };
  objects.push_back({"/api/v1/namespaces/kube-public/configmaps",
                     Json{{"apiVersion", "v1"},
                          {"kind", "ConfigMap"},
                          {"metadata", {{"name", "cluster-info"}, {"namespace", "kube-public"}}},
                          {"data", {{"kubeconfig", kubeconfig.dump(2) + "\n"}}}}});

  if (auto parsed = parse_bootstrap_token(token)) {
    const auto& t = parsed.value();
    const auto b64 = [](const std::string& s) { return etcd::base64_encode(s); };
    objects.push_back(
        {"/api/v1/namespaces/kube-system/secrets",
         Json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", "bootstrap-token-" + t.id}, {"namespace", "kube-system"}}},
              {"type", "bootstrap.kubernetes.io/token"},
              {"data",
               {{"description", b64("kube-node-agent: the master's cluster.token")},
                {"token-id", b64(t.id)},
                {"token-secret", b64(t.secret)},
                {"usage-bootstrap-authentication", b64("true")},
                {"usage-bootstrap-signing", b64("true")},
                {"auth-extra-groups", b64(kTokenGroup)}}}}});
  }
  return objects;
}

Json object_update(const Json& desired, const Json& existing) {
  if (existing.is_null() || !existing.is_object()) return desired;
  Json updated = existing;
  bool differs = false;
  for (const auto& [key, value] : desired.items()) {
    if (key == "metadata" || key == "apiVersion" || key == "kind") continue;
    if (key == "data" && value.is_object()) {
      // Only the entries this agent owns; the bootstrap signer adds its own to cluster-info.
      if (!updated["data"].is_object()) updated["data"] = Json::object();
      for (const auto& [entry, text] : value.items()) {
        if (updated["data"].value(entry, Json()) == text) continue;
        updated["data"][entry] = text;
        differs = true;
      }
      continue;
    }
    if (updated.value(key, Json()) != value) {
      updated[key] = value;
      differs = true;
    }
  }
  return differs ? updated : Json();
}

Result<std::vector<std::string>> publish_join_info(const PublishRequest& r) {
  std::ifstream in(r.ca_file, std::ios::binary);
  std::stringstream ca;
  ca << in.rdbuf();
  if (!in || ca.str().empty())
    return Error{
        fmt::format("cannot read the cluster CA {} to publish in cluster-info", r.ca_file)};
  const KubeApiClient api(r.api_server, "", r.timeout, r.user_agent,
                          ApiTls{r.ca_file, r.client_cert_file, r.client_cert_file});
  // A 401 or 403: the credentials are not the admin's.
  const auto hint = [&](int status) {
    return status == 401 || status == 403
               ? fmt::format(
                     "; the master publishes as its admin: {} must hold a certificate "
                     "in system:masters signed by the cluster CA",
                     r.client_cert_file)
               : std::string();
  };
  std::vector<std::string> done;
  for (const auto& object : join_objects(r.api_server, ca.str(), r.token)) {
    const std::string what = fmt::format("{} {}", resource_of(object.collection), object.name());
    const std::string item = object.collection + "/" + object.name();
    auto got = api.get(item);
    if (!got) return Error{fmt::format("cannot publish {}: {}", what, got.error().message)};
    const auto [status, body] = got.value();
    Json existing;
    if (status == 200) {
      existing = Json::parse(body, nullptr, false);
      if (!existing.is_object())
        return Error{
            fmt::format("cannot publish {}: the API server {} answered 200 with no "
                        "JSON object",
                        what, r.api_server)};
    } else if (status != 404) {
      return Error{fmt::format("cannot publish {}: the API server {} answered {}{}", what,
                               r.api_server, answer_of(status, body), hint(status))};
    }
    const Json update = object_update(object.body, existing);
    if (update.is_null()) continue;
    const bool create = existing.is_null();
    auto sent = create ? api.send("POST", object.collection, update.dump())
                       : api.send("PUT", item, update.dump());
    if (!sent) return Error{fmt::format("cannot publish {}: {}", what, sent.error().message)};
    const int code = sent.value().first;
    if (code != 200 && code != 201)
      return Error{fmt::format("cannot {} {}: the API server {} answered {}{}",
                               create ? "create" : "replace", what, r.api_server,
                               answer_of(code, sent.value().second), hint(code))};
    done.push_back(fmt::format("{} {}", create ? "created" : "replaced", what));
  }
  return done;
}

}  // namespace kna
