// Authentication of the kube-apiserver stand-in: client certificates (OpenSSL, through the peer
// of cpp-httplib's SSL connection), static and bootstrap bearer tokens, anonymous.

#include "kube/apiserver_auth.hpp"

#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <fstream>
#include <regex>

#include <httplib.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kube/apiserver_encoding.hpp"
#include "kube/apiserver_node.hpp"
#include "kube/apiserver_objects.hpp"

namespace kna::standins::apiserver {

namespace {

constexpr const char* kBootstrapTokenType = "bootstrap.kubernetes.io/token";

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto end = comma == std::string::npos ? text.size() : comma;
    if (end > start) parts.push_back(text.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

// The entries of a name's attribute, as UTF-8.
std::vector<std::string> name_entries(const X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n < 0) continue;
    out.emplace_back(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
  }
  return out;
}

std::optional<std::string> bearer_token(const httplib::Request& req) {
  const auto header = req.get_header_value("Authorization");
  if (header.size() < 7) return std::nullopt;
  std::string scheme = header.substr(0, 7);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "bearer ") return std::nullopt;
  auto token = header.substr(7);
  token.erase(0, token.find_first_not_of(' '));
  while (!token.empty() && token.back() == ' ') token.pop_back();
  if (token.empty()) return std::nullopt;  // the real one then goes on to anonymous
  return token;
}

std::string secret_field(const json& stored, const std::string& key) {
  if (!stored.contains("data") || !stored["data"].is_object()) return "";
  const auto& data = stored["data"];
  if (!data.contains(key) || !data[key].is_string()) return "";
  return base64_decode(data[key].get<std::string>()).value_or("");
}

}  // namespace

bool UserInfo::in(const std::string& group) const {
  return std::find(groups.begin(), groups.end(), group) != groups.end();
}

std::optional<std::vector<std::string>> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::size_t i = 0;
  for (;;) {
    field.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      for (;;) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
    } else {
      while (i < line.size() && line[i] != ',') field += line[i++];
    }
    fields.push_back(field);
    if (i >= line.size()) return fields;
    if (line[i] != ',') return std::nullopt;  // text after a closing quote
    ++i;
  }
}

std::variant<std::vector<StaticToken>, std::string> load_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fmt::format("cannot read the token file {}", path);
  std::vector<StaticToken> tokens;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto fields = split_csv_line(line);
    if (!fields) return fmt::format("{}: line {}: a quote is not closed", path, number);
    if (fields->size() < 3)
      return fmt::format(
          "token file '{}' must have at least 3 columns (token, user name, user "
          "uid), found {}",
          path, fields->size());
    StaticToken token{(*fields)[0], UserInfo{(*fields)[1], (*fields)[2], {}}};
    if (token.token.empty()) continue;
    if (fields->size() >= 4) token.user.groups = split_commas((*fields)[3]);
    if (std::any_of(tokens.begin(), tokens.end(),
                    [&](const StaticToken& t) { return t.token == token.token; }))
      spdlog::warn("duplicate token found for user {} in {}", token.user.name, path);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

std::optional<std::string> bootstrap_token_refusal(const json& stored, const std::string& id,
                                                   const std::string& secret,
                                                   std::chrono::system_clock::time_point now) {
  if (stored.value("type", "") != kBootstrapTokenType)
    return fmt::format("its Secret has type \"{}\", not {}", stored.value("type", ""),
                       kBootstrapTokenType);
  if (secret_field(stored, "token-id") != id) return "its Secret's token-id is another";
  const auto expected = secret_field(stored, "token-secret");
  if (expected.size() != secret.size() ||
      CRYPTO_memcmp(expected.data(), secret.data(), secret.size()) != 0)
    return "the token's secret does not match";
  const auto expiration = secret_field(stored, "expiration");
  if (!expiration.empty()) {
    const auto when = parse_time(expiration);
    if (!when) return fmt::format("its expiration \"{}\" is not RFC 3339", expiration);
    if (*when < now) return fmt::format("it expired at {}", expiration);
  }
  if (secret_field(stored, "usage-bootstrap-authentication") != "true")
    return "its Secret lacks usage-bootstrap-authentication=true";
  return std::nullopt;
}

std::vector<std::string> bootstrap_extra_groups(const json& stored) {
  std::vector<std::string> groups;
  for (auto& group : split_commas(secret_field(stored, "auth-extra-groups"))) {
    group.erase(0, group.find_first_not_of(' '));
    while (!group.empty() && group.back() == ' ') group.pop_back();
    // The real one refuses other groups outright; the stand-in ignores them.
    if (group.rfind(std::string(kBootstrappers) + ":", 0) == 0) groups.push_back(group);
  }
  return groups;
}

Authenticator::Authenticator(Options options, ObjectStore& secrets)
    : options_(std::move(options)), secrets_(secrets) {}

std::optional<UserInfo> Authenticator::authenticate(const httplib::Request& req) const {
  if (!options_.secure) return UserInfo{"system:unsecured", "", {kMasters, kAuthenticated}};

  if (req.ssl != nullptr) {
    // Only a certificate the handshake verified against --client-ca-file is ever here: a
    // failed verification ends the handshake.
    const X509* cert = SSL_get0_peer_certificate(req.ssl);
    if (cert != nullptr && SSL_get_verify_result(req.ssl) == X509_V_OK) {
      const X509_NAME* subject = X509_get_subject_name(cert);
      const auto names = name_entries(subject, NID_commonName);
      if (names.empty() || names.front().empty()) {
        spdlog::warn("Refusing a client certificate without a common name");
        return std::nullopt;
      }
      UserInfo user{names.front(), "", name_entries(subject, NID_organizationName)};
      user.groups.push_back(kAuthenticated);
      return user;
    }
  }
  if (const auto token = bearer_token(req)) {
    auto user = from_token(*token);
    if (!user) return std::nullopt;
    if (!user->in(kAuthenticated)) user->groups.push_back(kAuthenticated);
    return user;
  }
  if (!options_.anonymous) return std::nullopt;
  return UserInfo{kAnonymous, "", {kUnauthenticated}};
}

std::optional<UserInfo> Authenticator::from_token(const std::string& token) const {
  for (const auto& t : options_.tokens) {
    if (t.token.size() == token.size() &&
        CRYPTO_memcmp(t.token.data(), token.data(), token.size()) == 0)
      return t.user;
  }
  static const std::regex kBootstrapToken("([a-z0-9]{6})\\.([a-z0-9]{16})");
  std::smatch match;
  if (!options_.bootstrap_tokens || !std::regex_match(token, match, kBootstrapToken)) {
    spdlog::info("Unable to authenticate the request: invalid bearer token");
    return std::nullopt;
  }
  const std::string id = match[1];
  auto stored = secrets_.get(secrets(), "kube-system", "bootstrap-token-" + id);
  if (!stored) {
    spdlog::info("Unable to authenticate bootstrap token {}: {}", id, stored.error().message);
    return std::nullopt;
  }
  if (auto refusal =
          bootstrap_token_refusal(stored.value(), id, match[2], std::chrono::system_clock::now())) {
    spdlog::info("Unable to authenticate bootstrap token {}: {}", id, *refusal);
    return std::nullopt;
  }
  UserInfo user{"system:bootstrap:" + id, "", {kBootstrappers}};
  for (auto& group : bootstrap_extra_groups(stored.value())) user.groups.push_back(group);
  return user;
}

}  // namespace kna::standins::apiserver
