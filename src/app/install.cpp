#include "app/install.hpp"

#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "config/layers.hpp"
#include "config/options.hpp"
#include "config/tree.hpp"
#include "kna_generated/unit_template.hpp"
#include "platform/atomic_file.hpp"
#include "platform/self_exec.hpp"

extern char** environ;

namespace kna::app {
namespace {

namespace fs = std::filesystem;

inline constexpr int kExitCantCreate =
    73;                                  // EX_CANTCREAT: a file is there and is not ours to replace
inline constexpr int kExitIoError = 74;  // EX_IOERR
inline constexpr const char* kEnvironmentFile = "/etc/default/kube-node-agent";

// `path` (absolute, as the running system sees it) under `root`.
std::string on_root(const std::string& root, const std::string& path) {
  return root == "/" ? path : (fs::path(root) / fs::path(path).relative_path()).string();
}

// ExecStart= splits on whitespace and expands %, $ and quotes: keep paths to characters that
// need none of that.
bool is_plain_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (const char c : path) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("/._-+,:@=").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// KEY=VALUE lines as systemd reads an EnvironmentFile= (comments, blank lines, one level of
// quotes); what the service will see besides its config file.
std::map<std::string, std::string> read_environment_file(const std::string& path) {
  std::map<std::string, std::string> env;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#' || line[start] == ';') continue;
    const auto eq = line.find('=', start);
    if (eq == std::string::npos) continue;
    std::string key = line.substr(start, eq - start);
    key.erase(key.find_last_not_of(" \t") + 1);
    std::string value = line.substr(eq + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r") + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    env[key] = value;
  }
  return env;
}

// Runs a program (no shell) with this process's stdout and stderr; its exit code, or -1.
int run_command(const std::vector<std::string>& argv) {
  std::cout << "running: ";
  for (const auto& a : argv) std::cout << a << (&a == &argv.back() ? "\n" : " ");
  std::cout.flush();
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool systemd_runs() {
  return fs::is_directory("/run/systemd/system");
}

void print_config_problems(const std::vector<std::string>& problems) {
  std::cerr << "kube-node-agent: the configuration is invalid:\n";
  for (const auto& p : problems) std::cerr << "  - " << p << "\n";
  std::cerr << "Nothing was installed. Fix the values above (see `kube-node-agent config` and "
               "docs/configuration.md).\n";
}

// The configuration the service will load, from `text` as its config file and the environment
// file, validated; the problems, with the temporary file named as the file it will become.
std::vector<std::string> validate(const std::string& text, const std::string& root,
                                  const std::string& config_path) {
  char tmpl[] = "/tmp/kna-install-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  if (fd < 0) return {fmt::format("cannot create a temporary file: {}", std::strerror(errno))};
  const std::string tmp = tmpl;
  // Removed however this returns: it may hold secrets (mkstemp made it 0600).
  const std::unique_ptr<const char, void (*)(const char*)> remove_tmp(
      tmp.c_str(), [](const char* path) { ::unlink(path); });
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  std::vector<std::string> problems;
  if (!written) problems.push_back(fmt::format("cannot write {}", tmp));
  try {
    ConfigInputs inputs;
    inputs.config_path = tmp;
    inputs.env = read_environment_file(on_root(root, kEnvironmentFile));
    if (problems.empty()) load_config(inputs, detect_machine());
  } catch (const ConfigError& e) {
    for (std::string p : e.problems()) {
      for (auto at = p.find(tmp); at != std::string::npos; at = p.find(tmp))
        p.replace(at, tmp.size(), config_path);
      problems.push_back(std::move(p));
    }
  }
  return problems;
}

// The values given by flags under `node` (at dotted `key`), or nullopt when there are none.
std::optional<config::Tree> flagged(const config::Layers& layers, const config::Tree& node,
                                    const std::string& key) {
  const auto is_flag = [&](const std::string& k) {
    return layers.origin(k).source == ValueSource::flag;
  };
  if (!node.is_object()) return is_flag(key) ? std::optional(node) : std::nullopt;
  config::Tree out = config::Tree::object();
  const bool free_map = config::is_free_map(key);
  for (const auto& [name, value] : node.items()) {
    const std::string child = key.empty() ? name : key + "." + name;
    if (free_map) {
      if (is_flag(child)) out[name] = value;
    } else if (auto sub = flagged(layers, value, child)) {
      out[name] = std::move(*sub);
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

enum class FileOutcome { unchanged, created, updated };

const char* to_string(FileOutcome o) {
  switch (o) {
    case FileOutcome::unchanged:
      return "unchanged";
    case FileOutcome::created:
      return "created";
    case FileOutcome::updated:
      return "updated";
  }
  return "?";
}

Result<FileOutcome> put_file(const std::string& path, const std::string& text, unsigned mode) {
  const auto old = read_file(path);
  if (old && *old == text) return FileOutcome::unchanged;
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec)
    return Error{
        fmt::format("cannot create {}: {}", fs::path(path).parent_path().string(), ec.message())};
  if (auto w = write_file_atomically(path, text, mode); !w) return w.error();
  return old ? FileOutcome::updated : FileOutcome::created;
}

// What `systemctl enable` does for WantedBy=multi-user.target: a link to the unit's path as the
// running system sees it.
Result<FileOutcome> put_wants_link(const std::string& root) {
  const std::string link = on_root(root, std::string(kWantsDir) + "/" + kUnitName);
  const fs::path target = std::string(kUnitDir) + "/" + kUnitName;
  std::error_code ec;
  const bool existed = fs::is_symlink(fs::symlink_status(link, ec));
  if (existed && fs::read_symlink(link, ec) == target) return FileOutcome::unchanged;
  fs::create_directories(fs::path(link).parent_path(), ec);
  const std::string tmp = link + ".kna-new";
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp, ec);
  if (!ec) fs::rename(tmp, link, ec);
  if (ec) return Error{fmt::format("cannot link {} → {}: {}", link, target.string(), ec.message())};
  return existed ? FileOutcome::updated : FileOutcome::created;
}

struct InstallRequest {
  const ConfigInputs& inputs;
  bool enable;
  bool force;
  std::string root;  // "/" when --root was not given
  bool root_given;
};

int install(const InstallRequest& req) {
  const std::string config_path = req.inputs.config_path.value_or(kDefaultConfigPath);
  if (!is_plain_path(config_path)) {
    std::cerr << "kube-node-agent: --config must be an absolute path of letters, digits and "
                 "/._-+,:@= (it goes into ExecStart=), got \""
              << config_path << "\"\n";
    return kExitUsage;
  }
  auto self = capture_self();
  if (!self) {
    std::cerr << "kube-node-agent: " << self.error().message << "\n";
    return kExitIoError;
  }
  const std::string binary = self.value().executable;
  if (!is_plain_path(binary)) {
    std::cerr << "kube-node-agent: this binary's path \"" << binary
              << "\" cannot go into ExecStart=; move it to a plain path such as "
                 "/usr/local/sbin/kube-node-agent and run install from there\n";
    return kExitUsage;
  }

  std::string config_text;
  try {
    config_text = render_flag_config(req.inputs.flags);
  } catch (const ConfigError& e) {
    print_config_problems(e.problems());
    return kExitConfig;
  }
  const std::string config_file = on_root(req.root, config_path);
  if (auto problems = validate(config_text, req.root, config_file); !problems.empty()) {
    print_config_problems(problems);
    return kExitConfig;
  }

  const std::string unit_file = on_root(req.root, std::string(kUnitDir) + "/" + kUnitName);
  if (auto old = read_file(config_file); old && *old != config_text && !req.force) {
    std::cerr << "kube-node-agent: " << config_file
              << " exists with other values than the flags give; nothing was written. Edit it, "
                 "or run install again with --force to replace it with:\n"
              << config_text;
    return kExitCantCreate;
  }

  // The config first: a unit never names a config file that is not there yet.
  bool changed = false;
  const struct {
    const std::string& path;
    std::string text;
    unsigned mode;  // the config may hold api_token and stage env secrets
  } files[] = {{config_file, config_text, 0600},
               {unit_file, render_unit(binary, config_path), 0644}};
  for (const auto& f : files) {
    auto outcome = put_file(f.path, f.text, f.mode);
    if (!outcome) {
      std::cerr << "kube-node-agent: " << outcome.error().message << "\n";
      return kExitIoError;
    }
    changed = changed || outcome.value() != FileOutcome::unchanged;
    std::cout << to_string(outcome.value()) << " " << f.path << "\n";
  }

  if (!req.enable) {
    std::cout << "Not enabled. To start it now and at every boot: "
              << (req.root_given ? "kube-node-agent install --enable --root " + req.root
                                 : std::string("systemctl daemon-reload && systemctl enable "
                                               "--now kube-node-agent"))
              << "\n";
    return 0;
  }
  auto link = put_wants_link(req.root);
  if (!link) {
    std::cerr << "kube-node-agent: " << link.error().message << "\n";
    return kExitIoError;
  }
  std::cout << to_string(link.value()) << " "
            << on_root(req.root, std::string(kWantsDir) + "/" + kUnitName) << " → " << kUnitDir
            << "/" << kUnitName << "\n";
  if (req.root_given || !systemd_runs()) {
    std::cout << (req.root_given
                      ? "Enabled under " + req.root + "; it starts when that system boots"
                      : std::string("Enabled; systemd is not running here, so it starts "
                                    "at the next boot"))
              << "\n";
    return 0;
  }
  for (const auto& cmd : {std::vector<std::string>{"systemctl", "daemon-reload"},
                          std::vector<std::string>{"systemctl", "enable", "--now", kUnitName}}) {
    if (const int rc = run_command(cmd); rc != 0) {
      std::cerr << "kube-node-agent: `" << cmd[0] << " " << cmd[1] << "` failed (exit " << rc
                << "); see `systemctl status kube-node-agent`\n";
      return kExitUnavailable;
    }
  }
  if (changed) {
    std::cout << "If the agent was already running: `systemctl reload kube-node-agent` applies "
                 "a changed configuration; a changed unit takes `systemctl restart "
                 "kube-node-agent` (which restarts every stage)\n";
  }
  return 0;
}

// The --config path in the unit's ExecStart=, or the default.
std::string config_of_unit(const std::string& unit_text) {
  std::istringstream lines(unit_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.starts_with("ExecStart=")) continue;
    std::istringstream words(line.substr(10));
    std::string word;
    while (words >> word) {
      if (word == "--config" && words >> word && is_plain_path(word)) return word;
    }
  }
  return kDefaultConfigPath;
}

int uninstall(const std::string& root, bool root_given) {
  const std::string unit_file = on_root(root, std::string(kUnitDir) + "/" + kUnitName);
  const std::string link = on_root(root, std::string(kWantsDir) + "/" + kUnitName);
  const auto unit_text = read_file(unit_file);
  const bool with_systemctl = !root_given && systemd_runs();
  if (with_systemctl && unit_text) {
    if (const int rc = run_command({"systemctl", "disable", "--now", kUnitName}); rc != 0) {
      std::cerr << "kube-node-agent: `systemctl disable --now` failed (exit " << rc
                << "); nothing was removed\n";
      return kExitUnavailable;
    }
  }
  // The link first and the unit last: an interrupted uninstall can be run again, since the unit
  // still names the config file.
  int removed = 0;
  for (const std::string& path :
       {link, on_root(root, config_of_unit(unit_text.value_or(""))), unit_file}) {
    std::error_code ec;
    const auto st = fs::symlink_status(path, ec);
    if (!fs::exists(st) && !fs::is_symlink(st)) continue;
    if (fs::is_directory(st)) {
      std::cerr << "kube-node-agent: " << path << " is a directory; left alone\n";
      continue;
    }
    if (!fs::remove(path, ec) || ec) {
      std::cerr << "kube-node-agent: cannot remove " << path << ": " << ec.message() << "\n";
      return kExitIoError;
    }
    std::cout << "removed " << path << "\n";
    ++removed;
  }
  if (removed == 0) {
    std::cout << "Nothing to remove: kube-node-agent is not installed"
              << (root_given ? " under " + root : std::string()) << "\n";
    return 0;
  }
  if (with_systemctl && run_command({"systemctl", "daemon-reload"}) != 0) {
    std::cerr << "kube-node-agent: `systemctl daemon-reload` failed\n";
    return kExitUnavailable;
  }
  std::cout << "Left in place: the agent's state and run directories (paths.state_dir, "
               "paths.run_dir)\n";
  return 0;
}

Result<std::string> root_dir(const std::string& given) {
  if (given.empty()) return std::string("/");
  std::error_code ec;
  const auto abs = fs::absolute(given, ec);
  if (ec || !fs::is_directory(abs, ec))
    return Error{
        fmt::format("--root {}: not a directory; give the directory to install under", given)};
  return abs.lexically_normal().string();
}

}  // namespace

std::string render_unit(std::string_view binary, std::string_view config_path) {
  std::string text(kUnitTemplate);
  const std::pair<std::string_view, std::string_view> fills[] = {{"@KNA_BINARY@", binary},
                                                                 {"@KNA_CONFIG@", config_path}};
  for (const auto& [placeholder, value] : fills) {
    for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder))
      text.replace(at, placeholder.size(), value);
  }
  return text;
}

std::string render_flag_config(const std::vector<std::pair<std::string, std::string>>& flags) {
  config::Layers layers(config::config_to_tree(default_config()));
  for (const auto& [key, raw] : flags) {
    const auto* name = config::find_option_name(key);
    const std::string flag =
        name != nullptr && !name->flag.empty() ? std::string(name->flag) : "--set " + key;
    layers.set_raw(key, raw, config::Origin{ValueSource::flag, flag});
  }
  if (!layers.problems().empty()) throw ConfigError(layers.problems());
  const auto doc = flagged(layers, layers.tree(), "");
  return doc.value_or(config::Tree::object()).dump(2) + "\n";
}

InstallCommands::InstallCommands(CLI::App& app)
    : install_(app.add_subcommand(
          "install",
          "Install the systemd unit for this binary and a config file holding the values given "
          "(--enable: start it now and at boot)")),
      uninstall_(app.add_subcommand(
          "uninstall", "Stop and disable the unit, remove it and the config file install wrote")) {
  add_config_flags(*install_, &inputs_);
  install_->add_flag("--enable", enable_,
                     "Enable the unit (multi-user.target) and, on a running systemd, start it");
  install_->add_flag("--force", force_, "Replace a config file that holds other values");
  install_->add_option("--root", install_root_,
                       "Install under this directory (an image being built); no systemctl");
  uninstall_->add_option("--root", uninstall_root_,
                         "Remove what install wrote under this directory; no systemctl");
}

std::optional<int> InstallCommands::run() {
  const bool is_install = install_->parsed();
  if (!is_install && !uninstall_->parsed()) return std::nullopt;
  const std::string& given = is_install ? install_root_ : uninstall_root_;
  auto root = root_dir(given);
  if (!root) {
    std::cerr << "kube-node-agent: " << root.error().message << "\n";
    return kExitUsage;
  }
  if (!is_install) return uninstall(root.value(), !given.empty());
  return install(InstallRequest{.inputs = inputs_,
                                .enable = enable_,
                                .force = force_,
                                .root = root.value(),
                                .root_given = !given.empty()});
}

}  // namespace kna::app
