#pragma once
// How the node and control-plane stand-ins reach the API server: its URL from a flag or a JSON
// kubeconfig, a small blocking client, and a log that reports each change of reachability once.

#include <chrono>
#include <string>

#include "kna/error.hpp"

namespace kna::standins {

class StopFlag;

// Where the API server is and how to authenticate to it: client-go's rest.Config, the parts the
// stand-ins use. TLS applies to an https URL only.
struct ApiServer {
  std::string url;         // "http://10.9.0.1:8080", "https://10.9.0.1:6443", no trailing slash
  std::string token;       // sent as "Authorization: Bearer …" when set
  std::string token_file;  // read at each request when `token` is empty (kubeconfig tokenFile)
  std::string ca_file;     // PEM bundle the server's certificate must chain to
  std::string ca_pem;      // or the bundle itself (certificate-authority-data, decoded)
  bool insecure_skip_tls_verify{false};           // never verify the server (nothing else skips it)
  std::string client_cert_file, client_key_file;  // PEM files, presented to the server
  std::string client_cert_pem, client_key_pem;    // or the PEM itself (…-data, decoded)

  bool has_client_cert() const { return !client_cert_file.empty() || !client_cert_pem.empty(); }
  bool has_ca() const { return !ca_file.empty() || !ca_pem.empty(); }
};

// The server and credentials of the current context of a kubeconfig file: server,
// certificate-authority(-data), insecure-skip-tls-verify, token, tokenFile,
// client-certificate(-data), client-key(-data). Relative paths are relative to the kubeconfig's
// folder, as client-go resolves them. The stand-ins read JSON only (what kube-node-agent writes);
// the real programs also read YAML.
Result<ApiServer> read_kubeconfig(const std::string& path);
// The first of a comma-separated list of URLs (--api-servers), without a trailing slash.
std::string first_url(const std::string& urls);

struct ApiReply {
  int status{0};  // 0: no HTTP answer (see `error`)
  std::string body;
  std::string error;  // why there was no answer
};

// An answer's body for a log line: its first 200 bytes, without trailing blanks.
std::string shortened(std::string text);

// The machine as Go's runtime.GOARCH names it (amd64, arm64, arm, 386, ppc64le, …), from uname.
std::string go_arch();

// The User-Agent client-go sends, "kubelet/v1.3.6 (linux/amd64) kubernetes/standin": the
// component's name (not hyperkube's, so that the API server's request log tells them apart), its
// version, the platform, and "standin" where the real one has its git commit.
std::string standin_user_agent(const std::string& component, const std::string& version);

// One connection per call, short timeouts: callers poll, so a slow answer is just a failed poll.
// Every request carries `user_agent` (standin_user_agent). An https URL is spoken over TLS: the
// server verified against the CA (unless insecure-skip-tls-verify), the client certificate
// presented when there is one; a TLS failure is an ApiReply with status 0 and the reason.
class ApiClient {
 public:
  ApiClient(ApiServer server, std::string user_agent)
      : server_(std::move(server)), user_agent_(std::move(user_agent)) {}
  const std::string& url() const { return server_.url; }
  const ApiServer& server() const { return server_; }

  ApiReply get(const std::string& path) const;
  ApiReply post(const std::string& path, const std::string& json) const;
  ApiReply patch(const std::string& path, const std::string& body,
                 const std::string& content_type) const;

 private:
  ApiServer server_;
  std::string user_agent_;
};

// Logs "API server URL unreachable: why" (or the unexpected answer) when the problem changes,
// and "API server URL reachable" once it is gone. Not thread-safe: one per polling thread.
class ApiReachability {
 public:
  explicit ApiReachability(std::string url) : url_(std::move(url)) {}
  // Records how a call went; true when there was an HTTP answer.
  bool record(const ApiReply& reply, const std::string& what);
  void answered();
  void failed(const std::string& problem);

 private:
  std::string url_;
  std::string problem_;
  bool first_{true};
};

// For kube-proxy, the controller-manager and the scheduler: GET `path` every `period` until
// `stop`, logging each change of reachability (a 200 is reachable).
void watch_api(const ApiClient& api, const std::string& path, std::chrono::milliseconds period,
               const StopFlag& stop);

// The API server from --master / --kubeconfig as client-go's BuildConfigFromFlags picks it: the
// kubeconfig's server unless --master overrides it, and http://localhost:8080 with a warning when
// neither is given.
Result<ApiServer> api_server_from_flags(const std::string& master, const std::string& kubeconfig);

// Poll periods: env `variable` in seconds (may be fractional) when set, else `fallback`.
std::chrono::milliseconds period_from_env(const char* variable, std::chrono::milliseconds fallback);

}  // namespace kna::standins
