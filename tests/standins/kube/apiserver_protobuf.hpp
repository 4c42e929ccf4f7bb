#pragma once
// Request bodies in Kubernetes' protobuf encoding (Content-Type
// application/vnd.kubernetes.protobuf), which client-go's typed clients send when configured so
// (`kubectl create rolebinding` does): the envelope ("k8s\0", then a runtime.Unknown holding
// apiVersion, kind and the object) and the messages of k8s.io/api's generated.proto for the types
// that arrive that way, decoded to the JSON that the stand-in stores. RBAC's four types only; the
// answers stay JSON, which those clients also accept.

#include <string>

#include "kube/apiserver_objects.hpp"

namespace kna::standins::apiserver {

// True for Kubernetes' protobuf media type (parameters ignored).
bool is_protobuf(const std::string& content_type);

// The object in `body` as JSON (kind and apiVersion from the envelope; empty strings, zero numbers
// and empty lists left out, as Go's omitempty would). A 415 for a type the stand-in cannot decode,
// a 400 for a body that is not what `type` sends, or that has a field the stand-in does not know.
ApiResult<json> decode_protobuf(const ResourceType& type, const std::string& body);

}  // namespace kna::standins::apiserver
