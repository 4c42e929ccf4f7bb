// The agent as a systemd service (Type=notify), without systemd: a datagram socket named by
// NOTIFY_SOCKET plays the service manager and records what a real agent sends while it brings up
// a real dockerd (the bootstrap-docker stage), pings its watchdog, reloads its configuration on
// SIGHUP and stops on SIGTERM.

#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

#include "support/subprocess.hpp"

namespace kna {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

bool in_path(const std::string& program) {
  std::stringstream path(getenv("PATH") ? getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin");
  std::string dir;
  while (std::getline(path, dir, ':'))
    if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  return false;
}

// systemd's side of sd_notify: every datagram, with the time it arrived.
class NotifyListener {
 public:
  struct Message {
    Clock::time_point at;
    std::string text;
  };

  explicit NotifyListener(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{0, 100'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    reader_ = std::thread([this] {
      char buf[4096];
      while (!done_) {
        const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
        if (n <= 0) continue;
        std::lock_guard lock(mu_);
        messages_.push_back({Clock::now(), std::string(buf, static_cast<std::size_t>(n))});
      }
    });
  }
  ~NotifyListener() {
    done_ = true;
    reader_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  std::vector<Message> messages() const {
    std::lock_guard lock(mu_);
    return messages_;
  }
  // Messages other than WATCHDOG=1, in order.
  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (const auto& m : messages())
      if (m.text != "WATCHDOG=1") out.push_back(m.text);
    return out;
  }
  // Index of the first message at or after `from` containing `needle`, or npos.
  std::size_t find(const std::string& needle, std::size_t from = 0) const {
    const auto all = texts();
    for (std::size_t i = from; i < all.size(); ++i)
      if (all[i].find(needle) != std::string::npos) return i;
    return std::string::npos;
  }
  bool wait_for(const std::string& needle, std::size_t from, int timeout_ms) const {
    return test::eventually([&] { return find(needle, from) != std::string::npos; }, timeout_ms);
  }

 private:
  std::string path_;
  int fd_{-1};
  bool bound_{false};
  std::atomic<bool> done_{false};
  mutable std::mutex mu_;
  std::vector<Message> messages_;
  std::thread reader_;
};

class SystemdNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the agent's dockerd";
    if (!in_path("dockerd")) GTEST_SKIP() << "dockerd is not installed (package docker.io)";
    char tmpl[] = "/tmp/kna-svc-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    write_config(nlohmann::json::object());
  }
  void TearDown() override {
    if (dir_.empty()) return;
    agent_.reset();
    // What a failed test leaves: every process that names our folder, then its mounts.
    for (const auto& entry : fs::directory_iterator("/proc")) {
      const std::string pid = entry.path().filename();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream in(entry.path() / "cmdline");
      std::string cmdline((std::istreambuf_iterator<char>(in)), {});
      if (cmdline.find(dir_) != std::string::npos) ::kill(std::stoi(pid), SIGKILL);
    }
    std::ifstream mountinfo("/proc/self/mountinfo");
    std::vector<std::string> mounts;
    for (std::string line; std::getline(mountinfo, line);) {
      std::istringstream fields(line);
      std::string id, parent, dev, root, point;
      fields >> id >> parent >> dev >> root >> point;
      if (point.rfind(dir_, 0) == 0) mounts.push_back(point);
    }
    std::sort(mounts.rbegin(), mounts.rend());
    for (const auto& m : mounts) ::umount2(m.c_str(), MNT_DETACH);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A worker whose only stage is bootstrap-docker, every path under dir_.
  void write_config(const nlohmann::json& bootstrap) {
    nlohmann::json stages = nlohmann::json::object();
    for (const char* s : {"etcd", "flannel", "main-docker", "cri-dockerd", "kubelet", "kube-proxy"})
      stages[s] = {{"enabled", false}};
    stages["bootstrap-docker"] = bootstrap;
    nlohmann::json cfg = {{"role", "worker"},
                          {"node_name", "svc-1"},
                          {"master_ip", "10.9.8.7"},
                          {"net_interface", "lo"},
                          {"paths",
                           {{"bootstrap_docker_socket", dir_ + "/b/docker.sock"},
                            {"bootstrap_docker_data_root", dir_ + "/b/data"},
                            {"bootstrap_docker_exec_root", dir_ + "/b/exec"},
                            {"bootstrap_docker_pidfile", dir_ + "/b/docker.pid"},
                            {"state_dir", dir_ + "/state"},
                            {"run_dir", dir_ + "/run"},
                            {"status_socket", dir_ + "/run/agent.sock"},
                            {"image_dir", dir_ + "/images"},
                            {"kubeconfig", dir_ + "/state/kubeconfig"}}},
                          {"stages", stages}};
    std::ofstream(dir_ + "/config.json.new") << cfg.dump(2);
    fs::rename(dir_ + "/config.json.new", dir_ + "/config.json");
  }

  void start_agent(const std::string& watchdog_usec) {
    std::map<std::string, std::string> env{{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"},
                                           {"NOTIFY_SOCKET", dir_ + "/notify"}};
    if (!watchdog_usec.empty()) env["WATCHDOG_USEC"] = watchdog_usec;
    agent_ = std::make_unique<test::Background>(
        std::vector<std::string>{KNA_AGENT_BINARY, "run", "--config", dir_ + "/config.json"}, env,
        dir_ + "/agent.log");
  }

  std::string log() const {
    std::ifstream in(dir_ + "/agent.log");
    return {std::istreambuf_iterator<char>(in), {}};
  }

  // bootstrap-docker's pid in `status -o json`, or 0.
  int dockerd_pid() const {
    auto r = test::run_program(
        {KNA_AGENT_BINARY, "status", "--status-socket", dir_ + "/run/agent.sock", "-o", "json"},
        {{"PATH", "/usr/sbin:/usr/bin:/bin"}});
    if (r.exit_code != 0) {
      ADD_FAILURE() << "status: exit " << r.exit_code << ": " << r.out << r.err;
      return 0;
    }
    const auto report = nlohmann::json::parse(r.out);
    for (const auto& s : report.at("stages"))
      if (s["name"] == "bootstrap-docker" && s.contains("pid") && s["pid"].is_number())
        return s["pid"].get<int>();
    return 0;
  }

  std::string dir_;
  std::unique_ptr<test::Background> agent_;
};

TEST_F(SystemdNotifyTest, StatusReadyWatchdogReloadAndStopInOrder) {
  NotifyListener systemd(dir_ + "/notify");
  ASSERT_TRUE(systemd.bound());
  start_agent("2000000");  // WatchdogSec=2s: a ping every second

  // Bring-up: STATUS says what it waits for; READY=1 only once bootstrap-docker is ready.
  ASSERT_TRUE(systemd.wait_for("READY=1", 0, 60'000)) << log();
  const auto up = systemd.texts();
  const std::size_t ready_at = systemd.find("READY=1");
  EXPECT_EQ(up[ready_at], "READY=1\nSTATUS=1/1 stages ready");
  ASSERT_GT(ready_at, 0u) << "a STATUS before READY";
  EXPECT_THAT(up[0], HasSubstr("STATUS=0/1 stages ready; "));
  for (std::size_t i = 0; i < ready_at; ++i) EXPECT_THAT(up[i], HasSubstr("0/1 stages ready"));
  const int first_pid = dockerd_pid();
  ASSERT_GT(first_pid, 0);

  // The watchdog: pings at half of WATCHDOG_USEC, never a gap as long as the interval.
  std::this_thread::sleep_for(std::chrono::milliseconds(4'500));
  std::vector<Clock::time_point> pings;
  for (const auto& m : systemd.messages())
    if (m.text == "WATCHDOG=1") pings.push_back(m.at);
  ASSERT_GE(pings.size(), 4u);
  for (std::size_t i = 1; i < pings.size(); ++i) {
    const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(pings[i] - pings[i - 1]);
    EXPECT_GT(gap.count(), 600) << "ping " << i << " too soon";
    EXPECT_LT(gap.count(), 2'000) << "ping " << i << " too late";
  }

  // SIGHUP with the same configuration: RELOADING=1, then READY=1; nothing restarts.
  std::size_t mark = systemd.texts().size();
  agent_->signal(SIGHUP);
  ASSERT_TRUE(systemd.wait_for("READY=1", mark, 10'000)) << log();
  auto texts = systemd.texts();
  EXPECT_THAT(texts[mark], HasSubstr("RELOADING=1\nMONOTONIC_USEC="));
  EXPECT_THAT(texts[systemd.find("READY=1", mark)], HasSubstr("reloaded: restarted nothing"));
  EXPECT_EQ(dockerd_pid(), first_pid) << "an unchanged stage is left alone";

  // A changed stage restarts.
  write_config({{"args", {"--debug"}}});
  mark = systemd.texts().size();
  agent_->signal(SIGHUP);
  ASSERT_TRUE(systemd.wait_for("READY=1", mark, 10'000)) << log();
  texts = systemd.texts();
  EXPECT_THAT(texts[mark], HasSubstr("RELOADING=1"));
  EXPECT_THAT(texts[systemd.find("READY=1", mark)],
              HasSubstr("reloaded: restarted bootstrap-docker"));
  ASSERT_TRUE(
      systemd.wait_for("STATUS=1/1 stages ready", systemd.find("READY=1", mark) + 1, 60'000))
      << log();
  const int second_pid = dockerd_pid();
  EXPECT_GT(second_pid, 0);
  EXPECT_NE(second_pid, first_pid) << "restarted with --debug";

  // An invalid configuration is refused; the running one is kept.
  { std::ofstream(dir_ + "/config.json") << R"({"role": "worker", "master_ip": "not-an-ip"})"; }
  mark = systemd.texts().size();
  agent_->signal(SIGHUP);
  ASSERT_TRUE(systemd.wait_for("reload refused", mark, 10'000)) << log();
  EXPECT_THAT(systemd.texts()[systemd.find("reload refused", mark)], HasSubstr("READY=1"));
  EXPECT_THAT(log(), HasSubstr("master_ip"));
  EXPECT_EQ(dockerd_pid(), second_pid);

  // SIGTERM: STOPPING=1, an ordered stop, exit 0.
  mark = systemd.texts().size();
  agent_->signal(SIGTERM);
  auto done = agent_->wait(60'000);
  EXPECT_EQ(done.exit_code, 0) << log();
  texts = systemd.texts();
  ASSERT_GT(texts.size(), mark);
  EXPECT_THAT(texts[mark], HasSubstr("STOPPING=1"));
  EXPECT_EQ(systemd.find("READY=1", mark), std::string::npos);
}

TEST_F(SystemdNotifyTest, NoWatchdogPingsWithoutWatchdogSec) {
  NotifyListener systemd(dir_ + "/notify");
  ASSERT_TRUE(systemd.bound());
  start_agent("");
  ASSERT_TRUE(systemd.wait_for("READY=1", 0, 60'000)) << log();
  std::this_thread::sleep_for(std::chrono::milliseconds(1'500));
  for (const auto& m : systemd.messages()) EXPECT_NE(m.text, "WATCHDOG=1");
  agent_->signal(SIGTERM);
  EXPECT_EQ(agent_->wait(60'000).exit_code, 0) << log();
}

}  // namespace
}  // namespace kna
