#pragma once
// Request options of the kube-apiserver stand-in: the Table content negotiation of kubectl's
// server-side printing, watch, and equality-based label and field selectors on node lists.

#include <optional>
#include <string>
#include <vector>

#include "kube/apiserver_store.hpp"

namespace kna::standins::apiserver {

// "meta.k8s.io/v1" (or v1beta1) when the Accept header's first media type this server can answer
// is a meta.k8s.io Table; nullopt for plain JSON.
std::optional<std::string> table_version(const std::string& accept);

// The watch query parameter asks for a watch ("true" or "1").
bool is_watch(const std::string& watch_param);

// labelSelector (k=v, k==v, k!=v, k, !k, comma-separated) and fieldSelector (metadata.name only).
class NodeSelector {
 public:
  static ApiResult<NodeSelector> parse(const std::string& label_selector,
                                       const std::string& field_selector);
  bool matches(const json& node) const;

 private:
  enum class Op { equals, not_equals, exists, not_exists };
  struct Requirement {
    bool field{false};  // metadata.name rather than a label
    std::string key;
    Op op{Op::exists};
    std::string value;
  };
  std::vector<Requirement> requirements_;
};

}  // namespace kna::standins::apiserver
