// Request options of the kube-apiserver stand-in.

#include "kube/apiserver_query.hpp"

#include <map>

namespace kna::standins::apiserver {

namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

std::vector<std::string> split(const std::string& s, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto end = s.find(separator, start);
    parts.push_back(
        trim(s.substr(start, end == std::string::npos ? std::string::npos : end - start)));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

}  // namespace

std::optional<std::string> table_version(const std::string& accept) {
  for (const auto& entry : split(accept, ',')) {
    const auto parts = split(entry, ';');
    const auto& media = parts.front();
    std::map<std::string, std::string> params;
    for (std::size_t i = 1; i < parts.size(); ++i) {
      const auto eq = parts[i].find('=');
      if (eq != std::string::npos) params[parts[i].substr(0, eq)] = parts[i].substr(eq + 1);
    }
    if (media == "application/json" && params["as"] == "Table" && params["g"] == "meta.k8s.io" &&
        (params["v"] == "v1" || params["v"] == "v1beta1"))
      return "meta.k8s.io/" + params["v"];
    if ((media == "application/json" && params.count("as") == 0) || media == "*/*" || media.empty())
      return std::nullopt;
  }
  return std::nullopt;
}

bool is_watch(const std::string& watch_param) {
  return watch_param == "true" || watch_param == "1";
}

ApiResult<NodeSelector> NodeSelector::parse(const std::string& label_selector,
                                            const std::string& field_selector) {
  NodeSelector selector;
  for (const bool field : {false, true}) {
    const auto& text = field ? field_selector : label_selector;
    if (trim(text).empty()) continue;
    if (text.find('(') != std::string::npos)
      return bad_request("set-based selectors are not supported by the kube-apiserver stand-in");
    for (const auto& term : split(text, ',')) {
      Requirement r;
      r.field = field;
      std::size_t at = std::string::npos;
      std::size_t width = 0;
      if ((at = term.find("!=")) != std::string::npos) {
        r.op = Op::not_equals;
        width = 2;
      } else if ((at = term.find("==")) != std::string::npos) {
        r.op = Op::equals;
        width = 2;
      } else if ((at = term.find('=')) != std::string::npos) {
        r.op = Op::equals;
        width = 1;
      }
      if (at != std::string::npos) {
        r.key = trim(term.substr(0, at));
        r.value = trim(term.substr(at + width));
      } else if (!field && !term.empty() && term.front() == '!') {
        r.op = Op::not_exists;
        r.key = trim(term.substr(1));
      } else if (!field) {
        r.op = Op::exists;
        r.key = term;
      }
      if (r.key.empty()) return bad_request("unable to parse requirement: \"" + term + "\"");
      if (field && r.key != "metadata.name")
        return bad_request("field label not supported: " + r.key);
      selector.requirements_.push_back(std::move(r));
    }
  }
  return selector;
}

bool NodeSelector::matches(const json& node) const {
  for (const auto& r : requirements_) {
    std::optional<std::string> actual;
    if (r.field) {
      actual = node.value("/metadata/name"_json_pointer, std::string());
    } else if (node.contains("/metadata/labels"_json_pointer)) {
      const auto& labels = node.at("/metadata/labels"_json_pointer);
      if (labels.is_object() && labels.contains(r.key) && labels.at(r.key).is_string())
        actual = labels.at(r.key).get<std::string>();
    }
    switch (r.op) {
      case Op::equals:
        if (actual != r.value) return false;
        break;
      case Op::not_equals:
        if (actual == r.value) return false;
        break;
      case Op::exists:
        if (!actual) return false;
        break;
      case Op::not_exists:
        if (actual) return false;
        break;
    }
  }
  return true;
}

}  // namespace kna::standins::apiserver
