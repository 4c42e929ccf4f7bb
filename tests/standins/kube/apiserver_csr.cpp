// CSR checks, auto-approval and signing of the kube-apiserver stand-in (OpenSSL 3's libcrypto).

#include "kube/apiserver_csr.hpp"
#include "kube/standin_tls.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kube/apiserver_encoding.hpp"
#include "kube/apiserver_node.hpp"

namespace kna::standins::apiserver {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;

ReqPtr read_request(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return ReqPtr(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
}

std::vector<std::string> entries(const X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    unsigned char* utf8 = nullptr;
    const int n =
        ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n < 0) continue;
    out.emplace_back(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
  }
  return out;
}

std::vector<std::string> strings_of(const json& array) {
  std::vector<std::string> out;
  if (!array.is_array()) return out;
  for (const auto& item : array)
    if (item.is_string()) out.push_back(item.get<std::string>());
  return out;
}

// The kubelet client usages the approver accepts: client auth, with digital signature and key
// encipherment allowed.
bool kubelet_client_usages(const std::vector<std::string>& usages) {
  static const std::set<std::string> kAllowed{"client auth", "digital signature",
                                              "key encipherment"};
  return std::find(usages.begin(), usages.end(), "client auth") != usages.end() &&
         std::all_of(usages.begin(), usages.end(),
                     [](const std::string& u) { return kAllowed.count(u) > 0; });
}

bool add_extension(X509* cert, X509* ca, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

json approved_condition(const std::string& message) {
  const auto now = format_time(Clock::now());
  return json{{"type", "Approved"}, {"status", "True"},      {"reason", "AutoApproved"},
              {"message", message}, {"lastUpdateTime", now}, {"lastTransitionTime", now}};
}

bool has_condition(const json& csr, const std::string& type) {
  if (!csr.contains("status") || !csr["status"].contains("conditions")) return false;
  for (const auto& c : csr["status"]["conditions"])
    if (c.value("type", "") == type) return true;
  return false;
}

}  // namespace

std::variant<CsrSubject, std::string> csr_subject(const std::string& pem) {
  auto req = read_request(pem);
  if (!req) {
    ERR_clear_error();
    return std::string("PEM block type must be CERTIFICATE REQUEST");
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (key == nullptr || X509_REQ_verify(req.get(), key) != 1) {
    ERR_clear_error();
    return std::string("the request's signature does not verify");
  }
  const X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  CsrSubject out;
  const auto names = entries(subject, NID_commonName);
  if (!names.empty()) out.common_name = names.front();
  out.organizations = entries(subject, NID_organizationName);
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req.get());
  if (exts != nullptr) {
    NamesPtr sans(
        static_cast<GENERAL_NAMES*>(X509V3_get_d2i(exts, NID_subject_alt_name, nullptr, nullptr)));
    out.has_alt_names = sans && sk_GENERAL_NAME_num(sans.get()) > 0;
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  return out;
}

ApiResult<json> csr_for_create(json body, const UserInfo& user) {
  const auto& type = certificate_signing_requests();
  if (!body.is_object()) return bad_request("the request body is not a JSON object");
  if (body.value("kind", type.kind) != type.kind ||
      body.value("apiVersion", type.api_version()) != type.api_version())
    return bad_request(
        "the request body is not a certificates.k8s.io/v1 "
        "CertificateSigningRequest");
  std::string name;
  if (body.contains("metadata") && body["metadata"].is_object())
    name = body["metadata"].value("name", "");
  if (!body.contains("spec") || !body["spec"].is_object()) body["spec"] = json::object();
  json& spec = body["spec"];
  const auto request = spec.value("request", "");
  if (request.empty()) return object_invalid(type, name, "spec.request: Required value");
  const auto pem = base64_decode(request);
  if (!pem) return object_invalid(type, name, "spec.request: Invalid value: not base64");
  const auto subject = csr_subject(*pem);
  if (const auto* error = std::get_if<std::string>(&subject))
    return object_invalid(type, name, "spec.request: Invalid value: " + *error);
  if (spec.value("signerName", "").empty())
    return object_invalid(type, name, "spec.signerName: Required value");
  if (strings_of(spec.value("usages", json::array())).empty())
    return object_invalid(type, name, "spec.usages: Required value");
  if (spec.contains("expirationSeconds") && (!spec["expirationSeconds"].is_number_integer() ||
                                             spec["expirationSeconds"].get<long>() < 600))
    return object_invalid(type, name,
                          "spec.expirationSeconds: Invalid value: may not specify a duration "
                          "less than 600 seconds (10 minutes)");
  spec["username"] = user.name;
  spec["groups"] = user.groups;
  if (user.uid.empty())
    spec.erase("uid");
  else
    spec["uid"] = user.uid;
  spec.erase("extra");
  body["status"] = json::object();
  return body;
}

std::string auto_approval(const json& csr, const CsrSubject& subject) {
  const auto& spec = csr["spec"];
  if (spec.value("signerName", "") != kKubeletClientSigner) return "";
  if (subject.organizations != std::vector<std::string>{kNodesGroup}) return "";
  if (subject.common_name.rfind(kNodeUserPrefix, 0) != 0 || subject.has_alt_names) return "";
  if (!kubelet_client_usages(strings_of(spec.value("usages", json::array())))) return "";
  const auto groups = strings_of(spec.value("groups", json::array()));
  const auto in = [&](const char* group) {
    return std::find(groups.begin(), groups.end(), group) != groups.end();
  };
  if (in(kBootstrappers))
    return "Auto approving kubelet client certificate after SubjectAccessReview.";
  if (in(kNodesGroup) && spec.value("username", "") == subject.common_name)
    return "Auto approving self kubelet client certificate after SubjectAccessReview.";
  return "";
}

struct CertificateSigner::Keys {
  X509Ptr ca;
  KeyPtr key;
};

CertificateSigner::CertificateSigner(std::unique_ptr<Keys> keys) : keys_(std::move(keys)) {}
CertificateSigner::~CertificateSigner() = default;

std::variant<std::unique_ptr<CertificateSigner>, std::string> CertificateSigner::load(
    const std::string& cert_path, const std::string& key_path) {
  auto keys = std::make_unique<Keys>();
  BioPtr cert_bio(BIO_new_file(cert_path.c_str(), "r"));
  if (!cert_bio) {
    ERR_clear_error();
    return fmt::format("cannot read {}", cert_path);
  }
  keys->ca.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!keys->ca) return fmt::format("{} holds no PEM certificate: {}", cert_path, openssl_error());
  BioPtr key_bio(BIO_new_file(key_path.c_str(), "r"));
  if (!key_bio) {
    ERR_clear_error();
    return fmt::format("cannot read {}", key_path);
  }
  keys->key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!keys->key) return fmt::format("{} holds no PEM private key: {}", key_path, openssl_error());
  if (X509_check_private_key(keys->ca.get(), keys->key.get()) != 1) {
    ERR_clear_error();
    return fmt::format("{} is not the key of {}", key_path, cert_path);
  }
  return std::unique_ptr<CertificateSigner>(new CertificateSigner(std::move(keys)));
}

CertificateSigner::Signed CertificateSigner::sign(const std::string& csr_pem,
                                                  std::chrono::seconds ttl,
                                                  const std::vector<std::string>& usages) const {
  auto req = read_request(csr_pem);
  if (!req) return {"", "the request is not a PEM CERTIFICATE REQUEST: " + openssl_error()};
  EVP_PKEY* public_key = X509_REQ_get0_pubkey(req.get());
  X509Ptr cert(X509_new());
  BnPtr serial(BN_new());
  X509* ca = keys_->ca.get();
  const auto fail = [](const char* what) { return Signed{"", what + (": " + openssl_error())}; };
  if (public_key == nullptr) return fail("the request has no public key");
  if (X509_set_version(cert.get(), 2) != 1 ||
      BN_rand(serial.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr)
    return fail("cannot set the serial number");
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca)) != 1 ||
      X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(req.get())) != 1 ||
      X509_set_pubkey(cert.get(), public_key) != 1)
    return fail("cannot set the names and key");
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(ttl.count())) == nullptr)
    return fail("cannot set the validity");
  if (ASN1_TIME_compare(X509_get0_notAfter(cert.get()), X509_get0_notAfter(ca)) > 0 &&
      X509_set1_notAfter(cert.get(), X509_get0_notAfter(ca)) != 1)
    return fail("cannot cap the validity at the CA's");
  std::string key_usage = "critical,digitalSignature";
  if (std::find(usages.begin(), usages.end(), "key encipherment") != usages.end() &&
      EVP_PKEY_get_base_id(public_key) == EVP_PKEY_RSA)
    key_usage += ",keyEncipherment";
  if (!add_extension(cert.get(), ca, NID_key_usage, key_usage) ||
      !add_extension(cert.get(), ca, NID_ext_key_usage, "clientAuth") ||
      !add_extension(cert.get(), ca, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), ca, NID_authority_key_identifier, "keyid"))
    return fail("cannot add the extensions");
  if (X509_sign(cert.get(), keys_->key.get(), EVP_sha256()) <= 0)
    return fail("cannot sign the certificate");
  BioPtr out(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(out.get(), cert.get()) != 1) return fail("cannot write the certificate");
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return {std::string(data, static_cast<std::size_t>(size)), ""};
}

CsrController::CsrController(ObjectStore& store, std::unique_ptr<CertificateSigner> signer,
                             std::string why_unsigned)
    : store_(store), signer_(std::move(signer)), why_unsigned_(std::move(why_unsigned)) {}

void CsrController::process(const std::string& name) {
  if (!signer_) {
    std::call_once(told_unsigned_, [&] {
      spdlog::warn(
          "CertificateSigningRequests stay pending: {} (the stand-in approves and signs "
          "them as kube-controller-manager would, with the CA's key)",
          why_unsigned_);
    });
    return;
  }
  const auto& type = certificate_signing_requests();
  std::string outcome;
  auto result = store_.modify(type, "", name, [&](json csr) -> ApiResult<json> {
    const auto pem = base64_decode(csr["spec"].value("request", ""));
    if (!pem) return bad_request("spec.request is not base64");
    const auto subject = csr_subject(*pem);
    if (const auto* error = std::get_if<std::string>(&subject)) return bad_request(*error);
    if (has_condition(csr, "Denied") || has_condition(csr, "Failed")) return csr;
    if (!has_condition(csr, "Approved")) {
      const auto message = auto_approval(csr, std::get<CsrSubject>(subject));
      if (message.empty()) {
        outcome = "left pending: not a kubelet client certificate its requester may get";
        return csr;
      }
      csr["status"]["conditions"].push_back(approved_condition(message));
      outcome = "approved";
    }
    if (csr["status"].value("certificate", "").empty() &&
        csr["spec"].value("signerName", "") == kKubeletClientSigner) {
      auto ttl = kDefaultCertificateTtl;
      if (csr["spec"].contains("expirationSeconds"))
        ttl = std::min(ttl, std::chrono::seconds(csr["spec"]["expirationSeconds"].get<long>()));
      const auto signed_cert = signer_->sign(*pem, ttl, strings_of(csr["spec"]["usages"]));
      if (!signed_cert.error.empty())
        return ApiError{500, "InternalError", signed_cert.error, name};
      csr["status"]["certificate"] = base64_encode(signed_cert.pem);
      outcome += outcome.empty() ? "signed" : " and signed";
    }
    return csr;
  });
  if (!result)
    spdlog::warn("CertificateSigningRequest \"{}\" not processed: {}", name,
                 result.error().message);
  else if (!outcome.empty())
    spdlog::info("CertificateSigningRequest \"{}\" of {} {}", name,
                 result.value()["spec"].value("username", ""), outcome);
}

}  // namespace kna::standins::apiserver
