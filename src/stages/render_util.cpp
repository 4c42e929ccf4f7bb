#include "stages/render_util.hpp"

#include <algorithm>
#include <cctype>
#include <locale>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/redact.hpp"

namespace kna::stages {

namespace {

bool is_shell_safe(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("@%+=:,./-_").find(c) != std::string_view::npos;
}

// Redacts in place; true if anything was. Besides the values of secret keys: a command line's
// secrets (an array of strings: a static pod's "command") and those of any other string.
bool redact_json(nlohmann::ordered_json& node) {
  bool changed = false;
  if (node.is_object()) {
    for (auto& [key, value] : node.items()) {
      if (value.is_string() && !value.get_ref<const std::string&>().empty() && looks_secret(key)) {
        value = std::string(kRedacted);
        changed = true;
      } else {
        changed = redact_json(value) || changed;
      }
    }
  } else if (node.is_array()) {
    const bool argv = !node.empty() && std::all_of(node.begin(), node.end(), [](const auto& item) {
      return item.is_string();
    });
    if (argv) {
      const auto shown = redact_argv(node.get<std::vector<std::string>>());
      if (shown != node.get<std::vector<std::string>>()) {
        node = shown;
        changed = true;
      }
    } else {
      for (auto& item : node) changed = redact_json(item) || changed;
    }
  } else if (node.is_string()) {
    auto shown = redact_text(node.get_ref<const std::string&>());
    if (shown != node.get_ref<const std::string&>()) {
      node = std::move(shown);
      changed = true;
    }
  }
  return changed;
}

}  // namespace

std::string shell_quote(std::string_view arg) {
  if (!arg.empty() && std::all_of(arg.begin(), arg.end(), is_shell_safe)) return std::string(arg);
  std::string out = "'";
  for (const char c : arg) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  out += '\'';
  return out;
}

std::string shell_join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    out += shell_quote(arg);
  }
  return out;
}

std::string format_millis(Millis ms) {
  const auto count = ms.count();
  if (count < 1000 && count > -1000) return std::to_string(count) + "ms";
  return format_number(static_cast<double>(count) / 1000.0) + "s";
}

std::string format_number(double value) {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << value;
  return out.str();
}

const char* to_string(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::none:
      return "none";
    case ProbeKind::http:
      return "http";
    case ProbeKind::file:
      return "file";
    case ProbeKind::command:
      return "command";
  }
  return "unknown";
}

std::string describe_probe(const ProbeSpec& probe) {
  std::string out;
  switch (probe.kind) {
    case ProbeKind::none:
      out = "as soon as launched";
      break;
    case ProbeKind::http:
      out = "GET " + redact_text(probe.url);
      if (!probe.unix_socket.empty()) out += " over unix socket " + probe.unix_socket;
      out += " answers 2xx";
      if (!probe.body_contains.empty()) out += " with \"" + probe.body_contains + "\" in the body";
      break;
    case ProbeKind::file:
      out = probe.path +
            (probe.parse_subnet_env ? " exists and parses as flannel's subnet.env" : " exists");
      break;
    case ProbeKind::command:
      out = shell_join(redact_argv(probe.argv)) + " exits 0";
      break;
  }
  return out;
}

std::string describe_step(const HostStep& step) {
  struct Describe {
    std::string operator()(const WriteFile& f) const {
      return "write " + f.path + " (" + format_mode(f.mode) + ", " +
             std::to_string(f.content.size()) + " bytes) if it differs";
    }
    std::string operator()(const SharedMount& m) const {
      return "make " + m.dir + " a shared mount (bound onto itself unless it is a mount point)";
    }
    std::string operator()(const DeleteStaleBridge& b) const {
      return "delete the link " + b.link + " if it exists without the address " + b.keep_cidr;
    }
    std::string operator()(const MakeDirs& d) const {
      std::string out;
      for (const auto& dir : d.dirs) out += (out.empty() ? "" : ", ") + dir;
      return "create what is missing of " + out;
    }
    std::string operator()(const DiscoverCluster& d) const {
      return "fetch cluster-info from " + d.api_server + " over TLS, accept its CA only if it " +
             "matches " + d.ca_cert_hash + " (and its JWS for the join token), write the CA to " +
             d.ca_file + " and the bootstrap kubeconfig (CA + join token) to " + d.kubeconfig +
             " (0600) if they differ";
    }
    std::string operator()(const IssueClientCertificate& c) const {
      std::string groups;
      for (const auto& o : c.organizations) groups += (groups.empty() ? "" : ", ") + o;
      return "issue a client certificate for " + c.common_name +
             (groups.empty() ? std::string() : " (groups " + groups + ")") + " signed by " +
             c.ca_cert_file + " into " + c.path +
             " (0600), unless the one there is for it, from that CA and not in its last third";
    }
    std::string operator()(const PublishJoinInfo& p) const {
      return "publish for joining workers, through " + p.api_server + " as " + p.client_cert_file +
             ": kubeadm's RBAC bindings, cluster-info (the server and " + p.ca_file + ")" +
             (p.token.empty() ? "" : " and the join token's Secret") +
             ", each when missing or different";
    }
  };
  return std::visit(Describe{}, step);
}

std::string describe_after(const AfterProbe& then) {
  struct Describe {
    std::string operator()(std::monostate) const { return "nothing"; }
    std::string operator()(const StoreFlannelConfig& s) const {
      return "store flannel's network config in etcd at " + s.etcd_endpoint + " (API " +
             to_string(s.etcd_api) + "): key " + s.key + " = " + s.value;
    }
    std::string operator()(const LoadAirgapImages& l) const {
      std::string first;
      for (const auto& image : l.first) first += (first.empty() ? "" : ", ") + image;
      std::string elsewhere;
      for (const auto& image : l.elsewhere) elsewhere += (elsewhere.empty() ? "" : ", ") + image;
      return "load the airgap images " + l.image_dir + "/*.tar that the daemon at unix://" +
             l.docker_socket + " lacks" +
             (first.empty() ? std::string()
                            : ": first those naming " + first + ", the rest behind it") +
             (elsewhere.empty()
                  ? std::string()
                  : "; not those naming only etcd's or flannel's image (" + elsewhere + ")");
    }
    std::string operator()(const NodeReady& n) const {
      std::string how;
      if (!n.ca_file.empty()) how += "verified against " + n.ca_file;
      if (!n.client_cert_file.empty())
        how += (how.empty() ? "" : ", ") + std::string("as the client certificate ") +
               n.client_cert_file;
      if (!n.token.empty())
        how += (how.empty() ? "" : ", ") + std::string("asked with the bearer token");
      return "the API server " + n.api_server + " lists node " + n.node_name + " as Ready" +
             (how.empty() ? "" : " (" + how + ")");
    }
  };
  return std::visit(Describe{}, then);
}

const char* to_string(EtcdApi api) {
  return api == EtcdApi::v3 ? "v3" : "v2";
}

std::string format_mode(unsigned mode) {
  std::string out(4, '0');
  for (int i = 3; i >= 0; --i, mode >>= 3)
    out[static_cast<std::size_t>(i)] = static_cast<char>('0' + (mode & 7));
  return out;
}

std::string redact_file_content(const std::string& content) {
  auto document = nlohmann::ordered_json::parse(content, nullptr, false);
  if (document.is_discarded() || !redact_json(document)) return content;
  return document.dump(2) + "\n";
}

std::string describe_mount(const Mount& mount) {
  std::string options;
  if (mount.read_only) options = "ro";
  if (!mount.propagation.empty()) options += (options.empty() ? "" : ",") + mount.propagation;
  return mount.source + ":" + mount.target + (options.empty() ? "" : ":" + options);
}

std::string describe_then_every(Millis every) {
  if (every == kThenOncePerRun)
    return "once per run; again when a stage that depends on it starts again or a check fails";
  if (every <= Millis{0}) return "at every check";
  return "every " + format_millis(every) + " to +20% once ready; the check alone between";
}

}  // namespace kna::stages
