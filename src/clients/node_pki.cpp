#include "clients/node_pki.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include <fmt/format.h>

namespace kna {

namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

}  // namespace

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof(buffer));
  return buffer;
}

namespace {

BioPtr memory_of(const std::string& text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string text_of(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 && data != nullptr ? std::string(data, static_cast<std::size_t>(size)) : "";
}

bool add_extension(X509* cert, X509* ca, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;

// O=… for each group, then CN=…, as issue_client_certificate writes them; nullptr on failure.
NamePtr subject_of(const ClientIdentity& who) {
  NamePtr name(X509_NAME_new());
  if (!name) return nullptr;
  const auto add = [&](const char* field, const std::string& value) {
    return X509_NAME_add_entry_by_txt(name.get(), field, MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                      0) == 1;
  };
  for (const auto& o : who.organizations)
    if (!add("O", o)) return nullptr;
  if (!add("CN", who.common_name)) return nullptr;
  return name;
}

}  // namespace

bool client_certificate_current(const std::string& pem, const std::string& ca_cert_pem,
                                const ClientIdentity& who) {
  auto bio = memory_of(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  auto key_bio = memory_of(pem);
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  auto ca_bio = memory_of(ca_cert_pem);
  X509Ptr ca(PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr));
  const NamePtr wanted = subject_of(who);
  const bool current = [&] {
    if (!cert || !key || !ca || !wanted) return false;
    if (X509_check_private_key(cert.get(), key.get()) != 1) return false;
    EVP_PKEY* ca_public = X509_get0_pubkey(ca.get());
    if (ca_public == nullptr || X509_verify(cert.get(), ca_public) != 1) return false;
    if (X509_NAME_cmp(X509_get_subject_name(cert.get()), wanted.get()) != 0) return false;
    // In the last third of its life (or past it, or not yet valid): time for a new one.
    int life_days = 0, life_secs = 0, left_days = 0, left_secs = 0;
    if (ASN1_TIME_diff(&life_days, &life_secs, X509_get0_notBefore(cert.get()),
                       X509_get0_notAfter(cert.get())) != 1 ||
        ASN1_TIME_diff(&left_days, &left_secs, nullptr, X509_get0_notAfter(cert.get())) != 1)
      return false;
    const long life = life_days * 86400L + life_secs;
    const long left = left_days * 86400L + left_secs;
    return X509_cmp_current_time(X509_get0_notBefore(cert.get())) < 0 && left * 3 > life;
  }();
  ERR_clear_error();
  return current;
}

Result<IssuedCertificate> issue_client_certificate(const std::string& ca_cert_pem,
                                                   const std::string& ca_key_pem,
                                                   const ClientIdentity& who,
                                                   std::chrono::seconds validity) {
  const auto fail = [](const std::string& what) { return Error{what + ": " + openssl_error()}; };
  auto ca_bio = memory_of(ca_cert_pem);
  X509Ptr ca(PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr));
  if (!ca) return fail("the CA certificate is not PEM");
  auto ca_key_bio = memory_of(ca_key_pem);
  KeyPtr ca_key(PEM_read_bio_PrivateKey(ca_key_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_key) return fail("the CA key is not a PEM private key");
  if (X509_check_private_key(ca.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    return Error{"the CA key is not the key of the CA certificate"};
  }

  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return fail("cannot make an EC P-256 key");
  X509Ptr cert(X509_new());
  BnPtr serial(BN_new());
  if (!cert || !serial || X509_set_version(cert.get(), 2) != 1 ||
      BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr)
    return fail("cannot start the certificate");
  const NamePtr subject = subject_of(who);
  if (!subject || X509_set_subject_name(cert.get(), subject.get()) != 1)
    return fail("cannot set the subject CN=" + who.common_name);
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get())) != 1 ||
      X509_set_pubkey(cert.get(), key.get()) != 1)
    return fail("cannot set the issuer and key");
  // Backdated a little, as kubeadm does, for clocks that differ between nodes.
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(validity.count())) ==
          nullptr)
    return fail("cannot set the validity");
  if (ASN1_TIME_compare(X509_get0_notAfter(cert.get()), X509_get0_notAfter(ca.get())) > 0 &&
      X509_set1_notAfter(cert.get(), X509_get0_notAfter(ca.get())) != 1)
    return fail("cannot end the validity at the CA's");
  if (!add_extension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), ca.get(), NID_ext_key_usage, "clientAuth") ||
      !add_extension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid"))
    return fail("cannot add the extensions");
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) <= 0)
    return fail("cannot sign the certificate");

  BioPtr cert_out(BIO_new(BIO_s_mem()));
  BioPtr key_out(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509(cert_out.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1)
    return fail("cannot write the certificate and key");
  return IssuedCertificate{text_of(cert_out.get()), text_of(key_out.get())};
}

}  // namespace kna
