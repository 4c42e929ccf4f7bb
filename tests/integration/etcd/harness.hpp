#pragma once
// What the etcd integration tests run against: a private etcd on free loopback ports with its
// data in a temporary folder, started as a ChildProcess.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "child_process.hpp"
#include "clients/etcd_client.hpp"

namespace kna::test {

using namespace std::chrono_literals;

inline constexpr const char* kEtcdBinary = "/usr/bin/etcd";
#ifdef KNA_STANDIN_FLANNELD  // the flanneld stand-in, built beside the etcd tests
inline constexpr const char* kFlanneld = KNA_STANDIN_FLANNELD;
#endif

inline bool etcd_installed() {
  return ::access(kEtcdBinary, X_OK) == 0;
}

// A fresh folder, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kna-etcd-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A loopback port that was free a moment ago (bind to port 0, then release it).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A single-member etcd on 127.0.0.1, serving v3 and (by default) v2.
class EtcdProcess {
 public:
  // free_port() races with other tests started at the same time (ctest -j): a port taken between
  // its release and etcd's bind makes etcd exit with "address already in use". Then the etcd is
  // started again on other ports, a few times.
  explicit EtcdProcess(bool enable_v2 = true) {
    for (int attempt = 1; attempt <= 5; ++attempt) {
      client_port_ = free_port();
      peer_port_ = free_port();
      const auto peer = "http://127.0.0.1:" + std::to_string(peer_port_);
      std::vector<std::string> argv{kEtcdBinary,
                                    "--name=kna-test",
                                    "--data-dir=" + dir_ / ("data" + std::to_string(attempt)),
                                    "--listen-client-urls=" + endpoint(),
                                    "--advertise-client-urls=" + endpoint(),
                                    "--listen-peer-urls=" + peer,
                                    "--initial-advertise-peer-urls=" + peer,
                                    "--initial-cluster=kna-test=" + peer,
                                    "--enable-v2=" + std::string(enable_v2 ? "true" : "false")};
      process_.emplace(argv);
      ready_ = process_->wait_for_output("ready to serve client requests", 20s);
      if (ready_ || process_->output().find("address already in use") == std::string::npos) return;
      process_->signal(SIGKILL);
      process_->wait_exit(10s);
    }
  }
  ~EtcdProcess() {
    process_->signal(SIGTERM);
    if (!process_->wait_exit(10s)) process_->signal(SIGKILL);
  }

  // False when etcd did not come up; log() says why.
  bool ready() const { return ready_; }
  std::string log() { return process_->output(); }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(client_port_); }
  EtcdClient client(EtcdApi api, Millis timeout = Millis(5000)) const {
    return EtcdClient(EtcdOptions{{endpoint()}, api, timeout});
  }

 private:
  TempDir dir_;
  int client_port_{0};
  int peer_port_{0};
  std::optional<ChildProcess> process_;
  bool ready_{false};
};

inline const char* api_name(EtcdApi api) {
  return api == EtcdApi::v2 ? "v2" : "v3";
}

// gtest parameter names: "v2", "v3".
struct ApiName {
  std::string operator()(const ::testing::TestParamInfo<EtcdApi>& info) const {
    return api_name(info.param);
  }
};

}  // namespace kna::test

namespace kna {
// Test parameters print as v2 / v3 instead of their bytes.
inline void PrintTo(EtcdApi api, std::ostream* os) {
  *os << test::api_name(api);
}
}  // namespace kna

// Skips the test when etcd is not installed; otherwise the etcd must start.
#define KNA_REQUIRE_ETCD()                                             \
  do {                                                                 \
    if (!::kna::test::etcd_installed())                                \
      GTEST_SKIP() << ::kna::test::kEtcdBinary << " is not installed " \
                   << "(Debian package etcd-server)";                  \
  } while (false)
