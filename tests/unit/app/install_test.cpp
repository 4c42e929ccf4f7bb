// `install` and `uninstall`, run as real processes into a temporary root: the files and their
// exact content, idempotence, refusal to overwrite, enabling, removal; the unit that `install`
// writes and the one `cmake --install` puts in place come from the one template and pass
// `systemd-analyze verify`.

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/subprocess.hpp"

namespace kna {
namespace {

namespace fs = std::filesystem;
using test::run_program;

const std::map<std::string, std::string> kEnv{{"PATH", "/usr/sbin:/usr/bin:/bin"}};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string exec_start(const std::string& unit_text) {
  std::istringstream in(unit_text);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("ExecStart=")) return line;
  return "";
}

// Every file (not directory) under `root`, relative to it.
std::vector<std::string> files_under(const std::string& root) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (!e.is_directory() || e.is_symlink()) files.push_back(fs::relative(e.path(), root));
  return files;
}

// systemd-analyze, or "" when this machine has none.
std::string systemd_analyze() {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/sbin"}) {
    const std::string p = std::string(dir) + "/systemd-analyze";
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

// `systemd-analyze verify` prints a warning for a directive it ignores yet exits 0: both count.
void expect_verifies(const std::string& analyze, const std::string& unit_path) {
  auto r = run_program({analyze, "verify", unit_path}, kEnv);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out + r.err, "") << "systemd-analyze verify " << unit_path << " complained";
}

class InstallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kna-install-test-XXXXXX";
    root_ = mkdtemp(tmpl);
    unit_ = root_ + "/etc/systemd/system/kube-node-agent.service";
    config_ = root_ + "/etc/kube-node-agent/config.json";
    link_ = root_ + "/etc/systemd/system/multi-user.target.wants/kube-node-agent.service";
  }
  void TearDown() override { fs::remove_all(root_); }

  test::Completed agent(std::vector<std::string> args) const {
    args.insert(args.begin(), KNA_AGENT_BINARY);
    return run_program(args, kEnv);
  }

  // install of a worker whose every machine-derived value is given, and a few of each type.
  test::Completed install(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"install",
                                  "--root",
                                  root_,
                                  "--role",
                                  "worker",
                                  "--master-ip",
                                  "10.9.8.7",
                                  "--arch",
                                  "arm",
                                  "--net-interface",
                                  "eth0",
                                  "--node-name",
                                  "pi-1",
                                  "--timeout-for-services",
                                  "30",
                                  "--flannel-ipmasq",
                                  "no",
                                  "--set",
                                  R"(stages.kubelet.args=["--v=2","--max-pods=20"])",
                                  "--set",
                                  "stages.kubelet.env.HTTP_PROXY=http://proxy:3128",
                                  "--set",
                                  "paths.run_dir=/run/kna-test"};
    args.insert(args.end(), extra.begin(), extra.end());
    return agent(args);
  }

  std::string root_, unit_, config_, link_;
};

TEST_F(InstallTest, WritesTheUnitAndAConfigHoldingExactlyTheGivenValues) {
  auto r = install();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(slurp(config_), R"({
  "role": "worker",
  "node_name": "pi-1",
  "flannel_ipmasq": false,
  "master_ip": "10.9.8.7",
  "arch": "arm",
  "net_interface": "eth0",
  "timeout_for_services": 30,
  "paths": {
    "run_dir": "/run/kna-test"
  },
  "stages": {
    "kubelet": {
      "args": [
        "--v=2",
        "--max-pods=20"
      ],
      "env": {
        "HTTP_PROXY": "http://proxy:3128"
      }
    }
  }
}
)");
  EXPECT_EQ(exec_start(slurp(unit_)), "ExecStart=" + fs::canonical(KNA_AGENT_BINARY).string() +
                                          " run --config /etc/kube-node-agent/config.json");
  struct stat st {};
  ASSERT_EQ(::stat(config_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the config may hold api_token";
  ASSERT_EQ(::stat(unit_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_NE(r.out.find("created " + config_), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("created " + unit_), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(fs::symlink_status(link_))) << "not enabled without --enable";
  EXPECT_NE(r.out.find("--enable"), std::string::npos) << "says what to run next\n" << r.out;

  // The agent reads the file back to the same values, from the file.
  auto c = agent({"config", "--config", config_, "-o", "json"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  auto j = nlohmann::json::parse(c.out);
  EXPECT_EQ(j["values"]["master_ip"]["source"], "file");
  EXPECT_EQ(j["values"]["timeout_for_services"]["value"], 30);
  EXPECT_EQ(j["values"]["flannel_ipmasq"]["value"], false);
}

TEST_F(InstallTest, SecondRunChangesNothingAndSaysSo) {
  ASSERT_EQ(install().exit_code, 0);
  const std::string unit_before = slurp(unit_), config_before = slurp(config_);
  auto r = install();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("unchanged " + config_), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unchanged " + unit_), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("created"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("updated"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(unit_), unit_before);
  EXPECT_EQ(slurp(config_), config_before);
}

TEST_F(InstallTest, AConfigWithOtherValuesIsReplacedOnlyWithForce) {
  ASSERT_EQ(install().exit_code, 0);
  const std::string before = slurp(config_);
  auto r = install({"--master-ip", "10.9.8.6"});
  EXPECT_EQ(r.exit_code, 73) << r.out;
  EXPECT_NE(r.err.find(config_), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(config_), before) << "refused means untouched";

  r = install({"--master-ip", "10.9.8.6", "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("updated " + config_), std::string::npos) << r.out;
  EXPECT_NE(slurp(config_).find("10.9.8.6"), std::string::npos);
}

TEST_F(InstallTest, EnableLinksTheUnitAndUninstallRemovesEverything) {
  auto r = install({"--enable"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(fs::is_symlink(fs::symlink_status(link_))) << r.out;
  EXPECT_EQ(fs::read_symlink(link_), "/etc/systemd/system/kube-node-agent.service");
  EXPECT_EQ(install({"--enable"}).out.find("created"), std::string::npos) << "idempotent too";

  auto u = agent({"uninstall", "--root", root_});
  EXPECT_EQ(u.exit_code, 0) << u.out << u.err;
  for (const auto& path : {link_, config_, unit_})
    EXPECT_NE(u.out.find("removed " + path), std::string::npos) << u.out;
  EXPECT_EQ(files_under(root_), std::vector<std::string>{}) << "only empty directories are left";

  u = agent({"uninstall", "--root", root_});
  EXPECT_EQ(u.exit_code, 0) << u.err;
  EXPECT_NE(u.out.find("Nothing to remove"), std::string::npos) << u.out;
}

TEST_F(InstallTest, UninstallRemovesTheConfigFileTheUnitNames) {
  ASSERT_EQ(install({"--config", "/etc/kna/node.json"}).exit_code, 0);
  EXPECT_NE(exec_start(slurp(unit_)).find(" run --config /etc/kna/node.json"), std::string::npos);
  ASSERT_TRUE(fs::exists(root_ + "/etc/kna/node.json"));
  auto u = agent({"uninstall", "--root", root_});
  EXPECT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(files_under(root_), std::vector<std::string>{}) << u.out;
}

TEST_F(InstallTest, InvalidValuesExit78AndWriteNothing) {
  // A worker without MASTER_IP; a value of the wrong type; a key that does not exist.
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"install", "--root", root_, "--role", "worker", "--arch", "arm", "--net-interface",
            "eth0", "--node-name", "pi-1"},
           {"install", "--root", root_, "--role", "master", "--timeout-for-services", "soon"},
           {"install", "--root", root_, "--set", "stages.kubelet.no_such_option=1"}}) {
    auto r = agent(args);
    EXPECT_EQ(r.exit_code, 78) << r.out << r.err;
    EXPECT_NE(r.err.find("Nothing was installed"), std::string::npos) << r.err;
    EXPECT_EQ(files_under(root_), std::vector<std::string>{}) << r.out;
    EXPECT_TRUE(fs::is_empty(root_)) << "not even a directory";
  }
  auto r = agent({"install", "--root", root_, "--role", "worker", "--arch", "arm",
                  "--net-interface", "eth0", "--node-name", "pi-1"});
  EXPECT_NE(r.err.find("MASTER_IP"), std::string::npos) << r.err;
}

TEST_F(InstallTest, TheInstalledUnitPassesSystemdAnalyzeVerify) {
  const std::string analyze = systemd_analyze();
  if (analyze.empty()) GTEST_SKIP() << "systemd-analyze is not installed; the unit is unchecked";
  ASSERT_EQ(install().exit_code, 0);
  // ExecStart names the built binary, which exists here; /bin/kill and the units it orders
  // against are the host's.
  expect_verifies(analyze, unit_);
}

// `cmake --install` of this build into a temporary prefix: the unit names the binary where that
// install put it, passes verify, and is the text `install` writes but for the binary's path.
TEST_F(InstallTest, CmakeInstallPutsAUnitNamingTheInstalledBinary) {
  const std::string prefix = root_ + "/prefix";
  auto r = run_program({KNA_CMAKE_COMMAND, "--install", KNA_BUILD_DIR, "--prefix", prefix}, kEnv);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string binary = prefix + "/sbin/kube-node-agent";
  const std::string unit_path = prefix + "/lib/systemd/system/kube-node-agent.service";
  EXPECT_EQ(::access(binary.c_str(), X_OK), 0) << r.out;
  const std::string cmake_unit = slurp(unit_path);
  EXPECT_EQ(exec_start(cmake_unit),
            "ExecStart=" + binary + " run --config /etc/kube-node-agent/config.json");

  ASSERT_EQ(install().exit_code, 0);
  std::string ours = slurp(unit_);
  const std::string self = fs::canonical(KNA_AGENT_BINARY).string();
  ours.replace(ours.find(self), self.size(), binary);
  EXPECT_EQ(ours, cmake_unit) << "one template, two renderings";

  const std::string analyze = systemd_analyze();
  if (analyze.empty()) GTEST_SKIP() << "systemd-analyze is not installed; the unit is unchecked";
  expect_verifies(analyze, unit_path);
}

}  // namespace
}  // namespace kna
