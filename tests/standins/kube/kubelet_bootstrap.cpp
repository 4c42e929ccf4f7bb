#include "kube/kubelet_bootstrap.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "clients/etcd_encoding.hpp"
#include "kube/kubelet_pki.hpp"
#include "kube/standin_api.hpp"
#include "kube/standin_tls.hpp"
#include "platform/atomic_file.hpp"

namespace kna::standins {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kCsrPath = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
constexpr auto kPollPeriod = std::chrono::seconds(1);
constexpr auto kFirstRetry = std::chrono::seconds(1);
constexpr auto kMaxRetry = std::chrono::seconds(16);

// What went wrong with an answer, for a log line: the Status's message when it is one.
std::string describe(const ApiReply& reply) {
  if (reply.status == 0) return reply.error;
  const auto body = json::parse(reply.body, nullptr, false);
  if (body.is_object() && body.value("kind", "") == "Status" && body.contains("message") &&
      body["message"].is_string())
    return std::to_string(reply.status) + " " + body["message"].get<std::string>();
  return std::to_string(reply.status) + " " + shortened(reply.body);
}

// write_file_atomically, its folder created first (the cert dir and the kubeconfig's folder may
// not exist yet, as the real kubelet creates them).
Status write_private_file(const fs::path& path, const std::string& content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Error{"cannot create " + path.parent_path().string() + ": " + ec.message()};
  return write_file_atomically(path, content, 0600);
}

// Points `link` at `target`, replacing what was there in one rename.
Status relink(const fs::path& link, const fs::path& target) {
  const auto tmp = link.string() + ".tmp";
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0 || ::rename(tmp.c_str(), link.c_str()) != 0) {
    const auto why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return Error{"cannot link " + link.string() + " to " + target.string() + ": " + why};
  }
  return kOk;
}

std::string absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  const auto abs = fs::absolute(path, ec);
  return ec ? path : abs.lexically_normal().string();
}

// Why the client certificate of `server` is unusable now; "" when it is usable (or there is
// none: a kubeconfig with a token only is used as it is, as the real kubelet does).
std::string certificate_problem(const ApiServer& server) {
  if (!server.has_client_cert()) return "";
  auto cert = client_cert_pem(server);
  if (!cert) return cert.error().message;
  auto key = client_key_pem(server);
  if (!key) return key.error().message;
  const auto check = check_key_pair(cert.value(), key.value(), std::chrono::system_clock::now());
  return check ? "" : check.error().message;
}

// The kubeconfig the real kubelet writes after bootstrapping (writeKubeconfigFromBootstrapping):
// the bootstrap kubeconfig's cluster, and the client certificate and key in one file.
json kubeconfig_for(const ApiServer& bootstrap, const std::string& pem) {
  json cluster = {{"server", bootstrap.url}};
  if (!bootstrap.ca_file.empty()) cluster["certificate-authority"] = absolute(bootstrap.ca_file);
  if (!bootstrap.ca_pem.empty())
    cluster["certificate-authority-data"] = etcd::base64_encode(bootstrap.ca_pem);
  if (bootstrap.insecure_skip_tls_verify) cluster["insecure-skip-tls-verify"] = true;
  return {
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters", {{{"name", "default-cluster"}, {"cluster", cluster}}}},
      {"users",
       {{{"name", "default-auth"}, {"user", {{"client-certificate", pem}, {"client-key", pem}}}}}},
      {"contexts",
       {{{"name", "default-context"},
         {"context",
          {{"cluster", "default-cluster"}, {"user", "default-auth"}, {"namespace", "default"}}}}}},
      {"current-context", "default-context"}};
}

// One run of the bootstrap: the state it carries between retries.
class Bootstrapper {
 public:
  Bootstrapper(const BootstrapOptions& options, ApiServer bootstrap, const StopWait& wait)
      : options_(options),
        cert_dir_(absolute(options.cert_dir)),
        api_(std::move(bootstrap), options.user_agent),
        wait_(wait),
        jitter_(std::random_device{}()) {}

  Result<Bootstrap> run() {
    auto key = new_ec_key_pem();
    if (!key) return key.error();
    key_pem_ = key.value();
    auto csr = node_csr_pem(key_pem_, options_.node_name);
    if (!csr) return csr.error();
    csr_pem_ = csr.value();
    for (;;) {
      const auto name = create_csr();
      if (!name) return Bootstrap::stopped;
      auto issued = wait_for_certificate(*name);
      if (!issued) return issued.error();
      if (issued.value().has_value()) return install(*issued.value());
      if (stopping_) return Bootstrap::stopped;
      // The CSR went away before it was issued: ask again.
    }
  }

  // The current certificate in the cert-dir, installed when valid; false when there is none.
  Result<bool> reuse_current() {
    const auto current = fs::path(cert_dir_) / kClientCurrentPem;
    std::ifstream in(current);
    if (!in) return false;
    std::stringstream text;
    text << in.rdbuf();
    const auto check = check_key_pair(text.str(), text.str(), std::chrono::system_clock::now());
    if (!check) {
      spdlog::info("Client certificate {} is not usable ({}): requesting a new one",
                   current.string(), check.error().message);
      return false;
    }
    spdlog::info("Current client certificate {} is still valid: using it", current.string());
    auto written = write_kubeconfig(current.string());
    if (!written) return written.error();
    return true;
  }

 private:
  // POSTs the CSR until the API server takes it; its name, or nullopt when stopping.
  std::optional<std::string> create_csr() {
    const json request = {{"apiVersion", "certificates.k8s.io/v1"},
                          {"kind", "CertificateSigningRequest"},
                          {"metadata", {{"generateName", "node-csr-"}}},
                          {"spec",
                           {{"request", etcd::base64_encode(csr_pem_)},
                            {"signerName", "kubernetes.io/kube-apiserver-client-kubelet"},
                            {"usages", {"digital signature", "client auth"}}}}};
    auto delay = std::chrono::milliseconds(kFirstRetry);
    for (;;) {
      const auto reply = api_.post(kCsrPath, request.dump());
      if (reply.status == 200 || reply.status == 201) {
        const auto created = json::parse(reply.body, nullptr, false);
        std::string name;
        if (created.is_object() && created.contains("metadata") && created["metadata"].is_object())
          name = created["metadata"].value("name", "");
        if (!name.empty()) {
          spdlog::info("Created certificate signing request {} for node {}", name,
                       options_.node_name);
          problem_.clear();
          return name;
        }
        report("Failed to create certificate signing request: the answer names no CSR: " +
               shortened(reply.body));
      } else if (reply.status == 0) {
        report("Failed to connect to apiserver " + api_.url() + ": " + reply.error);
      } else {
        report("Failed to create certificate signing request: " + describe(reply));
      }
      if (pause(delay)) return std::nullopt;
      delay = std::min<std::chrono::milliseconds>(delay * 2, kMaxRetry);
    }
  }

  // Polls the CSR: its certificate once issued; nullopt when it is gone or the wait was
  // stopped (stopping_ tells which); Error when it was denied or failed.
  Result<std::optional<std::string>> wait_for_certificate(const std::string& name) {
    spdlog::info("Waiting for client certificate: certificate signing request {}", name);
    const std::string path = std::string(kCsrPath) + "/" + name;
    bool approved_logged = false;
    for (;;) {
      if (pause(kPollPeriod)) {
        stopping_ = true;
        return std::optional<std::string>();
      }
      const auto reply = api_.get(path);
      if (reply.status == 404) {
        spdlog::warn("Certificate signing request {} is gone before it was issued", name);
        return std::optional<std::string>();
      }
      if (reply.status != 200) {
        report("Failed to read certificate signing request " + name + ": " + describe(reply));
        continue;
      }
      problem_.clear();
      const auto csr = json::parse(reply.body, nullptr, false);
      const json status = csr.is_object() ? csr.value("status", json::object()) : json::object();
      for (const auto& condition : status.value("conditions", json::array())) {
        if (!condition.is_object()) continue;
        const std::string type = condition.value("type", "");
        if (type == "Denied" || type == "Failed")
          return Error{"certificate signing request " + name + " is " +
                       (type == "Denied" ? "denied" : "failed") +
                       ", reason: " + condition.value("reason", "") +
                       ", message: " + condition.value("message", "")};
        if (type == "Approved" && !approved_logged) {
          spdlog::info("certificate signing request {} is approved, waiting to be issued", name);
          approved_logged = true;
        }
      }
      const auto certificate = status.value("certificate", "");
      if (certificate.empty()) continue;
      const auto pem = etcd::base64_decode(certificate);
      if (!pem || !inspect_certificate(*pem)) {
        report("Certificate signing request " + name + " carries no PEM certificate");
        continue;
      }
      spdlog::info("certificate signing request {} is issued", name);
      return std::optional<std::string>(*pem);
    }
  }

  // Writes the certificate and key, the link to them, and the kubeconfig.
  Result<Bootstrap> install(const std::string& cert_pem) {
    const auto check = check_key_pair(cert_pem, key_pem_, std::chrono::system_clock::now());
    if (!check)
      return Error{"the issued certificate is not usable with the kubelet's key: " +
                   check.error().message};
    std::string content = cert_pem;
    if (!content.empty() && content.back() != '\n') content += '\n';
    content += key_pem_;
    const auto pem = fs::path(cert_dir_) / client_pem_name(std::chrono::system_clock::now());
    auto written = write_private_file(pem, content);
    if (!written) return written.error();
    const auto current = fs::path(cert_dir_) / kClientCurrentPem;
    auto linked = relink(current, pem);
    if (!linked) return linked.error();
    spdlog::info("Wrote client certificate and key {} ({} points at it)", pem.string(),
                 current.string());
    auto config = write_kubeconfig(current.string());
    if (!config) return config.error();
    return Bootstrap::ready;
  }

  Status write_kubeconfig(const std::string& pem) {
    const auto config = kubeconfig_for(api_.server(), pem);
    auto written = write_private_file(options_.kubeconfig, config.dump(2) + "\n");
    if (written)
      spdlog::info("Wrote kubeconfig {} for the client certificate", options_.kubeconfig);
    return written;
  }

  // Logs `problem` when it differs from the last one (the real kubelet retries without end).
  void report(const std::string& problem) {
    if (problem != problem_) spdlog::warn("{}", problem);
    problem_ = problem;
  }

  // Waits about `delay` (±20 %); true when stopping.
  bool pause(std::chrono::milliseconds delay) {
    std::uniform_real_distribution<double> spread(0.8, 1.2);
    return wait_(std::chrono::milliseconds(static_cast<long>(delay.count() * spread(jitter_))));
  }

  const BootstrapOptions& options_;
  std::string cert_dir_;
  ApiClient api_;
  const StopWait& wait_;
  std::mt19937 jitter_;
  std::string key_pem_, csr_pem_;
  std::string problem_;
  bool stopping_{false};
};

}  // namespace

std::string client_pem_name(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  ::gmtime_r(&secs, &utc);
  char text[64] = {};
  std::strftime(text, sizeof(text), "kubelet-client-%Y-%m-%d-%H-%M-%S.pem", &utc);
  return text;
}

Result<Bootstrap> bootstrap_client_certificate(const BootstrapOptions& options,
                                               const StopWait& wait) {
  if (fs::exists(options.kubeconfig)) {
    auto current = read_kubeconfig(options.kubeconfig);
    const auto problem = current ? certificate_problem(current.value()) : current.error().message;
    if (problem.empty()) {
      spdlog::info("Kubeconfig {} exists and is valid, skipping bootstrap", options.kubeconfig);
      return Bootstrap::ready;
    }
    spdlog::info("Kubeconfig {} is not usable ({}): bootstrapping", options.kubeconfig, problem);
  }
  spdlog::info("Using bootstrap kubeconfig {} to generate TLS client cert, key and kubeconfig file",
               options.bootstrap_kubeconfig);
  auto bootstrap = read_kubeconfig(options.bootstrap_kubeconfig);
  if (!bootstrap) return Error{"unable to load bootstrap kubeconfig: " + bootstrap.error().message};
  Bootstrapper bootstrapper(options, bootstrap.value(), wait);
  auto reused = bootstrapper.reuse_current();
  if (!reused) return reused.error();
  if (reused.value()) return Bootstrap::ready;
  return bootstrapper.run();
}

}  // namespace kna::standins
