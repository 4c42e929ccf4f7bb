// The secure port of the kube-apiserver stand-in: cpp-httplib's SSLServer set up with OpenSSL.

#include "kube/apiserver_secure.hpp"
#include "kube/standin_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <filesystem>

#include <httplib.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kube/apiserver_authz.hpp"
#include "kube/apiserver_csr.hpp"
#include "kube/apiserver_objects.hpp"

namespace kna::standins::apiserver {

namespace {

std::vector<std::string> split_modes(const std::string& flag) {
  std::vector<std::string> modes;
  std::size_t start = 0;
  while (start <= flag.size()) {
    auto comma = flag.find(',', start);
    if (comma == std::string::npos) comma = flag.size();
    if (comma > start) modes.push_back(flag.substr(start, comma - start));
    start = comma + 1;
  }
  return modes;
}

}  // namespace

std::unique_ptr<httplib::Server> make_tls_server(const TlsFiles& files, std::string* error) {
  std::string why;
  auto server = std::make_unique<httplib::SSLServer>([&files, &why](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(&ctx, files.cert.c_str()) != 1) {
      why = fmt::format("--tls-cert-file {}: {}", files.cert, openssl_error());
      return false;
    }
    if (SSL_CTX_use_PrivateKey_file(&ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      why = fmt::format("--tls-private-key-file {}: {}", files.key, openssl_error());
      return false;
    }
    if (SSL_CTX_check_private_key(&ctx) != 1) {
      why = fmt::format("--tls-private-key-file {} is not the key of {}", files.key, files.cert);
      ERR_clear_error();
      return false;
    }
    if (!files.client_ca.empty()) {
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca.c_str());
      if (names == nullptr ||
          SSL_CTX_load_verify_locations(&ctx, files.client_ca.c_str(), nullptr) != 1) {
        why = fmt::format("--client-ca-file {}: {}", files.client_ca, openssl_error());
        if (names != nullptr) sk_X509_NAME_pop_free(names, X509_NAME_free);
        return false;
      }
      SSL_CTX_set_client_CA_list(&ctx, names);
      // A certificate is asked for and verified when given, never required (Go's
      // VerifyClientCertIfGiven, as the real apiserver).
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr);
    }
    return true;
  });
  if (!server->is_valid()) {
    *error = why.empty() ? "cannot set up TLS: " + openssl_error() : why;
    return nullptr;
  }
  return server;
}

AuthorizationMode authorization_mode(const std::string& flag) {
  const auto modes = split_modes(flag);
  if (std::find(modes.begin(), modes.end(), "AlwaysAllow") != modes.end())
    return AuthorizationMode::always_allow;
  if (modes == std::vector<std::string>{"AlwaysDeny"}) return AuthorizationMode::always_deny;
  return AuthorizationMode::rules;
}

PreRouting secure_guard(const Authenticator& auth, AuthorizationMode mode) {
  return [&auth, mode](const httplib::Request& req, httplib::Response& res) {
    const auto user = auth.authenticate(req);
    if (!user) {
      // The real body, byte for byte.
      res.status = 401;
      res.set_content(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                      R"("message":"Unauthorized","reason":"Unauthorized","code":401})",
                      "application/json");
      return true;
    }
    if (mode == AuthorizationMode::always_allow) return false;
    const auto request = request_attributes(req.method, req.path, req.get_param_value("watch"));
    std::optional<ApiError> denied;
    if (mode == AuthorizationMode::always_deny)
      denied = ApiError{403, "Forbidden", "forbidden: the authorization mode is AlwaysDeny", ""};
    else
      denied = authorize(*user, request);
    if (!denied) return false;
    spdlog::info("Forbidden {} {} to \"{}\"", req.method, req.path, user->name);
    res.status = 403;
    res.set_content(forbidden_status(*denied, request).dump(), "application/json");
    return true;
  };
}

std::unique_ptr<CsrController> make_csr_controller(ObjectStore& store,
                                                   const std::string& client_ca_file) {
  if (client_ca_file.empty())
    return std::make_unique<CsrController>(store, nullptr, "no --client-ca-file, so no CA");
  const auto key = (std::filesystem::path(client_ca_file).parent_path() / "ca.key").string();
  auto signer = CertificateSigner::load(client_ca_file, key);
  if (auto* error = std::get_if<std::string>(&signer)) {
    spdlog::info("CertificateSigningRequests will stay pending: {}", *error);
    return std::make_unique<CsrController>(store, nullptr, *error);
  }
  spdlog::info(
      "Signing kubelet client certificates with {} and {} (kube-controller-manager's "
      "--cluster-signing-cert-file and --cluster-signing-key-file)",
      client_ca_file, key);
  return std::make_unique<CsrController>(
      store, std::move(std::get<std::unique_ptr<CertificateSigner>>(signer)), "");
}

}  // namespace kna::standins::apiserver
