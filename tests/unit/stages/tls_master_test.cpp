// A master over TLS (Kubernetes v1.20 on): its components' identities issued with the cluster CA
// before its kubelet starts them, kubeadm's flags on its static pods with the PKI mounted, and
// what the workers need published before its kube-proxy starts.

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "stage_test_util.hpp"
#include "stages/kubeconfig.hpp"
#include "stages/render_util.hpp"

namespace kna {
namespace {

using test::files_of;
using test::process_argv;
using test::stage_of;
using testing::Contains;
using testing::HasSubstr;
using testing::Not;

constexpr const char* kToken = "abcdef.0123456789abcdef";

Config tls_master() {
  Config c = test::master_config();
  c.k8s_version = "v1.28.0";
  c.cluster.api_server = "https://" + c.master_ip + ":6443";
  c.cluster.token = kToken;
  c.control_plane.pki_dir = "/etc/kubernetes/pki";
  return c;
}

const WriteFile* file_named(const std::vector<WriteFile>& files, const std::string& path) {
  const auto it =
      std::find_if(files.begin(), files.end(), [&](const WriteFile& f) { return f.path == path; });
  return it == files.end() ? nullptr : &*it;
}

nlohmann::json manifest(const StageSpec& kubelet, const std::string& component) {
  const auto files = files_of(kubelet);
  const WriteFile* f = file_named(files, "/etc/kubernetes/manifests-multi/" + component + ".json");
  return f == nullptr ? nlohmann::json() : nlohmann::json::parse(f->content);
}

std::vector<std::string> command_of(const nlohmann::json& pod) {
  return pod["spec"]["containers"][0]["command"].get<std::vector<std::string>>();
}

TEST(TlsMaster, TheKubeletIssuesEveryIdentityBeforeItStartsTheControlPlane) {
  const Config cfg = tls_master();
  const StageSpec kubelet = stage_of(cfg, kStageKubelet);
  const auto issued = steps_of<IssueClientCertificate>(kubelet.prepare);
  ASSERT_EQ(issued.size(), 4u);
  const auto identity = [](const IssueClientCertificate& c) {
    return std::make_pair(c.common_name, c.organizations);
  };
  using Who = std::pair<std::string, std::vector<std::string>>;
  EXPECT_EQ(identity(issued[0]), (Who{"system:node:" + cfg.node_name, {"system:nodes"}}));
  EXPECT_EQ(issued[0].path, "/var/lib/kubelet/pki/kubelet-client-current.pem");
  EXPECT_EQ(identity(issued[1]), (Who{"system:kube-controller-manager", {}}));
  EXPECT_EQ(identity(issued[2]), (Who{"system:kube-scheduler", {}}));
  EXPECT_EQ(identity(issued[3]), (Who{"kubernetes-admin", {"system:masters"}}));
  for (const auto& c : issued) {
    EXPECT_EQ(c.ca_cert_file, "/etc/kubernetes/pki/ca.crt");
    EXPECT_EQ(c.ca_key_file, "/etc/kubernetes/pki/ca.key");
  }
  // Each certificate before the kubeconfig naming it, all before the manifests.
  const auto files = files_of(kubelet);
  const WriteFile* admin = file_named(files, "/var/lib/kube-node-agent/admin.conf");
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(admin->mode, 0600u);
  const auto conf = nlohmann::json::parse(admin->content);
  EXPECT_EQ(conf["clusters"][0]["cluster"]["server"], "https://" + cfg.master_ip + ":6443");
  EXPECT_EQ(conf["clusters"][0]["cluster"]["certificate-authority"], "/etc/kubernetes/pki/ca.crt");
  EXPECT_EQ(conf["users"][0]["user"]["client-certificate"],
            "/var/lib/kube-node-agent/control-plane/admin.pem");
  const auto first_manifest =
      std::find_if(kubelet.prepare.begin(), kubelet.prepare.end(), [](const HostStep& s) {
        const auto* f = std::get_if<WriteFile>(&s);
        return f != nullptr && f->path.ends_with(".json");
      });
  const auto last_issue = std::find_if(
      kubelet.prepare.rbegin(), kubelet.prepare.rend(),
      [](const HostStep& s) { return std::holds_alternative<IssueClientCertificate>(s); });
  EXPECT_LT(std::distance(kubelet.prepare.begin(), last_issue.base()),
            std::distance(kubelet.prepare.begin(), first_manifest));
}

TEST(TlsMaster, TheKubeletRunsAsTheNodeAndTheAgentAsksAsIt) {
  const Config cfg = tls_master();
  const auto argv = process_argv(cfg, kStageKubelet);
  EXPECT_THAT(argv, Contains("--kubeconfig=/var/lib/kubelet/kubeconfig"));
  EXPECT_THAT(argv, Contains("--rotate-certificates"));
  EXPECT_THAT(argv, Contains("--cert-dir=/var/lib/kubelet/pki"));
  EXPECT_THAT(argv, Not(Contains(HasSubstr("--bootstrap-kubeconfig"))));
  const StageSpec kubelet = stage_of(cfg, kStageKubelet);
  const auto* ready = std::get_if<NodeReady>(&kubelet.ready.then);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(*ready, (NodeReady{"https://" + cfg.master_ip + ":6443", cfg.node_name, "",
                               "/etc/kubernetes/pki/ca.crt",
                               "/var/lib/kubelet/pki/kubelet-client-current.pem",
                               "/var/lib/kubelet/pki/kubelet-client-current.pem"}));
}

TEST(TlsMaster, TheApiServerServesTlsWithKubeadmsFlagsAndNoInsecurePort) {
  const Config cfg = tls_master();
  const auto pod = manifest(stage_of(cfg, kStageKubelet), "kube-apiserver");
  ASSERT_FALSE(pod.is_null());
  const auto command = command_of(pod);
  for (const std::string flag :
       {"--secure-port=6443", "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt", "--enable-bootstrap-token-auth=true",
        "--authorization-mode=Node,RBAC", "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
        "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local"})
    EXPECT_THAT(command, Contains(flag));
  EXPECT_THAT(command, Not(Contains(HasSubstr("insecure"))));
  // The PKI at its host path, read only.
  EXPECT_EQ(pod["spec"]["volumes"][0]["hostPath"]["path"], "/etc/kubernetes/pki");
  EXPECT_EQ(pod["spec"]["containers"][0]["volumeMounts"][0]["mountPath"], "/etc/kubernetes/pki");
  EXPECT_EQ(pod["spec"]["containers"][0]["volumeMounts"][0]["readOnly"], true);

  // v1.20 to v1.23 still know --insecure-port: it is said to be off.
  Config v121 = cfg;
  v121.k8s_version = "v1.21.14";
  EXPECT_THAT(command_of(manifest(stage_of(v121, kStageKubelet), "kube-apiserver")),
              Contains("--insecure-port=0"));
}

TEST(TlsMaster, TheControllerManagerSignsAndBothComponentsUseTheirKubeconfigs) {
  const StageSpec kubelet = stage_of(tls_master(), kStageKubelet);
  const auto cm = command_of(manifest(kubelet, "kube-controller-manager"));
  EXPECT_THAT(cm, Contains("--kubeconfig=/var/lib/kube-node-agent/control-plane/"
                           "controller-manager.conf"));
  EXPECT_THAT(cm, Contains("--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt"));
  EXPECT_THAT(cm, Contains("--cluster-signing-key-file=/etc/kubernetes/pki/ca.key"));
  EXPECT_THAT(cm, Contains("--controllers=*,bootstrapsigner,tokencleaner"));
  EXPECT_THAT(cm, Not(Contains(HasSubstr("--master="))));
  const auto scheduler = manifest(kubelet, "kube-scheduler");
  EXPECT_THAT(command_of(scheduler),
              Contains("--kubeconfig=/var/lib/kube-node-agent/control-plane/scheduler.conf"));
  EXPECT_EQ(scheduler["spec"]["volumes"][1]["hostPath"]["path"],
            "/var/lib/kube-node-agent/control-plane");

  const auto files = files_of(kubelet);
  const WriteFile* conf =
      file_named(files, "/var/lib/kube-node-agent/control-plane/scheduler.conf");
  ASSERT_NE(conf, nullptr);
  EXPECT_EQ(nlohmann::json::parse(conf->content)["users"][0]["user"]["client-key"],
            "/var/lib/kube-node-agent/control-plane/scheduler.pem");
}

TEST(TlsMaster, KubeProxyHasItsOwnIdentityAndPublishesTheJoinInfoFirst) {
  const Config cfg = tls_master();
  const StageSpec proxy = stage_of(cfg, kStageKubeProxy);
  const auto issued = steps_of<IssueClientCertificate>(proxy.prepare);
  ASSERT_EQ(issued.size(), 1u);
  EXPECT_EQ(issued[0].common_name, "system:kube-proxy");
  EXPECT_EQ(issued[0].path, "/var/lib/kube-node-agent/control-plane/kube-proxy.pem");
  const auto published = steps_of<PublishJoinInfo>(proxy.prepare);
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0],
            (PublishJoinInfo{"https://" + cfg.master_ip + ":6443", "/etc/kubernetes/pki/ca.crt",
                             "/var/lib/kube-node-agent/control-plane/admin.pem", kToken}));
  EXPECT_THAT(proxy.deps, Contains(Dependency{kStageKubelet, false}));
  // `plan` never shows the token.
  EXPECT_EQ(stages::describe_step(published[0]).find("0123456789abcdef"), std::string::npos);
}

TEST(TlsMaster, UpToV119TheMasterKeepsTheInsecurePort) {
  Config cfg = test::master_config();
  cfg.k8s_version = "v1.19.16";
  const StageSpec kubelet = stage_of(cfg, kStageKubelet);
  EXPECT_TRUE(steps_of<IssueClientCertificate>(kubelet.prepare).empty());
  EXPECT_THAT(command_of(manifest(kubelet, "kube-apiserver")), Contains("--insecure-port=8080"));
  EXPECT_TRUE(steps_of<PublishJoinInfo>(stage_of(cfg, kStageKubeProxy).prepare).empty());
}

}  // namespace
}  // namespace kna
