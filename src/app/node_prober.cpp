#include "app/node_prober.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "app/node_readiness.hpp"
#include "clients/docker_client.hpp"
#include "clients/etcd_client.hpp"
#include "clients/flannel_config.hpp"
#include "runtime/image_store.hpp"

namespace kna::app {

struct NodeProber::Impl {
  Impl(Dispatcher& d, Prober& b, const Config& c) : dispatcher(d), base(b), cfg(c) {}

  // Blocking: runs on the pool.
  ProbeResult write_flannel_config(Millis timeout) const {
    EtcdClient etcd(EtcdOptions{{"http://127.0.0.1:2379"}, cfg.flannel_etcd_api, timeout});
    auto outcome = ensure_network_config(etcd, cfg.flannel_etcd_prefix, cfg.flannel_network,
                                         cfg.flannel_backend);
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

  // Blocking: runs on the pool.
  ProbeResult load_images(const std::string& socket) {
    try {
      DockerClient docker(DockerClientOptions{socket});
      // Runs on every readiness probe: after the first, it costs one image inspect per name.
      const AirgapLoad load = images.load_airgap(docker, kStageMainDocker);
      return {true, fmt::format("image tarballs: {} loaded, {} already there, {} failed",
                                load.loaded, load.skipped, load.failed)};
    } catch (const std::exception& e) {
      return {false, fmt::format("cannot load the image folder {} into {}: {}", cfg.paths.image_dir,
                                 socket, e.what())};
    }
  }

  ProbeResult run_action(const ProbeSpec& spec) {
    if (spec.action == kActionFlannelConfig) return write_flannel_config(spec.policy.timeout);
    if (spec.action == kActionNodeReady) {
      const KubeApiClient api("http://" + cfg.master_ip + ":8080", cfg.api_token,
                              spec.policy.timeout);
      return check_node_ready(api, cfg.node_name);
    }
    if (spec.action == kActionLoadImages) return load_images(spec.unix_socket);
    return {false, "unknown readiness action '" + spec.action + "'"};
  }

  Dispatcher& dispatcher;
  Prober& base;
  const Config& cfg;
  ImageStore images{cfg.paths.image_dir};  // pods' images for the main dockerd (k3s-style airgap)
  boost::asio::thread_pool pool{1};
};

NodeProber::NodeProber(Dispatcher& dispatcher, Prober& base, const Config& cfg)
    : impl_(std::make_unique<Impl>(dispatcher, base, cfg)) {}

NodeProber::~NodeProber() {
  impl_->pool.join();
}

void NodeProber::check(const ProbeSpec& spec, std::function<void(ProbeResult)> done) {
  if (spec.action.empty()) {
    impl_->base.check(spec, std::move(done));
    return;
  }
  impl_->base.check(spec, [this, spec, done = std::move(done)](ProbeResult result) mutable {
    if (!result.ok) {
      done(std::move(result));
      return;
    }
    boost::asio::post(impl_->pool, [this, spec, done = std::move(done)]() mutable {
      ProbeResult r = impl_->run_action(spec);
      impl_->dispatcher.post([r = std::move(r), done = std::move(done)]() mutable { done(r); });
    });
  });
}

}  // namespace kna::app
