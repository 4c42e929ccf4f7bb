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
  Impl(Dispatcher& d, Prober& b) : dispatcher(d), base(b) {}

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

  // Blocking: runs on the pool.
  ProbeResult load(const LoadAirgapImages& step) {
    const std::string& socket = step.docker_socket;
    try {
      DockerClient docker(DockerClientOptions{socket});
      // Runs on every readiness probe: after the first, it costs one image inspect per name.
      const AirgapLoad load = images_in(step.image_dir).load_airgap(docker, kStageMainDocker);
      return {true, fmt::format("image tarballs: {} loaded, {} already there, {} failed",
                                load.loaded, load.skipped, load.failed)};
    } catch (const std::exception& e) {
      return {false, fmt::format("cannot load the image folder {} into {}: {}", step.image_dir,
                                 socket, e.what())};
    }
  }

  // Blocking: runs on the pool.
  static ProbeResult node_ready(const NodeReady& step, Millis timeout) {
    const KubeApiClient api(step.api_server, step.token, timeout);
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

  // The images folder's store (which remembers what each daemon rejected); pool thread only.
  ImageStore& images_in(const std::string& dir) {
    if (!images || images_dir != dir) {
      images = std::make_unique<ImageStore>(dir);
      images_dir = dir;
    }
    return *images;
  }

  Dispatcher& dispatcher;
  Prober& base;
  std::unique_ptr<ImageStore> images;  // pods' images for the main dockerd (k3s-style airgap)
  std::string images_dir;
  boost::asio::thread_pool pool{1};
};

NodeProber::NodeProber(Dispatcher& dispatcher, Prober& base)
    : impl_(std::make_unique<Impl>(dispatcher, base)) {}

NodeProber::~NodeProber() {
  impl_->pool.join();
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
