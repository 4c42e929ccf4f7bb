// ImageStore's decisions against a fake dockerd: which airgap tarballs it loads for a missing
// image (ensure) and into the main daemon (load_airgap), and which it leaves alone.
#include "runtime/image_store.hpp"
#include "clients/docker_client.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "unit/clients/docker_fake_daemon.hpp"
#include "unit/runtime/tar_writer.hpp"

namespace kna {
namespace {

namespace fs = std::filesystem;
using Names = std::vector<std::string>;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Images by name (docker's name forms are one name); a load gives the images the test said the
// posted tarball holds, or fails as the test said; a pull fails unless allowed.
class FakeImageDaemon {
 public:
  struct Tarball {
    std::string name;
    Names images;  // what loading it adds
    bool reject{false};
  };

  FakeImageDaemon() {
    auto& s = daemon_.server();
    s.Get("/_ping", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("API-Version", "1.41");
      res.set_content("OK", "text/plain");
    });
    s.Get(
        R"(/v1.41/images/(.+)/json)", [this](const httplib::Request& req, httplib::Response& res) {
          const std::string name = req.matches[1];
          std::lock_guard lock(mu_);
          ++inspects_;
          if (!images_.count(normalize_image_ref(name))) {
            res.status = 404;
            res.set_content(R"({"message":"No such image: )" + name + R"("})", "application/json");
            return;
          }
          nlohmann::json j = {{"Id", "sha256:1"}, {"RepoTags", {name}}};
          res.set_content(j.dump(), "application/json");
        });
    s.Post("/v1.41/images/load", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      auto it = tarballs_.find(req.body);
      if (it == tarballs_.end()) {
        res.status = 500;
        res.set_content(R"({"message":"unexpected EOF"})", "application/json");
        loads_.push_back("?");
        return;
      }
      loads_.push_back(it->second.name);
      if (it->second.reject) {
        res.status = 500;
        res.set_content(R"({"message":"archive/tar: invalid tar header"})", "application/json");
        return;
      }
      std::string body;
      for (const auto& image : it->second.images) {
        images_.insert(normalize_image_ref(image));
        body += nlohmann::json{{"stream", "Loaded image: " + image + "\n"}}.dump() + "\r\n";
      }
      res.set_content(body, "application/json");
    });
    s.Post("/v1.41/images/create", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      const std::string image = req.get_param_value("fromImage") + ":" + req.get_param_value("tag");
      pulls_.push_back(image);
      if (!pullable_) {
        res.status = 500;
        res.set_content(R"({"message":"no registry here"})", "application/json");
        return;
      }
      images_.insert(normalize_image_ref(image));
      res.set_content(R"({"status":"Pull complete","id":"l1"})", "application/json");
    });
    daemon_.start();
    // Stopping a server that has not entered its accept loop yet leaves the loop running (and
    // the destructor's join hanging): a test that sends nothing would end that early.
    while (!daemon_.server().is_running()) std::this_thread::yield();
  }

  const std::string& socket() const { return daemon_.socket(); }

  // Loading the file at `path` (its content as it is now) gives `images`.
  void knows(const std::string& path, Names images, bool reject = false) {
    std::lock_guard lock(mu_);
    tarballs_[slurp(path)] = Tarball{fs::path(path).filename().string(), std::move(images), reject};
  }
  void has(const std::string& image) {
    std::lock_guard lock(mu_);
    images_.insert(normalize_image_ref(image));
  }
  void lose(const std::string& image) {
    std::lock_guard lock(mu_);
    images_.erase(normalize_image_ref(image));
  }
  void allow_pulls() {
    std::lock_guard lock(mu_);
    pullable_ = true;
  }
  Names loads() {
    std::lock_guard lock(mu_);
    return loads_;
  }
  Names pulls() {
    std::lock_guard lock(mu_);
    return pulls_;
  }
  int inspects() {
    std::lock_guard lock(mu_);
    return inspects_;
  }

 private:
  std::mutex mu_;
  std::set<std::string> images_;
  std::map<std::string, Tarball> tarballs_;  // by content
  Names loads_;
  Names pulls_;
  int inspects_{0};
  bool pullable_{false};
  test::FakeDockerDaemon daemon_;  // last: its server stops before the state above goes
};

std::string temp_dir() {
  char tmpl[] = "/tmp/kna-imagestore-XXXXXX";
  return ::mkdtemp(tmpl);
}

class ImageStoreTest : public ::testing::Test {
 protected:
  ~ImageStoreTest() override { fs::remove_all(dir_); }

  // A docker-save-shaped tarball in the image folder naming `tags`, known to the daemon.
  std::string image_tarball(const std::string& file, const Names& tags) {
    const std::string p = dir_ + "/" + file;
    test::write_image_tarball(p, tags, "layer of " + file);
    daemon_.knows(p, tags);
    return p;
  }
  // The three test images of a node, as tests/images/tarballs writes them.
  void node_images() {
    image_tarball("kna-test_etcd_3.4.tar", {"kna-test/etcd:3.4"});
    image_tarball("kna-test_flannel_standin.tar", {"kna-test/flannel:standin"});
    image_tarball("kna-test_hyperkube_standin.tar", {"kna-test/hyperkube:standin"});
  }

  std::string dir_ = temp_dir();  // first: the store below takes it
  FakeImageDaemon daemon_;
  DockerClient client_{DockerClientOptions{daemon_.socket()}};
  TarballIndex index_;  // not the process-wide one: each test's files are its own
  ImageStore store_{dir_, index_};
};

TEST_F(ImageStoreTest, EnsureLoadsOnlyTheTarballThatNamesTheImage) {
  node_images();
  EXPECT_EQ(store_.ensure(client_, "flannel", "kna-test/flannel:standin"), ImageSource::loaded);
  EXPECT_EQ(daemon_.loads(), Names{"kna-test_flannel_standin.tar"});
  EXPECT_EQ(store_.ensure(client_, "etcd", "kna-test/etcd:3.4"), ImageSource::loaded);
  EXPECT_EQ(daemon_.loads(), (Names{"kna-test_flannel_standin.tar", "kna-test_etcd_3.4.tar"}));
  EXPECT_TRUE(daemon_.pulls().empty());
}

TEST_F(ImageStoreTest, EnsureLoadsNothingForAnImageThatIsThere) {
  node_images();
  daemon_.has("kna-test/etcd:3.4");
  EXPECT_EQ(store_.ensure(client_, "etcd", "kna-test/etcd:3.4"), ImageSource::present);
  EXPECT_TRUE(daemon_.loads().empty());
}

TEST_F(ImageStoreTest, EnsureMatchesDockersNameForms) {
  image_tarball("busybox.tar", {"busybox:latest"});
  image_tarball("pause.tar", {"docker.io/library/pause:3.1"});
  EXPECT_EQ(store_.ensure(client_, "etcd", "docker.io/library/busybox"), ImageSource::loaded);
  EXPECT_EQ(store_.ensure(client_, "kubelet", "pause:3.1"), ImageSource::loaded);
  EXPECT_EQ(daemon_.loads(), (Names{"busybox.tar", "pause.tar"}));
}

TEST_F(ImageStoreTest, EnsureTriesUnreadableTarballsOnlyWhenNoManifestNamesTheImage) {
  node_images();
  const std::string junk = dir_ + "/junk.tar";
  std::ofstream(junk) << std::string(1024, 'j');
  daemon_.knows(junk, {"kna-test/other:1"});

  // Named by a manifest: the unreadable one is not touched.
  EXPECT_EQ(store_.ensure(client_, "etcd", "kna-test/etcd:3.4"), ImageSource::loaded);
  EXPECT_EQ(daemon_.loads(), Names{"kna-test_etcd_3.4.tar"});
  // Named by none: the unreadable one is the last resort, before a pull.
  EXPECT_EQ(store_.ensure(client_, "etcd", "kna-test/other:1"), ImageSource::loaded);
  EXPECT_EQ(daemon_.loads(), (Names{"kna-test_etcd_3.4.tar", "junk.tar"}));
  EXPECT_TRUE(daemon_.pulls().empty());
}

TEST_F(ImageStoreTest, EnsurePullsWhatNoTarballHolds) {
  node_images();
  const std::string junk = dir_ + "/junk.tar";
  std::ofstream(junk) << "not a tar";
  daemon_.knows(junk, {}, /*reject=*/true);

  try {
    store_.ensure(client_, "etcd", "gcr.io/google_containers/etcd-amd64:3.0.4");
    FAIL() << "no error";
  } catch (const DockerError& e) {
    EXPECT_EQ(e.kind(), DockerError::Kind::not_found);
    EXPECT_EQ(std::string(e.what()),
              "image gcr.io/google_containers/etcd-amd64:3.0.4 is not present, not in " + dir_ +
                  "/*.tar and could not be pulled: no registry here");
  }
  EXPECT_EQ(daemon_.loads(), Names{"junk.tar"});
  EXPECT_EQ(daemon_.pulls(), Names{"gcr.io/google_containers/etcd-amd64:3.0.4"});

  // The unreadable tarball was given to this daemon once: not again.
  daemon_.allow_pulls();
  EXPECT_EQ(store_.ensure(client_, "etcd", "gcr.io/google_containers/etcd-amd64:3.0.4"),
            ImageSource::pulled);
  EXPECT_EQ(daemon_.loads(), Names{"junk.tar"});
}

TEST_F(ImageStoreTest, EnsureDoesNotReloadATarballThatDidNotProvideItsImage) {
  const std::string liar = image_tarball("liar.tar", {"kna-test/etcd:3.4"});
  daemon_.knows(liar, {"something/else:1"});
  EXPECT_THROW(store_.ensure(client_, "etcd", "kna-test/etcd:3.4"), DockerError);
  EXPECT_THROW(store_.ensure(client_, "etcd", "kna-test/etcd:3.4"), DockerError);
  EXPECT_EQ(daemon_.loads(), Names{"liar.tar"});
  EXPECT_EQ(daemon_.pulls().size(), 2u);
}

TEST_F(ImageStoreTest, EnsureLoadsAgainAnImageTheDaemonLost) {
  node_images();
  EXPECT_EQ(store_.ensure(client_, "etcd", "kna-test/etcd:3.4"), ImageSource::loaded);
  daemon_.lose("kna-test/etcd:3.4");  // e.g. a daemon restarted on a fresh data root
  EXPECT_EQ(store_.ensure(client_, "etcd", "kna-test/etcd:3.4"), ImageSource::loaded);
  EXPECT_EQ(daemon_.loads(), (Names{"kna-test_etcd_3.4.tar", "kna-test_etcd_3.4.tar"}));
}

TEST_F(ImageStoreTest, LoadAirgapLoadsOnlyTarballsWithAMissingImage) {
  node_images();
  image_tarball("pair.tar", {"a:1", "b:1"});
  daemon_.has("kna-test/etcd:3.4");
  daemon_.has("kna-test/hyperkube:standin");
  daemon_.has("a:1");

  const AirgapLoad first = store_.load_airgap(client_, "main-docker");
  EXPECT_EQ(first.loaded, 2);
  EXPECT_EQ(first.skipped, 2);
  EXPECT_EQ(first.failed, 0);
  EXPECT_EQ(daemon_.loads(), (Names{"kna-test_flannel_standin.tar", "pair.tar"}));

  // Every probe runs it again: now it only asks.
  const int inspects = daemon_.inspects();
  const AirgapLoad second = store_.load_airgap(client_, "main-docker");
  EXPECT_EQ(second.loaded, 0);
  EXPECT_EQ(second.skipped, 4);
  EXPECT_EQ(daemon_.loads().size(), 2u);
  EXPECT_EQ(daemon_.inspects() - inspects, 5);  // one per name
}

TEST_F(ImageStoreTest, LoadAirgapLeavesTarballsOfAnotherDaemonsImagesAlone) {
  node_images();
  image_tarball("pair.tar", {"kna-test/flannel:standin", "a:1"});
  // docker's name forms are one name: "docker.io/kna-test/etcd:3.4" is "kna-test/etcd:3.4".
  const Names elsewhere{"docker.io/kna-test/etcd:3.4", "kna-test/flannel:standin"};

  const AirgapLoad load = store_.load_airgap(client_, "main-docker", elsewhere);
  EXPECT_EQ(load.elsewhere, 2);
  EXPECT_EQ(load.loaded, 2);  // hyperkube's, and the one that names a:1 beside flannel's
  EXPECT_EQ(daemon_.loads(), (Names{"kna-test_hyperkube_standin.tar", "pair.tar"}));
  // Without that list, every tarball whose images the daemon lacks: etcd's (pair.tar gave it
  // flannel's).
  EXPECT_EQ(store_.load_airgap(client_, "main-docker").loaded, 1);
  EXPECT_EQ(daemon_.loads(),
            (Names{"kna-test_hyperkube_standin.tar", "pair.tar", "kna-test_etcd_3.4.tar"}));
}

TEST_F(ImageStoreTest, LoadAirgapGivesAnUnreadableTarballOnce) {
  const std::string junk = dir_ + "/junk.tar";
  std::ofstream(junk) << std::string(1024, 'j');
  daemon_.knows(junk, {"kna-test/other:1"});
  EXPECT_EQ(store_.load_airgap(client_, "main-docker").loaded, 1);
  const AirgapLoad again = store_.load_airgap(client_, "main-docker");
  EXPECT_EQ(again.loaded, 0);
  EXPECT_EQ(again.skipped, 1);
  EXPECT_EQ(daemon_.loads(), Names{"junk.tar"});
}

TEST_F(ImageStoreTest, LoadAirgapDoesNotRetryARejectedTarball) {
  const std::string bad = image_tarball("bad.tar", {"kna-test/bad:1"});
  daemon_.knows(bad, {}, /*reject=*/true);
  image_tarball("good.tar", {"kna-test/good:1"});
  const AirgapLoad first = store_.load_airgap(client_, "main-docker");
  EXPECT_EQ(first.loaded, 1);
  EXPECT_EQ(first.failed, 1);
  const AirgapLoad second = store_.load_airgap(client_, "main-docker");
  EXPECT_EQ(second.loaded, 0);
  EXPECT_EQ(second.failed, 1);
  EXPECT_EQ(second.skipped, 1);
  EXPECT_EQ(daemon_.loads(), (Names{"bad.tar", "good.tar"}));
}

TEST_F(ImageStoreTest, LoadAirgapReloadsATarballWhoseImageTheDaemonLost) {
  image_tarball("good.tar", {"kna-test/good:1"});
  EXPECT_EQ(store_.load_airgap(client_, "main-docker").loaded, 1);
  daemon_.lose("kna-test/good:1");
  EXPECT_EQ(store_.load_airgap(client_, "main-docker").loaded, 1);
  EXPECT_EQ(daemon_.loads(), (Names{"good.tar", "good.tar"}));
}

TEST_F(ImageStoreTest, ADaemonThatDoesNotAnswerThrowsUnavailable) {
  node_images();
  DockerClient nowhere(DockerClientOptions{dir_ + "/no.sock"});
  try {
    store_.load_airgap(nowhere, "main-docker");
    FAIL() << "no error";
  } catch (const DockerError& e) {
    EXPECT_EQ(e.kind(), DockerError::Kind::unavailable);
  }
  // Nothing was held against the tarballs: the next daemon gets them.
  EXPECT_EQ(store_.load_airgap(client_, "main-docker").loaded, 3);
}

TEST_F(ImageStoreTest, AnEmptyOrMissingFolderLoadsNothing) {
  ImageStore none("", index_);
  EXPECT_EQ(none.load_airgap(client_, "main-docker").loaded, 0);
  ImageStore missing(dir_ + "/absent", index_);
  EXPECT_EQ(missing.load_airgap(client_, "main-docker").loaded, 0);
  EXPECT_TRUE(daemon_.loads().empty());
}

}  // namespace
}  // namespace kna
