#pragma once
// Secrets kept out of everything the agent shows: `plan`, `config`, `status`, its log, its
// messages (docs/security.md). One rule for every place, so that a token hidden in `plan` is not
// printed by the launch log line.
//
// A value is secret when the name it is given under looks secret: a flag (`--token=abc`,
// `--token abc`), an environment variable (`KNA_API_TOKEN`), a JSON or NAME=VALUE key
// (`client-key-data`, `key=abc`). Besides, a bearer credential (`Authorization: Bearer abc`) and
// the password of a URL (`https://user:pass@host`) are secret wherever they appear.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kna {

inline constexpr std::string_view kRedacted = "<redacted>";

// True when a value given under `name` is a secret. The name is cut into words (at '-', '_', '.',
// and where a lower-case letter meets an upper-case one: "apiToken"); it is secret when a word is
// or contains token, password, passwd, secret or credential, or is key, apikey, pass, pwd, auth
// or bearer. A name whose last word says the value is where to find the secret (file, path, dir,
// hash: `--token-file`, `--tls-private-key-file`, `--discovery-token-ca-cert-hash`) is not.
bool looks_secret(std::string_view name);

// The arguments of a command line with each secret value replaced by <redacted>:
// `--token=abc`, `-token=abc`, `key=abc`, and the argument after a secret flag written without
// '=' (`--token abc`) unless that argument is itself a flag; every argument also through
// redact_text.
std::vector<std::string> redact_argv(const std::vector<std::string>& argv);

// An environment (or any NAME → VALUE map) with the values of secret-looking names replaced.
std::map<std::string, std::string> redact_env(const std::map<std::string, std::string>& env);

// Free text (a log line, an error message, a single argument) with what is secret anywhere
// replaced: the credential after "Bearer ", the password of a URL's user information, and the value
// of a `--secret-flag=value` or `SECRET_NAME=value` word.
std::string redact_text(std::string_view text);

}  // namespace kna
