// Authorization of the kube-apiserver stand-in: request attributes and the fixed rules.

#include "kube/apiserver_authz.hpp"

#include <algorithm>
#include <initializer_list>
#include <vector>

#include <fmt/format.h>

#include "kube/apiserver_objects.hpp"
#include "kube/apiserver_query.hpp"

namespace kna::standins::apiserver {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start < path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

bool one_of(const std::string& value, std::initializer_list<const char*> set) {
  return std::any_of(set.begin(), set.end(), [&](const char* s) { return value == s; });
}

bool reads(const RequestAttributes& r) {
  return one_of(r.verb, {"get", "list", "watch"});
}

bool public_info(const RequestAttributes& r) {
  if (r.resource_request) {
    return r.verb == "get" && r.api_group.empty() && r.ns == "kube-public" &&
           r.resource == "configmaps" && r.subresource.empty() && r.name == "cluster-info";
  }
  return r.verb == "get" && one_of(r.path, {"/healthz", "/livez", "/readyz", "/version",
                                            "/version/", "/standin/requests"});
}

bool discovery(const RequestAttributes& r) {
  if (r.resource_request || r.verb != "get") return false;
  const auto under = [&](const std::string& prefix) {
    return r.path == prefix || r.path.rfind(prefix + "/", 0) == 0;
  };
  return under("/api") || under("/apis") || under("/openapi") || public_info(r);
}

bool csr_access(const RequestAttributes& r) {
  return r.resource_request && r.api_group == "certificates.k8s.io" &&
         r.resource == "certificatesigningrequests" && r.subresource.empty() &&
         one_of(r.verb, {"create", "get", "list", "watch"});
}

bool core(const RequestAttributes& r, std::initializer_list<const char*> resources) {
  return r.resource_request && r.api_group.empty() && one_of(r.resource, resources);
}

// The Node authorizer and the system:node role, loosely: every node readable, its own writable.
bool node_access(const std::string& node, const RequestAttributes& r) {
  if (csr_access(r)) return true;
  if (core(r, {"services", "endpoints"}) && reads(r)) return true;
  if (!core(r, {"nodes"})) return false;
  if (reads(r) || r.verb == "create") return true;
  return one_of(r.verb, {"update", "patch", "delete"}) && r.name == node;
}

}  // namespace

RequestAttributes request_attributes(const std::string& method, const std::string& path,
                                     const std::string& watch_param) {
  RequestAttributes r;
  r.path = path;
  r.verb = method;
  std::transform(r.verb.begin(), r.verb.end(), r.verb.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto parts = split_path(path);
  if (parts.size() < 3 || (parts[0] != "api" && parts[0] != "apis")) return r;
  std::size_t i = 1;
  if (parts[0] == "apis") {
    if (parts.size() < 4) return r;
    r.api_group = parts[i++];
  }
  ++i;  // the version
  r.resource_request = true;
  if (method == "POST")
    r.verb = "create";
  else if (method == "GET" || method == "HEAD")
    r.verb = "get";
  else if (method == "PUT")
    r.verb = "update";
  else if (method == "PATCH")
    r.verb = "patch";
  else if (method == "DELETE")
    r.verb = "delete";
  std::vector<std::string> rest(parts.begin() + static_cast<long>(i), parts.end());
  if (!rest.empty() && rest[0] == "namespaces" && rest.size() > 1) {
    r.ns = rest[1];
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize")
      rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.size() >= 3) r.subresource = rest[2];
  if (rest.size() >= 2) r.name = rest[1];
  if (!rest.empty()) r.resource = rest[0];
  if (r.name.empty() && r.verb == "get") r.verb = is_watch(watch_param) ? "watch" : "list";
  if (r.name.empty() && r.verb == "delete") r.verb = "deletecollection";
  return r;
}

std::optional<ApiError> authorize(const UserInfo& user, const RequestAttributes& r) {
  if (user.in(kMasters) ||
      one_of(user.name, {"system:kube-controller-manager", "system:kube-scheduler"}))
    return std::nullopt;
  if (public_info(r)) return std::nullopt;
  const bool authenticated = user.in(kAuthenticated);
  if (authenticated && discovery(r)) return std::nullopt;
  if (user.in(kBootstrappers) && csr_access(r)) return std::nullopt;
  if (user.in(kNodesGroup) && user.name.rfind(kNodeUserPrefix, 0) == 0 &&
      node_access(user.name.substr(std::string(kNodeUserPrefix).size()), r))
    return std::nullopt;
  if (user.name == "system:kube-proxy" && reads(r) &&
      (core(r, {"nodes", "services", "endpoints"}) ||
       (r.api_group == "discovery.k8s.io" && r.resource == "endpointslices")))
    return std::nullopt;

  std::string why;
  if (!r.resource_request) {
    why = fmt::format("User \"{}\" cannot {} path \"{}\"", user.name, r.verb, r.path);
    return ApiError{403, "Forbidden", "forbidden: " + why, ""};
  }
  const auto resource = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
  if (!r.ns.empty())
    why = fmt::format(
        "User \"{}\" cannot {} resource \"{}\" in API group \"{}\" in the namespace "
        "\"{}\"",
        user.name, r.verb, resource, r.api_group, r.ns);
  else
    why = fmt::format(
        "User \"{}\" cannot {} resource \"{}\" in API group \"{}\" at the cluster "
        "scope",
        user.name, r.verb, resource, r.api_group);
  const auto qualified = r.api_group.empty() ? r.resource : r.resource + "." + r.api_group;
  const auto message = r.name.empty()
                           ? fmt::format("{} is forbidden: {}", qualified, why)
                           : fmt::format("{} \"{}\" is forbidden: {}", qualified, r.name, why);
  return ApiError{403, "Forbidden", message, r.name};
}

json forbidden_status(const ApiError& error, const RequestAttributes& r) {
  json details = json::object();
  if (!r.name.empty()) details["name"] = r.name;
  if (!r.api_group.empty()) details["group"] = r.api_group;
  if (r.resource_request) details["kind"] = r.resource;
  return json{{"kind", "Status"},           {"apiVersion", "v1"},
              {"metadata", json::object()}, {"status", "Failure"},
              {"message", error.message},   {"reason", "Forbidden"},
              {"details", details},         {"code", 403}};
}

}  // namespace kna::standins::apiserver
