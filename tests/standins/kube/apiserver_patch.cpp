// Patches of Nodes for the kube-apiserver stand-in. Strategic merge follows Kubernetes' rules for
// the Node fields that carry a patch strategy (a kubelet's status heartbeat merges
// status.conditions by "type"); every other list is replaced, as for fields without one.

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "kube/apiserver_node.hpp"

namespace kna::standins::apiserver {

namespace {

// patchStrategy=merge lists of v1.Node and their patchMergeKey, by JSON path.
const std::map<std::string, std::string>& merge_keys() {
  static const std::map<std::string, std::string> keys{
      {"/metadata/ownerReferences", "uid"}, {"/spec/taints", "key"},
      {"/status/conditions", "type"},       {"/status/addresses", "type"},
      {"/status/volumesAttached", "name"},
  };
  return keys;
}

// patchStrategy=merge lists of scalars: merged as sets.
bool merged_scalar_list(const std::string& path) {
  return path == "/metadata/finalizers" || path == "/spec/podCIDRs";
}

constexpr std::string_view kSetElementOrder = "$setElementOrder/";
constexpr std::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList/";

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.rfind(prefix, 0) == 0;
}

// The patch without its directives, for a value that has nothing to merge into.
json without_directives(const json& patch) {
  if (patch.is_object()) {
    json out = json::object();
    for (const auto& [key, value] : patch.items()) {
      if (starts_with(key, "$")) continue;
      if (value.is_null()) continue;
      out[key] = without_directives(value);
    }
    return out;
  }
  if (patch.is_array()) {
    json out = json::array();
    for (const auto& item : patch)
      if (!(item.is_object() && item.contains("$patch"))) out.push_back(without_directives(item));
    return out;
  }
  return patch;
}

json merge_map(json original, const json& patch, const std::string& path);

json merge_keyed_list(json original, const json& patch, const std::string& key,
                      const std::string& path) {
  if (!original.is_array()) original = json::array();
  for (const auto& item : patch) {
    if (item.is_object() && item.value("$patch", "") == "replace") return without_directives(patch);
  }
  for (const auto& item : patch) {
    if (!item.is_object() || !item.contains(key))
      throw std::invalid_argument("list " + path + ": every item needs the merge key \"" + key +
                                  "\"");
    const auto existing = std::find_if(original.begin(), original.end(), [&](const json& o) {
      return o.is_object() && o.contains(key) && o.at(key) == item.at(key);
    });
    if (item.value("$patch", "") == "delete") {
      if (existing != original.end()) original.erase(existing);
    } else if (existing != original.end()) {
      *existing = merge_map(*existing, item, path);
    } else {
      original.push_back(without_directives(item));
    }
  }
  return original;
}

json merge_scalar_list(json original, const json& patch) {
  if (!original.is_array()) original = json::array();
  for (const auto& item : patch)
    if (std::find(original.begin(), original.end(), item) == original.end())
      original.push_back(item);
  return original;
}

// $setElementOrder/<list>: the listed items first, in that order, then the others as they were.
json reorder(const json& list, const json& order, const std::string& key) {
  if (!list.is_array() || !order.is_array()) return list;
  json out = json::array();
  std::vector<bool> used(list.size(), false);
  for (const auto& wanted : order) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (used[i]) continue;
      const bool match =
          key.empty() ? list[i] == wanted
                      : (list[i].is_object() && wanted.is_object() && list[i].contains(key) &&
                         wanted.contains(key) && list[i].at(key) == wanted.at(key));
      if (match) {
        out.push_back(list[i]);
        used[i] = true;
        break;
      }
    }
  }
  for (std::size_t i = 0; i < list.size(); ++i)
    if (!used[i]) out.push_back(list[i]);
  return out;
}

json merge_map(json original, const json& patch, const std::string& path) {
  if (!patch.is_object()) return patch;
  if (!original.is_object()) original = json::object();
  if (patch.value("$patch", "") == "replace") return without_directives(patch);
  for (const auto& [field, value] : patch.items()) {
    if (starts_with(field, "$")) continue;
    const std::string child = path + "/" + field;
    if (value.is_null()) {
      original.erase(field);
    } else if (value.is_object() && value.value("$patch", "") == "delete") {
      original.erase(field);
    } else if (value.is_object()) {
      original[field] =
          merge_map(original.contains(field) ? original[field] : json(), value, child);
    } else if (value.is_array() && merge_keys().count(child) != 0) {
      original[field] = merge_keyed_list(original.contains(field) ? original[field] : json(), value,
                                         merge_keys().at(child), child);
    } else if (value.is_array() && merged_scalar_list(child)) {
      original[field] =
          merge_scalar_list(original.contains(field) ? original[field] : json(), value);
    } else {
      original[field] = without_directives(value);
    }
  }
  for (const auto& [directive, value] : patch.items()) {
    if (starts_with(directive, kDeleteFromPrimitiveList)) {
      const auto field = directive.substr(kDeleteFromPrimitiveList.size());
      if (!original.contains(field) || !original[field].is_array() || !value.is_array()) continue;
      auto& list = original[field];
      for (const auto& gone : value)
        list.erase(std::remove(list.begin(), list.end(), gone), list.end());
    } else if (starts_with(directive, kSetElementOrder)) {
      const auto field = directive.substr(kSetElementOrder.size());
      if (!original.contains(field)) continue;
      const auto key = merge_keys().find(path + "/" + field);
      original[field] =
          reorder(original[field], value, key == merge_keys().end() ? "" : key->second);
    } else if (directive == "$retainKeys" && value.is_array()) {
      std::set<std::string> keep;
      for (const auto& k : value)
        if (k.is_string()) keep.insert(k.get<std::string>());
      for (auto it = original.begin(); it != original.end();) {
        if (keep.count(it.key()) == 0)
          it = original.erase(it);
        else
          ++it;
      }
    }
  }
  return original;
}

}  // namespace

std::optional<PatchType> patch_type(const std::string& content_type) {
  const auto media = content_type.substr(0, content_type.find(';'));
  if (media == "application/merge-patch+json") return PatchType::merge;
  if (media == "application/strategic-merge-patch+json") return PatchType::strategic_merge;
  if (media == "application/json-patch+json") return PatchType::json_patch;
  return std::nullopt;
}

json apply_patch(const json& node, const json& patch, PatchType type) {
  switch (type) {
    case PatchType::merge: {
      if (!patch.is_object()) throw std::invalid_argument("a merge patch must be a JSON object");
      json out = node;
      out.merge_patch(patch);
      return out;
    }
    case PatchType::strategic_merge:
      if (!patch.is_object())
        throw std::invalid_argument("a strategic merge patch must be a JSON object");
      return merge_map(node, patch, "");
    case PatchType::json_patch:
      if (!patch.is_array()) throw std::invalid_argument("a JSON patch must be a JSON array");
      return node.patch(patch);
  }
  throw std::invalid_argument("unknown patch type");
}

}  // namespace kna::standins::apiserver
