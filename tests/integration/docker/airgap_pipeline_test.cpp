// main-docker's readiness step (LoadAirgapImages, run by the NodeProber) against a real, private
// dockerd: the kubelet's images are in the daemon by the time the step succeeds; the rest of the
// image folder is loaded behind it.
#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/node_prober.hpp"
#include "clients/docker_client.hpp"
#include "docker_daemon.hpp"
#include "support/fake_prober.hpp"
#include "support/log_capture.hpp"
#include "support/sim_dispatcher.hpp"

namespace kna {
namespace {

using test::kBusyboxImage;
using testing::HasSubstr;
namespace fs = std::filesystem;

constexpr const char* kPing = "http://127.0.0.1:1/_ping";

class AirgapPipelineIT : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = test::PrivateDockerd::skip_reason()) GTEST_SKIP() << *why;
    daemon_ = std::make_unique<test::PrivateDockerd>();
    ASSERT_TRUE(daemon_->start()) << daemon_->log_tail();
    std::string out;
    ASSERT_TRUE(daemon_->import_busybox(kBusyboxImage, &out)) << out;
    image_dir_ = daemon_->dir() + "/images";
    fs::create_directories(image_dir_);
    client_ = std::make_unique<DockerClient>(DockerClientOptions{daemon_->socket()});
    base_.set_ok(kPing);
  }

  // Writes IMAGE (busybox under another name) as image_dir/FILE and removes it from the daemon.
  void airgap_tarball(const std::string& image, const std::string& file) {
    ASSERT_EQ(daemon_->docker({"tag", kBusyboxImage, image}), 0);
    ASSERT_EQ(daemon_->docker({"save", "-o", image_dir_ + "/" + file, image}), 0);
    ASSERT_EQ(daemon_->docker({"rmi", image}), 0);
    ASSERT_FALSE(client_->inspect_image(image));
  }

  ProbeSpec step(std::vector<std::string> first) const {
    ProbeSpec p;
    p.kind = ProbeKind::http;
    p.url = kPing;
    p.then = LoadAirgapImages{daemon_->socket(), image_dir_, std::move(first), {}};
    return p;
  }

  // Runs the check, delivering what reaches the loop, until its result arrives.
  ProbeResult check(app::NodeProber& prober, const ProbeSpec& spec) {
    std::optional<ProbeResult> result;
    prober.check(spec, [&](ProbeResult r) { result = std::move(r); });
    for (int i = 0; i < 60'000 && !result; ++i) {
      dispatcher_.run_posted();
      if (!result) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!result) ADD_FAILURE() << "no probe result within 60 s";
    return result.value_or(ProbeResult{});
  }

  std::unique_ptr<test::PrivateDockerd> daemon_;
  std::unique_ptr<DockerClient> client_;
  std::string image_dir_;
  test::SimDispatcher dispatcher_;
  test::FakeProber base_{dispatcher_};
};

TEST_F(AirgapPipelineIT, TheKubeletsImagesAreThereWhenTheStepSucceedsTheRestFollowBehind) {
  airgap_tarball("kna-test/kubelet:1", "kubelet.tar");
  airgap_tarball("kna-test/pod-a:1", "pod-a.tar");
  airgap_tarball("kna-test/pod-b:1", "pod-b.tar");
  test::LogCapture log;
  app::NodeProber prober(dispatcher_, base_);

  // The check that loads the kubelet's images leaves the rest to the next one: nothing competes
  // with the kubelet's own start.
  const ProbeResult r = check(prober, step({"kna-test/kubelet:1"}));
  ASSERT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail,
            "the kubelet's images are there; the rest of the image folder loads from the next "
            "check");
  EXPECT_TRUE(r.again);  // the supervisor runs the step at the next check too
  // Loaded before the result was posted: no waiting here.
  EXPECT_TRUE(client_->inspect_image("kna-test/kubelet:1"));
  // Nothing was handed to the loader (the detail above says so): nothing can have loaded it.
  EXPECT_FALSE(client_->inspect_image("kna-test/pod-a:1")) << "loaded before the next check";

  const ProbeResult next = check(prober, step({"kna-test/kubelet:1"}));
  ASSERT_TRUE(next.ok) << next.detail;
  EXPECT_EQ(next.detail,
            "the kubelet's images are there; the rest of the image folder loads behind");
  EXPECT_TRUE(next.again);
  EXPECT_TRUE(test::poll_until([&] {
    return client_->inspect_image("kna-test/pod-a:1") && client_->inspect_image("kna-test/pod-b:1");
  })) << log.text();
  EXPECT_TRUE(test::poll_until([&] {
    return log.contains(
        "main-docker: image folder loaded behind the kubelet's images: 2 loaded, "
        "1 already there, 0 failed");
  })) << log.text();
  // Each tarball went to the daemon once: the kubelet's was not loaded again behind it.
  EXPECT_EQ(log.count_containing("from \"" + image_dir_ + "/kubelet.tar\""), 1) << log.text();

  // Once everything is there, a later check loads nothing, and the step is done for this daemon:
  // the supervisor stops running it (no inspect per check on a ready node).
  ProbeResult settled;
  EXPECT_TRUE(test::poll_until([&] {
    settled = check(prober, step({"kna-test/kubelet:1"}));
    return !settled.again;
  })) << settled.detail;
  EXPECT_TRUE(settled.ok) << settled.detail;
  EXPECT_EQ(settled.detail, "the kubelet's images are there; the rest of the image folder is in");
  EXPECT_EQ(log.count_containing("main-docker: loaded "), 3) << log.text();

  // A daemon that lost the kubelet's images is a fresh one: the folder is looked at again.
  ASSERT_EQ(daemon_->docker({"rmi", "kna-test/kubelet:1"}), 0);
  const ProbeResult fresh = check(prober, step({"kna-test/kubelet:1"}));
  ASSERT_TRUE(fresh.ok) << fresh.detail;
  EXPECT_TRUE(fresh.again);
  EXPECT_THAT(fresh.detail, HasSubstr("loads from the next check"));
}

TEST_F(AirgapPipelineIT, TheBootstrapDaemonsImagesAreLeftToIt) {
  airgap_tarball("kna-test/kubelet:1", "kubelet.tar");
  airgap_tarball("kna-test/flannel:1", "flannel.tar");
  airgap_tarball("kna-test/pod-a:1", "pod-a.tar");
  test::LogCapture log;
  app::NodeProber prober(dispatcher_, base_);
  ProbeSpec spec = step({"kna-test/kubelet:1"});
  std::get<LoadAirgapImages>(spec.then).elsewhere = {"kna-test/flannel:1"};

  ProbeResult r = check(prober, spec);
  ASSERT_TRUE(r.ok) << r.detail;
  r = check(prober, spec);  // the pass behind starts from the second check
  ASSERT_TRUE(r.ok) << r.detail;
  EXPECT_TRUE(test::poll_until([&] {
    return log.contains(
        "main-docker: image folder loaded behind the kubelet's images: 1 loaded, 1 already there, "
        "0 failed; 1 left to the bootstrap daemon");
  })) << log.text();
  EXPECT_TRUE(client_->inspect_image("kna-test/pod-a:1"));
  EXPECT_FALSE(client_->inspect_image("kna-test/flannel:1"));
  EXPECT_EQ(log.count_containing("loaded kna-test/flannel:1"), 0) << log.text();
}

TEST_F(AirgapPipelineIT, AKubeletImageInNoTarballDoesNotHoldTheDaemonBack) {
  airgap_tarball("kna-test/pod-a:1", "pod-a.tar");
  test::LogCapture log;
  app::NodeProber prober(dispatcher_, base_);

  const ProbeResult r = check(prober, step({"registry.example/kubelet:9"}));
  ASSERT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail,
            "registry.example/kubelet:9 not in the image folder (the launch pulls it); the rest "
            "of the image folder loads behind");
  EXPECT_TRUE(test::poll_until([&] {
    return client_->inspect_image("kna-test/pod-a:1").has_value();
  })) << log.text();
}

TEST_F(AirgapPipelineIT, ADaemonThatDoesNotAnswerFailsTheStep) {
  app::NodeProber prober(dispatcher_, base_);
  ProbeSpec spec = step({"kna-test/kubelet:1"});
  std::get<LoadAirgapImages>(spec.then).docker_socket = daemon_->dir() + "/nobody.sock";
  const ProbeResult r = check(prober, spec);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.detail, HasSubstr("cannot load the image folder " + image_dir_));
}

}  // namespace
}  // namespace kna
