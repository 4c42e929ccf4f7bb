// Client certificates minted with the cluster's CA (src/clients/node_pki.cpp), checked by the
// openssl command: they chain to the CA, name the user and groups, are for client authentication
// only, and never outlive the CA; a key that is not the CA's is refused.

#include "clients/node_pki.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_cluster_info.hpp"
#include "support/subprocess.hpp"

namespace kna {
namespace {

using testing::HasSubstr;

class NodePki : public testing::Test {
 protected:
  void SetUp() override {
    if (!test::pki().skip_reason.empty()) GTEST_SKIP() << test::pki().skip_reason;
    ASSERT_TRUE(test::pki().made) << "openssl could not make the test certificates";
  }
  static std::string ca() { return test::slurp(test::pki().path("ca.crt")); }
  static std::string ca_key() { return test::slurp(test::pki().path("ca.key")); }
  static std::string write(const std::string& name, const std::string& text) {
    const std::string path = test::pki().path(name);
    std::ofstream(path) << text;
    return path;
  }
};

TEST_F(NodePki, TheCertificateChainsToTheCaAndNamesTheUserAndGroups) {
  auto issued = issue_client_certificate(ca(), ca_key(), {"system:node:master-1", {"system:nodes"}},
                                         std::chrono::hours(24 * 365));
  ASSERT_TRUE(issued) << issued.error().message;
  const std::string cert = write("node.crt", issued.value().cert_pem);
  const std::string key = write("node.key", issued.value().key_pem);
  EXPECT_THAT(test::shell_output("openssl verify -CAfile " + test::pki().path("ca.crt") + " " +
                                 cert + " 2>&1"),
              HasSubstr(": OK"));
  EXPECT_THAT(test::shell_output("openssl x509 -noout -subject -nameopt RFC2253 -in " + cert),
              HasSubstr("CN=system:node:master-1,O=system:nodes"));
  EXPECT_THAT(
      test::shell_output("openssl x509 -noout -ext extendedKeyUsage,basicConstraints -in " + cert),
      HasSubstr("TLS Web Client Authentication"));
  EXPECT_THAT(test::shell_output("openssl x509 -noout -ext basicConstraints -in " + cert),
              HasSubstr("CA:FALSE"));
  // The key is the certificate's.
  EXPECT_EQ(test::shell_output("openssl pkey -pubout -in " + key),
            test::shell_output("openssl x509 -noout -pubkey -in " + cert));
  // The CA made by the test lives 2 days: a year is cut to that.
  const std::string ca_end =
      test::shell_output("openssl x509 -noout -enddate -in " + test::pki().path("ca.crt"));
  EXPECT_EQ(test::shell_output("openssl x509 -noout -enddate -in " + cert), ca_end);
}

TEST_F(NodePki, SeveralGroupsAndEachCallAFreshKey) {
  auto a = issue_client_certificate(ca(), ca_key(), {"kube-node-agent", {"system:masters", "x"}},
                                    std::chrono::hours(1));
  auto b = issue_client_certificate(ca(), ca_key(), {"kube-node-agent", {"system:masters", "x"}},
                                    std::chrono::hours(1));
  ASSERT_TRUE(a && b);
  EXPECT_NE(a.value().key_pem, b.value().key_pem);
  EXPECT_THAT(test::shell_output("openssl x509 -noout -subject -nameopt RFC2253 -in " +
                                 write("admin.crt", a.value().cert_pem)),
              HasSubstr("CN=kube-node-agent,O=x,O=system:masters"));
}

TEST_F(NodePki, AKeyThatIsNotTheCasIsRefused) {
  const std::string other_key = test::slurp(test::pki().path("other-ca.key"));
  auto issued = issue_client_certificate(ca(), other_key, {"u", {}}, std::chrono::hours(1));
  ASSERT_FALSE(issued);
  EXPECT_THAT(issued.error().message, HasSubstr("not the key of the CA certificate"));
  issued = issue_client_certificate("junk", ca_key(), {"u", {}}, std::chrono::hours(1));
  ASSERT_FALSE(issued);
  EXPECT_THAT(issued.error().message, HasSubstr("the CA certificate is not PEM"));
}

// What the master's issue step keeps across restarts, and what it replaces.
TEST_F(NodePki, ACertificateIsCurrentForItsIdentityCaAndKeyOnly) {
  const ClientIdentity node{"system:node:master-1", {"system:nodes"}};
  auto issued = issue_client_certificate(ca(), ca_key(), node, std::chrono::hours(1));
  ASSERT_TRUE(issued) << issued.error().message;
  const std::string pem = issued.value().cert_pem + issued.value().key_pem;
  EXPECT_TRUE(client_certificate_current(pem, ca(), node));

  EXPECT_FALSE(client_certificate_current(pem, ca(), {"system:node:master-2", {"system:nodes"}}));
  EXPECT_FALSE(client_certificate_current(pem, ca(), {"system:node:master-1", {}}));
  EXPECT_FALSE(
      client_certificate_current(pem, ca(), {"system:node:master-1", {"system:nodes", "x"}}));
  // The CA was replaced: what the old one signed must go.
  EXPECT_FALSE(
      client_certificate_current(pem, test::slurp(test::pki().path("other-ca.crt")), node));
  // A certificate with someone else's key, or without one.
  auto other = issue_client_certificate(ca(), ca_key(), node, std::chrono::hours(1));
  ASSERT_TRUE(other);
  EXPECT_FALSE(
      client_certificate_current(issued.value().cert_pem + other.value().key_pem, ca(), node));
  EXPECT_FALSE(client_certificate_current(issued.value().cert_pem, ca(), node));
  EXPECT_FALSE(client_certificate_current("", ca(), node));
  EXPECT_FALSE(client_certificate_current(pem, "junk", node));
}

TEST_F(NodePki, ACertificateInTheLastThirdOfItsLifeIsNotCurrent) {
  const ClientIdentity who{"system:kube-scheduler", {}};
  // Backdated 5 minutes: issued for 1 minute, 5 of its 6 minutes are gone.
  auto short_lived = issue_client_certificate(ca(), ca_key(), who, std::chrono::seconds(60));
  ASSERT_TRUE(short_lived);
  EXPECT_FALSE(client_certificate_current(
      short_lived.value().cert_pem + short_lived.value().key_pem, ca(), who));
  // Issued for 10 minutes: 5 of 15 gone, two thirds left.
  auto fresh = issue_client_certificate(ca(), ca_key(), who, std::chrono::seconds(600));
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(
      client_certificate_current(fresh.value().cert_pem + fresh.value().key_pem, ca(), who));
}

}  // namespace
}  // namespace kna
