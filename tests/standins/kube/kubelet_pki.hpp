#pragma once
// The kubelet stand-in's client key material: a new EC P-256 key and the certificate signing
// request for a node's identity, in the PEM forms the real kubelet writes and sends.

#include <string>

#include "kna/error.hpp"

namespace kna::standins {

// A new EC P-256 private key as PEM ("EC PRIVATE KEY", SEC 1, as Go's keyutil writes it).
Result<std::string> new_ec_key_pem();

// A PEM CERTIFICATE REQUEST with subject O=system:nodes, CN=system:node:`node_name`, signed with
// `key_pem`: what the kubelet sends for its client certificate.
Result<std::string> node_csr_pem(const std::string& key_pem, const std::string& node_name);

}  // namespace kna::standins
