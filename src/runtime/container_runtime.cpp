#include "runtime/container_runtime.hpp"

#include <cstdio>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "clients/docker_client.hpp"
#include "clients/docker_events.hpp"
#include "clients/docker_json.hpp"
#include "core/thread_name.hpp"
#include "kna/catalogue.hpp"
#include "runtime/container_exit.hpp"
#include "runtime/container_launch.hpp"
#include "runtime/image_pull_progress.hpp"
#include "runtime/image_store.hpp"

namespace kna {

namespace {

using DockerKind = DockerError::Kind;

// One launched container, from launch to its reported end. Loop thread only, except `id`, which
// never changes and is read by workers.
struct Tracked {
  std::string stage;
  std::string id;
  std::string socket;
  ExitCallback on_exit;
  std::optional<std::int64_t> started_nano;  // of the run we launched or adopted
  bool stop_requested{false};
  bool reported{false};
  bool oom{false};
};

// One daemon, by socket path.
struct Daemon {
  std::shared_ptr<Docker> client;  // inspect and stop of what runs; launches have their own
  std::shared_ptr<ImageStore> images;
  std::unique_ptr<DockerEvents> events;
  std::map<std::string, std::shared_ptr<Tracked>> tracked;  // by full id; loop only
};

// What inspecting a container told (on a worker), applied later on the loop.
struct Observation {
  enum class What { running, exited, gone, lost };
  What what{What::lost};
  int exit_code{0};
  bool oom{false};
  std::optional<std::int64_t> started_nano;
  std::string detail;
};

Observation observe(Docker& client, const std::string& id) {
  Observation o;
  try {
    auto info = client.inspect_container(id);
    if (!info) {
      o.what = Observation::What::gone;
      o.detail = fmt::format("container {} no longer exists", short_container_id(id));
      return o;
    }
    o.what = info->state.running ? Observation::What::running : Observation::What::exited;
    o.exit_code = info->state.exit_code;
    o.oom = info->state.oom_killed;
    o.started_nano = docker::parse_rfc3339_nanos(info->state.started_at);
  } catch (const DockerError& e) {
    o.what = Observation::What::lost;
    o.detail = e.what();
  }
  return o;
}

class ContainerWorkload : public Workload {
 public:
  ContainerWorkload(std::string id, int pid, std::function<void(Millis)> stop)
      : id_(std::move(id)), pid_(pid), stop_(std::move(stop)) {}

  std::string id() const override { return "container " + short_container_id(id_); }
  std::optional<int> pid() const override {
    return pid_ > 0 ? std::optional<int>(pid_) : std::nullopt;
  }
  void stop(Millis timeout) override { stop_(timeout); }

 private:
  std::string id_;
  int pid_;
  std::function<void(Millis)> stop_;
};

}  // namespace

class ContainerRuntime::Workers {
 public:
  explicit Workers(int threads) : pool_(static_cast<std::size_t>(std::max(1, threads))) {
    name_pool_threads([this](std::function<void()> fn) { post(std::move(fn)); },
                      static_cast<std::size_t>(std::max(1, threads)), "kna-docker");
  }
  void post(std::function<void()> fn) { boost::asio::post(pool_, std::move(fn)); }
  void join() { pool_.join(); }

 private:
  boost::asio::thread_pool pool_;
};

struct ContainerRuntime::Core : std::enable_shared_from_this<ContainerRuntime::Core> {
  Core(Dispatcher& d, ContainerRuntimeOptions o) : dispatcher(d), options(std::move(o)) {}

  // A launch in flight: its own connection, so that cancel() aborts this launch's calls only.
  struct Launching {
    std::shared_ptr<Docker> client;
    bool cancelled{false};  // loop only
  };

  Dispatcher& dispatcher;
  ContainerRuntimeOptions options;
  Workers* workers{nullptr};
  bool closed{false};
  std::map<std::string, std::shared_ptr<Daemon>> daemons;       // by socket path
  std::map<std::string, std::shared_ptr<Launching>> launching;  // by stage; loop only
  // stop() of a launch's connection waits for its calls to give up: never on the loop.
  std::vector<std::thread> cancellers;

  void cancel(Launching& launch) {
    if (launch.cancelled) return;
    launch.cancelled = true;
    cancellers.emplace_back([client = launch.client] {
      name_this_thread("kna-cancel");
      client->stop();
    });
  }

  std::shared_ptr<Docker> connect(const DockerEndpoint& endpoint) const {
    return options.connect ? options.connect(endpoint) : connect_docker(endpoint);
  }

  std::shared_ptr<Daemon> daemon(const std::string& socket) {
    auto& slot = daemons[socket];
    if (slot) return slot;
    slot = std::make_shared<Daemon>();
    slot->client = connect(DockerEndpoint{socket, Millis{5'000}, options.docker_timeout});
    slot->images = std::make_shared<ImageStore>(options.image_dir);
    DockerEventsOptions events_options;
    events_options.socket_path = socket;
    events_options.reconnect_initial = options.events_reconnect_initial;
    events_options.reconnect_cap = options.events_reconnect_cap;
    events_options.connect = options.connect;
    // The watcher thread only posts; the loop finds the daemon again by its socket.
    std::weak_ptr<Core> weak = shared_from_this();
    Dispatcher* loop = &dispatcher;
    auto on_loop = [weak, loop](std::function<void(Core&)> fn) {
      loop->post([weak, fn = std::move(fn)] {
        if (auto core = weak.lock(); core && !core->closed) fn(*core);
      });
    };
    DockerEvents::Callbacks callbacks{
        [on_loop, socket](const DockerEvent& e) {
          on_loop([socket, e](Core& core) { core.on_event(socket, e); });
        },
        [on_loop, socket](bool first) {
          on_loop([socket, first](Core& core) {
            core.resync(socket, first ? "event stream connected" : "event stream reconnected");
          });
        },
        [on_loop, socket](const std::string& reason) {
          on_loop([socket, reason](Core& core) {
            core.resync(socket, "event stream lost: " + reason);
          });
        }};
    slot->events = std::make_unique<DockerEvents>(std::move(events_options), std::move(callbacks));
    slot->events->start();
    return slot;
  }

  void launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) {
    const auto* container = std::get_if<ContainerSpec>(&spec.launch);
    std::string problem;
    if (!container) problem = "the container runtime cannot run a host process spec";
    if (container && container->docker_socket.empty())
      problem = "the container spec names no docker socket";
    if (container && container->image.empty()) problem = "the container spec names no image";
    if (!problem.empty()) {
      dispatcher.post([done = std::move(done), problem] { done(Error{problem}); });
      return;
    }
    auto self = shared_from_this();
    auto dm = daemon(container->docker_socket);
    auto mine = std::make_shared<Launching>();
    mine->client =
        connect(DockerEndpoint{container->docker_socket, Millis{5'000}, options.docker_timeout});
    if (auto earlier = launching.find(spec.name); earlier != launching.end()) {
      // The supervisor never launches a stage twice at once; an earlier launch still here is one
      // it gave up on (its result is ignored): let it end now.
      cancel(*earlier->second);
    }
    launching[spec.name] = mine;
    const bool bar = options.pull_progress_bar;
    auto throttle = std::make_shared<ProgressThrottle>(
        bar ? Millis(200) : options.pull_log_interval);  // loop only
    workers->post([self, dm, mine, stage = spec.name, c = *container,
                   stop_timeout = spec.stop_timeout, done = std::move(done),
                   on_exit = std::move(on_exit), throttle, bar]() mutable {
      std::optional<LaunchedContainer> launched;
      std::string error;
      try {
        auto on_percent = [self, stage, image = c.image, throttle, bar](int percent) {
          self->dispatcher.post([self, stage, image, throttle, percent, bar] {
            if (self->closed) return;
            if (percent < 100 && !throttle->allow(self->dispatcher.now())) return;
            if (bar) {
              std::fprintf(stderr, "\r\033[K%s%s", progress_bar_line(stage, image, percent).c_str(),
                           percent >= 100 ? "\n" : "");
              std::fflush(stderr);
            } else {
              spdlog::info("{}: pulling {}: {}%", stage, image, percent);
            }
          });
        };
        launched = launch_container(
            ContainerLaunch{*mine->client, *dm->images, stage, stop_timeout, on_percent}, c);
      } catch (const std::exception& e) {
        error = e.what();
      }
      self->dispatcher.post([self, dm, mine, stage, launched = std::move(launched), error,
                             done = std::move(done), on_exit = std::move(on_exit)]() mutable {
        if (auto it = self->launching.find(stage);
            it != self->launching.end() && it->second == mine) {
          self->launching.erase(it);
        }
        if (self->closed) return;
        if (!launched) {
          done(Error{mine->cancelled
                         ? fmt::format("launch cancelled: the stage was asked to stop ({})", error)
                         : error});
          return;
        }
        self->adopt_launched(dm, stage, *launched, std::move(done), std::move(on_exit));
      });
    });
  }

  void adopt_launched(const std::shared_ptr<Daemon>& dm, const std::string& stage,
                      const LaunchedContainer& launched, LaunchDone done, ExitCallback on_exit) {
    auto t = std::make_shared<Tracked>();
    t->stage = stage;
    t->id = launched.id;
    t->socket = dm->client->socket_path();
    t->on_exit = std::move(on_exit);
    t->started_nano = launched.started_nano;
    if (auto it = dm->tracked.find(t->id); it != dm->tracked.end()) {
      report(it->second, container_gone_status(false, "taken over by a newer launch"));
    }
    dm->tracked[t->id] = t;
    std::weak_ptr<Core> weak = shared_from_this();
    done(std::unique_ptr<Workload>(
        new ContainerWorkload(launched.id, launched.pid, [weak, t](Millis timeout) {
          if (auto core = weak.lock()) core->stop(t, timeout);
        })));
    // A death between the worker's last look and now reached nobody: look once more.
    recheck(dm, {t});
  }

  void on_event(const std::string& socket, const DockerEvent& e) {
    auto dm = daemons.at(socket);
    auto it = dm->tracked.find(e.id);
    if (it == dm->tracked.end()) {
      spdlog::debug("docker {}: {} of untracked container {}", socket, e.action,
                    short_container_id(e.id));
      return;
    }
    auto t = it->second;
    if (e.action == "oom") {
      t->oom = true;
      spdlog::warn("{}: container {} ran out of memory", t->stage, short_container_id(t->id));
    } else if (e.action == "die") {
      if (t->started_nano && e.time_nano > 0 && e.time_nano < *t->started_nano) {
        spdlog::debug("{}: ignored the die event of an earlier run of container {}", t->stage,
                      short_container_id(t->id));
        return;
      }
      if (auto code = e.exit_code()) {
        report(t, container_exit_status(*code, t->stop_requested, t->oom));
      } else {
        recheck(dm, {t});
      }
    } else if (e.action == "destroy") {
      report(t, container_gone_status(t->stop_requested, "the container was removed"));
    }
  }

  // After (re)connecting or losing a daemon's event stream: events may have been missed.
  void resync(const std::string& socket, const std::string& why) {
    auto dm = daemons.at(socket);
    std::vector<std::shared_ptr<Tracked>> all;
    for (const auto& [id, t] : dm->tracked) all.push_back(t);
    if (all.empty()) return;
    spdlog::info("docker {}: {}: checking {} containers", socket, why, all.size());
    recheck(dm, std::move(all));
  }

  void recheck(const std::shared_ptr<Daemon>& dm, std::vector<std::shared_ptr<Tracked>> ts) {
    if (closed) return;
    std::vector<std::string> ids;
    for (const auto& t : ts) ids.push_back(t->id);
    auto self = shared_from_this();
    workers->post([self, dm, ts = std::move(ts), ids = std::move(ids)] {
      std::vector<Observation> seen;
      for (const auto& id : ids) seen.push_back(observe(*dm->client, id));
      self->dispatcher.post([self, ts, seen = std::move(seen)] {
        if (self->closed) return;
        for (std::size_t i = 0; i < ts.size(); ++i) self->apply(ts[i], seen[i]);
      });
    });
  }

  void apply(const std::shared_ptr<Tracked>& t, const Observation& o) {
    if (t->reported) return;
    switch (o.what) {
      case Observation::What::running:
        if (t->started_nano && o.started_nano && *o.started_nano != *t->started_nano) {
          report(t, container_gone_status(t->stop_requested,
                                          "it ended and docker restarted it (restart policy)"));
        }
        return;
      case Observation::What::exited:
        report(t, container_exit_status(o.exit_code, t->stop_requested, o.oom || t->oom));
        return;
      case Observation::What::gone:
        report(t, container_gone_status(t->stop_requested, o.detail));
        return;
      case Observation::What::lost: {
        ExitStatus s;
        s.cause = ExitStatus::Cause::lost;
        s.detail = o.detail;
        report(t, s);
        return;
      }
    }
  }

  void report(const std::shared_ptr<Tracked>& t, const ExitStatus& status) {
    if (t->reported) return;
    t->reported = true;
    if (auto dm = daemons.find(t->socket); dm != daemons.end()) {
      auto it = dm->second->tracked.find(t->id);
      if (it != dm->second->tracked.end() && it->second == t) dm->second->tracked.erase(it);
    }
    spdlog::info("{}: container {} ended: {}", t->stage, short_container_id(t->id),
                 status.describe());
    auto on_exit = std::move(t->on_exit);
    if (on_exit) on_exit(status);
  }

  void stop(const std::shared_ptr<Tracked>& t, Millis timeout) {
    if (closed || t->reported || t->stop_requested) return;
    t->stop_requested = true;
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(std::max(timeout, Millis{0}));
    spdlog::info("{}: stopping container {} (docker stop: SIGTERM, SIGKILL after {}s)", t->stage,
                 short_container_id(t->id), seconds.count());
    auto dm = daemons.at(t->socket);
    auto self = shared_from_this();
    workers->post([self, dm, t, id = t->id, seconds] {
      Observation o;
      try {
        // Returns once the container has stopped; the die event usually arrives first.
        dm->client->stop_container(id, seconds);
        o = observe(*dm->client, id);
        if (o.what == Observation::What::running) {
          spdlog::warn("container {} still runs after docker stop, killing it",
                       short_container_id(id));
          dm->client->kill_container(id, "SIGKILL");
          o = observe(*dm->client, id);
        }
      } catch (const DockerError& e) {
        o = e.kind() == DockerKind::unavailable || e.kind() == DockerKind::timeout
                ? Observation{}
                : observe(*dm->client, id);
        if (o.what == Observation::What::lost && o.detail.empty()) o.detail = e.what();
      }
      self->dispatcher.post([self, t, o] {
        if (self->closed) return;
        if (o.what == Observation::What::running) {
          spdlog::error("{}: container {} is still running after docker stop and kill", t->stage,
                        short_container_id(t->id));
          ExitStatus s;
          s.cause = ExitStatus::Cause::lost;
          s.detail = "still running after docker stop and kill";
          self->report(t, s);
          return;
        }
        self->apply(t, o);
      });
    });
  }

  // The recovery contract (include/kna/runtime.hpp) for containers: per daemon of the plan, ours
  // for this node and running with the planned hash is adoptable; ours of a stage not planned in
  // that daemon is stopped and removed; the rest is left to launch(). A daemon that does not
  // answer (down, or hung for longer than the short timeouts) adopts nothing.
  void recover(const std::vector<StageSpec>& planned, RecoverDone done) {
    struct Wanted {
      std::string hash;
      Millis stop_timeout;
    };
    // socket → stage → wanted; and the node whose containers these are.
    auto wanted = std::make_shared<std::map<std::string, std::map<std::string, Wanted>>>();
    std::string node;
    for (const auto& spec : planned) {
      const auto* c = std::get_if<ContainerSpec>(&spec.launch);
      if (!c || c->docker_socket.empty()) continue;
      const auto labelled = with_ownership_labels(*c, spec.name);
      (*wanted)[c->docker_socket][spec.name] =
          Wanted{labelled.labels.at(kLabelSpecHash), spec.stop_timeout};
      if (auto n = labelled.labels.find(kLabelNode); n != labelled.labels.end()) node = n->second;
    }
    auto self = shared_from_this();
    if (wanted->empty() || !workers) {
      dispatcher.post([done = std::move(done)] { done(RecoveryReport{}); });
      return;
    }
    workers->post([self, wanted, node, done = std::move(done)]() mutable {
      RecoveryReport report;
      for (const auto& [socket, stages] : *wanted) {
        const auto connection = self->connect(DockerEndpoint{socket, Millis{1'000}, Millis{3'000}});
        Docker& client = *connection;
        std::map<std::string, std::string> ours{{kLabelAgent, "true"}};
        if (!node.empty()) ours[kLabelNode] = node;
        try {
          for (const auto& c : client.list_containers(ours, true)) {
            const std::string stage = label_of(c.labels, kLabelStage);
            const std::string id = short_container_id(c.id);
            auto it = stages.find(stage);
            if (it == stages.end()) {
              spdlog::info(
                  "{}: stopping and removing container {} in {}: the stage is not planned "
                  "there any more",
                  stage, id, socket);
              try {
                if (c.state == "running" || c.state == "restarting")
                  client.stop_container(c.id, std::chrono::seconds(10));
                client.remove_container(c.id, true);
                report.removed.push_back(stage);
              } catch (const DockerError& e) {
                report.notes.push_back(
                    fmt::format("{}: could not remove container {}: {}", stage, id, e.what()));
              }
            } else if (c.state == "running" &&
                       label_of(c.labels, kLabelSpecHash) == it->second.hash) {
              report.adoptable.push_back(stage);
              report.notes.push_back(fmt::format("{}: container {} can be adopted", stage, id));
            } else {
              report.notes.push_back(fmt::format("{}: container {} ({}) will be replaced", stage,
                                                 id,
                                                 c.state == "running" ? "another spec" : c.state));
            }
          }
        } catch (const DockerError& e) {
          report.notes.push_back(fmt::format(
              "docker {} did not answer ({}): adopting none of its containers", socket, e.what()));
        }
      }
      self->dispatcher.post([self, report = std::move(report), done = std::move(done)]() mutable {
        if (self->closed) return;
        done(std::move(report));
      });
    });
  }

  std::size_t tracked_count() const {
    std::size_t n = 0;
    for (const auto& [socket, dm] : daemons) n += dm->tracked.size();
    return n;
  }
};

ContainerRuntime::ContainerRuntime(Dispatcher& dispatcher, ContainerRuntimeOptions options)
    : core_(std::make_shared<Core>(dispatcher, std::move(options))),
      workers_(std::make_unique<Workers>(core_->options.worker_threads)) {
  core_->workers = workers_.get();
}

ContainerRuntime::~ContainerRuntime() {
  core_->closed = true;
  // Watchers first (their threads post to the loop), then abort the calls the workers wait on.
  for (auto& [socket, dm] : core_->daemons) dm->events->stop();
  for (auto& [socket, dm] : core_->daemons) dm->client->stop();
  for (auto& [stage, launch] : core_->launching) launch->client->stop();
  for (auto& canceller : core_->cancellers) canceller.join();
  workers_->join();
  core_->workers = nullptr;
  // Their on_exit will never run: let go of whatever those callbacks hold.
  for (auto& [socket, dm] : core_->daemons) {
    for (auto& [id, t] : dm->tracked) t->on_exit = nullptr;
    dm->tracked.clear();
  }
}

void ContainerRuntime::launch(const StageSpec& spec, LaunchDone done, ExitCallback on_exit) {
  core_->launch(spec, std::move(done), std::move(on_exit));
}

void ContainerRuntime::cancel(const std::string& stage) {
  auto it = core_->launching.find(stage);
  if (it == core_->launching.end() || it->second->cancelled) return;
  spdlog::info("{}: cancelling its launch (aborting the Docker calls in flight)", stage);
  core_->cancel(*it->second);
}

void ContainerRuntime::recover(const std::vector<StageSpec>& planned, RecoverDone done) {
  core_->recover(planned, std::move(done));
}

std::size_t ContainerRuntime::tracked() const {
  return core_->tracked_count();
}

}  // namespace kna
