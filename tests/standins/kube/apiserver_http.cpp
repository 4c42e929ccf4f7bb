// HTTP routes of the kube-apiserver stand-in (cpp-httplib; handlers run on its thread pool).

#include "kube/apiserver_http.hpp"

#include <httplib.h>

#include <spdlog/spdlog.h>

#include "kube/apiserver_discovery.hpp"
#include "kube/apiserver_node.hpp"
#include "kube/apiserver_query.hpp"
#include "kube/apiserver_store.hpp"

namespace kna::standins::apiserver {

namespace {

constexpr const char* kJson = "application/json";
constexpr const char* kNodePath = R"(/api/v1/nodes/([^/]+))";
constexpr const char* kNodeStatusPath = R"(/api/v1/nodes/([^/]+)/status)";

void send_json(httplib::Response& res, int code, const json& body) {
  res.status = code;
  res.set_content(body.dump(), kJson);
}

void send_error(httplib::Response& res, const ApiError& error) {
  json status{{"kind", "Status"},          {"apiVersion", "v1"},       {"metadata", json::object()},
              {"status", "Failure"},       {"message", error.message}, {"reason", error.reason},
              {"details", json::object()}, {"code", error.code}};
  if (!error.name.empty()) status["details"] = {{"name", error.name}, {"kind", "nodes"}};
  send_json(res, error.code, status);
}

void send_result(httplib::Response& res, ApiResult<json> result, int code = 200) {
  if (result)
    send_json(res, code, result.value());
  else
    send_error(res, result.error());
}

ApiError path_not_found() {
  return ApiError{404, "NotFound", "the server could not find the requested resource", ""};
}

// A request body that must be a Node object.
ApiResult<json> node_body(const httplib::Request& req) {
  auto body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return bad_request("the request body is not a JSON object");
  if (body.value("kind", "Node") != "Node" || body.value("apiVersion", "v1") != "v1")
    return bad_request("the request body is not a v1 Node");
  return body;
}

// A node as read: what the node lifecycle controller would show (see observed_node).
json observed(json node) {
  return observed_node(std::move(node), Clock::now());
}

void get_nodes(NodeStore& store, const httplib::Request& req, httplib::Response& res) {
  if (is_watch(req.get_param_value("watch"))) {
    send_error(res, ApiError{405, "MethodNotAllowed",
                             "watch is not supported by the kube-apiserver stand-in", ""});
    return;
  }
  auto selector = NodeSelector::parse(req.get_param_value("labelSelector"),
                                      req.get_param_value("fieldSelector"));
  if (!selector) return send_error(res, selector.error());
  auto list = store.list();
  if (!list) return send_error(res, list.error());
  json items = json::array();
  for (auto& node : list.value()["items"])
    if (selector.value().matches(node)) items.push_back(observed(std::move(node)));
  const auto version = list.value()["metadata"].value("resourceVersion", "");
  if (const auto table = table_version(req.get_header_value("Accept"))) {
    std::vector<json> nodes(items.begin(), items.end());
    return send_json(
        res, 200,
        node_table(nodes, version, *table, req.get_param_value("includeObject"), Clock::now()));
  }
  list.value()["items"] = std::move(items);
  send_json(res, 200, list.value());
}

void get_node(NodeStore& store, const httplib::Request& req, httplib::Response& res) {
  auto node = store.get(req.matches[1]);
  if (!node) return send_error(res, node.error());
  json shown = observed(std::move(node).value());
  if (const auto table = table_version(req.get_header_value("Accept"))) {
    const auto version = shown["metadata"].value("resourceVersion", "");
    return send_json(
        res, 200,
        node_table({shown}, version, *table, req.get_param_value("includeObject"), Clock::now()));
  }
  send_json(res, 200, shown);
}

void patch_node(NodeStore& store, NodePart part, const httplib::Request& req,
                httplib::Response& res) {
  const auto type = patch_type(req.get_header_value("Content-Type"));
  if (!type)
    return send_error(res, ApiError{415, "UnsupportedMediaType",
                                    "the body of the request was in an unknown format - accepted "
                                    "media types include: application/json-patch+json, "
                                    "application/merge-patch+json, "
                                    "application/strategic-merge-patch+json",
                                    ""});
  auto patch = json::parse(req.body, nullptr, false);
  if (patch.is_discarded()) return send_error(res, bad_request("the patch is not valid JSON"));
  send_result(res, store.patch(req.matches[1], patch, *type, part));
}

void put_node(NodeStore& store, NodePart part, const httplib::Request& req,
              httplib::Response& res) {
  auto body = node_body(req);
  if (!body) return send_error(res, body.error());
  send_result(res, store.update(req.matches[1], std::move(body).value(), part));
}

}  // namespace

void install_routes(httplib::Server& server, NodeStore& store, const ServerInfo& info) {
  server.Get("/healthz", [&store](const httplib::Request&, httplib::Response& res) {
    auto health = store.health();
    if (health) {
      res.set_content("ok", "text/plain; charset=utf-8");
      return;
    }
    res.status = 500;
    res.set_content("[+]ping ok\n[-]etcd failed: etcd is unreachable: " + health.error().message +
                        "\nhealthz check failed\n",
                    "text/plain; charset=utf-8");
  });
  server.Get("/version", [version = version_info(info.git_version)](const httplib::Request&,
                                                                    httplib::Response& res) {
    send_json(res, 200, version);
  });
  server.Get("/api/?", [versions = api_versions(info.public_address)](const httplib::Request&,
                                                                      httplib::Response& res) {
    send_json(res, 200, versions);
  });
  server.Get("/api/v1/?", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, core_v1_resources());
  });
  server.Get("/apis/?", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, api_groups());
  });

  server.Get("/api/v1/nodes", [&store](const httplib::Request& req, httplib::Response& res) {
    get_nodes(store, req, res);
  });
  server.Post("/api/v1/nodes", [&store](const httplib::Request& req, httplib::Response& res) {
    auto body = node_body(req);
    if (!body) return send_error(res, body.error());
    send_result(res, store.create(std::move(body).value()), 201);
  });
  server.Get(kNodePath, [&store](const httplib::Request& req, httplib::Response& res) {
    get_node(store, req, res);
  });
  server.Get(kNodeStatusPath, [&store](const httplib::Request& req, httplib::Response& res) {
    auto node = store.get(req.matches[1]);
    if (!node) return send_error(res, node.error());
    send_json(res, 200, observed(std::move(node).value()));
  });
  for (const auto& [path, part] :
       {std::pair{kNodePath, NodePart::main}, std::pair{kNodeStatusPath, NodePart::status}}) {
    server.Put(path, [&store, part = part](const httplib::Request& req, httplib::Response& res) {
      put_node(store, part, req, res);
    });
    server.Patch(path, [&store, part = part](const httplib::Request& req, httplib::Response& res) {
      patch_node(store, part, req, res);
    });
  }
  server.Delete(kNodePath, [&store](const httplib::Request& req, httplib::Response& res) {
    send_result(res, store.remove(req.matches[1]));
  });

  // Everything else, /openapi/v2 and /openapi/v3 included: kubectl then does without.
  const auto unknown = [](const httplib::Request&, httplib::Response& res) {
    send_error(res, path_not_found());
  };
  server.Get(".*", unknown);
  server.Post(".*", unknown);
  server.Put(".*", unknown);
  server.Patch(".*", unknown);
  server.Delete(".*", unknown);
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) send_error(res, path_not_found());
  });
  server.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        try {
          std::rethrow_exception(ep);
        } catch (const json::exception& e) {
          // A field of the wrong JSON type in what the client sent.
          send_error(res, bad_request(std::string("the object is malformed: ") + e.what()));
        } catch (const std::exception& e) {
          spdlog::error("{} {}: {}", req.method, req.path, e.what());
          send_error(res, ApiError{500, "InternalError",
                                   std::string("Internal error occurred: ") + e.what(), ""});
        } catch (...) {
          spdlog::error("{} {}: unknown exception", req.method, req.path);
          send_error(res, ApiError{500, "InternalError", "Internal error occurred", ""});
        }
      });
  if (info.verbosity >= 3) {
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      spdlog::info("{} {}: {} [{} {}:{}]", req.method, req.target, res.status,
                   req.get_header_value("User-Agent"), req.remote_addr, req.remote_port);
    });
  }
}

}  // namespace kna::standins::apiserver
