#pragma once
// CertificateSigningRequests (certificates.k8s.io/v1) in the kube-apiserver stand-in: what the
// apiserver checks and fills in on create, and what kube-controller-manager would do next, done
// by the stand-in itself: the csrapproving controller's auto-approval of kubelet client
// certificates (a bootstrapper's "nodeclient", a node's own "selfnodeclient") and the
// kubernetes.io/kube-apiserver-client-kubelet signer, with the cluster CA's key (the real
// controller-manager's --cluster-signing-cert-file/--cluster-signing-key-file).

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/apiserver_auth.hpp"
#include "kube/apiserver_objects.hpp"

namespace kna::standins::apiserver {

inline constexpr const char* kKubeletClientSigner = "kubernetes.io/kube-apiserver-client-kubelet";
// The real --cluster-signing-duration's default.
inline constexpr std::chrono::seconds kDefaultCertificateTtl{365 * 24 * 3600};

struct CsrSubject {
  std::string common_name;
  std::vector<std::string> organizations;
  bool has_alt_names{false};  // DNS, IP, email or URI SANs requested
};

// The subject of a PEM "CERTIFICATE REQUEST" whose self-signature verifies; else an error.
std::variant<CsrSubject, std::string> csr_subject(const std::string& pem);

// What the apiserver does to a CSR a user posts: spec.request must be a base64 PEM CSR,
// spec.signerName and spec.usages are required; spec.username, uid and groups become the
// requester's; status is dropped. An Invalid error otherwise.
ApiResult<json> csr_for_create(json body, const UserInfo& user);

// The csrapproving controller's decision: the message of an AutoApproved condition, or "" when
// it leaves the CSR alone. Approves kubelet client certificates (signer kube-apiserver-client-
// kubelet, subject O=system:nodes alone, CN=system:node:*, no SANs, client auth usages) requested
// by a system:bootstrappers user, or by the node named in the CN itself (system:nodes).
std::string auto_approval(const json& csr, const CsrSubject& subject);

// Signs client certificates with a CA's key. Immutable once loaded; safe from several threads.
class CertificateSigner {
 public:
  // The CA certificate and its key (PEM; RSA or EC); an error when either cannot be read or they
  // do not match.
  static std::variant<std::unique_ptr<CertificateSigner>, std::string> load(
      const std::string& cert_path, const std::string& key_path);
  ~CertificateSigner();
  CertificateSigner(const CertificateSigner&) = delete;
  CertificateSigner& operator=(const CertificateSigner&) = delete;

  // A PEM certificate for the request's subject and key: client auth, valid from 5 minutes ago
  // (the real signer's backdating) for `ttl`, never past the CA's own expiry. An error text when
  // the request does not parse or signing fails. The usages pick the key usages (digital
  // signature, key encipherment); the extended key usage is always client auth.
  struct Signed {
    std::string pem;    // "" on failure
    std::string error;  // why, on failure
  };
  Signed sign(const std::string& csr_pem, std::chrono::seconds ttl,
              const std::vector<std::string>& usages) const;

 private:
  struct Keys;
  explicit CertificateSigner(std::unique_ptr<Keys> keys);
  std::unique_ptr<Keys> keys_;
};

// Approves and signs CSRs right after they are created, as kube-controller-manager would a moment
// later. Without a signer, CSRs stay pending (neither approved nor signed) and the first one
// logs why.
class CsrController {
 public:
  // `store` must outlive the controller. `signer` may be null; then `why_unsigned` says why.
  CsrController(ObjectStore& store, std::unique_ptr<CertificateSigner> signer,
                std::string why_unsigned);

  // Looks at the CSR `name` once: approves it if auto_approval() does, then signs an approved
  // one that has no certificate yet. Errors are logged; the CSR then stays as it is.
  void process(const std::string& name);

 private:
  ObjectStore& store_;
  std::unique_ptr<CertificateSigner> signer_;
  std::string why_unsigned_;
  std::once_flag told_unsigned_;
};

}  // namespace kna::standins::apiserver
