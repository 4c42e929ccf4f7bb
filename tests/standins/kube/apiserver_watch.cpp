// Watches of the kube-apiserver stand-in, served through cpp-httplib's chunked content provider:
// each call of the provider reads the store once, writes the events since the last call, then
// waits up to 200 ms (or until the stand-in stops).

#include "kube/apiserver_watch.hpp"

#include <chrono>
#include <map>
#include <set>

#include <httplib.h>

#include "kube/apiserver_objects.hpp"
#include "kube/apiserver_query.hpp"
#include "kube/standin_process.hpp"

namespace kna::standins::apiserver {

namespace {

using namespace std::chrono_literals;

constexpr auto kPollPeriod = 200ms;
constexpr long kDefaultTimeoutSeconds = 1800;

long long number_param(const httplib::Request& req, const char* name, long long fallback) {
  const auto text = req.get_param_value(name);
  if (text.empty()) return fallback;
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    return fallback;
  }
}

std::string event(const char* type, json object, const ResourceType& resource) {
  object["kind"] = resource.kind;
  object["apiVersion"] = resource.api_version();
  return json{{"type", type}, {"object", std::move(object)}}.dump() + "\n";
}

// What one watch has seen: name → the object at its last resourceVersion.
struct WatchState {
  std::map<std::string, json> seen;
  long long since{0};
  bool first{true};
  std::chrono::steady_clock::time_point deadline;
};

}  // namespace

void serve_watch(ObjectStore& objects, const ResourceType& type, const std::string& ns,
                 const StopFlag& stop, const httplib::Request& req, httplib::Response& res) {
  auto selector = NodeSelector::parse(req.get_param_value("labelSelector"),
                                      req.get_param_value("fieldSelector"));
  if (!selector) {
    res.status = selector.error().code;
    res.set_content(status_of(selector.error()).dump(), "application/json");
    return;
  }
  auto state = std::make_shared<WatchState>();
  state->since = number_param(req, "resourceVersion", 0);
  state->deadline =
      std::chrono::steady_clock::now() +
      std::chrono::seconds(number_param(req, "timeoutSeconds", kDefaultTimeoutSeconds));
  const ResourceType* t = &type;
  res.set_chunked_content_provider("application/json", [&objects, &stop, t, ns, state,
                                                        matches = std::move(selector).value()](
                                                           std::size_t, httplib::DataSink& sink) {
    if (!sink.is_writable()) return false;
    auto list = objects.list(*t, ns);
    if (!list) {
      const auto error =
          json{{"type", "ERROR"}, {"object", status_of(list.error(), t)}}.dump() + "\n";
      sink.write(error.data(), error.size());
      sink.done();
      return true;
    }
    std::string out;
    std::set<std::string> present;
    for (auto& item : list.value()["items"]) {
      if (!matches.matches(item)) continue;
      const std::string name = item["metadata"].value("name", "");
      const auto key = item["metadata"].value("namespace", "") + "/" + name;
      const auto version = std::stoll(item["metadata"].value("resourceVersion", "0"));
      present.insert(key);
      const auto it = state->seen.find(key);
      if (it == state->seen.end()) {
        // Seen for the first time: new, unless it existed at the client's resourceVersion
        // and has changed since (etcd's watch would say MODIFIED).
        const auto created =
            objects.created_revision(*t, item["metadata"].value("namespace", ""), name);
        if (!state->first)
          out += event("ADDED", item, *t);
        else if (version > state->since)
          out += event(created != 0 && created <= state->since ? "MODIFIED" : "ADDED", item, *t);
      } else if (it->second["metadata"].value("resourceVersion", "") !=
                 item["metadata"].value("resourceVersion", "")) {
        out += event("MODIFIED", item, *t);
      }
      state->seen[key] = std::move(item);
    }
    for (auto it = state->seen.begin(); it != state->seen.end();) {
      if (present.count(it->first) != 0) {
        ++it;
        continue;
      }
      out += event("DELETED", it->second, *t);
      it = state->seen.erase(it);
    }
    state->first = false;
    if (!out.empty() && !sink.write(out.data(), out.size())) return false;
    if (std::chrono::steady_clock::now() >= state->deadline || stop.wait_for(kPollPeriod))
      sink.done();
    return true;
  });
}

}  // namespace kna::standins::apiserver
