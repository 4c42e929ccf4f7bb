#include "api/http.hpp"

#include <gtest/gtest.h>

#include "api/peer.hpp"
#include "api/stage_logs.hpp"

namespace kna::api {
namespace {

TEST(HttpParse, ReadsMethodPathQueryAndHeaders) {
  auto r = parse_request_head(
      "GET /v1/stages/kube%2Dproxy/logs?tail=5&follow=1&x=a+b HTTP/1.1\r\n"
      "Host: localhost\r\nX-Thing:  spaced value \r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().method, "GET");
  EXPECT_EQ(r.value().path, "/v1/stages/kube-proxy/logs");
  EXPECT_EQ(r.value().param("tail"), "5");
  EXPECT_EQ(r.value().param("follow"), "1");
  EXPECT_EQ(r.value().param("x"), "a b");
  EXPECT_EQ(r.value().param("missing"), std::nullopt);
  EXPECT_EQ(r.value().header("x-thing"), "spaced value");
  EXPECT_EQ(r.value().header("host"), "localhost");
}

TEST(HttpParse, AcceptsBareLineFeeds) {
  auto r = parse_request_head("POST /v1/stages/etcd/restart HTTP/1.0\nContent-Length: 12\n\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().method, "POST");
  EXPECT_EQ(r.value().content_length, 12u);
}

TEST(HttpParse, RefusesWhatIsNotARequest) {
  struct Case {
    const char* head;
    const char* says;
  };
  for (const Case& c : {
           Case{"", "request line"},
           Case{"GET /\r\n\r\n", "request line"},
           Case{"GET / HTTP/2\r\n\r\n", "HTTP/1.0 and HTTP/1.1"},
           Case{"GET  / HTTP/1.1\r\n\r\n", "request line"},
           Case{"G(T / HTTP/1.1\r\n\r\n", "method"},
           Case{"GET status HTTP/1.1\r\n\r\n", "starting with /"},
           Case{"GET /a%zz HTTP/1.1\r\n\r\n", "percent escape"},
           Case{"GET /a%4 HTTP/1.1\r\n\r\n", "percent escape"},
           Case{"GET /a%00b HTTP/1.1\r\n\r\n", "NUL"},
           Case{"GET / HTTP/1.1\r\nno colon\r\n\r\n", "Name: value"},
           Case{"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "folded"},
           Case{"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "not a number"},
           Case{"GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                "not a number"},
           Case{"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "two"},
           Case{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "chunked"},
       }) {
    auto r = parse_request_head(c.head);
    ASSERT_FALSE(r.ok()) << c.head;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos)
        << c.head << " → " << r.error().message;
  }
  EXPECT_FALSE(
      parse_request_head("GET /" + std::string(kMaxRequestHead, 'a') + " HTTP/1.1\r\n\r\n").ok());
}

TEST(HttpParse, FindsTheEndOfTheHead) {
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nA: b\r\n"), std::nullopt);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\n\r\nbody"), 18u);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\n\nbody"), 16u);
}

TEST(HttpSerialize, WritesStatusLengthAndExtraHeaders) {
  auto r = text_response(405, "use POST here");
  r.headers.emplace_back("Allow", "POST");
  EXPECT_EQ(serialize(r),
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 14\r\nAllow: POST\r\nConnection: close\r\n\r\nuse POST here\n");
}

TEST(PeerGroups, ParsesTheGroupsLine) {
  EXPECT_EQ(parse_status_groups("Name:\tx\nUid:\t0\nGroups:\t4 27 1000 \nNgid:\t0\n"),
            (std::vector<gid_t>{4, 27, 1000}));
  EXPECT_EQ(parse_status_groups("Groups:\t\n"), std::vector<gid_t>{});
  EXPECT_EQ(parse_status_groups("Groups:\t4 x 5\n"), std::vector<gid_t>{});
  EXPECT_EQ(parse_status_groups("Name:\tGroups: 7\n"), std::vector<gid_t>{});
}

TEST(PeerPolicy, RootTheOwnerAndTheGroupMayTheOthersMayNot) {
  const AccessPolicy policy{1000, gid_t{900}, "kube-node-agent"};
  auto peer = [](uid_t uid, gid_t gid, std::vector<gid_t> groups) {
    Peer p;
    p.known = true;
    p.pid = 42;
    p.uid = uid;
    p.gid = gid;
    p.groups = std::move(groups);
    return p;
  };
  EXPECT_EQ(refusal(peer(0, 0, {}), policy), std::nullopt);
  EXPECT_EQ(refusal(peer(1000, 1000, {}), policy), std::nullopt) << "the agent's own user";
  EXPECT_EQ(refusal(peer(2000, 900, {}), policy), std::nullopt) << "primary group";
  EXPECT_EQ(refusal(peer(2000, 2000, {5, 900}), policy), std::nullopt) << "supplementary group";
  auto no = refusal(peer(2000, 2000, {5}), policy);
  ASSERT_TRUE(no.has_value());
  EXPECT_NE(no->find("uid 2000 is neither root nor in the group kube-node-agent"),
            std::string::npos)
      << *no;
  auto no_group = refusal(peer(2000, 900, {}), AccessPolicy{0, std::nullopt, ""});
  ASSERT_TRUE(no_group.has_value());
  EXPECT_NE(no_group->find("api.socket_group"), std::string::npos) << *no_group;
  EXPECT_TRUE(refusal(Peer{}, policy).has_value()) << "an unknown peer is refused";
}

TEST(StageLogs, LastLines) {
  EXPECT_EQ(last_lines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(last_lines("a\nb\nc", 2), "b\nc");
  EXPECT_EQ(last_lines("a\nb\n", 5), "a\nb\n");
  EXPECT_EQ(last_lines("a\nb\n", 0), "");
  EXPECT_EQ(last_lines("", 3), "");
}

TEST(StageLogs, DemuxesFramesSplitAnywhere) {
  const std::string framed = std::string("\x01\0\0\0\0\0\0\x06", 8) + "hello\n" +
                             std::string("\x02\0\0\0\0\0\0\x04", 8) + "err\n";
  for (std::size_t cut = 0; cut <= framed.size(); ++cut) {
    LogDemuxer d;
    std::string out;
    d.feed(std::string_view(framed).substr(0, cut), out);
    d.feed(std::string_view(framed).substr(cut), out);
    EXPECT_EQ(out, "hello\nerr\n") << "cut at " << cut;
  }
  LogDemuxer tty;
  std::string out;
  tty.feed("plain text from a TTY\n", out);
  EXPECT_EQ(out, "plain text from a TTY\n");
}

}  // namespace
}  // namespace kna::api
