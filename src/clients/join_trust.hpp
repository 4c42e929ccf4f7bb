#pragma once
// What a node needs to trust a cluster it joins over TLS, as kubeadm, k3s and k0s agents do: a
// bootstrap token (`[a-z0-9]{6}.[a-z0-9]{16}`, a secret), the pin of the cluster's CA (kubeadm's
// `--discovery-token-ca-cert-hash sha256:<hex>`: the SHA-256 of the CA certificate's
// SubjectPublicKeyInfo), and the detached JWS that signs the `cluster-info` ConfigMap's kubeconfig
// with the token (RFC 7515 appendix F; kube's `jws-kubeconfig-<token id>` keys). OpenSSL's
// libcrypto does the hashing; nothing here talks to the network.

#include <string>
#include <string_view>

#include "core/join_token.hpp"
#include "kna/error.hpp"

namespace kna {

// The pin of a CA certificate (PEM; the first certificate of the text): "sha256:<hex>".
Result<std::string> ca_pin_of(std::string_view pem);

// Whether `jws` ("<base64url header>..<base64url signature>") signs `content` with HS256 keyed
// by the token's secret, its header naming the token's id as `kid`. The error says which part
// did not match.
Status verify_detached_jws(std::string_view jws, std::string_view content,
                           const BootstrapToken& token);

// The detached JWS of `content` as the API server's bootstrap signer writes it (header
// {"alg":"HS256","kid":"<id>"}): for the stand-in API server and tests.
std::string sign_detached_jws(std::string_view content, const BootstrapToken& token);

// base64url without padding (RFC 4648 §5), and back (nullopt-like Error on a bad character).
std::string base64url_encode(std::string_view data);
Result<std::string> base64url_decode(std::string_view text);

}  // namespace kna
