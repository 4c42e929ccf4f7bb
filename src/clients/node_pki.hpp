#pragma once
// Client certificates signed by the cluster's CA, as `kubeadm init phase kubeconfig` makes them for
// a control-plane node: the agent on a master that holds the CA's key (control_plane.pki_dir)
// gives its own kubelet, controller manager, scheduler and itself an identity. A fresh EC P-256
// key each; the certificate for client authentication only, never beyond the CA's own expiry.
// OpenSSL's libcrypto does the work; nothing here touches the network or the disk.

#include <chrono>
#include <string>
#include <vector>

#include "kna/error.hpp"

namespace kna {

struct ClientIdentity {
  std::string common_name;                 // the user: "system:node:master-1"
  std::vector<std::string> organizations;  // the groups: {"system:nodes"}
};

struct IssuedCertificate {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8 ("PRIVATE KEY")
};

// The errors name what could not be read or made ("the CA key is not the key of the CA
// certificate").
Result<IssuedCertificate> issue_client_certificate(const std::string& ca_cert_pem,
                                                   const std::string& ca_key_pem,
                                                   const ClientIdentity& who,
                                                   std::chrono::seconds validity);

// OpenSSL's oldest queued error as text ("unknown OpenSSL error" when none), the queue cleared.
std::string openssl_error();

// Whether `pem` (a certificate and its key, as issued) still serves `who`: its key matches, the CA
// of `ca_cert_pem` signed it, its subject is exactly `who`, and it is valid now and not yet in
// the last third of its life. Anything unreadable is not current.
bool client_certificate_current(const std::string& pem, const std::string& ca_cert_pem,
                                const ClientIdentity& who);

}  // namespace kna
