// Routes of the kube-apiserver stand-in for namespaces, ConfigMaps, Secrets,
// CertificateSigningRequests and RBAC objects (cpp-httplib; handlers run on its thread pool).

#include "kube/apiserver_resources.hpp"

#include <httplib.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "clients/join_trust.hpp"
#include "kube/apiserver_csr.hpp"
#include "kube/apiserver_discovery.hpp"
#include "kube/apiserver_encoding.hpp"
#include "kube/apiserver_node.hpp"
#include "kube/apiserver_objects.hpp"
#include "kube/apiserver_protobuf.hpp"
#include "kube/apiserver_query.hpp"
#include "kube/apiserver_tables.hpp"
#include "kube/apiserver_watch.hpp"

namespace kna::standins::apiserver {

namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kCsrs = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

void send_json(httplib::Response& res, int code, const json& body) {
  res.status = code;
  res.set_content(body.dump(), kJson);
}

void send_error(httplib::Response& res, const ApiError& error, const ResourceType* type) {
  send_json(res, error.code, status_of(error, type));
}

void send_result(httplib::Response& res, ApiResult<json> result, const ResourceType* type,
                 int code = 200) {
  if (result)
    send_json(res, code, result.value());
  else
    send_error(res, result.error(), type);
}

// A read: a list or one object, as a Table when the client asks for one (kubectl get).
void send_read(httplib::Response& res, const httplib::Request& req, const ResourceType* type,
               ApiResult<json> result, bool list) {
  if (!result) return send_error(res, result.error(), type);
  if (const auto table = table_version(req.get_header_value("Accept"))) {
    std::vector<json> items;
    if (list)
      items.assign(result.value()["items"].begin(), result.value()["items"].end());
    else
      items.push_back(result.value());
    const auto version = result.value()["metadata"].value("resourceVersion", "");
    return send_json(res, 200,
                     object_table(*type, items, version, *table,
                                  req.get_param_value("includeObject"), Clock::now()));
  }
  send_json(res, 200, result.value());
}

// The object sent for `type`: JSON, or protobuf where client-go sends it (apiserver_protobuf.hpp).
ApiResult<json> body_of(const httplib::Request& req, const ResourceType& type) {
  if (is_protobuf(req.get_header_value("Content-Type"))) return decode_protobuf(type, req.body);
  auto body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return bad_request("the request body is not a JSON object");
  return body;
}

ApiResult<json> selected(ApiResult<json> list, const httplib::Request& req) {
  if (!list) return list;
  auto selector = NodeSelector::parse(req.get_param_value("labelSelector"),
                                      req.get_param_value("fieldSelector"));
  if (!selector) return selector.error();
  json items = json::array();
  for (auto& item : list.value()["items"])
    if (selector.value().matches(item)) items.push_back(std::move(item));
  list.value()["items"] = std::move(items);
  return list;
}

json namespace_object(const std::string& name) {
  return json{{"kind", "Namespace"},
              {"apiVersion", "v1"},
              {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/metadata.name", name}}}}},
              {"spec", {{"finalizers", {"kubernetes"}}}},
              {"status", {{"phase", "Active"}}}};
}

// What kube-controller-manager's bootstrapsigner adds to cluster-info: for every bootstrap token
// Secret with usage-bootstrap-signing=true that has not expired, the detached JWS of the
// kubeconfig keyed by the token.
void add_bootstrap_signatures(ObjectStore& objects, json& cluster_info) {
  if (!cluster_info.contains("data") || !cluster_info["data"].is_object()) return;
  const auto kubeconfig = cluster_info["data"].value("kubeconfig", "");
  if (kubeconfig.empty()) return;
  auto tokens = objects.list(secrets(), "kube-system");
  if (!tokens) return;
  const auto field = [](const json& secret, const char* key) {
    if (!secret.contains("data") || !secret["data"].contains(key)) return std::string();
    return base64_decode(secret["data"].value(key, "")).value_or("");
  };
  for (const auto& secret : tokens.value()["items"]) {
    if (secret.value("type", "") != "bootstrap.kubernetes.io/token") continue;
    if (field(secret, "usage-bootstrap-signing") != "true") continue;
    const auto expiration = field(secret, "expiration");
    if (!expiration.empty()) {
      const auto when = parse_time(expiration);
      if (!when || *when < Clock::now()) continue;
    }
    const BootstrapToken token{field(secret, "token-id"), field(secret, "token-secret")};
    if (token.id.empty() || token.secret.empty()) continue;
    cluster_info["data"]["jws-kubeconfig-" + token.id] = sign_detached_jws(kubeconfig, token);
  }
}

// A path for a route's regular expression: dots are literal.
std::string literal(const std::string& path) {
  std::string out;
  for (const char c : path) {
    if (c == '.') out += '\\';
    out += c;
  }
  return out;
}

// The routes of one type under its group version's path: the collection (list, watch, create)
// and its items (get, replace, delete); a namespaced type's collection is per namespace, and
// also listed and watched across them (/api/v1/configmaps).
void install_objects(httplib::Server& server, ObjectStore& objects, const ResourceType& type,
                     const StopFlag& stop) {
  const auto base = literal(type.api_path());
  const auto collection = type.namespaced
                              ? fmt::format("{}/namespaces/([^/]+)/{}", base, type.resource)
                              : fmt::format("{}/{}", base, type.resource);
  const auto item = collection + "/([^/]+)";
  // The namespace and the name in a route's matches; "" for the namespace of a cluster-scoped
  // type.
  const std::size_t name_at = type.namespaced ? 2 : 1;
  const auto ns_of = [namespaced = type.namespaced](const httplib::Request& req) {
    return namespaced ? std::string(req.matches[1]) : std::string();
  };
  const ResourceType* t = &type;
  if (type.namespaced) {
    server.Get(fmt::format("{}/{}", base, type.resource),
               [&objects, &stop, t](const httplib::Request& req, httplib::Response& res) {
                 if (is_watch(req.get_param_value("watch")))
                   return serve_watch(objects, *t, "", stop, req, res);
                 send_read(res, req, t, selected(objects.list(*t, ""), req), true);
               });
  }
  server.Get(collection,
             [&objects, &stop, t, ns_of](const httplib::Request& req, httplib::Response& res) {
               if (is_watch(req.get_param_value("watch")))
                 return serve_watch(objects, *t, ns_of(req), stop, req, res);
               send_read(res, req, t, selected(objects.list(*t, ns_of(req)), req), true);
             });
  server.Post(collection,
              [&objects, t, ns_of](const httplib::Request& req, httplib::Response& res) {
                auto body = body_of(req, *t);
                if (!body) return send_error(res, body.error(), t);
                send_result(res, objects.create(*t, ns_of(req), std::move(body).value()), t, 201);
              });
  server.Get(item,
             [&objects, t, ns_of, name_at](const httplib::Request& req, httplib::Response& res) {
               const std::string ns = ns_of(req);
               const std::string name = req.matches[name_at];
               auto object = objects.get(*t, ns, name);
               if (object && t == &configmaps() && ns == "kube-public" && name == "cluster-info")
                 add_bootstrap_signatures(objects, object.value());
               send_read(res, req, t, std::move(object), false);
             });
  server.Put(
      item, [&objects, t, ns_of, name_at](const httplib::Request& req, httplib::Response& res) {
        auto body = body_of(req, *t);
        if (!body) return send_error(res, body.error(), t);
        send_result(
            res, objects.replace(*t, ns_of(req), req.matches[name_at], std::move(body).value()), t);
      });
  server.Delete(item,
                [&objects, t, ns_of, name_at](const httplib::Request& req, httplib::Response& res) {
                  send_result(res, objects.remove(*t, ns_of(req), req.matches[name_at]), t);
                });
}

void install_csrs(httplib::Server& server, ObjectStore& objects, CsrController& csrs,
                  const UserOf& user_of, const StopFlag& stop) {
  const ResourceType* t = &certificate_signing_requests();
  server.Get(R"(/apis/certificates\.k8s\.io/?)",
             [](const httplib::Request&, httplib::Response& res) {
               send_json(res, 200, api_group("certificates.k8s.io"));
             });
  server.Get(R"(/apis/certificates\.k8s\.io/v1/?)",
             [](const httplib::Request&, httplib::Response& res) {
               send_json(res, 200, certificates_v1_resources());
             });
  server.Get(kCsrs, [&objects, &stop, t](const httplib::Request& req, httplib::Response& res) {
    if (is_watch(req.get_param_value("watch"))) return serve_watch(objects, *t, "", stop, req, res);
    send_read(res, req, t, selected(objects.list(*t, ""), req), true);
  });
  server.Post(
      kCsrs, [&objects, &csrs, user_of, t](const httplib::Request& req, httplib::Response& res) {
        auto body = body_of(req, *t);
        if (!body) return send_error(res, body.error(), t);
        const auto user = user_of(req);
        if (!user)
          return send_error(res, ApiError{401, "Unauthorized", "Unauthorized", ""}, nullptr);
        auto csr = csr_for_create(std::move(body).value(), *user);
        if (!csr) return send_error(res, csr.error(), t);
        auto created = objects.create(*t, "", std::move(csr).value());
        if (!created) return send_error(res, created.error(), t);
        // Answered as created, status empty; the approval and the certificate are there for the
        // next read, as after kube-controller-manager's controllers.
        send_json(res, 201, created.value());
        csrs.process(created.value()["metadata"].value("name", ""));
      });
  const std::string item = std::string(kCsrs) + "/([^/]+)";
  server.Get(item, [&objects, t](const httplib::Request& req, httplib::Response& res) {
    send_read(res, req, t, objects.get(*t, "", req.matches[1]), false);
  });
  server.Delete(item, [&objects, t](const httplib::Request& req, httplib::Response& res) {
    send_result(res, objects.remove(*t, "", req.matches[1]), t);
  });
  // `kubectl certificate approve|deny`: the body's conditions replace the stored ones.
  server.Put(item + "/approval",
             [&objects, &csrs, t](const httplib::Request& req, httplib::Response& res) {
               auto body = body_of(req, *t);
               if (!body) return send_error(res, body.error(), t);
               const std::string name = req.matches[1];
               auto updated = objects.modify(*t, "", name, [&](json csr) -> ApiResult<json> {
                 const auto& status = body.value()["status"];
                 csr["status"]["conditions"] = status.is_object() && status.contains("conditions")
                                                   ? status["conditions"]
                                                   : json::array();
                 return csr;
               });
               if (!updated) return send_error(res, updated.error(), t);
               csrs.process(name);
               send_result(res, objects.get(*t, "", name), t);
             });
}

}  // namespace

void install_resource_routes(httplib::Server& server, ObjectStore& objects, CsrController& csrs,
                             UserOf user_of, const StopFlag& stop) {
  server.Get("/api/v1/namespaces", [](const httplib::Request&, httplib::Response& res) {
    json items = json::array();
    for (const char* name : {"default", "kube-node-lease", "kube-public", "kube-system"})
      items.push_back(namespace_object(name));
    send_json(res, 200,
              json{{"kind", "NamespaceList"},
                   {"apiVersion", "v1"},
                   {"metadata", {{"resourceVersion", "1"}}},
                   {"items", std::move(items)}});
  });
  server.Get(R"(/api/v1/namespaces/([^/]+))", [](const httplib::Request& req,
                                                 httplib::Response& res) {
    const std::string name = req.matches[1];
    if (!builtin_namespace(name))
      return send_json(res, 404,
                       status_of(ApiError{404, "NotFound",
                                          fmt::format("namespaces \"{}\" not found", name), name}));
    send_json(res, 200, namespace_object(name));
  });
  install_objects(server, objects, configmaps(), stop);
  install_objects(server, objects, secrets(), stop);
  install_csrs(server, objects, csrs, user_of, stop);
  // RBAC: stored and served, not evaluated (the secure port's authorizer has fixed rules).
  server.Get(R"(/apis/rbac\.authorization\.k8s\.io/?)",
             [](const httplib::Request&, httplib::Response& res) {
               send_json(res, 200, api_group("rbac.authorization.k8s.io"));
             });
  server.Get(R"(/apis/rbac\.authorization\.k8s\.io/v1/?)",
             [](const httplib::Request&, httplib::Response& res) {
               send_json(res, 200, rbac_v1_resources());
             });
  for (const auto* type : {&cluster_roles(), &cluster_role_bindings(), &roles(), &role_bindings()})
    install_objects(server, objects, *type, stop);
}

}  // namespace kna::standins::apiserver
