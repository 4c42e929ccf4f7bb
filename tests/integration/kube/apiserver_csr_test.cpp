// CertificateSigningRequests on the kube-apiserver stand-in's secure port (issue 14): what a
// kubelet's TLS bootstrap does (create with a bootstrap token, wait for the certificate by
// polling or watching), the auto-approval and signing that kube-controller-manager would do, and
// what stays pending.

#include <thread>

#include "apiserver_tls_harness.hpp"

namespace kna::test::apiserver_tls {
namespace {

TEST_F(ApiserverTlsTest, KubeletCsrIsAutoApprovedAndSignedByTheCa) {
  start();
  create_bootstrap_token("abcdef", "0123456789abcdef");
  const Credentials bootstrap{"abcdef.0123456789abcdef", "", ""};
  std::string pem;
  const auto key = make_csr("node-a", "/O=system:nodes/CN=system:node:node-a", &pem);
  const auto created = call("POST", kCsrs, bootstrap, csr_object(pem));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string name = created.object["metadata"]["name"];

  // Polled as a kubelet would (here it is there at the first read).
  const auto listed =
      call("GET", std::string(kCsrs) + "?fieldSelector=metadata.name%3D" + name, bootstrap);
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.object["items"].size(), 1U) << listed.body;
  const auto got = call("GET", std::string(kCsrs) + "/" + name, bootstrap);
  ASSERT_EQ(got.status, 200) << got.body;
  const auto& condition = got.object["status"]["conditions"][0];
  EXPECT_EQ(condition["type"], "Approved") << got.body;
  EXPECT_EQ(condition["status"], "True");
  EXPECT_EQ(condition["reason"], "AutoApproved");
  EXPECT_EQ(condition["message"],
            "Auto approving kubelet client certificate after "
            "SubjectAccessReview.");
  const auto cert_pem = unbase64(got.object["status"].value("certificate", ""));
  ASSERT_FALSE(cert_pem.empty()) << got.body;

  BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(cert, nullptr) << cert_pem;
  EXPECT_EQ(verify_client_cert(cert, pki("ca.crt")), "");
  EXPECT_EQ(name_entry(X509_get_subject_name(cert), NID_commonName), "system:node:node-a");
  EXPECT_EQ(name_entry(X509_get_subject_name(cert), NID_organizationName), "system:nodes");
  EXPECT_TRUE(X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT);
  EXPECT_FALSE(X509_get_extended_key_usage(cert) & XKU_SSL_SERVER);
  const auto days = [&] {
    int d = 0;
    int s = 0;
    ASN1_TIME_diff(&d, &s, X509_get0_notBefore(cert), X509_get0_notAfter(cert));
    return d;
  }();
  EXPECT_EQ(days, 365);
  BIO* key_bio = BIO_new_file(key.c_str(), "r");
  EVP_PKEY* private_key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(key_bio);
  EXPECT_EQ(X509_check_private_key(cert, private_key), 1);
  EVP_PKEY_free(private_key);
  X509_free(cert);

  // The signed certificate is the node's identity: it reads nodes and writes its own.
  const auto cert_path = pki_ / "node-a.crt";
  write_file(cert_path, cert_pem);
  const Credentials node{"", cert_path, key};
  EXPECT_EQ(call("POST", "/api/v1/nodes", node, kubelet_node("node-a", "")).status, 201);
  EXPECT_EQ(call("GET", "/api/v1/nodes", node).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/nodes/node-a", node).status, 200);

  // Renewal: the node asks for its own name and is approved as itself.
  std::string renewal;
  make_csr("node-a-2", "/O=system:nodes/CN=system:node:node-a", &renewal);
  auto request = csr_object(renewal);
  request["spec"]["expirationSeconds"] = 3600;
  const auto renewed = call("POST", kCsrs, node, request);
  ASSERT_EQ(renewed.status, 201) << renewed.body;
  const auto again =
      call("GET", std::string(kCsrs) + "/" + renewed.object["metadata"].value("name", ""), node);
  EXPECT_EQ(again.object["status"]["conditions"][0]["message"],
            "Auto approving self kubelet client certificate after SubjectAccessReview.")
      << again.body;
  EXPECT_FALSE(again.object["status"].value("certificate", "").empty()) << again.body;
}

// The kubelet's way (client-go's WaitForCertificate): create, then watch the one CSR from the
// create's resourceVersion until it has a certificate.
TEST_F(ApiserverTlsTest, WatchOfTheCsrSendsTheIssuedCertificate) {
  start();
  create_bootstrap_token("abcdef", "0123456789abcdef");
  const Credentials bootstrap{"abcdef.0123456789abcdef", "", ""};
  std::string pem;
  make_csr("node-a", "/O=system:nodes/CN=system:node:node-a", &pem);
  const auto created = call("POST", kCsrs, bootstrap, csr_object(pem));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string name = created.object["metadata"]["name"];
  const auto issued = [](const json& e) {
    return e.is_object() && !e["object"]["status"].value("certificate", "").empty();
  };
  const auto query = std::string(kCsrs) +
                     "?watch=true&timeoutSeconds=10&fieldSelector=" + "metadata.name%3D" + name;

  const auto from_create =
      watch(query + "&resourceVersion=" + created.object["metadata"].value("resourceVersion", ""),
            bootstrap, issued);
  ASSERT_EQ(from_create.size(), 1U) << json(from_create);
  EXPECT_EQ(from_create[0]["type"], "MODIFIED");
  EXPECT_EQ(from_create[0]["object"]["kind"], "CertificateSigningRequest");
  EXPECT_EQ(from_create[0]["object"]["status"]["conditions"][0]["type"], "Approved");

  const auto from_scratch = watch(query, bootstrap, issued);
  ASSERT_EQ(from_scratch.size(), 1U) << json(from_scratch);
  EXPECT_EQ(from_scratch[0]["type"], "ADDED");

  // Another CSR is not in this watch; deleting this one while it runs is.
  make_csr("node-b", "/O=system:nodes/CN=system:node:node-b", &pem);
  ASSERT_EQ(call("POST", kCsrs, bootstrap, csr_object(pem)).status, 201);
  const auto deleted = watch(query, admin(), [&](const json& e) {
    if (e.value("type", "") == "ADDED") {
      EXPECT_EQ(call("DELETE", std::string(kCsrs) + "/" + name, admin()).status, 200);
    }
    return e.value("type", "") == "DELETED";
  });
  ASSERT_EQ(deleted.size(), 2U) << json(deleted);
  EXPECT_EQ(deleted[1]["type"], "DELETED");
  EXPECT_EQ(deleted[1]["object"]["metadata"]["name"], name);
}

TEST_F(ApiserverTlsTest, AWatchInProgressDoesNotHoldUpSigterm) {
  start();
  std::thread watcher([&] {
    watch("/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=600", admin(),
          [](const json&) { return false; });
  });
  // The watch is open once the stand-in's request log has it.
  bool open = false;
  for (int i = 0; i < 200 && !open; ++i)
    open =
        call("GET", "/standin/requests", {}).body.find("configmaps?watch=1") != std::string::npos;
  EXPECT_TRUE(open) << "the watch was not seen";
  apiserver_->signal(SIGTERM);
  EXPECT_EQ(exit_description(apiserver_->wait_exit(std::chrono::seconds(5))), "exit code 0")
      << apiserver_->output();
  watcher.join();
}

TEST_F(ApiserverTlsTest, CsrsThatAreNotTheRequestersKubeletClientCertificateStayPending) {
  start();
  create_bootstrap_token("abcdef", "0123456789abcdef");
  const Credentials bootstrap{"abcdef.0123456789abcdef", "", ""};
  const Credentials static_node{kStaticNodeToken, "", ""};
  std::string pem;
  const std::vector<std::pair<Credentials, std::string>> cases{
      {bootstrap, "/O=system:nodes/CN=someone"},
      {bootstrap, "/O=system:masters/CN=system:node:node-a"},
      {static_node, "/O=system:nodes/CN=system:node:another-node"},
  };
  int i = 0;
  for (const auto& [who, subject] : cases) {
    make_csr("pending-" + std::to_string(i++), subject, &pem);
    const auto created = call("POST", kCsrs, who, csr_object(pem));
    ASSERT_EQ(created.status, 201) << subject << ": " << created.body;
    const auto got = call(
        "GET", std::string(kCsrs) + "/" + created.object["metadata"].value("name", ""), admin());
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_FALSE(got.object["status"].contains("conditions")) << subject << ": " << got.body;
    EXPECT_FALSE(got.object["status"].contains("certificate")) << subject << ": " << got.body;
  }
  auto bad = csr_object("not a CSR");
  const auto invalid = call("POST", kCsrs, bootstrap, bad);
  EXPECT_EQ(invalid.status, 422) << invalid.body;
  EXPECT_EQ(invalid.object["reason"], "Invalid") << invalid.body;
}

TEST_F(ApiserverTlsTest, WithoutTheCaKeyCsrsStayPendingAndTheLogSaysWhyOnce) {
  std::filesystem::remove(pki("ca.key"));
  start();
  const Credentials bootstrap{kStaticBootstrapToken, "", ""};
  for (int i = 0; i < 2; ++i) {
    std::string pem;
    make_csr("node-" + std::to_string(i), "/O=system:nodes/CN=system:node:node-a", &pem);
    const auto created = call("POST", kCsrs, bootstrap, csr_object(pem));
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(created.object["spec"]["username"], "kubelet-bootstrap");
    const auto got = call(
        "GET", std::string(kCsrs) + "/" + created.object["metadata"].value("name", ""), admin());
    EXPECT_FALSE(got.object["status"].contains("certificate")) << got.body;
    EXPECT_FALSE(got.object["status"].contains("conditions")) << got.body;
  }
  const auto log = apiserver_->output();
  const std::string why = "CertificateSigningRequests stay pending: cannot read " + pki("ca.key");
  const auto first = log.find(why);
  EXPECT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(why, first + 1), std::string::npos) << log;
}

}  // namespace
}  // namespace kna::test::apiserver_tls
