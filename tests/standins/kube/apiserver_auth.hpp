#pragma once
// Authentication of the kube-apiserver stand-in's secure port, in the real order: a verified
// client certificate (user = CN, groups = O), then a bearer token (--token-auth-file, then a
// bootstrap token looked up as the Secret kube-system/bootstrap-token-<id>), then anonymous. A
// bearer token that nothing accepts is a 401. The insecure port authenticates nobody: every
// request there is system:unsecured in system:masters, as the real insecure port was.

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
struct Request;
}

namespace kna::standins::apiserver {

class ObjectStore;

inline constexpr const char* kAnonymous = "system:anonymous";
inline constexpr const char* kUnauthenticated = "system:unauthenticated";
inline constexpr const char* kAuthenticated = "system:authenticated";
inline constexpr const char* kMasters = "system:masters";
inline constexpr const char* kBootstrappers = "system:bootstrappers";
inline constexpr const char* kNodesGroup = "system:nodes";
inline constexpr const char* kNodeUserPrefix = "system:node:";

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;

  bool in(const std::string& group) const;
};

// One line of --token-auth-file: token,user,uid,"group1,group2".
struct StaticToken {
  std::string token;
  UserInfo user;
};

// The file's tokens, or an error naming the file and line (the real apiserver then exits).
std::variant<std::vector<StaticToken>, std::string> load_token_file(const std::string& path);

// A CSV record as Go's encoding/csv reads one: fields separated by commas, "quoted" fields with
// "" for a quote. nullopt when a quote is not closed.
std::optional<std::vector<std::string>> split_csv_line(const std::string& line);

// Why the bootstrap token `id`.`secret` is refused by `stored` (the Secret
// kube-system/bootstrap-token-<id> as stored, data base64) at `now`: logged, never sent to the
// client, which gets "Unauthorized". nullopt when it is accepted.
std::optional<std::string> bootstrap_token_refusal(const nlohmann::json& stored,
                                                   const std::string& id, const std::string& secret,
                                                   std::chrono::system_clock::time_point now);
// The groups a bootstrap token's Secret adds (auth-extra-groups, each system:bootstrappers:*).
std::vector<std::string> bootstrap_extra_groups(const nlohmann::json& stored);

class Authenticator {
 public:
  struct Options {
    bool secure{true};  // false: the insecure port, where everyone is system:unsecured
    std::vector<StaticToken> tokens;
    bool bootstrap_tokens{false};  // --enable-bootstrap-token-auth
    bool anonymous{true};          // --anonymous-auth: false makes a request without credentials
                                   // a 401
  };
  // `secrets` (for bootstrap tokens) must outlive the authenticator.
  Authenticator(Options options, ObjectStore& secrets);

  // The request's user; nullopt for a 401 (a bearer token that nothing accepts). Safe to call
  // from several threads. The client certificate comes from req.ssl, verified by the TLS
  // handshake against --client-ca-file.
  std::optional<UserInfo> authenticate(const httplib::Request& req) const;

 private:
  std::optional<UserInfo> from_token(const std::string& token) const;

  Options options_;
  ObjectStore& secrets_;
};

}  // namespace kna::standins::apiserver
