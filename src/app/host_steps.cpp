#include "app/host_steps.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/version.hpp"
#include "clients/cluster_discovery.hpp"
#include "clients/join_publish.hpp"
#include "clients/join_trust.hpp"
#include "clients/node_pki.hpp"
#include "platform/atomic_file.hpp"
#include "platform/mounts.hpp"
#include "platform/net_links.hpp"

namespace kna::app {

namespace {

bool same_on_disk(const WriteFile& file) {
  struct stat st {};
  if (::stat(file.path.c_str(), &st) != 0) return false;
  if ((st.st_mode & 07777) != file.mode) return false;
  std::ifstream in(file.path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return in.good() || in.eof() ? text.str() == file.content : false;
}

}  // namespace

Status write_file(const std::string& stage, const WriteFile& step) {
  if (same_on_disk(step)) return kOk;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(step.path).parent_path(), ec);
  if (ec) return Error{"cannot create the folder of " + step.path + ": " + ec.message()};
  if (auto written = write_file_atomically(step.path, step.content, step.mode); !written)
    return written.error();
  spdlog::info("{}: wrote {} ({} bytes, mode {:o})", stage, step.path, step.content.size(),
               step.mode);
  return kOk;
}

Status share_mount(const std::string& stage, const SharedMount& step) {
  (void)stage;  // make_shared_mount logs a bind itself
  return make_shared_mount(step.dir);
}

bool bridge_is_stale(bool exists, const std::optional<std::string>& cidr,
                     const std::string& keep_cidr) {
  return exists && cidr != keep_cidr;
}

Status delete_stale_bridge(const std::string& stage, const DeleteStaleBridge& step) {
  const auto cidr = link_ipv4_cidr(step.link);
  if (!bridge_is_stale(link_exists(step.link), cidr, step.keep_cidr)) return kOk;
  spdlog::info("{}: deleting {} ({}) so that {} applies", stage, step.link,
               cidr.value_or("no IPv4 address"), step.keep_cidr);
  return delete_link(step.link);
}

Status make_dirs(const std::string& stage, const MakeDirs& step) {
  for (const auto& dir : step.dirs) {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) continue;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Error{"cannot create " + dir + ": " + ec.message()};
    spdlog::info("{}: created {}", stage, dir);
  }
  return kOk;
}

Status discover_cluster(const std::string& stage, const DiscoverCluster& step) {
  // A restart whose files already hold a CA of that pin, and the kubeconfig made of it and the
  // token, asks the API server nothing.
  const std::string ca_on_disk = read_file(step.ca_file).value_or("");
  if (!ca_on_disk.empty()) {
    auto pin = ca_pin_of(ca_on_disk);
    const auto wanted = parse_ca_pin(step.ca_cert_hash);
    if (pin && wanted && pin.value() == "sha256:" + wanted.value() &&
        same_on_disk(WriteFile{
            step.kubeconfig, bootstrap_kubeconfig(step.api_server, ca_on_disk, step.token), 0600}))
      return kOk;
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(step.ca_file).parent_path(), ec);
  if (ec) return Error{"cannot create the folder of " + step.ca_file + ": " + ec.message()};
  const std::string candidate = step.ca_file + ".candidate";
  auto ca = kna::discover_cluster(DiscoveryRequest{step.api_server, step.ca_cert_hash, step.token,
                                                   candidate, Millis{5'000}, agent_user_agent("")});
  if (!ca) {
    ::unlink(candidate.c_str());
    return ca.error();
  }
  std::filesystem::rename(candidate, step.ca_file, ec);
  if (ec) return Error{"cannot rename " + candidate + " to " + step.ca_file + ": " + ec.message()};
  spdlog::info("{}: the API server {} proved its CA matches {}; wrote {}", stage, step.api_server,
               step.ca_cert_hash, step.ca_file);
  return write_file(stage,
                    WriteFile{step.kubeconfig,
                              bootstrap_kubeconfig(step.api_server, ca.value(), step.token), 0600});
}

Status issue_certificate(const std::string& stage, const IssueClientCertificate& step) {
  const ClientIdentity who{step.common_name, step.organizations};
  const std::string ca = read_file(step.ca_cert_file).value_or("");
  if (ca.empty()) return Error{"cannot read the cluster CA " + step.ca_cert_file};
  if (client_certificate_current(read_file(step.path).value_or(""), ca, who)) return kOk;
  const std::string ca_key = read_file(step.ca_key_file).value_or("");
  if (ca_key.empty()) return Error{"cannot read the cluster CA's key " + step.ca_key_file};
  // A year, as kubeadm's; issued again in its last third at a start (the kubelet renews its own).
  auto issued = issue_client_certificate(ca, ca_key, who, std::chrono::hours(24 * 365));
  if (!issued)
    return Error{fmt::format("cannot issue a certificate for {} with {} and {}: {}",
                             step.common_name, step.ca_cert_file, step.ca_key_file,
                             issued.error().message)};
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(step.path).parent_path(), ec);
  if (ec) return Error{"cannot create the folder of " + step.path + ": " + ec.message()};
  if (auto written =
          write_file_atomically(step.path, issued.value().cert_pem + issued.value().key_pem, 0600);
      !written)
    return written.error();
  spdlog::info("{}: issued a client certificate for {} into {}", stage, step.common_name,
               step.path);
  return kOk;
}

Status publish_join_info(const std::string& stage, const PublishJoinInfo& step) {
  auto done =
      kna::publish_join_info(PublishRequest{step.api_server, step.ca_file, step.client_cert_file,
                                            step.token, Millis{5'000}, agent_user_agent("")});
  if (!done) return done.error();
  for (const auto& change : done.value()) spdlog::info("{}: {}", stage, change);
  return kOk;
}

Status run_host_step(const std::string& stage, const HostStep& step) {
  struct Run {
    const std::string& stage;
    Status operator()(const WriteFile& s) const { return write_file(stage, s); }
    Status operator()(const SharedMount& s) const { return share_mount(stage, s); }
    Status operator()(const DeleteStaleBridge& s) const { return delete_stale_bridge(stage, s); }
    Status operator()(const MakeDirs& s) const { return make_dirs(stage, s); }
    Status operator()(const DiscoverCluster& s) const { return discover_cluster(stage, s); }
    Status operator()(const IssueClientCertificate& s) const { return issue_certificate(stage, s); }
    Status operator()(const PublishJoinInfo& s) const { return publish_join_info(stage, s); }
  };
  return std::visit(Run{stage}, step);
}

}  // namespace kna::app
