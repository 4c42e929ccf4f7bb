#pragma once
// Pieces shared by the text and JSON plan renderings: display-only shell quoting, secret
// redaction, durations and one-line descriptions of probes and host steps.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kna/spec.hpp"

namespace kna::stages {

// The argument as a POSIX shell would need it written; for display only, never executed.
std::string shell_quote(std::string_view arg);
std::string shell_join(const std::vector<std::string>& argv);

// 100ms, 2s, 1.5s
std::string format_millis(Millis ms);
// 2, 0.1
std::string format_number(double value);

// "GET http://localhost/_ping over unix socket /var/run/docker.sock answers 2xx with "OK" in the
// body"
std::string describe_probe(const ProbeSpec& probe);
// One line per host step, with its values: "write /var/lib/kube-node-agent/kubeconfig (0600, 312
// bytes) if it differs". A file's content is left out (it may hold a token).
std::string describe_step(const HostStep& step);
// What must succeed after the probe, with its values: "store flannel's network config in etcd at
// http://127.0.0.1:2379 (API v2): key /coreos.com/network/config = {…}". Never the token.
std::string describe_after(const AfterProbe& then);
// How often that step runs again (ProbeSpec::then_every): "once per run; …", "every 60s to +20%
// once ready; …".
std::string describe_then_every(Millis every);
// "0600"
std::string format_mode(unsigned mode);
// A file's content for display: string values under secret-looking keys (token, client-key-data,
// as in a kubeconfig; core/redact.hpp's rule) of a JSON document become "<redacted>"; other
// content is returned as is.
std::string redact_file_content(const std::string& content);

// "/sys:/sys:ro", "/var/lib/kubelet:/var/lib/kubelet:shared", as docker run -v writes them.
std::string describe_mount(const Mount& mount);

const char* to_string(ProbeKind kind);
const char* to_string(EtcdApi api);

}  // namespace kna::stages
