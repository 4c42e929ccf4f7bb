// The one redaction rule (src/core/redact.cpp), as tables: what must be hidden, and what must stay
// readable because it is a setting or says where a secret is.

#include "core/redact.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace kna {
namespace {

struct NameCase {
  std::string name;
  bool secret;
};

class LooksSecret : public ::testing::TestWithParam<NameCase> {};

TEST_P(LooksSecret, DecidesByTheWordsOfTheName) {
  EXPECT_EQ(looks_secret(GetParam().name), GetParam().secret) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(
    Table, LooksSecret,
    ::testing::Values(
        NameCase{"--token", true}, NameCase{"token", true}, NameCase{"KNA_API_TOKEN", true},
        NameCase{"api_token", true}, NameCase{"apiToken", true},
        NameCase{"--bootstrap-token", true}, NameCase{"--password", true},
        NameCase{"ETCD_PASSWORD", true}, NameCase{"DB_PASSWD", true},
        NameCase{"client-secret", true}, NameCase{"AWS_SECRET_ACCESS_KEY", true},
        NameCase{"key", true}, NameCase{"client-key-data", true}, NameCase{"--api-key", true},
        NameCase{"APIKEY", true}, NameCase{"--registry-credentials", true},
        NameCase{"--pass", true}, NameCase{"bearer", true}, NameCase{"K3S_TOKEN", true},
        // where a secret is, or a setting, or public
        NameCase{"--token-file", false}, NameCase{"--tls-private-key-file", false},
        NameCase{"--service-account-key-file", false},
        NameCase{"--discovery-token-ca-cert-hash", false}, NameCase{"--token-ttl", false},
        NameCase{"--image-credential-provider-config", false}, NameCase{"--cert-dir", false},
        NameCase{"--etcd-keyfile", false}, NameCase{"--anonymous-auth", false},
        NameCase{"--authorization-mode", false}, NameCase{"--kubeconfig", false},
        NameCase{"--node-ip", false}, NameCase{"MASTER_IP", false}, NameCase{"PATH", false},
        NameCase{"monkey", false}, NameCase{"--register-with-taints", false},
        NameCase{"HOME", false}, NameCase{"", false}),
    [](const auto& param_info) {
      std::string name;
      for (const char c : param_info.param.name)
        name += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
      return "n" + std::to_string(param_info.index) + "_" + name;
    });

struct ArgvCase {
  std::vector<std::string> argv;
  std::vector<std::string> shown;
};

class RedactArgv : public ::testing::TestWithParam<ArgvCase> {};

TEST_P(RedactArgv, HidesEachSecretValueAndNothingElse) {
  EXPECT_EQ(redact_argv(GetParam().argv), GetParam().shown);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RedactArgv,
    ::testing::Values(
        ArgvCase{{"kubelet", "--token=SECRET", "--v=2"},
                 {"kubelet", "--token=<redacted>", "--v=2"}},
        ArgvCase{{"kubelet", "--token", "SECRET", "--v=2"},
                 {"kubelet", "--token", "<redacted>", "--v=2"}},
        ArgvCase{{"x", "-password=hunter2"}, {"x", "-password=<redacted>"}},
        ArgvCase{{"x", "--password=two words"}, {"x", "--password=<redacted>"}},
        ArgvCase{{"env", "KNA_API_TOKEN=abc", "key=xyz", "monkey=1"},
                 {"env", "KNA_API_TOKEN=<redacted>", "key=<redacted>", "monkey=1"}},
        // the next argument is a flag, not the value
        ArgvCase{{"x", "--token", "--v=2"}, {"x", "--token", "--v=2"}},
        // a switch's value
        ArgvCase{{"apiserver", "--enable-bootstrap-token-auth=true"},
                 {"apiserver", "--enable-bootstrap-token-auth=true"}},
        ArgvCase{{"x", "--use-credentials", "false"}, {"x", "--use-credentials", "false"}},
        // where the secret is: shown
        ArgvCase{{"kubelet", "--token-file=/etc/kna/token", "--kubeconfig=/var/lib/k/kubeconfig",
                  "--tls-private-key-file", "/etc/k/key.pem"},
                 {"kubelet", "--token-file=/etc/kna/token", "--kubeconfig=/var/lib/k/kubeconfig",
                  "--tls-private-key-file", "/etc/k/key.pem"}},
        // anywhere in an argument
        ArgvCase{{"curl", "-H", "Authorization: Bearer eyJhbGciOi.x.y", "https://10.0.0.1:6443"},
                 {"curl", "-H", "Authorization: Bearer <redacted>", "https://10.0.0.1:6443"}},
        ArgvCase{{"flanneld", "--etcd-endpoints=http://root:pw@10.0.0.1:2379,http://10.0.0.2:2379"},
                 {"flanneld",
                  "--etcd-endpoints=http://root:<redacted>@10.0.0.1:2379,http://10.0.0.2:2379"}},
        ArgvCase{{"sh", "-c", "exec kubelet --token=abc --v=2"},
                 {"sh", "-c", "exec kubelet --token=<redacted> --v=2"}},
        ArgvCase{
            {"kubelet", "--node-labels=role=worker", "--register-with-taints=key=v:NoSchedule"},
            {"kubelet", "--node-labels=role=worker", "--register-with-taints=key=v:NoSchedule"}},
        ArgvCase{{"x", "--token="}, {"x", "--token="}}, ArgvCase{{}, {}}),
    [](const auto& param_info) { return "case" + std::to_string(param_info.index); });

struct TextCase {
  std::string text;
  std::string shown;
};

class RedactText : public ::testing::TestWithParam<TextCase> {};

TEST_P(RedactText, HidesSecretsInFreeText) {
  EXPECT_EQ(redact_text(GetParam().text), GetParam().shown);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RedactText,
    ::testing::Values(
        TextCase{"kubelet: started pid 12: /usr/bin/kubelet --token=abc --v=2",
                 "kubelet: started pid 12: /usr/bin/kubelet --token=<redacted> --v=2"},
        TextCase{"Authorization: bearer abc.defgh", "Authorization: bearer <redacted>"},
        TextCase{"GET https://admin:s3cr3t@10.0.0.1:6443/api failed",
                 "GET https://admin:<redacted>@10.0.0.1:6443/api failed"},
        TextCase{"user only https://admin@10.0.0.1/ stays",
                 "user only https://admin@10.0.0.1/ stays"},
        TextCase{"command \"probe --password=x\" failed",
                 "command \"probe --password=<redacted>\" failed"},
        TextCase{"no secret here: --node-ip=10.0.0.5", "no secret here: --node-ip=10.0.0.5"},
        TextCase{"--etcd-endpoints=http://a:pw1@h1:2379,http://c:pw2@h2:2379",
                 "--etcd-endpoints=http://a:<redacted>@h1:2379,http://c:<redacted>@h2:2379"},
        TextCase{"a bearer of bad news", "a bearer of bad news"}, TextCase{"", ""}),
    [](const auto& param_info) { return "case" + std::to_string(param_info.index); });

TEST(RedactEnv, HidesSecretNamesAndSecretsInOtherValuesButShowsEmptyOnes) {
  const std::map<std::string, std::string> env{{"KNA_API_TOKEN", "abc"},
                                               {"ETCD_PASSWORD", "pw"},
                                               {"HTTP_PROXY", "http://u:pw@proxy:3128"},
                                               {"PATH", "/usr/bin"},
                                               {"EMPTY_TOKEN", ""}};
  const std::map<std::string, std::string> shown{{"KNA_API_TOKEN", "<redacted>"},
                                                 {"ETCD_PASSWORD", "<redacted>"},
                                                 {"HTTP_PROXY", "http://u:<redacted>@proxy:3128"},
                                                 {"PATH", "/usr/bin"},
                                                 {"EMPTY_TOKEN", ""}};
  EXPECT_EQ(redact_env(env), shown);
}

}  // namespace
}  // namespace kna
