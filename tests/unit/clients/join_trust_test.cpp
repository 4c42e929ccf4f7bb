// The trust a join rests on: the bootstrap token's form, the CA pin's form and value (against the
// openssl pipeline kubeadm's documentation gives), and the detached JWS of cluster-info (against a
// signature computed with `openssl dgst -hmac`).

#include "clients/join_trust.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/subprocess.hpp"

namespace kna {
namespace {

using testing::HasSubstr;
using testing::Not;

TEST(BootstrapToken, SplitsIntoIdAndSecret) {
  auto t = parse_bootstrap_token("abcdef.0123456789abcdef");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t.value().id, "abcdef");
  EXPECT_EQ(t.value().secret, "0123456789abcdef");
}

TEST(BootstrapToken, ABadOneSaysTheFormWithoutRepeatingTheSecret) {
  for (const char* bad :
       {"abcdef0123456789abcdef", "abcde.0123456789abcdef", "abcdef.0123456789abcde",
        "ABCDEF.0123456789abcdef", "abcdef.0123456789abcdeX", ""}) {
    auto t = parse_bootstrap_token(bad);
    ASSERT_FALSE(t) << bad;
    EXPECT_THAT(t.error().message, HasSubstr("[a-z0-9]")) << bad;
    EXPECT_THAT(t.error().message, Not(HasSubstr("0123456789abcde"))) << bad;
  }
}

TEST(CaPin, Is64HexDigitsAfterSha256) {
  const std::string digits(64, 'A');
  auto pin = parse_ca_pin("sha256:" + digits);
  ASSERT_TRUE(pin) << pin.error().message;
  EXPECT_EQ(pin.value(), std::string(64, 'a'));
  for (const std::string& bad : {digits, "sha1:" + digits, "sha256:" + digits.substr(1),
                                 "sha256:" + digits.substr(1) + "g"}) {
    auto p = parse_ca_pin(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_THAT(p.error().message, HasSubstr("64 hex digits")) << bad;
  }
}

TEST(CaPin, IsTheSha256OfTheCertificatesSubjectPublicKeyInfo) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "the openssl command is not installed (apt-get install openssl)";
  const auto dir =
      std::filesystem::temp_directory_path() / ("kna-pin-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string ca = (dir / "ca.crt").string();
  ASSERT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                         "-keyout " +
                         (dir / "ca.key").string() + " -out " + ca +
                         " -subj /CN=kubernetes -days 1 2>/dev/null")
                            .c_str()),
            0);
  // kubeadm's documentation: openssl x509 -pubkey | openssl rsa/pkey -pubin -outform der | sha256
  const std::string expected =
      "sha256:" +
      test::shell_output("openssl x509 -pubkey -noout -in " + ca +
                         " | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1")
          .substr(0, 64);
  std::ifstream in(ca);
  std::stringstream pem;
  pem << in.rdbuf();
  auto pin = ca_pin_of(pem.str());
  ASSERT_TRUE(pin) << pin.error().message;
  EXPECT_EQ(pin.value(), expected);
  EXPECT_FALSE(ca_pin_of("not a certificate"));
  std::filesystem::remove_all(dir);
}

// header {"alg":"HS256","kid":"abcdef"}, content "kubeconfig content", secret 0123456789abcdef;
// signature from `openssl dgst -sha256 -hmac 0123456789abcdef -binary` of header.content.
constexpr const char* kSigned =
    "eyJhbGciOiJIUzI1NiIsImtpZCI6ImFiY2RlZiJ9..wUJkUy120wDyOHOIqkD1ZiWVAZliOYFevptAw6tnCWE";
const BootstrapToken kToken{"abcdef", "0123456789abcdef"};

TEST(DetachedJws, SignsAsTheBootstrapSignerDoes) {
  EXPECT_EQ(sign_detached_jws("kubeconfig content", kToken), kSigned);
}

TEST(DetachedJws, VerifiesTheRightTokenAndContentOnly) {
  EXPECT_TRUE(verify_detached_jws(kSigned, "kubeconfig content", kToken));
  auto other_content = verify_detached_jws(kSigned, "kubeconfig c0ntent", kToken);
  ASSERT_FALSE(other_content);
  EXPECT_THAT(other_content.error().message, HasSubstr("not signed with the join token abcdef"));
  auto other_secret =
      verify_detached_jws(kSigned, "kubeconfig content", {"abcdef", "0123456789abcdee"});
  EXPECT_FALSE(other_secret);
  auto other_id = verify_detached_jws(kSigned, "kubeconfig content", {"zzzzzz", kToken.secret});
  ASSERT_FALSE(other_id);
  EXPECT_THAT(other_id.error().message, HasSubstr("made with token abcdef, not zzzzzz"));
  EXPECT_FALSE(verify_detached_jws("eyJhbGciOiJub25lIn0..", "kubeconfig content", kToken));
  EXPECT_FALSE(verify_detached_jws("no dots", "kubeconfig content", kToken));
}

TEST(Base64Url, RoundTripsEveryLength) {
  std::string data;
  for (int n = 0; n < 8; ++n) {
    auto back = base64url_decode(base64url_encode(data));
    ASSERT_TRUE(back) << n;
    EXPECT_EQ(back.value(), data) << n;
    data += static_cast<char>(0xf0 + n);
  }
  EXPECT_FALSE(base64url_decode("a+b="));
}

}  // namespace
}  // namespace kna
