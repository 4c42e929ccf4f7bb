#include "clients/join_trust.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <array>
#include <cctype>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kna {

namespace {

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0x0f];
  }
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(), &size);
  return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

}  // namespace

Result<std::string> ca_pin_of(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return Error{"cannot read the CA certificate: out of memory"};
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return Error{"the CA data is not a PEM certificate"};
  const EVP_PKEY* key = X509_get0_pubkey(cert.get());
  if (!key) return Error{"the CA certificate has no public key OpenSSL can read"};
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(const_cast<EVP_PKEY*>(key), &der);
  if (size <= 0) return Error{"cannot encode the CA certificate's SubjectPublicKeyInfo"};
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(der, static_cast<std::size_t>(size), digest.data());
  OPENSSL_free(der);
  return "sha256:" + hex(digest.data(), digest.size());
}

std::string base64url_encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(data[i]) << 16) |
                   (static_cast<unsigned char>(data[i + 1]) << 8) |
                   static_cast<unsigned char>(data[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == data.size()) {
    const auto n = static_cast<unsigned char>(data[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (i + 2 == data.size()) {
    const auto n = (static_cast<unsigned char>(data[i]) << 16) |
                   (static_cast<unsigned char>(data[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

Result<std::string> base64url_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (text.size() % 4 == 1) return Error{"not base64url: a length of 4n+1 characters"};
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = value(c);
    if (v < 0) return Error{fmt::format("not base64url: the character '{}'", c)};
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

Status verify_detached_jws(std::string_view jws, std::string_view content,
                           const BootstrapToken& token) {
  const auto first = jws.find('.');
  if (first == std::string_view::npos || jws.substr(first, 2) != "..")
    return Error{"the cluster-info signature is not a detached JWS (header..signature)"};
  const auto header_b64 = jws.substr(0, first);
  const auto signature_b64 = jws.substr(first + 2);
  auto header_json = base64url_decode(header_b64);
  if (!header_json)
    return Error{"the cluster-info signature's header: " + header_json.error().message};
  const auto header = nlohmann::json::parse(header_json.value(), nullptr, false);
  if (!header.is_object() || header.value("alg", "") != "HS256")
    return Error{
        "the cluster-info signature is not HS256 (the only algorithm kube's bootstrap "
        "signer uses)"};
  if (header.value("kid", "") != token.id)
    return Error{fmt::format("the cluster-info signature was made with token {}, not {}",
                             header.value("kid", "?"), token.id)};
  const std::string signing_input = std::string(header_b64) + "." + base64url_encode(content);
  const std::string expected = base64url_encode(hmac_sha256(token.secret, signing_input));
  if (expected.size() != signature_b64.size() ||
      CRYPTO_memcmp(expected.data(), signature_b64.data(), expected.size()) != 0)
    return Error{fmt::format(
        "the cluster-info kubeconfig is not signed with the join token {}.<secret>: the token's "
        "secret is wrong, or the answer was tampered with",
        token.id)};
  return kOk;
}

std::string sign_detached_jws(std::string_view content, const BootstrapToken& token) {
  const std::string header =
      base64url_encode(nlohmann::json{{"alg", "HS256"}, {"kid", token.id}}.dump());
  const std::string mac = hmac_sha256(token.secret, header + "." + base64url_encode(content));
  return header + ".." + base64url_encode(mac);
}

}  // namespace kna
