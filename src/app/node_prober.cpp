#include "app/node_prober.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "app/node_readiness.hpp"
#include "app/version.hpp"
#include "clients/docker_client.hpp"
#include "clients/etcd_client.hpp"
#include "clients/flannel_config.hpp"
#include "core/thread_name.hpp"
#include "runtime/image_store.hpp"

namespace kna::app {

struct NodeProber::Impl {
  Impl(Dispatcher& d, Prober& b) : dispatcher(d), base(b) {
    name_pool_threads([this](std::function<void()> fn) { boost::asio::post(pool, std::move(fn)); },
                      1, "kna-nodeprobe");
    name_pool_threads(
        [this](std::function<void()> fn) { boost::asio::post(behind, std::move(fn)); }, 1,
        "kna-airgap");
  }

  // Aborts a load in flight behind the kubelet (a large tarball takes seconds), then waits for it.
  void close() {
    {
      std::lock_guard lock(behind_mu);
      closing = true;
      if (behind_client) behind_client->stop();
    }
    behind.join();
    pool.join();
  }

  // Blocking: runs on the pool.
  ProbeResult store(const StoreFlannelConfig& step, Millis timeout) const {
    EtcdClient etcd(EtcdOptions{{step.etcd_endpoint}, step.etcd_api, timeout});
    auto outcome = ensure_json_value(etcd, step.key, step.value);
    if (!outcome) {
      return {false, "cannot write flannel's network config: " + outcome.error().message};
    }
    if (outcome.value().change == NetworkConfigChange::unchanged) {
      spdlog::debug("etcd: {}", outcome.value().describe());
    } else {
      spdlog::info("etcd: {}", outcome.value().describe());
    }
    return {true, outcome.value().describe()};
  }

  // Blocking: runs on the pool. The kubelet's images first; the rest of the folder is loaded
  // behind the step, while the kubelet runs: from the first check that had none of the kubelet's
  // to load (the next one, one probe period later, on a fresh daemon), so that the loads do not
  // slow the kubelet's own start (measured: its start to the node Ready took 1.0–1.5 s beside
  // them, 0.7–0.9 s without; docs/benchmarks.md, join). The step asks to run again
  // (ProbeResult::again) until a pass behind has left nothing to retry; then the supervisor stops
  // running it for this run of the daemon, and a ready node inspects no image at all.
  ProbeResult load(const LoadAirgapImages& step) {
    const std::string& socket = step.docker_socket;
    std::shared_ptr<ImageStore> store = images_in(step.image_dir);
    std::string absent;
    bool loaded = false;
    try {
      DockerClient docker(DockerClientOptions{socket});
      for (const auto& image : step.first) {
        if (docker.inspect_image(image)) continue;
        if (store->load_for(docker, kStageMainDocker, image))
          loaded = true;
        else
          absent += (absent.empty() ? "" : ", ") + image;
      }
    } catch (const std::exception& e) {
      return {false, fmt::format("cannot load the image folder {} into {}: {}", step.image_dir,
                                 socket, e.what())};
    }
    bool settled = false;
    {
      std::lock_guard lock(behind_mu);
      Folder& folder = folders[socket];
      // A daemon that lacked the kubelet's images is a fresh one: the rest must be looked at
      // again, and a pass behind still running for the daemon before it settles nothing.
      if (loaded) {
        ++folder.generation;
        folder.settled = false;
      }
      settled = !loaded && folder.settled;
    }
    const bool started = !loaded && !settled && load_behind(store, socket, step.elsewhere);
    ProbeResult result{true,
                       fmt::format("{}{}",
                                   absent.empty() ? "the kubelet's images are there"
                                                  : absent + " not in the image folder (the launch "
                                                             "pulls it)",
                                   settled   ? "; the rest of the image folder is in"
                                   : started ? "; the rest of the image folder loads behind"
                                   : loaded  ? "; the rest of the image folder loads from the next "
                                               "check"
                                             : "; the rest of the image folder is still loading")};
    result.again = !settled;
    return result;
  }

  // Loads what the daemon lacks of the image folder on the `behind` thread, unless a load is in
  // flight already (the next readiness check looks again). True when it started one. A pass that
  // leaves nothing to retry settles the folder for `socket` (Folder).
  bool load_behind(std::shared_ptr<ImageStore> store, const std::string& socket,
                   const std::vector<std::string>& elsewhere) {
    if (behind_busy.exchange(true)) return false;
    boost::asio::post(behind, [this, store = std::move(store), socket, elsewhere] {
      try {
        auto docker = std::make_shared<DockerClient>(DockerClientOptions{socket});
        bool go = false;
        std::uint64_t generation = 0;
        {
          std::lock_guard lock(behind_mu);
          go = !closing;
          if (go) behind_client = docker;
          generation = folders[socket].generation;
        }
        if (go) {
          const AirgapLoad load = store->load_airgap(*docker, kStageMainDocker, elsewhere);
          if (load.retry == 0) {
            std::lock_guard lock(behind_mu);
            Folder& folder = folders[socket];
            if (folder.generation == generation) folder.settled = true;
          }
          if (load.loaded > 0 || load.failed > 0)
            spdlog::info(
                "{}: image folder loaded behind the kubelet's images: {} loaded, {} "
                "already there, {} failed{}",
                kStageMainDocker, load.loaded, load.skipped, load.failed,
                load.elsewhere > 0
                    ? fmt::format("; {} left to the bootstrap daemon", load.elsewhere)
                    : std::string());
        }
      } catch (const std::exception& e) {
        spdlog::warn(
            "{}: loading the image folder into {}: {}; tried again at the next readiness "
            "check",
            kStageMainDocker, socket, e.what());
      }
      {
        std::lock_guard lock(behind_mu);
        behind_client.reset();
      }
      behind_busy = false;
    });
    return true;
  }

  // Blocking: runs on the pool.
  static ProbeResult node_ready(const NodeReady& step, Millis timeout) {
    const KubeApiClient api(step.api_server, step.token, timeout, agent_user_agent(step.node_name),
                            ApiTls{step.ca_file, step.client_cert_file, step.client_key_file});
    return check_node_ready(api, step.node_name);
  }

  ProbeResult run_after(const ProbeSpec& spec) {
    struct Run {
      Impl& impl;
      Millis timeout;
      ProbeResult operator()(std::monostate) const { return {true, ""}; }
      ProbeResult operator()(const StoreFlannelConfig& s) const { return impl.store(s, timeout); }
      ProbeResult operator()(const LoadAirgapImages& s) const { return impl.load(s); }
      ProbeResult operator()(const NodeReady& s) const { return node_ready(s, timeout); }
    };
    return std::visit(Run{*this, spec.policy.timeout}, spec.then);
  }

  // The images folder's store (which remembers what each daemon rejected); pool thread only. The
  // load behind holds its own reference: a reload may point the step at another folder meanwhile.
  std::shared_ptr<ImageStore> images_in(const std::string& dir) {
    if (!images || images_dir != dir) {
      images = std::make_shared<ImageStore>(dir);
      images_dir = dir;
    }
    return images;
  }

  Dispatcher& dispatcher;
  Prober& base;
  std::shared_ptr<ImageStore> images;  // pods' images for the main dockerd (k3s-style airgap)
  std::string images_dir;
  boost::asio::thread_pool pool{1};
  // The image folder's load behind the kubelet's images: one at a time, on a thread of its own so
  // that the checks on `pool` never wait for it.
  boost::asio::thread_pool behind{1};
  std::atomic<bool> behind_busy{false};
  // The image folder as one daemon has it, by socket: settled once a pass behind left nothing
  // to retry; `generation` counts the times the kubelet's images had to be loaded (a fresh
  // daemon), so that a pass for the daemon before settles nothing.
  struct Folder {
    std::uint64_t generation{0};
    bool settled{false};
  };
  std::mutex behind_mu;
  std::map<std::string, Folder> folders;        // behind_mu
  bool closing{false};                          // behind_mu
  std::shared_ptr<DockerClient> behind_client;  // behind_mu: the load in flight, for close()
};

NodeProber::NodeProber(Dispatcher& dispatcher, Prober& base)
    : impl_(std::make_unique<Impl>(dispatcher, base)) {}

NodeProber::~NodeProber() {
  impl_->close();
}

void NodeProber::check(const ProbeSpec& spec, std::function<void(ProbeResult)> done) {
  if (std::holds_alternative<std::monostate>(spec.then)) {
    impl_->base.check(spec, std::move(done));
    return;
  }
  impl_->base.check(spec, [this, spec, done = std::move(done)](ProbeResult result) mutable {
    if (!result.ok) {
      done(std::move(result));
      return;
    }
    boost::asio::post(impl_->pool, [this, spec, done = std::move(done)]() mutable {
      ProbeResult r = impl_->run_after(spec);
      impl_->dispatcher.post([r = std::move(r), done = std::move(done)]() mutable { done(r); });
    });
  });
}

}  // namespace kna::app
