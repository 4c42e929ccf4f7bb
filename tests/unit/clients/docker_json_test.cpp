#include "clients/docker_json.hpp"

#include <gtest/gtest.h>

namespace kna::docker {
namespace {

using nlohmann::json;

ContainerSpec flanneld_like() {
  ContainerSpec c;
  c.docker_socket = "/var/run/docker-bootstrap.sock";
  c.name = "kube_flannel_3f2a1";
  c.image = "quay.io/coreos/flannel:0.5.5-amd64";
  c.entrypoint = {"/opt/bin/flanneld"};
  c.cmd = {"--etcd-endpoints=http://10.0.0.1:2379", "--ip-masq=true"};
  c.network_mode = "host";
  c.pid_mode = "host";
  c.privileged = true;
  c.mounts = {Mount{"/dev/net", "/dev/net", false, ""},
              Mount{"/run/flannel", "/run/flannel", false, "rshared"},
              Mount{"/etc/ssl", "/etc/ssl", true, ""},
              Mount{"/var/lib/kubelet", "/var/lib/kubelet", true, "rslave"}};
  c.devices = {"/dev/net/tun"};
  c.restart_policy = "unless-stopped";
  c.labels = {{"io.kube-node-agent.managed", "true"}, {"io.kube-node-agent.stage", "flannel"}};
  c.env = {{"B", "2"}, {"A", "1=one"}};
  return c;
}

TEST(DockerJson, CreateBodyCarriesTheWholeContainerSpec) {
  const json expected = json::parse(R"({
    "Image": "quay.io/coreos/flannel:0.5.5-amd64",
    "Entrypoint": ["/opt/bin/flanneld"],
    "Cmd": ["--etcd-endpoints=http://10.0.0.1:2379", "--ip-masq=true"],
    "Env": ["A=1=one", "B=2"],
    "Labels": {"io.kube-node-agent.managed": "true", "io.kube-node-agent.stage": "flannel"},
    "HostConfig": {
      "NetworkMode": "host",
      "PidMode": "host",
      "Privileged": true,
      "Binds": ["/dev/net:/dev/net", "/run/flannel:/run/flannel:rshared", "/etc/ssl:/etc/ssl:ro",
                "/var/lib/kubelet:/var/lib/kubelet:ro,rslave"],
      "Devices": [{"PathOnHost": "/dev/net/tun", "PathInContainer": "/dev/net/tun",
                   "CgroupPermissions": "rwm"}],
      "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0}
    }
  })");
  EXPECT_EQ(create_body(flanneld_like()), expected) << create_body(flanneld_like()).dump(2);
}

TEST(DockerJson, CreateBodyLeavesOutWhatTheSpecDoesNotSet) {
  ContainerSpec c;
  c.image = "busybox";
  const json expected = json::parse(R"({
    "Image": "busybox", "Labels": {}, "HostConfig": {"Privileged": false}
  })");
  EXPECT_EQ(create_body(c), expected) << create_body(c).dump();
}

TEST(DockerJson, FiltersAreJsonThenUrlEncoded) {
  EXPECT_EQ(
      label_filters({{"io.kube-node-agent.managed", "true"}, {"io.kube-node-agent.stage", "etcd"}}),
      "%7B%22label%22%3A%5B%22io.kube-node-agent.managed%3Dtrue%22%2C%22io.kube-node-"
      "agent.stage%3Detcd%22%5D%7D");
  EXPECT_EQ(label_filters({}), "");
  EXPECT_EQ(encode_filters({{"type", {"container"}}, {"event", {"die", "oom"}}}),
            url_encode(R"({"event":["die","oom"],"type":["container"]})"));
}

TEST(DockerJson, UrlEncodeKeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(url_encode("aZ09-_.~"), "aZ09-_.~");
  EXPECT_EQ(url_encode("a b/c:d&e=f?%"), "a%20b%2Fc%3Ad%26e%3Df%3F%25");
  EXPECT_EQ(url_encode("\xC3\xA9"), "%C3%A9");
}

TEST(DockerJson, ApiVersionIsTheLowerOfOursAndTheDaemons) {
  EXPECT_EQ(negotiate_api_version("1.41"), "1.41");
  EXPECT_EQ(negotiate_api_version("1.43"), "1.41");
  EXPECT_EQ(negotiate_api_version("1.40"), "1.40");
  EXPECT_EQ(negotiate_api_version("1.9", "1.41"), "1.9");  // numeric, not text, comparison
  EXPECT_EQ(negotiate_api_version("2.0", "1.41"), "1.41");
  EXPECT_EQ(negotiate_api_version("", "1.41"), "1.41");
  EXPECT_EQ(negotiate_api_version("garbage", "1.41"), "1.41");
}

TEST(DockerJson, ImageReferencesSplitIntoNameAndTag) {
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(split_image_ref("gcr.io/google_containers/etcd-amd64:2.2.5"),
            P("gcr.io/google_containers/etcd-amd64", "2.2.5"));
  EXPECT_EQ(split_image_ref("busybox"), P("busybox", "latest"));
  EXPECT_EQ(split_image_ref("localhost:5000/flannel"), P("localhost:5000/flannel", "latest"));
  EXPECT_EQ(split_image_ref("localhost:5000/flannel:v1"), P("localhost:5000/flannel", "v1"));
  EXPECT_EQ(split_image_ref("busybox@sha256:abc"), P("busybox@sha256:abc", ""));
}

TEST(DockerJson, ErrorsAreTypedByStatusAndCarryTheDaemonsMessage) {
  auto e = error_from_response(404, R"({"message":"No such container: x"})", "inspect container x");
  EXPECT_EQ(e.kind(), DockerError::Kind::not_found);
  EXPECT_EQ(e.daemon_message(), "No such container: x");
  EXPECT_EQ(e.http_status(), 404);
  EXPECT_STREQ(e.what(), "inspect container x: No such container: x");

  EXPECT_EQ(error_from_response(409, R"({"message":"name in use"})", "c").kind(),
            DockerError::Kind::conflict);
  auto e500 = error_from_response(500, R"({"message":"boom"})", "c");
  EXPECT_EQ(e500.kind(), DockerError::Kind::daemon_error);
  EXPECT_EQ(e500.daemon_message(), "boom");
  auto e400 = error_from_response(400, "bad parameter\n", "c");
  EXPECT_EQ(e400.kind(), DockerError::Kind::daemon_error);
  EXPECT_EQ(e400.daemon_message(), "bad parameter");
  EXPECT_EQ(error_from_response(502, "", "c").daemon_message(), "HTTP status 502");
}

TEST(DockerJson, StreamErrorsAreFoundInProgressLines) {
  EXPECT_EQ(stream_error(json::parse(R"({"errorDetail":{"message":"denied"},"error":"x"})")),
            "denied");
  EXPECT_EQ(stream_error(json::parse(R"({"error":"only this"})")), "only this");
  EXPECT_EQ(stream_error(json::parse(R"({"status":"Downloading"})")), std::nullopt);
}

TEST(DockerJson, InspectAnswerParsesIntoContainerInfo) {
  auto j = json::parse(R"({
    "Id": "3f2a1c9b0d12aaaa", "Name": "/kube_etcd_1",
    "Config": {"Image": "etcd:3", "Labels": {"a": "b"}},
    "State": {"Status": "exited", "Running": false, "Pid": 0, "ExitCode": 137, "OOMKilled": true,
              "Error": "", "StartedAt": "2024-01-01T00:00:00Z", "FinishedAt": "2024-01-01T00:01:00Z"}
  })");
  auto c = parse_container(j);
  EXPECT_EQ(c.id, "3f2a1c9b0d12aaaa");
  EXPECT_EQ(c.name, "kube_etcd_1");
  EXPECT_EQ(c.image, "etcd:3");
  EXPECT_EQ(c.labels.at("a"), "b");
  EXPECT_EQ(c.state.status, "exited");
  EXPECT_FALSE(c.state.running);
  EXPECT_EQ(c.state.exit_code, 137);
  EXPECT_TRUE(c.state.oom_killed);
  EXPECT_EQ(c.state.finished_at, "2024-01-01T00:01:00Z");
}

TEST(DockerJson, NullLabelsParseAsEmpty) {
  auto c = parse_container(
      json::parse(R"({"Id":"x","Config":{"Labels":null},"State":{"Running":true,"Pid":42}})"));
  EXPECT_TRUE(c.labels.empty());
  EXPECT_TRUE(c.state.running);
  EXPECT_EQ(c.state.pid, 42);
  auto s = parse_container_summary(
      json::parse(R"({"Id":"y","Names":["/a"],"Labels":null,"State":"running"})"));
  EXPECT_EQ(s.names, std::vector<std::string>{"a"});
  EXPECT_TRUE(s.labels.empty());
  EXPECT_THROW(parse_container(json::parse(R"({"Name":"/x"})")), DockerError);
}

TEST(DockerJson, PullProgressReadsLayerCounts) {
  auto p = parse_pull_progress(json::parse(
      R"({"status":"Downloading","progressDetail":{"current":50,"total":200},"id":"a1b2"})"));
  EXPECT_EQ(p.id, "a1b2");
  EXPECT_EQ(p.status, "Downloading");
  EXPECT_EQ(p.current, 50);
  EXPECT_EQ(p.total, 200);
}

// A layer past 4 GiB: its sizes must not pass through a 32-bit size_t or long (armhf).
TEST(DockerJson, PullProgressKeepsLayerSizesPastFourGiB) {
  auto p = parse_pull_progress(json::parse(
      R"({"status":"Downloading","progressDetail":{"current":4294967297,"total":6442450944},)"
      R"("id":"big"})"));
  EXPECT_EQ(p.current, std::int64_t{4294967297});
  EXPECT_EQ(p.total, std::int64_t{6442450944});
}

TEST(DockerJson, EventLineParsesActorAttributesAndExitCode) {
  auto e = parse_event(
      R"({"status":"die","id":"c78f","Type":"container","Action":"die","Actor":{"ID":"c78f",)"
      R"("Attributes":{"exitCode":"137","io.kube-node-agent.managed":"true","name":"t1"}},)"
      R"("scope":"local","time":1795385889,"timeNano":1795385889275662488})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, "container");
  EXPECT_EQ(e->action, "die");
  EXPECT_EQ(e->id, "c78f");
  EXPECT_EQ(e->attributes.at("name"), "t1");
  EXPECT_EQ(e->exit_code(), 137);
  EXPECT_EQ(e->time_nano, 1795385889275662488);
  EXPECT_FALSE(parse_event("not json"));
  auto start = parse_event(R"({"Type":"container","Action":"start","Actor":{"ID":"x"},"time":5})");
  ASSERT_TRUE(start);
  EXPECT_EQ(start->exit_code(), std::nullopt);
  EXPECT_EQ(start->time_nano, 5'000'000'000);
}

TEST(DockerJson, LineSplitterJoinsSplitLinesAndSeparatesSeveral) {
  LineSplitter s;
  EXPECT_TRUE(s.feed(R"({"a":)").empty());
  EXPECT_EQ(s.pending(), R"({"a":)");
  EXPECT_EQ(s.feed("1}\n{\"b\":2}\n{\"c\""),
            (std::vector<std::string>{R"({"a":1})", R"({"b":2})"}));
  EXPECT_EQ(s.feed(":3}\r\n\n"), std::vector<std::string>{R"({"c":3})"});
  EXPECT_EQ(s.pending(), "");
  EXPECT_EQ(s.feed("x"), std::vector<std::string>{});
  EXPECT_EQ(s.feed("\n"), std::vector<std::string>{"x"});
}

TEST(DockerJson, LineSplitterRejectsAnEndlessLine) {
  LineSplitter s;
  std::string big(LineSplitter::max_line + 1, 'x');
  EXPECT_THROW(s.feed(big), DockerError);
}

TEST(DockerJson, DaemonTimesParseToEpochNanoseconds) {
  // The die event of the same moment carries timeNano 1795385889275662488.
  EXPECT_EQ(parse_rfc3339_nanos("2026-11-22T22:18:09.275662488Z"), 1795385889275662488);
  EXPECT_EQ(parse_rfc3339_nanos("1970-01-01T00:00:01Z"), 1'000'000'000);
  EXPECT_EQ(parse_rfc3339_nanos("1970-01-01T00:00:00.5Z"), 500'000'000);
  EXPECT_EQ(parse_rfc3339_nanos("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(parse_rfc3339_nanos("2000-02-29T00:00:00Z"), 951782400LL * 1'000'000'000);
  EXPECT_EQ(parse_rfc3339_nanos("0001-01-01T00:00:00Z"), std::nullopt);  // never started
  EXPECT_EQ(parse_rfc3339_nanos(""), std::nullopt);
  EXPECT_EQ(parse_rfc3339_nanos("2024-01-01 00:00:00"), std::nullopt);
  EXPECT_EQ(parse_rfc3339_nanos("2024-01-01T00:00:00Zjunk"), std::nullopt);
}

TEST(DockerJson, LogsAreDemultiplexedFromTheirFrames) {
  std::string raw;
  auto frame = [&](char stream, const std::string& text) {
    raw.push_back(stream);
    raw.append(3, '\0');
    const auto n = static_cast<uint32_t>(text.size());
    raw.push_back(static_cast<char>((n >> 24) & 0xff));
    raw.push_back(static_cast<char>((n >> 16) & 0xff));
    raw.push_back(static_cast<char>((n >> 8) & 0xff));
    raw.push_back(static_cast<char>(n & 0xff));
    raw += text;
  };
  frame(1, "out line\n");
  frame(2, "err line\n");
  EXPECT_EQ(demux_logs(raw), "out line\nerr line\n");
  EXPECT_EQ(demux_logs("plain tty text\n"), "plain tty text\n");
}

}  // namespace
}  // namespace kna::docker
