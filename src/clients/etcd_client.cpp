// EtcdClient: each operation in its v2 and v3 form, over etcd::Http.

#include "clients/etcd_client.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "clients/etcd_codec.hpp"
#include "clients/etcd_http.hpp"

namespace kna {

namespace {

constexpr const char* kForm = "application/x-www-form-urlencoded";
constexpr const char* kJson = "application/json";

using etcd::HttpAnswer;
using etcd::Method;

EtcdError bad_response(const HttpAnswer& answer, const std::string& what,
                       const std::string& detail) {
  return EtcdError{EtcdErrorKind::bad_response, answer.endpoint,
                   fmt::format("etcd at {}: {}: {}", answer.endpoint, what, detail)};
}

EtcdError not_found(const HttpAnswer& answer, const std::string& what) {
  return EtcdError{EtcdErrorKind::not_found, answer.endpoint,
                   fmt::format("etcd at {}: {}", answer.endpoint, what)};
}

// What an answer that is not the expected one says, for the error message.
std::string unexpected(const HttpAnswer& answer, EtcdApi api) {
  if (auto v2 = etcd::parse_v2_error(answer.body)) return v2->describe();
  if (auto v3 = etcd::parse_v3_error(answer.body)) return *v3;
  // etcd 3.4+ answers the v2 paths with a plain 404 unless v2 is switched on; etcd 2 has no v3.
  if (answer.status == 404 && answer.body.rfind("404 page not found", 0) == 0)
    return api == EtcdApi::v2 ? "HTTP 404: this etcd does not serve the v2 keys API (etcd 3.4+ "
                                "needs --enable-v2=true)"
                              : "HTTP 404: this etcd does not serve the v3 API (etcd 2.x?)";
  std::string body = answer.body.substr(0, 200);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  return fmt::format("HTTP {}: '{}'", answer.status, body);
}

bool is_v2_error(const HttpAnswer& answer, int code) {
  const auto error = etcd::parse_v2_error(answer.body);
  return error && error->code == code;
}

std::string form_value(const std::string& value) {
  return "value=" + etcd::url_encode(value);
}

void sort_by_key(std::vector<EtcdKeyValue>& kvs) {
  std::sort(kvs.begin(), kvs.end(),
            [](const EtcdKeyValue& a, const EtcdKeyValue& b) { return a.key < b.key; });
}

}  // namespace

const char* to_string(EtcdErrorKind kind) {
  switch (kind) {
    case EtcdErrorKind::unreachable:
      return "unreachable";
    case EtcdErrorKind::timeout:
      return "timeout";
    case EtcdErrorKind::not_found:
      return "not found";
    case EtcdErrorKind::bad_response:
      return "bad response";
    case EtcdErrorKind::unhealthy:
      return "unhealthy";
  }
  return "?";
}

Result<std::vector<std::string>> parse_etcd_endpoints(std::string_view comma_list) {
  std::vector<std::string> endpoints;
  std::size_t pos = 0;
  while (pos <= comma_list.size()) {
    const auto comma = comma_list.find(',', pos);
    const auto item =
        comma_list.substr(pos, comma == comma_list.npos ? comma_list.npos : comma - pos);
    pos = comma == comma_list.npos ? comma_list.size() + 1 : comma + 1;
    if (item.empty()) continue;
    std::string endpoint(item);
    if (auto problem = etcd::endpoint_problem(endpoint)) return Error{*problem};
    endpoints.push_back(std::move(endpoint));
  }
  if (endpoints.empty()) return Error{"no etcd endpoints given"};
  return endpoints;
}

class EtcdClient::Impl {
 public:
  explicit Impl(EtcdOptions options)
      : api_(options.api), http_(std::move(options.endpoints), options.timeout) {}

  EtcdApi api_;
  etcd::Http http_;

  EtcdResult<HttpAnswer> v3(const char* path, const std::string& body) {
    return http_.send(Method::post, path, body, kJson);
  }

  // A v3 answer that must be 200 and parse with `parse`.
  template <typename T, typename Parse>
  EtcdResult<T> v3_call(const char* path, const std::string& body, const std::string& what,
                        Parse parse) {
    auto answer = v3(path, body);
    if (!answer) return answer.error();
    if (answer.value().status != 200)
      return bad_response(answer.value(), what, unexpected(answer.value(), EtcdApi::v3));
    auto parsed = parse(answer.value().body);
    if (!parsed) return bad_response(answer.value(), what, parsed.error().message);
    return std::move(parsed).value();
  }

  EtcdResult<std::optional<EtcdKeyValue>> get_v2(const std::string& key) {
    const auto target = etcd::v2_key_path(key);
    auto answer = http_.send(Method::get, target, "", "");
    if (!answer) return answer.error();
    const auto& a = answer.value();
    if (a.status == 404 && is_v2_error(a, etcd::kV2KeyNotFound))
      return std::optional<EtcdKeyValue>();
    const auto what = "get " + key;
    if (a.status != 200) return bad_response(a, what, unexpected(a, EtcdApi::v2));
    auto kv = etcd::parse_v2_value(a.body);
    if (!kv) return bad_response(a, what, kv.error().message);
    return std::optional<EtcdKeyValue>(std::move(kv).value());
  }

  EtcdResult<std::optional<EtcdKeyValue>> get_v3(const std::string& key) {
    auto kvs = v3_call<std::vector<EtcdKeyValue>>("/v3/kv/range",
                                                  etcd::v3_range_request(key, std::nullopt),
                                                  "get " + key, etcd::parse_v3_range);
    if (!kvs) return kvs.error();
    if (kvs.value().empty()) return std::optional<EtcdKeyValue>();
    return std::optional<EtcdKeyValue>(std::move(kvs.value().front()));
  }

  EtcdResult<std::int64_t> put_v2(const std::string& key, const std::string& value) {
    auto answer = http_.send(Method::put, etcd::v2_key_path(key), form_value(value), kForm);
    if (!answer) return answer.error();
    const auto& a = answer.value();
    const auto what = "put " + key;
    if (a.status != 200 && a.status != 201)
      return bad_response(a, what, unexpected(a, EtcdApi::v2));
    auto kv = etcd::parse_v2_value(a.body);
    if (!kv) return bad_response(a, what, kv.error().message);
    return kv.value().revision;
  }

  EtcdResult<bool> create_v2(const std::string& key, const std::string& value,
                             std::chrono::seconds ttl) {
    auto target = etcd::v2_key_path(key) + "?prevExist=false";
    if (ttl.count() > 0) target += "&ttl=" + std::to_string(ttl.count());
    auto answer = http_.send(Method::put, target, form_value(value), kForm);
    if (!answer) return answer.error();
    const auto& a = answer.value();
    if (a.status == 201 || a.status == 200) return true;
    if (a.status == 412 && is_v2_error(a, etcd::kV2NodeExist)) return false;
    return bad_response(a, "create " + key, unexpected(a, EtcdApi::v2));
  }

  EtcdResult<bool> create_v3(const std::string& key, const std::string& value,
                             std::chrono::seconds ttl) {
    std::int64_t lease = 0;
    if (ttl.count() > 0) {
      auto granted =
          v3_call<std::int64_t>("/v3/lease/grant", etcd::v3_lease_grant_request(ttl.count()),
                                "grant a lease for " + key, etcd::parse_v3_lease_grant);
      if (!granted) return granted.error();
      lease = granted.value();
    }
    auto won = v3_call<bool>("/v3/kv/txn", etcd::v3_create_txn_request(key, value, lease),
                             "create " + key, etcd::parse_v3_txn_succeeded);
    if (lease != 0 && !(won && won.value())) {
      // The lease guards nothing; revoking it is tidiness only, since it expires anyway.
      (void)v3("/v3/lease/revoke", etcd::v3_lease_id_request(lease));
    }
    return won;
  }

  EtcdResult<EtcdDone> refresh_v2(const std::string& key, std::chrono::seconds ttl) {
    const auto target =
        etcd::v2_key_path(key) + "?prevExist=true&refresh=true&ttl=" + std::to_string(ttl.count());
    auto answer = http_.send(Method::put, target, "", kForm);
    if (!answer) return answer.error();
    const auto& a = answer.value();
    if (a.status == 200) return EtcdDone{};
    if (a.status == 404 && is_v2_error(a, etcd::kV2KeyNotFound))
      return not_found(a, "key " + key + " not found, nothing to refresh");
    return bad_response(a, "refresh " + key, unexpected(a, EtcdApi::v2));
  }

  EtcdResult<EtcdDone> refresh_v3(const std::string& key) {
    auto current = get_v3(key);
    if (!current) return current.error();
    const auto endpoint = http_.current_endpoint();
    if (!current.value())
      return EtcdError{
          EtcdErrorKind::not_found, endpoint,
          fmt::format("etcd at {}: key {} not found, nothing to refresh", endpoint, key)};
    const auto lease = current.value()->lease;
    if (lease == 0)
      return EtcdError{EtcdErrorKind::bad_response, endpoint,
                       fmt::format("etcd at {}: key {} has no lease to keep alive", endpoint, key)};
    auto ttl =
        v3_call<std::int64_t>("/v3/lease/keepalive", etcd::v3_lease_id_request(lease),
                              "keep alive the lease of " + key, etcd::parse_v3_keepalive_ttl);
    if (!ttl) return ttl.error();
    if (ttl.value() == 0)
      return EtcdError{EtcdErrorKind::not_found, endpoint,
                       fmt::format("etcd at {}: the lease of key {} expired", endpoint, key)};
    return EtcdDone{};
  }

  EtcdResult<std::vector<EtcdKeyValue>> list_v2(const std::string& prefix) {
    auto answer = http_.send(Method::get, etcd::v2_key_path(prefix) + "?recursive=true", "", "");
    if (!answer) return answer.error();
    const auto& a = answer.value();
    if (a.status == 404 && is_v2_error(a, etcd::kV2KeyNotFound)) return std::vector<EtcdKeyValue>();
    const auto what = "list " + prefix;
    if (a.status != 200) return bad_response(a, what, unexpected(a, EtcdApi::v2));
    auto kvs = etcd::parse_v2_nodes(a.body);
    if (!kvs) return bad_response(a, what, kvs.error().message);
    sort_by_key(kvs.value());
    return std::move(kvs).value();
  }

  EtcdResult<bool> remove_v2(const std::string& key) {
    auto answer = http_.send(Method::del, etcd::v2_key_path(key), "", "");
    if (!answer) return answer.error();
    const auto& a = answer.value();
    if (a.status == 200) return true;
    if (a.status == 404 && is_v2_error(a, etcd::kV2KeyNotFound)) return false;
    return bad_response(a, "delete " + key, unexpected(a, EtcdApi::v2));
  }

  EtcdResult<EtcdDone> health() {
    auto answer = http_.send(Method::get, "/health", "", "");
    if (!answer) return answer.error();
    const auto& a = answer.value();
    auto healthy = etcd::parse_health(a.body);
    if (!healthy)
      return bad_response(a, "GET /health",
                          a.status == 200 ? healthy.error().message : unexpected(a, api_));
    if (!healthy.value())
      return EtcdError{EtcdErrorKind::unhealthy, a.endpoint,
                       fmt::format("etcd at {}: unhealthy (GET /health answered HTTP {}: {})",
                                   a.endpoint, a.status, a.body)};
    return EtcdDone{};
  }
};

EtcdClient::EtcdClient(EtcdOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
EtcdClient::~EtcdClient() = default;
EtcdClient::EtcdClient(EtcdClient&&) noexcept = default;
EtcdClient& EtcdClient::operator=(EtcdClient&&) noexcept = default;

EtcdApi EtcdClient::api() const {
  return impl_->api_;
}
const std::vector<std::string>& EtcdClient::endpoints() const {
  return impl_->http_.endpoints();
}

EtcdResult<std::optional<EtcdKeyValue>> EtcdClient::get(const std::string& key) {
  return impl_->api_ == EtcdApi::v2 ? impl_->get_v2(key) : impl_->get_v3(key);
}

EtcdResult<std::int64_t> EtcdClient::put(const std::string& key, const std::string& value) {
  if (impl_->api_ == EtcdApi::v2) return impl_->put_v2(key, value);
  return impl_->v3_call<std::int64_t>("/v3/kv/put", etcd::v3_put_request(key, value, 0),
                                      "put " + key, etcd::parse_v3_revision);
}

EtcdResult<bool> EtcdClient::create(const std::string& key, const std::string& value,
                                    std::chrono::seconds ttl) {
  if (ttl.count() < 0) throw std::invalid_argument("etcd create: negative ttl for " + key);
  return impl_->api_ == EtcdApi::v2 ? impl_->create_v2(key, value, ttl)
                                    : impl_->create_v3(key, value, ttl);
}

EtcdResult<EtcdDone> EtcdClient::refresh(const std::string& key, std::chrono::seconds ttl) {
  if (ttl.count() <= 0)
    throw std::invalid_argument("etcd refresh: ttl must be positive for " + key);
  return impl_->api_ == EtcdApi::v2 ? impl_->refresh_v2(key, ttl) : impl_->refresh_v3(key);
}

EtcdResult<std::vector<EtcdKeyValue>> EtcdClient::list(const std::string& prefix) {
  if (impl_->api_ == EtcdApi::v2) return impl_->list_v2(prefix);
  return impl_->v3_call<std::vector<EtcdKeyValue>>(
      "/v3/kv/range", etcd::v3_range_request(prefix, etcd::prefix_range_end(prefix)),
      "list " + prefix, etcd::parse_v3_range);
}

EtcdResult<bool> EtcdClient::remove(const std::string& key) {
  if (impl_->api_ == EtcdApi::v2) return impl_->remove_v2(key);
  auto deleted = impl_->v3_call<std::int64_t>("/v3/kv/deleterange", etcd::v3_delete_request(key),
                                              "delete " + key, etcd::parse_v3_deleted);
  if (!deleted) return deleted.error();
  return deleted.value() > 0;
}

EtcdResult<EtcdDone> EtcdClient::health() {
  return impl_->health();
}

}  // namespace kna
