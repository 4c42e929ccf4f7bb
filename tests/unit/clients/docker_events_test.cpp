#include "clients/docker_events.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "clients/docker_json.hpp"
#include "docker_fake_daemon.hpp"

namespace kna {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string event_line(const std::string& action, const std::string& id, long long time_nano,
                       const std::string& exit_code = "") {
  json attrs = {{"io.kube-node-agent.managed", "true"}, {"name", "c-" + id}};
  if (!exit_code.empty()) attrs["exitCode"] = exit_code;
  json j = {{"Type", "container"},
            {"Action", action},
            {"status", action},
            {"id", id},
            {"Actor", {{"ID", id}, {"Attributes", attrs}}},
            {"time", time_nano / 1'000'000'000},
            {"timeNano", time_nano}};
  return j.dump() + "\n";
}

// What the watcher reported, observed from the test thread.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<DockerEvent> events;
  std::vector<bool> resyncs;
  std::vector<std::string> disconnects;

  DockerEvents::Callbacks callbacks() {
    return DockerEvents::Callbacks{[this](const DockerEvent& e) {
                                     std::lock_guard lock(mu);
                                     events.push_back(e);
                                     cv.notify_all();
                                   },
                                   [this](bool first) {
                                     std::lock_guard lock(mu);
                                     resyncs.push_back(first);
                                     cv.notify_all();
                                   },
                                   [this](const std::string& reason) {
                                     std::lock_guard lock(mu);
                                     disconnects.push_back(reason);
                                     cv.notify_all();
                                   }};
  }
  template <typename Pred>
  bool wait(Pred pred, std::chrono::seconds limit = 10s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, limit, pred);
  }
};

// An /events endpoint that plays a script per connection, then stays idle until released.
class ScriptedEvents {
 public:
  // chunks[i]: what connection i sends, piece by piece; `end[i]`: whether it then ends the stream.
  ScriptedEvents(std::vector<std::vector<std::string>> chunks, std::vector<bool> end)
      : chunks_(std::move(chunks)), end_(std::move(end)) {}
  ~ScriptedEvents() { release(); }

  void install(httplib::Server& s) {
    s.Get("/_ping", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("API-Version", "1.41");
      res.set_content("OK", "text/plain");
    });
    s.Get("/v1.41/events", [this](const httplib::Request& req, httplib::Response& res) {
      std::size_t n;
      {
        std::lock_guard lock(mu_);
        n = queries_.size();
        queries_.push_back(req.params);
      }
      res.set_chunked_content_provider("application/json",
                                       [this, n](size_t, httplib::DataSink& sink) {
                                         if (n < chunks_.size()) {
                                           for (const auto& c : chunks_[n]) {
                                             if (!sink.write(c.data(), c.size())) return false;
                                           }
                                           if (end_[n]) {
                                             sink.done();
                                             return true;
                                           }
                                         }
                                         std::unique_lock lock(mu_);
                                         while (!released_) {
                                           cv_.wait_for(lock, 50ms);
                                           if (!sink.is_writable()) return false;
                                         }
                                         return false;
                                       });
    });
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  std::vector<httplib::Params> queries() {
    std::lock_guard lock(mu_);
    return queries_;
  }

 private:
  std::vector<std::vector<std::string>> chunks_;
  std::vector<bool> end_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_{false};
  std::vector<httplib::Params> queries_;
};

TEST(DockerEvents, QueryCarriesTheFiltersAndStartsJustAfterTheLastEvent) {
  auto q = DockerEvents::query({{"type", {"container"}}}, 1795385889275662488);
  EXPECT_EQ(q, "filters=" + docker::url_encode(R"({"type":["container"]})") +
                   "&since=1795385889.275662489");
  EXPECT_EQ(DockerEvents::query({}, 5'000'000'000 - 1), "since=5.000000000");
  EXPECT_EQ(DockerEvents::query({}, 0), "");
}

TEST(DockerEvents, DefaultFiltersSelectOurContainersLifecycleEvents) {
  auto f = DockerEventsOptions::default_filters();
  EXPECT_EQ(f.at("type"), std::vector<std::string>{"container"});
  EXPECT_EQ(f.at("label"), std::vector<std::string>{"io.kube-node-agent.managed=true"});
  EXPECT_EQ(f.at("event"), (std::vector<std::string>{"die", "start", "destroy", "oom"}));
}

TEST(DockerEvents, DeliversEventsSplitAcrossChunksThenReconnectsSinceTheLastOne) {
  const std::string a = event_line("start", "c1", 1'000'000'000'123);
  const std::string b = event_line("die", "c1", 1'000'000'000'456, "3");
  const std::string c = event_line("die", "c2", 1'000'000'000'789, "137");
  // One piece ends mid-line, another holds the end of one line and two more.
  ScriptedEvents script({{a.substr(0, 10), a.substr(10) + b.substr(0, 7), b.substr(7) + c}},
                        {true});
  test::FakeDockerDaemon d;
  script.install(d.server());
  d.start();

  Recorder rec;
  DockerEventsOptions options;
  options.socket_path = d.socket();
  options.reconnect_initial = 10ms;
  DockerEvents watcher(options, rec.callbacks());
  watcher.start();
  ASSERT_TRUE(rec.wait([&] { return rec.resyncs.size() == 2; })) << "no reconnection";
  watcher.stop();

  ASSERT_EQ(rec.events.size(), 3u);
  EXPECT_EQ(rec.events[0].action, "start");
  EXPECT_EQ(rec.events[1].action, "die");
  EXPECT_EQ(rec.events[1].exit_code(), 3);
  EXPECT_EQ(rec.events[2].id, "c2");
  EXPECT_EQ(rec.events[2].exit_code(), 137);
  EXPECT_EQ(rec.resyncs, (std::vector<bool>{true, false}));
  EXPECT_EQ(rec.disconnects.size(), 1u);

  auto queries = script.queries();
  ASSERT_GE(queries.size(), 2u);
  EXPECT_EQ(queries[0].count("since"), 0u);
  EXPECT_EQ(queries[1].find("since")->second, "1000.000000790");
  EXPECT_EQ(json::parse(queries[1].find("filters")->second),
            json::parse(R"({"type":["container"],"label":["io.kube-node-agent.managed=true"],)"
                        R"("event":["die","start","destroy","oom"]})"));
}

TEST(DockerEvents, WaitsForADaemonThatIsNotThereYet) {
  test::FakeDockerDaemon d;
  ScriptedEvents script({}, {});
  script.install(d.server());

  Recorder rec;
  DockerEventsOptions options;
  options.socket_path = d.socket();  // nothing listens yet
  options.reconnect_initial = 5ms;
  options.reconnect_cap = 20ms;
  DockerEvents watcher(options, rec.callbacks());
  watcher.start();
  EXPECT_FALSE(watcher.connected());
  d.start();
  ASSERT_TRUE(rec.wait([&] { return !rec.resyncs.empty(); }));
  EXPECT_TRUE(watcher.connected());
  EXPECT_EQ(rec.resyncs, std::vector<bool>{true});
  EXPECT_TRUE(rec.disconnects.empty());  // never connected before: nothing was lost
  watcher.stop();
}

TEST(DockerEvents, StopEndsAnIdleStreamPromptly) {
  test::FakeDockerDaemon d;
  ScriptedEvents script({}, {});
  script.install(d.server());
  d.start();
  Recorder rec;
  DockerEventsOptions options;
  options.socket_path = d.socket();
  DockerEvents watcher(options, rec.callbacks());
  watcher.start();
  ASSERT_TRUE(rec.wait([&] { return !rec.resyncs.empty(); }));
  const auto start = std::chrono::steady_clock::now();
  watcher.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_FALSE(watcher.connected());
  EXPECT_TRUE(rec.disconnects.empty());  // stopping is not a lost daemon
}

}  // namespace
}  // namespace kna
