// cluster.*: the API server's URL by version, and the checks of joining over TLS (a way to trust
// the server, something to authenticate with, the token and pin forms), each problem naming the
// option; the join token redacted wherever the configuration is shown.

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/report.hpp"
#include "config_fixtures.hpp"

namespace kna {
namespace {

using ::testing::HasSubstr;

constexpr const char* kToken = "abcdef.0123456789abcdef";
const std::string kPin = "sha256:" + std::string(64, 'a');

std::string joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += p + "\n";
  return out;
}

struct JoinSetup : test::Setup {
  JoinSetup() { inputs.env["K8S_VERSION"] = "v1.28.0"; }
};

TEST(ClusterAccess, TheApiServerFollowsTheVersion) {
  test::Setup old;
  EXPECT_EQ(old.load().config.cluster.api_server, "http://10.0.0.1:8080");
  old.inputs.env["K8S_VERSION"] = "v1.19.16";
  EXPECT_EQ(old.load().config.cluster.api_server, "http://10.0.0.1:8080");

  JoinSetup current;
  current.inputs.env["KNA_JOIN_TOKEN"] = kToken;
  current.inputs.env["KNA_CA_CERT_HASH"] = kPin;
  const LoadedConfig loaded = current.load();
  EXPECT_EQ(loaded.config.cluster.api_server, "https://10.0.0.1:6443");
  EXPECT_EQ(loaded.sources.at("cluster.api_server"), ValueSource::default_value);
  EXPECT_EQ(loaded.config.cluster.token, kToken);
  EXPECT_EQ(loaded.config.cluster.ca_cert_hash, kPin);
  EXPECT_EQ(loaded.config.paths.bootstrap_kubeconfig,
            "/var/lib/kube-node-agent/bootstrap-kubeconfig");
  EXPECT_EQ(loaded.config.paths.cluster_ca, "/var/lib/kube-node-agent/cluster-ca.crt");
}

TEST(ClusterAccess, AConfiguredUrlWinsAndTheJoinFilesFollowTheStateDir) {
  test::Setup setup;
  setup.inputs.flags = {{"cluster.api_server", "http://10.0.0.9:8080"},
                        {"paths.state_dir", "/srv/kna"}};
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.cluster.api_server, "http://10.0.0.9:8080");
  EXPECT_EQ(loaded.sources.at("cluster.api_server"), ValueSource::flag);
  EXPECT_EQ(loaded.config.paths.bootstrap_kubeconfig, "/srv/kna/bootstrap-kubeconfig");
  EXPECT_EQ(loaded.config.paths.cluster_ca, "/srv/kna/cluster-ca.crt");
}

TEST(ClusterAccess, HttpsWithNoWayToTrustTheServerIsRefused) {
  JoinSetup setup;
  setup.inputs.env["KNA_JOIN_TOKEN"] = kToken;
  const std::string problems = joined(setup.problems());
  EXPECT_THAT(problems, HasSubstr("cluster.api_server (default from MASTER_IP"));
  EXPECT_THAT(problems, HasSubstr("nothing says how to trust it"));
  EXPECT_THAT(problems, HasSubstr("never trusts an unpinned server"));
}

TEST(ClusterAccess, HttpsWithNothingToAuthenticateWithIsRefused) {
  JoinSetup setup;
  setup.inputs.env["KNA_CA_FILE"] = setup.dir.write("ca.crt", "-----BEGIN CERTIFICATE-----\n");
  EXPECT_THAT(joined(setup.problems()), HasSubstr("nothing to authenticate with"));
}

TEST(ClusterAccess, AMalformedTokenIsNamedWithoutItsSecret) {
  JoinSetup setup;
  setup.inputs.env["KNA_CA_CERT_HASH"] = kPin;
  setup.inputs.env["KNA_JOIN_TOKEN"] = "abcdef.0123456789ABCDEF";
  const std::string problems = joined(setup.problems());
  EXPECT_THAT(problems, HasSubstr("cluster.token (env KNA_JOIN_TOKEN)"));
  EXPECT_THAT(problems, HasSubstr("[a-z0-9]"));
  EXPECT_EQ(problems.find("0123456789ABCDEF"), std::string::npos) << problems;
}

TEST(ClusterAccess, APinThatIsNot64HexDigitsIsRefused) {
  JoinSetup setup;
  setup.inputs.env["KNA_JOIN_TOKEN"] = kToken;
  setup.inputs.flags = {{"cluster.ca_cert_hash", "sha256:abc"}};
  const std::string problems = joined(setup.problems());
  EXPECT_THAT(problems, HasSubstr("cluster.ca_cert_hash (flag"));
  EXPECT_THAT(problems, HasSubstr("64 hex digits"));
}

TEST(ClusterAccess, APinNeedsAToken) {
  JoinSetup setup;
  setup.inputs.env["KNA_CA_CERT_HASH"] = kPin;
  setup.inputs.env["KNA_API_TOKEN"] = "bearer-secret";
  EXPECT_THAT(joined(setup.problems()), HasSubstr("is checked while joining by token"));
}

TEST(ClusterAccess, CredentialsOverPlainHttpAreRefused) {
  test::Setup setup;
  setup.inputs.env["KNA_JOIN_TOKEN"] = kToken;
  const std::string problems = joined(setup.problems());
  EXPECT_THAT(problems, HasSubstr("cluster.token (env KNA_JOIN_TOKEN): is set, but "
                                  "\"http://10.0.0.1:8080\" is plain http"));
}

TEST(ClusterAccess, FilesMustBeThereAndACertificateNeedsItsKey) {
  JoinSetup setup;
  setup.inputs.env["KNA_CA_FILE"] = setup.dir.path("missing.crt");
  setup.inputs.env["KNA_CLIENT_CERT_FILE"] =
      setup.dir.write("node.crt", "-----BEGIN CERTIFICATE-----\n");
  const std::string problems = joined(setup.problems());
  EXPECT_THAT(problems, HasSubstr("missing.crt\" cannot be read"));
  EXPECT_THAT(problems, HasSubstr("cluster.client_key_file"));
  EXPECT_THAT(problems, HasSubstr("a client certificate needs its key"));
}

TEST(ClusterAccess, BadUrlsAreNamed) {
  for (const char* url :
       {"10.0.0.1:6443", "https://", "https://10.0.0.1:6443/api", "https://10.0.0.1:99999"}) {
    test::Setup setup;
    setup.inputs.flags = {{"cluster.api_server", url}};
    const std::string problems = joined(setup.problems());
    EXPECT_THAT(problems, HasSubstr("cluster.api_server (flag")) << url;
    EXPECT_THAT(problems, HasSubstr("use a URL such as https://")) << url;
  }
}

// A master of v1.20 or later: kubeadm's PKI files, PEM as far as the loader looks.
struct TlsMasterSetup : test::Setup {
  TlsMasterSetup() {
    inputs.env["KNA_ROLE"] = "master";
    inputs.env["K8S_VERSION"] = "v1.28.0";
    std::filesystem::create_directories(dir.path("pki"));
    for (const char* name : {"ca.crt", "apiserver.crt"})
      dir.write(std::string("pki/") + name, "-----BEGIN CERTIFICATE-----\n");
    for (const char* name : {"ca.key", "apiserver.key", "sa.key"})
      dir.write(std::string("pki/") + name, "-----BEGIN PRIVATE KEY-----\n");
    dir.write("pki/sa.pub", "-----BEGIN PUBLIC KEY-----\n");
    inputs.env["KNA_PKI_DIR"] = dir.path("pki");
  }
};

TEST(ClusterAccess, AMasterServesTlsFromV120WithItsPki) {
  TlsMasterSetup setup;
  setup.inputs.env["KNA_JOIN_TOKEN"] = kToken;  // published for the workers
  const LoadedConfig loaded = setup.load();
  EXPECT_EQ(loaded.config.cluster.api_server, "https://10.0.0.1:6443");
  EXPECT_EQ(loaded.config.control_plane.pki_dir, setup.dir.path("pki"));
}

TEST(ClusterAccess, ATlsMasterNamesEachMissingPkiFileAndHowToMakeThem) {
  TlsMasterSetup setup;
  std::filesystem::remove(setup.dir.path("pki/ca.key"));
  std::filesystem::remove(setup.dir.path("pki/sa.pub"));
  setup.dir.write("pki/apiserver.crt", "not PEM\n");
  const std::string problems = joined(setup.problems());
  EXPECT_THAT(problems, HasSubstr("control_plane.pki_dir (env KNA_PKI_DIR)"));
  EXPECT_THAT(problems, HasSubstr("it lacks (or cannot read) ca.key, sa.pub; "));
  EXPECT_THAT(problems, HasSubstr("apiserver.crt holds no PEM"));
  EXPECT_THAT(problems,
              HasSubstr("kubeadm init phase certs all --cert-dir " + setup.dir.path("pki")));
  EXPECT_THAT(problems, ::testing::Not(HasSubstr("ca.crt")));
}

TEST(ClusterAccess, ATlsMasterTakesNoTrustOrCredentialsButItsPki) {
  TlsMasterSetup setup;
  setup.inputs.env["KNA_CA_FILE"] = setup.dir.path("pki/ca.crt");
  setup.inputs.env["KNA_CA_CERT_HASH"] = kPin;
  const std::string problems = joined(setup.problems());
  EXPECT_THAT(problems, HasSubstr("cluster.ca_file (env KNA_CA_FILE)"));
  EXPECT_THAT(problems, HasSubstr("cluster.ca_cert_hash (env KNA_CA_CERT_HASH)"));
  EXPECT_THAT(problems, HasSubstr("a master's trust and credentials come from its own PKI"));
}

TEST(ClusterAccess, AMasterUpToV119ServesTheInsecurePortAndFromV120OnlyTls) {
  TlsMasterSetup old;
  old.inputs.env["K8S_VERSION"] = "v1.19.16";
  EXPECT_EQ(old.load().config.cluster.api_server, "http://10.0.0.1:8080");
  old.inputs.flags = {{"cluster.api_server", "https://10.0.0.1:6443"}};
  EXPECT_THAT(joined(old.problems()), HasSubstr("runs its API server on the insecure port 8080"));

  TlsMasterSetup current;
  current.inputs.flags = {{"cluster.api_server", "http://10.0.0.1:8080"}};
  EXPECT_THAT(joined(current.problems()), HasSubstr("serves its API server over TLS only"));
}

TEST(ClusterAccess, ATokenAndAPinLoadAndTheTokenIsRedacted) {
  JoinSetup setup;
  setup.inputs.env["KNA_JOIN_TOKEN"] = kToken;
  setup.inputs.env["KNA_CA_CERT_HASH"] = kPin;
  const LoadedConfig loaded = setup.load();
  const std::string text = render_config_text(loaded);
  EXPECT_EQ(text.find("0123456789abcdef"), std::string::npos) << text;
  EXPECT_NE(text.find(kPin), std::string::npos) << "the pin is public and shown:\n" << text;
  const nlohmann::json j = render_config_json(loaded);
  EXPECT_EQ(j.at("values").at("cluster.token").at("value"), "<redacted>");
}

}  // namespace
}  // namespace kna
