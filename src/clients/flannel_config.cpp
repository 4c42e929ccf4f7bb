// A config that only differs in formatting or key order is left alone, so that an agent restart
// never rewrites a key that flanneld (or an admin) wrote equivalently.

#include "clients/flannel_config.hpp"

#include <nlohmann/json.hpp>

namespace kna {

namespace {

// Another writer can slip in between our read and our create; re-reading settles it quickly.
constexpr int kAttempts = 3;

}  // namespace

const char* to_string(NetworkConfigChange change) {
  switch (change) {
    case NetworkConfigChange::created:
      return "created";
    case NetworkConfigChange::updated:
      return "updated";
    case NetworkConfigChange::unchanged:
      return "unchanged";
  }
  return "?";
}

std::string NetworkConfigOutcome::describe() const {
  std::string text = std::string(to_string(change)) + " " + key + " = " + value;
  if (change == NetworkConfigChange::updated) text += " (was " + previous + ")";
  return text;
}

std::string flannel_network_config(const std::string& network, const std::string& backend) {
  // ordered_json keeps flannel's documented key order: Network first.
  const nlohmann::ordered_json config{{"Network", network}, {"Backend", {{"Type", backend}}}};
  return config.dump();
}

std::string flannel_config_key(const std::string& prefix) {
  std::string key = prefix;
  while (!key.empty() && key.back() == '/') key.pop_back();
  return key + "/config";
}

Result<NetworkConfigOutcome> ensure_json_value(EtcdClient& etcd, const std::string& key,
                                               const std::string& value) {
  const auto wanted = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (wanted.is_discarded()) return Error{key + ": the value to write is not JSON: " + value};
  NetworkConfigOutcome outcome;
  outcome.key = key;
  outcome.value = value;

  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto current = etcd.get(key);
    if (!current) return current.error().to_error();
    if (!current.value()) {
      auto created = etcd.create(key, value, std::chrono::seconds(0));
      if (!created) return created.error().to_error();
      if (created.value()) {
        outcome.change = NetworkConfigChange::created;
        return outcome;
      }
      continue;  // someone created it meanwhile: compare with theirs
    }
    const auto& existing = current.value()->value;
    const auto parsed = nlohmann::json::parse(existing, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded() && parsed == wanted) {
      outcome.change = NetworkConfigChange::unchanged;
      outcome.value = existing;
      return outcome;
    }
    auto put = etcd.put(key, value);
    if (!put) return put.error().to_error();
    outcome.change = NetworkConfigChange::updated;
    outcome.previous = existing;
    return outcome;
  }
  return Error{key + " kept changing while writing it"};
}

Result<NetworkConfigOutcome> ensure_network_config(EtcdClient& etcd, const std::string& prefix,
                                                   const std::string& network,
                                                   const std::string& backend) {
  if (network.empty()) return Error{"flannel network config: the network is empty"};
  if (backend.empty()) return Error{"flannel network config: the backend type is empty"};
  auto outcome =
      ensure_json_value(etcd, flannel_config_key(prefix), flannel_network_config(network, backend));
  if (!outcome) return Error{"flannel network config: " + outcome.error().message};
  return outcome;
}

}  // namespace kna
