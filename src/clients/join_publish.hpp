#pragma once
// What a TLS master publishes for the workers, as `kubeadm init` leaves it (its bootstrap-token
// and cluster-info phases): kubeadm's RBAC bindings for nodes joining by token, the kube-public
// cluster-info ConfigMap (the server and its CA, readable without credentials), and the bootstrap
// token Secret. Asked of the master's own API server as the admin. Blocking; for worker threads.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kna/error.hpp"
#include "kna/time.hpp"

namespace kna {

// One object: its collection's path ("/api/v1/namespaces/kube-public/configmaps") and body.
struct ApiObject {
  std::string collection;
  nlohmann::json body;
  std::string name() const { return body["metadata"].value("name", ""); }
};

// What the master publishes, in order: the RBAC objects (so that a token works the moment it
// appears), cluster-info (a kubeconfig naming `server` with `ca_pem`), and, for a `token`, its
// Secret (usable for authentication and for cluster-info's signatures, in kubeadm's
// default-node-token group; no expiry: it lasts as long as cluster.token names it).
std::vector<ApiObject> join_objects(const std::string& server, const std::string& ca_pem,
                                    const std::string& token);

// `desired` against what the server holds (`existing`, or null when there is none): null when
// they agree on everything `desired` says (a data map may hold more, such as cluster-info's
// signatures); else the body to store: `existing` with `desired`'s content laid over it.
nlohmann::json object_update(const nlohmann::json& desired, const nlohmann::json& existing);

struct PublishRequest {
  std::string api_server;  // "https://192.168.1.50:6443"
  std::string ca_file;
  std::string client_cert_file;  // the admin's certificate and key (PEM)
  std::string token;             // may be empty
  Millis timeout{5'000};
  std::string user_agent;
};

// Each object created when missing and replaced when it differs. What was done ("created
// clusterrolebinding kubeadm:kubelet-bootstrap", nothing when all matched), or the first failure
// naming the object and the server's answer.
Result<std::vector<std::string>> publish_join_info(const PublishRequest& request);

}  // namespace kna
