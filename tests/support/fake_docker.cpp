#include "support/fake_docker.hpp"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

namespace kna::test {

using Kind = DockerError::Kind;

namespace {

std::string normal_ref(std::string ref) {
  for (const char* prefix : {"docker.io/library/", "docker.io/"}) {
    if (ref.rfind(prefix, 0) == 0) {
      ref = ref.substr(std::string(prefix).size());
      break;
    }
  }
  const auto slash = ref.rfind('/');
  const auto colon = ref.rfind(':');
  if (ref.find('@') == std::string::npos &&
      (colon == std::string::npos || (slash != std::string::npos && colon < slash)))
    ref += ":latest";
  return ref;
}

std::string rfc3339(std::int64_t nanos) {
  const time_t seconds = static_cast<time_t>(nanos / 1'000'000'000);
  struct tm tm {};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(nanos % 1'000'000'000));
  return buf;
}

// since=<seconds>.<nanos> of the events query, as nanoseconds; 0 when absent.
std::int64_t since_of(const std::string& query) {
  const auto at = query.find("since=");
  if (at == std::string::npos) return 0;
  long long seconds = 0;
  long long nanos = 0;
  if (std::sscanf(query.c_str() + at + 6, "%lld.%lld", &seconds, &nanos) < 1) return 0;
  return seconds * 1'000'000'000 + nanos;
}

}  // namespace

struct FakeDocker::State {
  struct Event {
    std::int64_t time_nano;
    std::string line;
  };

  std::string socket;
  mutable std::mutex mu;
  std::condition_variable changed;
  std::set<std::string> images;
  std::set<std::string> pullable;
  std::map<std::string, std::vector<std::string>> tarballs;
  std::vector<Container> containers;  // in creation order
  std::vector<Event> events;
  std::vector<std::string> calls;
  std::map<std::string, std::vector<DockerError>> failures;
  bool hold_pulls{false};
  bool hold_loads{false};
  int held_pulls{0};
  int held_loads{0};
  int streams{0};
  bool down{false};
  bool closing{false};
  std::uint64_t last_id{0};
  std::int64_t clock{1'800'000'000'000'000'000};  // nanoseconds; each event or start ticks it

  std::int64_t tick() { return clock += 1'000; }

  Container* find(const std::string& id_or_name) {
    for (auto& c : containers) {
      if (c.id == id_or_name || c.spec.name == id_or_name ||
          (id_or_name.size() >= 12 && c.id.rfind(id_or_name, 0) == 0))
        return &c;
    }
    return nullptr;
  }

  void emit(const Container& c, const std::string& action,
            std::map<std::string, std::string> attributes = {}) {
    for (const auto& [k, v] : c.spec.labels) attributes.emplace(k, v);
    attributes["name"] = c.spec.name;
    attributes["image"] = c.spec.image;
    const std::int64_t t = tick();
    nlohmann::json j{{"Type", "container"},
                     {"Action", action},
                     {"Actor", {{"ID", c.id}, {"Attributes", attributes}}},
                     {"time", t / 1'000'000'000},
                     {"timeNano", t}};
    events.push_back({t, j.dump() + "\n"});
    changed.notify_all();
  }

  ContainerInfo info(const Container& c) const {
    ContainerInfo i;
    i.id = c.id;
    i.name = c.spec.name;
    i.image = c.spec.image;
    i.labels = c.spec.labels;
    i.state.running = c.running;
    i.state.status = c.running ? "running" : (c.started_nano ? "exited" : "created");
    i.state.pid = c.running ? c.pid : 0;
    i.state.exit_code = c.exit_code;
    i.state.started_at = c.started_nano ? rfc3339(c.started_nano) : "0001-01-01T00:00:00Z";
    return i;
  }
};

class FakeDocker::Connection : public Docker {
 public:
  explicit Connection(std::shared_ptr<State> state) : s_(std::move(state)) {}
  ~Connection() override { stop(); }

  const std::string& socket_path() const override { return s_->socket; }

  std::optional<ImageInfo> inspect_image(const std::string& ref) override {
    auto lock = enter("inspect-image", ref);
    if (!s_->images.count(normal_ref(ref))) return std::nullopt;
    return ImageInfo{"sha256:" + normal_ref(ref), {normal_ref(ref)}};
  }

  void pull_image(const std::string& ref,
                  const std::function<void(const PullProgress&)>& on_progress) override {
    auto lock = enter("pull", normal_ref(ref));
    if (s_->hold_pulls) hold(lock, s_->held_pulls, [&] { return !s_->hold_pulls; });
    if (!s_->pullable.count(normal_ref(ref))) {
      throw DockerError(Kind::daemon_error, "pull " + ref + ": manifest unknown",
                        "manifest for " + ref + " not found: manifest unknown");
    }
    lock.unlock();
    if (on_progress) {
      on_progress(PullProgress{"layer1", "Downloading", 50, 100});
      on_progress(PullProgress{"layer1", "Pull complete", 100, 100});
    }
    lock.lock();
    s_->images.insert(normal_ref(ref));
  }

  std::vector<std::string> load_image(const std::string& tar_path) override {
    auto lock = enter("load", tar_path);
    if (s_->hold_loads) hold(lock, s_->held_loads, [&] { return !s_->hold_loads; });
    auto it = s_->tarballs.find(tar_path);
    if (it == s_->tarballs.end()) {
      throw DockerError(Kind::daemon_error, "load " + tar_path + ": not an image tarball",
                        "unexpected EOF", 500);
    }
    for (const auto& image : it->second) s_->images.insert(normal_ref(image));
    return it->second;
  }

  std::string create_container(const ContainerSpec& spec) override {
    auto lock = enter("create", spec.name);
    if (!s_->images.count(normal_ref(spec.image))) {
      throw DockerError(Kind::not_found, "create " + spec.name + ": no such image " + spec.image,
                        "No such image: " + spec.image, 404);
    }
    if (!spec.name.empty() && s_->find(spec.name)) {
      throw DockerError(Kind::conflict, "create " + spec.name + ": the name is in use",
                        "Conflict. The container name is already in use", 409);
    }
    Container c;
    char id[65];
    std::snprintf(id, sizeof id, "%064llx", static_cast<unsigned long long>(++s_->last_id));
    c.id = id;
    c.spec = spec;
    s_->containers.push_back(c);
    return c.id;
  }

  void start_container(const std::string& id) override {
    auto lock = enter("start", id);
    Container& c = existing(id);
    if (c.running) return;
    c.running = true;
    c.pid = 5000 + static_cast<int>(s_->last_id * 10 + static_cast<std::uint64_t>(s_->clock % 7));
    c.exit_code = 0;
    c.started_nano = s_->tick();
    s_->emit(c, "start");
  }

  std::optional<ContainerInfo> inspect_container(const std::string& id_or_name) override {
    auto lock = enter("inspect", id_or_name);
    if (const Container* c = s_->find(id_or_name)) return s_->info(*c);
    return std::nullopt;
  }

  void stop_container(const std::string& id, std::chrono::seconds) override {
    auto lock = enter("stop", id);
    Container& c = existing(id);
    if (!c.running) return;
    c.running = false;
    c.exit_code = 0;  // ended on SIGTERM
    s_->emit(c, "die", {{"exitCode", "0"}});
  }

  void kill_container(const std::string& id, const std::string& signal) override {
    auto lock = enter("kill", id + " " + signal);
    Container& c = existing(id);
    if (!c.running) {
      throw DockerError(Kind::conflict, "kill " + id + ": not running", "is not running", 409);
    }
    c.running = false;
    c.exit_code = 137;
    s_->emit(c, "die", {{"exitCode", "137"}});
  }

  void remove_container(const std::string& id, bool force) override {
    auto lock = enter("remove", id);
    Container& c = existing(id);
    if (c.running && !force) {
      throw DockerError(Kind::conflict, "remove " + id + ": it is running", "stop it first", 409);
    }
    if (c.running) {
      c.running = false;
      c.exit_code = 137;
      s_->emit(c, "die", {{"exitCode", "137"}});
    }
    const Container gone = c;
    std::erase_if(s_->containers, [&](const Container& x) { return x.id == gone.id; });
    s_->emit(gone, "destroy");
  }

  std::vector<ContainerSummary> list_containers(const std::map<std::string, std::string>& labels,
                                                bool all) override {
    auto lock = enter("list", "");
    std::vector<ContainerSummary> out;
    for (const auto& c : s_->containers) {
      if (!all && !c.running) continue;
      bool match = true;
      for (const auto& [k, v] : labels) {
        auto it = c.spec.labels.find(k);
        if (it == c.spec.labels.end() || it->second != v) match = false;
      }
      if (!match) continue;
      out.push_back(ContainerSummary{c.id,
                                     {c.spec.name},
                                     c.spec.image,
                                     c.running ? "running" : "exited",
                                     c.running ? "Up" : "Exited",
                                     c.spec.labels});
    }
    return out;
  }

  void stream_events(const std::string& query, const std::function<void()>& on_open,
                     const std::function<bool(std::string_view)>& on_data) override {
    auto lock = enter("events", "");
    const std::int64_t since = since_of(query);
    std::size_t next = 0;
    if (since > 0) {
      while (next < s_->events.size() && s_->events[next].time_nano < since) ++next;
    } else {
      next = s_->events.size();  // no since=: only what happens from now on
    }
    ++s_->streams;
    s_->changed.notify_all();
    struct Closer {
      State& s;
      ~Closer() {
        --s.streams;
        s.changed.notify_all();
      }
    } closer{*s_};
    lock.unlock();
    if (on_open) on_open();
    lock.lock();
    for (;;) {
      s_->changed.wait(lock.get(), [&] {
        return stopped_ || s_->down || s_->closing || next < s_->events.size();
      });
      if (stopped_ || s_->closing) throw unavailable("the connection was stopped");
      if (s_->down) throw unavailable("the daemon went away");
      const std::string line = s_->events[next++].line;
      lock.unlock();
      const bool more = on_data(line);
      lock.lock();
      if (!more) return;
    }
  }

  void stop() override {
    std::unique_lock lock(s_->mu);
    stopped_ = true;
    s_->changed.notify_all();
    s_->changed.wait(lock, [&] { return in_flight_ == 0; });
  }

  bool stopped() const override {
    std::lock_guard lock(s_->mu);
    return stopped_;
  }

 private:
  // Every call: recorded, counted in flight until its lock goes, failing when scripted to.
  class Call {
   public:
    Call(Connection& c, std::unique_lock<std::mutex> lock) : c_(c), lock_(std::move(lock)) {
      ++c_.in_flight_;
    }
    ~Call() {
      if (!lock_.owns_lock()) lock_.lock();
      --c_.in_flight_;
      c_.s_->changed.notify_all();
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    void lock() { lock_.lock(); }
    void unlock() { lock_.unlock(); }
    std::unique_lock<std::mutex>& get() { return lock_; }

   private:
    Connection& c_;
    std::unique_lock<std::mutex> lock_;
  };

  DockerError unavailable(const std::string& why) const {
    return DockerError(Kind::unavailable, "docker " + s_->socket + ": " + why);
  }

  // Not a reference to a temporary: Call is returned by guaranteed copy elision.
  Call enter(const std::string& op, const std::string& argument) {
    std::unique_lock lock(s_->mu);
    s_->calls.push_back(argument.empty() ? op : op + " " + argument);
    if (stopped_) throw unavailable("docker client was stopped");
    if (s_->down) throw unavailable("cannot connect: the daemon is down");
    if (auto it = s_->failures.find(op); it != s_->failures.end() && !it->second.empty()) {
      DockerError e = it->second.front();
      it->second.erase(it->second.begin());
      throw e;
    }
    return Call(*this, std::move(lock));
  }

  template <class Released>
  void hold(Call& call, int& held, Released released) {
    ++held;
    s_->changed.notify_all();
    s_->changed.wait(call.get(), [&] { return stopped_ || s_->closing || released(); });
    --held;
    if (stopped_ || s_->closing) throw unavailable("the connection was stopped");
  }

  Container& existing(const std::string& id) {
    if (Container* c = s_->find(id)) return *c;
    throw DockerError(Kind::not_found, "no such container: " + id, "No such container: " + id, 404);
  }

  std::shared_ptr<State> s_;
  bool stopped_{false};  // under s_->mu
  int in_flight_{0};     // under s_->mu
};

FakeDocker::FakeDocker(std::string socket) : state_(std::make_shared<State>()) {
  state_->socket = std::move(socket);
}

FakeDocker::~FakeDocker() {
  std::lock_guard lock(state_->mu);
  state_->closing = true;
  state_->changed.notify_all();
}

const std::string& FakeDocker::socket() const {
  return state_->socket;
}

DockerConnector FakeDocker::connector() {
  return [state = state_](const DockerEndpoint&) -> std::shared_ptr<Docker> {
    return std::make_shared<Connection>(state);
  };
}

std::shared_ptr<Docker> FakeDocker::connect() {
  return std::make_shared<Connection>(state_);
}

void FakeDocker::add_image(const std::string& ref) {
  std::lock_guard lock(state_->mu);
  state_->images.insert(normal_ref(ref));
}

bool FakeDocker::has_image(const std::string& ref) const {
  std::lock_guard lock(state_->mu);
  return state_->images.count(normal_ref(ref)) > 0;
}

void FakeDocker::allow_pull(const std::string& ref) {
  std::lock_guard lock(state_->mu);
  state_->pullable.insert(normal_ref(ref));
}

void FakeDocker::set_tarball(const std::string& tar_path, std::vector<std::string> images) {
  std::lock_guard lock(state_->mu);
  state_->tarballs[tar_path] = std::move(images);
}

void FakeDocker::hold_pulls(bool on) {
  std::lock_guard lock(state_->mu);
  state_->hold_pulls = on;
  state_->changed.notify_all();
}

void FakeDocker::hold_loads(bool on) {
  std::lock_guard lock(state_->mu);
  state_->hold_loads = on;
  state_->changed.notify_all();
}

bool FakeDocker::wait_for_held_pulls(int n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->held_pulls >= n; });
}

bool FakeDocker::wait_for_held_loads(int n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->held_loads >= n; });
}

int FakeDocker::held_pulls() const {
  std::lock_guard lock(state_->mu);
  return state_->held_pulls;
}

int FakeDocker::held_loads() const {
  std::lock_guard lock(state_->mu);
  return state_->held_loads;
}

std::string FakeDocker::add_container(const std::string& name, const std::string& image,
                                      std::map<std::string, std::string> labels, bool running) {
  std::lock_guard lock(state_->mu);
  Container c;
  char id[65];
  std::snprintf(id, sizeof id, "%064llx", static_cast<unsigned long long>(++state_->last_id));
  c.id = id;
  c.spec.name = name;
  c.spec.image = image;
  c.spec.labels = std::move(labels);
  c.running = running;
  c.pid = running ? 4000 + static_cast<int>(state_->last_id) : 0;
  c.started_nano = state_->tick();
  state_->images.insert(normal_ref(image));
  state_->containers.push_back(c);
  return c.id;
}

void FakeDocker::exit_container(const std::string& id, int exit_code) {
  std::lock_guard lock(state_->mu);
  Container* c = state_->find(id);
  if (!c || !c->running) return;
  c->running = false;
  c->exit_code = exit_code;
  state_->emit(*c, "die", {{"exitCode", std::to_string(exit_code)}});
}

std::vector<FakeDocker::Container> FakeDocker::containers() const {
  std::lock_guard lock(state_->mu);
  return state_->containers;
}

std::optional<FakeDocker::Container> FakeDocker::container(const std::string& id) const {
  std::lock_guard lock(state_->mu);
  if (const Container* c = state_->find(id)) return *c;
  return std::nullopt;
}

std::size_t FakeDocker::running_count() const {
  std::lock_guard lock(state_->mu);
  return static_cast<std::size_t>(std::count_if(state_->containers.begin(),
                                                state_->containers.end(),
                                                [](const Container& c) { return c.running; }));
}

void FakeDocker::set_down(bool down) {
  std::lock_guard lock(state_->mu);
  state_->down = down;
  state_->changed.notify_all();
}

void FakeDocker::fail_next(const std::string& op, DockerError error) {
  std::lock_guard lock(state_->mu);
  state_->failures[op].push_back(std::move(error));
}

std::vector<std::string> FakeDocker::calls() const {
  std::lock_guard lock(state_->mu);
  return state_->calls;
}

std::size_t FakeDocker::count(const std::string& op) const {
  std::lock_guard lock(state_->mu);
  return static_cast<std::size_t>(
      std::count_if(state_->calls.begin(), state_->calls.end(),
                    [&](const std::string& c) { return c == op || c.rfind(op + " ", 0) == 0; }));
}

int FakeDocker::streams() const {
  std::lock_guard lock(state_->mu);
  return state_->streams;
}

bool FakeDocker::wait_for_streams(int n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  return state_->changed.wait_for(lock, timeout, [&] { return state_->streams >= n; });
}

}  // namespace kna::test
