#include "core/redact.hpp"

#include <array>
#include <cctype>

namespace kna {
namespace {

bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// "--tls-private-key-file" → {"tls", "private", "key", "file"}; "apiToken" → {"api", "token"}.
std::vector<std::string> words(std::string_view name) {
  std::vector<std::string> out;
  std::string word;
  char prev = 0;
  for (const char c : name) {
    if (!is_alnum(c) || (is_upper(c) && is_lower(prev))) {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
    }
    if (is_alnum(c)) word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    prev = c;
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

constexpr std::array<std::string_view, 5> kSecretParts{"token", "password", "passwd", "secret",
                                                       "credential"};
// Not "auth": kubelet's --anonymous-auth and the API server's --authorization-mode are settings.
constexpr std::array<std::string_view, 5> kSecretWords{"key", "apikey", "pass", "pwd", "bearer"};
// The value says where the secret is or how it is handled, or is a digest of something public (a
// CA's pin): `--token-file`, `--image-credential-provider-config`, `--token-ttl`.
constexpr std::array<std::string_view, 7> kPointers{"file", "path",   "dir", "directory",
                                                    "hash", "config", "ttl"};

// A switch's value: no secret is ever just that.
bool is_switch_value(std::string_view value) {
  return value == "true" || value == "false";
}

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view word) {
  for (const auto w : list)
    if (w == word) return true;
  return false;
}

// Where a word starting at `pos` ends (the next blank, or the end).
std::size_t word_end(std::string_view text, std::size_t pos) {
  while (pos < text.size() && text[pos] != ' ' && text[pos] != '\t' && text[pos] != '\n' &&
         text[pos] != '"' && text[pos] != '\'' && text[pos] != ',')
    ++pos;
  return pos;
}

bool iequals_at(std::string_view text, std::size_t pos, std::string_view word) {
  if (text.size() - pos < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) != word[i]) return false;
  return true;
}

constexpr std::size_t kMinCredential = 8;

// "Bearer abcdefgh" → "Bearer <redacted>", wherever it is.
std::string redact_bearer(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const bool at_word = pos == 0 || !is_alnum(text[pos - 1]);
    if (at_word && iequals_at(text, pos, "bearer") && pos + 6 < text.size() &&
        (text[pos + 6] == ' ' || text[pos + 6] == '\t')) {
      std::size_t start = pos + 6;
      while (start < text.size() && (text[start] == ' ' || text[start] == '\t')) ++start;
      const std::size_t end = word_end(text, start);
      // A credential is long; "a bearer of bad news" has none.
      if (end - start >= kMinCredential) {
        out.append(text.substr(pos, start - pos));
        out.append(kRedacted);
        pos = end;
        continue;
      }
    }
    out += text[pos++];
  }
  return out;
}

// "https://user:pass@host/" → "https://user:<redacted>@host/".
std::string redact_userinfo(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    const auto scheme_end = text.find("://", pos);
    if (scheme_end == std::string_view::npos) break;
    const std::size_t start = scheme_end + 3;
    // The authority ends at the first '/', '?', '#', blank, quote or ',' (the next URL of a list:
    // --etcd-endpoints=http://a:b@h1,http://c:d@h2); user information ends at its last '@' and
    // holds the password after its first ':'.
    std::size_t end = start;
    while (end < text.size() &&
           std::string_view("/?# \t\n\"',").find(text[end]) == std::string_view::npos)
      ++end;
    const auto authority = text.substr(start, end - start);
    const auto at = authority.rfind('@');
    const auto colon = at == std::string_view::npos ? std::string_view::npos : authority.find(':');
    if (colon != std::string_view::npos && colon < at) {
      out.append(text.substr(pos, start + colon + 1 - pos));
      out.append(kRedacted);
      out.append(authority.substr(at));
    } else {
      out.append(text.substr(pos, end - pos));
    }
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

// One word: "--token=abc" → "--token=<redacted>", "KNA_API_TOKEN=abc" → "KNA_API_TOKEN=<redacted>".
std::string redact_assignment(std::string_view word) {
  const auto eq = word.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == word.size()) return std::string(word);
  if (is_switch_value(word.substr(eq + 1)) || !looks_secret(word.substr(0, eq)))
    return std::string(word);
  return std::string(word.substr(0, eq + 1)) + std::string(kRedacted);
}

bool is_flag(std::string_view arg) {
  return arg.size() > 1 && arg.front() == '-';
}

}  // namespace

bool looks_secret(std::string_view name) {
  const auto parts = words(name);
  if (parts.empty() || contains(kPointers, parts.back())) return false;
  for (const auto& part : parts) {
    if (contains(kSecretWords, part)) return true;
    for (const auto secret : kSecretParts)
      if (part.find(secret) != std::string::npos) return true;
  }
  return false;
}

std::string redact_text(std::string_view text) {
  const std::string plain = redact_userinfo(redact_bearer(text));
  std::string out;
  std::size_t pos = 0;
  while (pos < plain.size()) {
    const std::size_t end = word_end(plain, pos);
    if (end == pos) {
      out += plain[pos++];
      continue;
    }
    out += redact_assignment(std::string_view(plain).substr(pos, end - pos));
    pos = end;
  }
  return out;
}

std::vector<std::string> redact_argv(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  bool value_is_secret = false;  // the previous argument was a secret flag without '='
  for (const auto& arg : argv) {
    if (value_is_secret && !is_flag(arg) && !is_switch_value(arg)) {
      out.emplace_back(kRedacted);
      value_is_secret = false;
      continue;
    }
    const auto eq = arg.find('=');
    value_is_secret = is_flag(arg) && eq == std::string::npos && looks_secret(arg);
    // The whole value of `--token=a b` (one argument), not only up to its blank.
    if (eq != std::string::npos && arg.find_first_of(" \t") > eq) {
      if (auto shown = redact_assignment(arg); shown != arg) {
        out.push_back(std::move(shown));
        continue;
      }
    }
    out.push_back(redact_text(arg));
  }
  return out;
}

std::map<std::string, std::string> redact_env(const std::map<std::string, std::string>& env) {
  auto out = env;
  for (auto& [name, value] : out) {
    if (value.empty()) continue;  // "unset" is worth seeing
    if (looks_secret(name))
      value = std::string(kRedacted);
    else
      value = redact_text(value);
  }
  return out;
}

}  // namespace kna
