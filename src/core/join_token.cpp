#include "core/join_token.hpp"

#include <cctype>

#include <fmt/format.h>

namespace kna {

namespace {

bool all_of_class(std::string_view s, int (*pred)(int)) {
  for (const char c : s)
    if (!pred(static_cast<unsigned char>(c))) return false;
  return true;
}

int lower_alnum(int c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

constexpr std::string_view kTokenForm =
    "a bootstrap token is 6 and 16 characters of [a-z0-9] joined by a dot, like "
    "07401b.f395accd246ae52d (`kubeadm token create` prints one)";

}  // namespace

Result<BootstrapToken> parse_bootstrap_token(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos || dot != 6 || text.size() != 6 + 1 + 16)
    return Error{fmt::format("the join token is not a bootstrap token: {}", kTokenForm)};
  const auto id = text.substr(0, 6);
  const auto secret = text.substr(7);
  if (!all_of_class(id, lower_alnum) || !all_of_class(secret, lower_alnum))
    return Error{fmt::format("the join token has a character outside [a-z0-9]: {}", kTokenForm)};
  return BootstrapToken{std::string(id), std::string(secret)};
}

Result<std::string> parse_ca_pin(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256:";
  const auto form =
      "a CA pin is sha256: and 64 hex digits, the SHA-256 of the CA certificate's "
      "SubjectPublicKeyInfo (`kubeadm token create --print-join-command` prints it "
      "as --discovery-token-ca-cert-hash)";
  if (!text.starts_with(kPrefix))
    return Error{fmt::format("the CA pin \"{}\" does not start with sha256: {}", text, form)};
  const auto digits = text.substr(kPrefix.size());
  if (digits.size() != 64 || !all_of_class(digits, [](int c) { return std::isxdigit(c); }))
    return Error{
        fmt::format("the CA pin \"{}\" is not 64 hex digits after sha256: {}", text, form)};
  std::string lower(digits);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

}  // namespace kna
