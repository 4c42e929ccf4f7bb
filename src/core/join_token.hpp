#pragma once
// The join secrets' forms, checked without any cryptography (the loader validates them; the
// clients use them): a bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}` and kubeadm's CA pin
// `sha256:<64 hex>` (clients/join_trust.hpp computes and checks pins).

#include <string>
#include <string_view>

#include "kna/error.hpp"

namespace kna {

struct BootstrapToken {
  std::string id;      // 6 characters, [a-z0-9]: public, the `kid` of the JWS
  std::string secret;  // 16 characters, [a-z0-9]: a secret, never logged
};

// "abcdef.0123456789abcdef" → {id, secret}. The error names the expected form and never repeats
// the secret.
Result<BootstrapToken> parse_bootstrap_token(std::string_view text);

// "sha256:<64 hex digits>" (either case) → the 64 digits in lower case.
Result<std::string> parse_ca_pin(std::string_view text);

}  // namespace kna
