#pragma once
// Standard base64 (RFC 4648 §4, padded) as Kubernetes writes []byte fields in JSON: Secret data,
// a CSR's spec.request and status.certificate, kubeconfig's *-data.

#include <optional>
#include <string>
#include <string_view>

namespace kna::standins::apiserver {

std::string base64_encode(std::string_view data);
// nullopt when `text` is not padded base64 (whitespace is not accepted either).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace kna::standins::apiserver
