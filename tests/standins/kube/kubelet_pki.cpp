#include "kube/kubelet_pki.hpp"
#include "kube/standin_tls.hpp"

#include <memory>

#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace kna::standins {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ReqFree {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};
struct EncoderFree {
  void operator()(OSSL_ENCODER_CTX* c) const { OSSL_ENCODER_CTX_free(c); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

std::string text_of(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);
  return size > 0 && data != nullptr ? std::string(data, static_cast<std::size_t>(size)) : "";
}

}  // namespace

Result<std::string> new_ec_key_pem() {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return Error{"cannot generate an EC P-256 key: " + openssl_error()};
  BioPtr out(BIO_new(BIO_s_mem()));
  // "type-specific" is SEC 1's "EC PRIVATE KEY"; PKCS #8 ("PRIVATE KEY") if that is refused.
  std::unique_ptr<OSSL_ENCODER_CTX, EncoderFree> encoder(OSSL_ENCODER_CTX_new_for_pkey(
      key.get(), OSSL_KEYMGMT_SELECT_ALL, "PEM", "type-specific", nullptr));
  if (!encoder || OSSL_ENCODER_CTX_get_num_encoders(encoder.get()) == 0 ||
      OSSL_ENCODER_to_bio(encoder.get(), out.get()) != 1) {
    ERR_clear_error();
    out.reset(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(out.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
      return Error{"cannot encode the key: " + openssl_error()};
  }
  return text_of(out.get());
}

Result<std::string> node_csr_pem(const std::string& key_pem, const std::string& node_name) {
  BioPtr in(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  if (!key) return Error{"the private key does not parse: " + openssl_error()};
  std::unique_ptr<X509_REQ, ReqFree> req(X509_REQ_new());
  X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  const std::string cn = "system:node:" + node_name;
  const auto text = [](const std::string& s) {
    return reinterpret_cast<const unsigned char*>(s.c_str());
  };
  if (X509_REQ_set_version(req.get(), 0) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, text("system:nodes"), -1, -1, 0) !=
          1 ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, text(cn), -1, -1, 0) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1 ||
      X509_REQ_sign(req.get(), key.get(), EVP_sha256()) <= 0)
    return Error{"cannot make the certificate signing request: " + openssl_error()};
  BioPtr out(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_X509_REQ(out.get(), req.get()) != 1)
    return Error{"cannot encode the certificate signing request: " + openssl_error()};
  return text_of(out.get());
}

}  // namespace kna::standins
