// The kube-controller-manager and kube-scheduler stand-ins on a TLS master: kubeadm's flags, and
// kubeconfigs holding client certificates minted from make-pki's CA (file paths, or the *-data
// forms kubeadm writes) with which they reach the kube-apiserver stand-in's secure port.

#include "apiserver_tls_harness.hpp"

namespace kna::test::apiserver_tls {
namespace {

class ControlPlaneTlsTest : public ApiserverTlsTest {
 protected:
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  // A client certificate for `subject` signed by the cluster's CA, as kubeadm's kubeconfig phase
  // makes one: NAME.crt and NAME.key in the test's folder.
  void mint_client_cert(const std::string& name, const std::string& subject) {
    std::string pem;
    make_csr(name, subject, &pem);
    write_file(pki_ / (name + ".ext"),
               "basicConstraints=critical,CA:FALSE\n"
               "keyUsage=critical,digitalSignature,keyEncipherment\n"
               "extendedKeyUsage=clientAuth\n");
    ChildProcess sign({kOpenssl, "x509", "-req", "-in", pki_ / (name + ".csr"), "-CA",
                       pki("ca.crt"), "-CAkey", pki("ca.key"), "-CAcreateserial", "-CAserial",
                       pki_ / "ca.srl", "-days", "1", "-sha256", "-extfile", pki_ / (name + ".ext"),
                       "-out", pki_ / (name + ".crt")});
    ASSERT_EQ(exit_description(sign.wait_exit(std::chrono::seconds(20))), "exit code 0")
        << sign.output();
  }

  // A JSON kubeconfig for the secure port with `user`'s credentials, written to the test's
  // folder; its path.
  std::string kubeconfig(const std::string& file, const json& cluster_ca, const json& user) {
    json cluster{{"server", url()}};
    cluster.update(cluster_ca);
    const json config{
        {"apiVersion", "v1"},
        {"kind", "Config"},
        {"clusters", {{{"name", "kubernetes"}, {"cluster", cluster}}}},
        {"users", {{{"name", "u"}, {"user", user}}}},
        {"contexts",
         {{{"name", "u@kubernetes"}, {"context", {{"cluster", "kubernetes"}, {"user", "u"}}}}}},
        {"current-context", "u@kubernetes"}};
    write_file(pki_ / file, config.dump(2));
    return pki_ / file;
  }

  // The stand-in `component` (controller-manager, scheduler) as kubeadm runs it on v1.30, its
  // own /healthz on a free port.
  std::unique_ptr<ChildProcess> run(const std::string& component,
                                    const std::vector<std::string>& flags) {
    std::vector<std::string> argv{kHyperkube, component, "--port=" + std::to_string(free_port())};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return std::make_unique<ChildProcess>(
        argv, std::map<std::string, std::string>{{"KNA_STANDIN_VERSION", "v1.30.2"},
                                                 {"KNA_STANDIN_STATUS_PERIOD_S", "0.2"}});
  }

  // The requests the API server recorded from clients whose User-Agent starts with `agent`.
  std::vector<json> requests_from(const std::string& agent) {
    const auto log = call("GET", "/standin/requests", admin());
    EXPECT_EQ(log.status, 200) << log.body;
    std::vector<json> found;
    for (const auto& request : log.object["requests"])
      if (request.value("user_agent", "").rfind(agent, 0) == 0) found.push_back(request);
    return found;
  }

  static void stop(ChildProcess& child) {
    child.signal(SIGTERM);
    EXPECT_EQ(exit_description(child.wait_exit(std::chrono::seconds(10))), "exit code 0")
        << child.output();
  }
};

// kube-controller-manager with kubeadm's command line, its kubeconfig naming files (the client
// certificate relative to the kubeconfig's folder): the secure port, which takes no anonymous
// requests here, answers its /healthz polls.
TEST_F(ControlPlaneTlsTest, ControllerManagerWithKubeadmsFlagsReachesTheSecurePortWithItsCert) {
  start({"--anonymous-auth=false"});
  ASSERT_NO_FATAL_FAILURE(
      mint_client_cert("controller-manager", "/CN=system:kube-controller-manager"));
  const auto conf =
      kubeconfig("controller-manager.conf", {{"certificate-authority", pki("ca.crt")}},
                 {{"client-certificate", "controller-manager.crt"},
                  {"client-key", pki_ / "controller-manager.key"}});
  auto cm =
      run("controller-manager",
          {"--allocate-node-cidrs=true", "--authentication-kubeconfig=" + conf,
           "--authorization-kubeconfig=" + conf, "--bind-address=127.0.0.1",
           "--client-ca-file=" + pki("ca.crt"), "--cluster-cidr=10.244.0.0/16",
           "--cluster-name=kubernetes", "--cluster-signing-cert-file=" + pki("ca.crt"),
           "--cluster-signing-key-file=" + pki("ca.key"),
           "--controllers=*,bootstrapsigner,tokencleaner", "--kubeconfig=" + conf,
           "--leader-elect=true", "--requestheader-client-ca-file=" + pki("ca.crt"),
           "--root-ca-file=" + pki("ca.crt"), "--service-account-private-key-file=" + pki("sa.key"),
           "--service-cluster-ip-range=10.96.0.0/12", "--use-service-account-credentials=true"});
  EXPECT_TRUE(cm->wait_for_output("API server " + url() + " reachable", std::chrono::seconds(10)))
      << cm->output() << "\n--- apiserver\n"
      << apiserver_->output();
  EXPECT_EQ(cm->output().find("API server " + url() + " answered"), std::string::npos)
      << cm->output();
  const auto polls = requests_from("kube-controller-manager/v1.30.2 ");
  ASSERT_FALSE(polls.empty()) << apiserver_->output();
  EXPECT_EQ(polls[0]["method"], "GET");
  EXPECT_EQ(polls[0]["path"], "/healthz");
  stop(*cm);

  // The same without a client certificate is anonymous, so refused: the certificate was what
  // authenticated it.
  const auto anonymous =
      kubeconfig("anonymous.conf", {{"certificate-authority", pki("ca.crt")}}, json::object());
  auto refused = run("controller-manager", {"--kubeconfig=" + anonymous, "--leader-elect=true"});
  EXPECT_TRUE(refused->wait_for_output("API server " + url() + " answered 401 to GET /healthz",
                                       std::chrono::seconds(10)))
      << refused->output();
  stop(*refused);
}

// kube-scheduler with kubeadm's command line and a kubeconfig as kubeadm writes it: the CA and
// the client certificate inline (*-data). A server certificate that does not chain to the
// kubeconfig's CA is refused.
TEST_F(ControlPlaneTlsTest, SchedulerWithKubeadmsFlagsReachesTheSecurePortWithInlineCredentials) {
  start({"--anonymous-auth=false"});
  ASSERT_NO_FATAL_FAILURE(mint_client_cert("scheduler", "/CN=system:kube-scheduler"));
  const auto conf = kubeconfig(
      "scheduler.conf", {{"certificate-authority-data", base64(read_file(pki("ca.crt")))}},
      {{"client-certificate-data", base64(read_file(pki_ / "scheduler.crt"))},
       {"client-key-data", base64(read_file(pki_ / "scheduler.key"))}});
  auto scheduler =
      run("scheduler", {"--authentication-kubeconfig=" + conf, "--authorization-kubeconfig=" + conf,
                        "--bind-address=127.0.0.1", "--kubeconfig=" + conf, "--leader-elect=true"});
  EXPECT_TRUE(
      scheduler->wait_for_output("API server " + url() + " reachable", std::chrono::seconds(10)))
      << scheduler->output() << "\n--- apiserver\n"
      << apiserver_->output();
  const auto polls = requests_from("kube-scheduler/v1.30.2 ");
  ASSERT_FALSE(polls.empty()) << apiserver_->output();
  EXPECT_EQ(polls[0]["path"], "/healthz");
  stop(*scheduler);

  // The scheduler has none of the controller-manager's flags.
  auto wrong = run("scheduler", {"--kubeconfig=" + conf, "--use-service-account-credentials=true"});
  EXPECT_EQ(exit_description(wrong->wait_exit(std::chrono::seconds(10))), "exit code 1");
  EXPECT_NE(wrong->output().find("Error: unknown flag: --use-service-account-credentials"),
            std::string::npos)
      << wrong->output();

  // The admin's certificate as the CA: the apiserver's serving certificate does not chain to it.
  const auto wrong_ca = kubeconfig(
      "wrong-ca.conf", {{"certificate-authority", pki("admin.crt")}},
      {{"client-certificate", pki_ / "scheduler.crt"}, {"client-key", pki_ / "scheduler.key"}});
  auto untrusting = run("scheduler", {"--kubeconfig=" + wrong_ca});
  EXPECT_TRUE(untrusting->wait_for_output(
      "API server " + url() + " unreachable: x509: certificate signed by unknown authority",
      std::chrono::seconds(10)))
      << untrusting->output();
  stop(*untrusting);
}

}  // namespace
}  // namespace kna::test::apiserver_tls
