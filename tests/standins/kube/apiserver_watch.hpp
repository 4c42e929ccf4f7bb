#pragma once
// Watch (?watch=true) on the kube-apiserver stand-in's ConfigMaps, Secrets,
// CertificateSigningRequests and RBAC objects: the real wire format (a chunked stream of JSON
// events, one a line:
// {"type":"ADDED|MODIFIED|DELETED","object":{…}}), found by reading the store every 200 ms rather
// than from etcd's own watch. From ?resourceVersion=N only changes after N are sent; without it
// (or with 0) every object first comes as ADDED. Unlike etcd's, it has no history: an object
// deleted before the watch started, or changed twice between two reads, is one event or none. Ends
// after ?timeoutSeconds= (default 1800), when the client goes, or when the stand-in stops.

#include <string>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace kna::standins {
class StopFlag;
}

namespace kna::standins::apiserver {

class ObjectStore;
struct ResourceType;

// Answers `req` with a watch of `type` in `ns` ("" for all namespaces or a cluster-scoped type),
// honouring its labelSelector and fieldSelector (metadata.name). `objects` and `stop` must outlive
// the server.
void serve_watch(ObjectStore& objects, const ResourceType& type, const std::string& ns,
                 const StopFlag& stop, const httplib::Request& req, httplib::Response& res);

}  // namespace kna::standins::apiserver
