// rbac.authorization.k8s.io/v1 on the kube-apiserver stand-in's secure port: ClusterRoles,
// ClusterRoleBindings, Roles and RoleBindings stored in etcd under the real keys, served with the
// real verbs, validation, Status bodies and discovery, written only by system:masters, and never
// evaluated (the fixed authorizer keeps deciding). With the real kubectl as kubeadm's objects are
// made when it is installed.

#include "apiserver_tls_harness.hpp"

namespace kna::test::apiserver_tls {
namespace {

constexpr const char* kRbac = "/apis/rbac.authorization.k8s.io/v1";

class ApiserverRbacTest : public ApiserverTlsTest {};

json cluster_role_binding(const std::string& name, const std::string& role, const json& subjects) {
  return json{
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "ClusterRoleBinding"},
      {"metadata", {{"name", name}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role}}},
      {"subjects", subjects}};
}

json group_subject(const std::string& group) {
  return json{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Group"}, {"name", group}};
}

// What a kubectl run ended with and said.
struct KubectlRun {
  std::string exit;  // exit_description()
  std::string output;
};

TEST_F(ApiserverRbacTest, ClusterRoleBindingsAreStoredUnderTheRealKeyWithTheRealErrors) {
  start();
  const std::string path = std::string(kRbac) + "/clusterrolebindings";
  // kubeadm's names have colons: path segments, not DNS subdomains.
  const auto binding =
      cluster_role_binding("kubeadm:kubelet-bootstrap", "system:node-bootstrapper",
                           json::array({group_subject("system:bootstrappers:kubeadm")}));
  const auto created = call("POST", path, admin(), binding);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.object["kind"], "ClusterRoleBinding");
  EXPECT_EQ(created.object["apiVersion"], "rbac.authorization.k8s.io/v1");
  EXPECT_FALSE(created.object["metadata"].contains("namespace")) << created.body;
  EXPECT_FALSE(created.object["metadata"].value("uid", "").empty()) << created.body;
  auto stored =
      etcd_->client(EtcdApi::v3).get("/registry/clusterrolebindings/kubeadm:kubelet-bootstrap");
  ASSERT_TRUE(stored.ok() && stored.value()) << "not in etcd";
  EXPECT_EQ(json::parse(stored.value()->value)["roleRef"]["name"], "system:node-bootstrapper");

  // The real 409, body and all.
  const auto again = call("POST", path, admin(), binding);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(again.object, json({{"kind", "Status"},
                                {"apiVersion", "v1"},
                                {"metadata", json::object()},
                                {"status", "Failure"},
                                {"message",
                                 "clusterrolebindings.rbac.authorization.k8s.io "
                                 "\"kubeadm:kubelet-bootstrap\" already exists"},
                                {"reason", "AlreadyExists"},
                                {"details",
                                 {{"name", "kubeadm:kubelet-bootstrap"},
                                  {"group", "rbac.authorization.k8s.io"},
                                  {"kind", "clusterrolebindings"}}},
                                {"code", 409}}))
      << again.body;

  const auto item = path + "/kubeadm:kubelet-bootstrap";
  const auto got = call("GET", item, admin());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.object["subjects"][0]["name"], "system:bootstrappers:kubeadm");
  auto changed = got.object;
  changed["subjects"].push_back(group_subject("system:nodes"));
  const auto replaced = call("PUT", item, admin(), changed);
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.object["subjects"].size(), 2U) << replaced.body;
  EXPECT_EQ(replaced.object["metadata"]["uid"], created.object["metadata"]["uid"]);
  auto other_role = replaced.object;
  other_role["roleRef"]["name"] = "cluster-admin";
  const auto refused = call("PUT", item, admin(), other_role);
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.object["reason"], "Invalid") << refused.body;
  EXPECT_EQ(refused.object["message"],
            "ClusterRoleBinding.rbac.authorization.k8s.io \"kubeadm:kubelet-bootstrap\" is "
            "invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", "
            "Kind:\"ClusterRole\", Name:\"cluster-admin\"}: cannot change roleRef")
      << refused.body;

  // A ClusterRoleBinding binds ClusterRoles only, and names its role.
  auto to_role = cluster_role_binding("to-role", "x", json::array());
  to_role["roleRef"]["kind"] = "Role";
  to_role["roleRef"].erase("name");
  const auto invalid = call("POST", path, admin(), to_role);
  EXPECT_EQ(invalid.status, 422) << invalid.body;
  EXPECT_EQ(invalid.object["message"],
            "ClusterRoleBinding.rbac.authorization.k8s.io \"to-role\" is invalid: [roleRef.kind: "
            "Unsupported value: \"Role\": supported values: \"ClusterRole\", roleRef.name: "
            "Required value]")
      << invalid.body;
  EXPECT_EQ(call("POST", path, admin(), cluster_role_binding("a%b", "x", json::array()))
                .object["message"],
            "ClusterRoleBinding.rbac.authorization.k8s.io \"a%b\" is invalid: metadata.name: "
            "Invalid value: \"a%b\": may not contain '%'");

  const auto list = call("GET", path, admin());
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.object["kind"], "ClusterRoleBindingList") << list.body;
  ASSERT_EQ(list.object["items"].size(), 1U) << list.body;
  EXPECT_EQ(call("DELETE", item, admin()).status, 200);
  const auto gone = call("GET", item, admin());
  EXPECT_EQ(gone.status, 404) << gone.body;
  EXPECT_EQ(
      gone.object["message"],
      "clusterrolebindings.rbac.authorization.k8s.io \"kubeadm:kubelet-bootstrap\" not found");
}

TEST_F(ApiserverRbacTest, RolesAndRoleBindingsAreNamespacedAndClusterRolesAreNot) {
  start();
  const json role{{"apiVersion", "rbac.authorization.k8s.io/v1"},
                  {"kind", "Role"},
                  {"metadata", {{"name", "kubeadm:bootstrap-signer-clusterinfo"}}},
                  {"rules",
                   {{{"apiGroups", {""}},
                     {"resources", {"configmaps"}},
                     {"resourceNames", {"cluster-info"}},
                     {"verbs", {"get"}}}}}};
  const std::string roles = std::string(kRbac) + "/namespaces/kube-public/roles";
  const auto created = call("POST", roles, admin(), role);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.object["metadata"]["namespace"], "kube-public");
  auto stored = etcd_->client(EtcdApi::v3)
                    .get("/registry/roles/kube-public/kubeadm:bootstrap-signer-clusterinfo");
  ASSERT_TRUE(stored.ok() && stored.value()) << "not in etcd";
  EXPECT_EQ(json::parse(stored.value()->value)["rules"], role["rules"]);
  EXPECT_EQ(call("POST", std::string(kRbac) + "/namespaces/elsewhere/roles", admin(), role)
                .object["message"],
            "namespaces \"elsewhere\" not found");
  const auto everywhere = call("GET", std::string(kRbac) + "/roles", admin());
  ASSERT_EQ(everywhere.status, 200) << everywhere.body;
  EXPECT_EQ(everywhere.object["kind"], "RoleList");
  EXPECT_EQ(everywhere.object["items"].size(), 1U) << everywhere.body;
  EXPECT_EQ(call("GET", std::string(kRbac) + "/namespaces/kube-system/roles", admin())
                .object["items"]
                .size(),
            0U);

  json binding{{"apiVersion", "rbac.authorization.k8s.io/v1"},
               {"kind", "RoleBinding"},
               {"metadata", {{"name", "kubeadm:bootstrap-signer-clusterinfo"}}},
               {"roleRef",
                {{"apiGroup", "rbac.authorization.k8s.io"},
                 {"kind", "Role"},
                 {"name", "kubeadm:bootstrap-signer-clusterinfo"}}},
               {"subjects",
                {{{"apiGroup", "rbac.authorization.k8s.io"},
                  {"kind", "User"},
                  {"name", "system:anonymous"}}}}};
  const std::string bindings = std::string(kRbac) + "/namespaces/kube-public/rolebindings";
  ASSERT_EQ(call("POST", bindings, admin(), binding).status, 201);
  EXPECT_EQ(call("GET", bindings + "/kubeadm:bootstrap-signer-clusterinfo", admin())
                .object["subjects"][0]["name"],
            "system:anonymous");
  binding["metadata"]["name"] = "bad-subject";
  binding["subjects"][0]["kind"] = "Robot";
  EXPECT_EQ(call("POST", bindings, admin(), binding).object["message"],
            "RoleBinding.rbac.authorization.k8s.io \"bad-subject\" is invalid: subjects[0].kind: "
            "Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", "
            "\"Group\"");

  const json cluster_role{
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "ClusterRole"},
      {"metadata", {{"name", "kubeadm:get-nodes"}, {"namespace", "ignored"}}},
      {"rules", {{{"apiGroups", {""}}, {"resources", {"nodes"}}, {"verbs", {"get"}}}}}};
  const auto made = call("POST", std::string(kRbac) + "/clusterroles", admin(), cluster_role);
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_FALSE(made.object["metadata"].contains("namespace")) << made.body;
  auto key = etcd_->client(EtcdApi::v3).get("/registry/clusterroles/kubeadm:get-nodes");
  EXPECT_TRUE(key.ok() && key.value()) << "not in etcd";
  EXPECT_EQ(call("DELETE", std::string(kRbac) + "/clusterroles/kubeadm:get-nodes", admin()).status,
            200);
  EXPECT_EQ(call("GET", std::string(kRbac) + "/clusterroles/kubeadm:get-nodes", admin()).status,
            404);
}

TEST_F(ApiserverRbacTest, DiscoveryListsTheRbacGroupAndItsFourResources) {
  start();
  const auto groups = call("GET", "/apis", admin());
  ASSERT_EQ(groups.status, 200) << groups.body;
  std::vector<std::string> names;
  for (const auto& group : groups.object["groups"]) names.push_back(group["name"]);
  EXPECT_EQ(names, std::vector<std::string>({"certificates.k8s.io", "rbac.authorization.k8s.io"}));
  const auto group = call("GET", "/apis/rbac.authorization.k8s.io", admin());
  EXPECT_EQ(group.object["preferredVersion"]["groupVersion"], "rbac.authorization.k8s.io/v1")
      << group.body;
  const auto resources = call("GET", kRbac, admin());
  ASSERT_EQ(resources.status, 200) << resources.body;
  EXPECT_EQ(resources.object["groupVersion"], "rbac.authorization.k8s.io/v1");
  std::map<std::string, bool> namespaced;
  for (const auto& r : resources.object["resources"]) namespaced[r["name"]] = r["namespaced"];
  EXPECT_EQ(namespaced, (std::map<std::string, bool>{{"clusterrolebindings", false},
                                                     {"clusterroles", false},
                                                     {"rolebindings", true},
                                                     {"roles", true}}));
}

// Only system:masters write RBAC objects, and what they write changes nobody's rights.
TEST_F(ApiserverRbacTest, OnlyMastersWriteRbacObjectsAndTheyGrantNothing) {
  start();
  create_bootstrap_token("abcdef", "0123456789abcdef");
  const std::string path = std::string(kRbac) + "/clusterrolebindings";
  const auto binding = cluster_role_binding("nodes-are-admins", "cluster-admin",
                                            json::array({group_subject("system:nodes")}));
  expect_forbidden(call("POST", path, {kStaticNodeToken, "", ""}, binding),
                   "clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "
                   "\"system:node:static-node\" cannot create resource \"clusterrolebindings\" in "
                   "API group \"rbac.authorization.k8s.io\" at the cluster scope");
  expect_forbidden(call("POST", path, {"abcdef.0123456789abcdef", "", ""}, binding),
                   "clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "
                   "\"system:bootstrap:abcdef\" cannot create resource \"clusterrolebindings\" in "
                   "API group \"rbac.authorization.k8s.io\" at the cluster scope");
  expect_forbidden(
      call("POST", std::string(kRbac) + "/namespaces/kube-public/roles", {}, json::object()),
      "roles.rbac.authorization.k8s.io is forbidden: User \"system:anonymous\" cannot create "
      "resource \"roles\" in API group \"rbac.authorization.k8s.io\" in the namespace "
      "\"kube-public\"");
  expect_forbidden(call("GET", path, {kStaticNodeToken, "", ""}),
                   "clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "
                   "\"system:node:static-node\" cannot list resource \"clusterrolebindings\" in "
                   "API group \"rbac.authorization.k8s.io\" at the cluster scope");

  ASSERT_EQ(call("POST", path, admin(), binding).status, 201);
  // Stored, not evaluated: the nodes are no admins for it.
  expect_forbidden(
      call("GET", "/api/v1/namespaces/kube-system/secrets", {kStaticNodeToken, "", ""}),
      "secrets is forbidden: User \"system:node:static-node\" cannot list resource "
      "\"secrets\" in API group \"\" in the namespace \"kube-system\"");
  expect_forbidden(call("DELETE", path + "/nodes-are-admins", {kStaticNodeToken, "", ""}),
                   "clusterrolebindings.rbac.authorization.k8s.io \"nodes-are-admins\" is "
                   "forbidden: User \"system:node:static-node\" cannot delete resource "
                   "\"clusterrolebindings\" in API group \"rbac.authorization.k8s.io\" at the "
                   "cluster scope");
  EXPECT_EQ(call("GET", path + "/nodes-are-admins", admin()).status, 200);
}

// Protobuf, as client-go's typed clients may send it (kubectl create rolebinding does).
std::string varint(std::uint64_t value) {
  std::string out;
  do {
    out += static_cast<char>((value & 0x7f) | (value > 0x7f ? 0x80 : 0));
    value >>= 7;
  } while (value != 0);
  return out;
}

std::string field(int number, const std::string& bytes) {
  return varint(static_cast<std::uint64_t>(number) << 3 | 2) + varint(bytes.size()) + bytes;
}

// "k8s\0" and runtime.Unknown around `raw`.
std::string envelope(const std::string& kind, const std::string& api_version,
                     const std::string& raw) {
  return std::string("k8s\0", 4) + field(1, field(1, api_version) + field(2, kind)) +
         field(2, raw) + field(3, "") + field(4, "");
}

// ObjectMeta as Go's generated code writes it: every string, generation 0 and an empty
// creationTimestamp, `extra` fields after.
std::string object_meta(const std::string& name, const std::string& extra = "") {
  std::string meta;
  for (int number : {1, 2, 3, 4, 5, 6}) meta += field(number, number == 1 ? name : "");
  return meta + varint(7 << 3) + varint(0) + field(8, "") + extra;
}

TEST_F(ApiserverRbacTest, ProtobufBodiesOfRbacObjectsAreDecodedAndOthersRefused) {
  start();
  const auto post = [&](const std::string& path, const std::string& body) {
    httplib::SSLClient client("127.0.0.1", port_, pki("admin.crt"), pki("admin.key"));
    client.set_ca_cert_path(pki("ca.crt").c_str());
    client.enable_server_certificate_verification(true);
    const auto result = client.Post(
        path.c_str(), {{"Accept", "application/vnd.kubernetes.protobuf,application/json"}}, body,
        "application/vnd.kubernetes.protobuf");
    if (!result) return Answer{0, "request failed: " + httplib::to_string(result.error()), {}};
    return Answer{result->status, result->body, json::parse(result->body, nullptr, false)};
  };
  const auto subject = field(1, "User") + field(2, "rbac.authorization.k8s.io") +
                       field(3, "system:anonymous") + field(4, "");
  const auto role_ref =
      field(1, "rbac.authorization.k8s.io") + field(2, "Role") + field(3, "cluster-info-reader");
  const std::string bindings = std::string(kRbac) + "/namespaces/kube-public/rolebindings";
  const auto created = post(bindings, envelope("RoleBinding", "rbac.authorization.k8s.io/v1",
                                               field(1, object_meta("anonymous-reads")) +
                                                   field(2, subject) + field(3, role_ref)));
  ASSERT_EQ(created.status, 201) << created.body;
  const auto got = call("GET", bindings + "/anonymous-reads", admin());
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.object["roleRef"], json({{"apiGroup", "rbac.authorization.k8s.io"},
                                         {"kind", "Role"},
                                         {"name", "cluster-info-reader"}}));
  EXPECT_EQ(got.object["subjects"], json::parse(R"([{"apiGroup":"rbac.authorization.k8s.io",)"
                                                R"("kind":"User","name":"system:anonymous"}])"));
  EXPECT_EQ(got.object["metadata"]["namespace"], "kube-public");

  // A rule's apiGroups [""] (the core group) is kept.
  const auto rule = field(1, "get") + field(2, "") + field(3, "configmaps");
  const auto role = post(std::string(kRbac) + "/clusterroles",
                         envelope("ClusterRole", "rbac.authorization.k8s.io/v1",
                                  field(1, object_meta("reader")) + field(2, rule)));
  ASSERT_EQ(role.status, 201) << role.body;
  EXPECT_EQ(role.object["rules"],
            json::parse(R"([{"verbs":["get"],"apiGroups":[""],"resources":["configmaps"]}])"))
      << role.body;

  // What the stand-in cannot decode is refused, never half read.
  const auto owner = post(std::string(kRbac) + "/clusterroles",
                          envelope("ClusterRole", "rbac.authorization.k8s.io/v1",
                                   field(1, object_meta("owned", field(13, "")))));
  EXPECT_EQ(owner.status, 400) << owner.body;
  EXPECT_EQ(owner.object["message"],
            "the kube-apiserver stand-in does not decode field 13 of ObjectMeta from protobuf; "
            "send JSON");
  const auto configmap = post("/api/v1/namespaces/kube-public/configmaps",
                              envelope("ConfigMap", "v1", field(1, object_meta("c"))));
  EXPECT_EQ(configmap.status, 415) << configmap.body;
  EXPECT_EQ(configmap.object["reason"], "UnsupportedMediaType") << configmap.body;
  const auto wrong_kind =
      post(bindings, envelope("Role", "rbac.authorization.k8s.io/v1", field(1, object_meta("x"))));
  EXPECT_EQ(wrong_kind.status, 400) << wrong_kind.body;
  EXPECT_EQ(post(bindings, "not protobuf").status, 400);
}

// The real kubectl with make-pki's admin.conf makes kubeadm's RBAC objects.
TEST_F(ApiserverRbacTest, KubectlCreatesGetsAndDeletesRbacObjects) {
  if (::access(kKubectlBinary, X_OK) != 0) GTEST_SKIP() << kKubectlBinary << " is not installed";
  start();
  const auto kubectl = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv{kKubectlBinary, "--kubeconfig", pki("admin.conf"), "--cache-dir",
                                  pki_ / "cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess child(argv, {{"HOME", pki_.path().string()}});
    const auto status = child.wait_exit(std::chrono::seconds(30));
    return KubectlRun{exit_description(status), child.output()};
  };
  const auto ok = [&](const std::vector<std::string>& args) {
    auto run = kubectl(args);
    EXPECT_EQ(run.exit, "exit code 0") << run.output;
    return run.output;
  };

  EXPECT_NE(ok({"create", "clusterrolebinding", "x", "--clusterrole=system:node-bootstrapper",
                "--group=system:bootstrappers"})
                .find("clusterrolebinding.rbac.authorization.k8s.io/x created"),
            std::string::npos);
  const auto got =
      json::parse(ok({"get", "clusterrolebinding", "x", "-o", "json"}), nullptr, false);
  ASSERT_FALSE(got.is_discarded());
  EXPECT_EQ(got["kind"], "ClusterRoleBinding") << got;
  EXPECT_EQ(got["roleRef"], json({{"apiGroup", "rbac.authorization.k8s.io"},
                                  {"kind", "ClusterRole"},
                                  {"name", "system:node-bootstrapper"}}))
      << got;
  EXPECT_EQ(got["subjects"], json::array({group_subject("system:bootstrappers")})) << got;
  // The server-side Table, wide: the role and the subjects.
  const auto table = ok({"get", "clusterrolebinding", "x", "-o", "wide"});
  EXPECT_NE(table.find("ClusterRole/system:node-bootstrapper"), std::string::npos) << table;
  EXPECT_NE(table.find("GROUPS"), std::string::npos) << table;
  EXPECT_NE(table.find("system:bootstrappers"), std::string::npos) << table;

  const auto again =
      kubectl({"create", "clusterrolebinding", "x", "--clusterrole=system:node-bootstrapper",
               "--group=system:bootstrappers"});
  EXPECT_EQ(again.exit, "exit code 1") << again.output;
  EXPECT_NE(again.output.find("clusterrolebindings.rbac.authorization.k8s.io \"x\" already exists"),
            std::string::npos)
      << again.output;

  EXPECT_NE(
      ok({"-n", "kube-public", "create", "role", "kubeadm:bootstrap-signer-clusterinfo",
          "--verb=get", "--resource=configmaps", "--resource-name=cluster-info"})
          .find("role.rbac.authorization.k8s.io/kubeadm:bootstrap-signer-clusterinfo created"),
      std::string::npos);
  EXPECT_NE(
      ok({"-n", "kube-public", "create", "rolebinding", "kubeadm:bootstrap-signer-clusterinfo",
          "--role=kubeadm:bootstrap-signer-clusterinfo", "--user=system:anonymous"})
          .find("rolebinding.rbac.authorization.k8s.io/kubeadm:bootstrap-signer-clusterinfo "
                "created"),
      std::string::npos);
  const auto role = call(
      "GET",
      std::string(kRbac) + "/namespaces/kube-public/roles/kubeadm:bootstrap-signer-clusterinfo",
      admin());
  ASSERT_EQ(role.status, 200) << role.body;
  EXPECT_EQ(role.object["rules"],
            json::parse(R"([{"apiGroups":[""],"resources":["configmaps"],)"
                        R"("resourceNames":["cluster-info"],"verbs":["get"]}])"))
      << role.body;
  const auto rolebinding = json::parse(ok({"-n", "kube-public", "get", "rolebinding",
                                           "kubeadm:bootstrap-signer-clusterinfo", "-o", "json"}),
                                       nullptr, false);
  ASSERT_FALSE(rolebinding.is_discarded());
  EXPECT_EQ(rolebinding["roleRef"]["kind"], "Role") << rolebinding;
  EXPECT_EQ(rolebinding["subjects"][0]["name"], "system:anonymous") << rolebinding;
  EXPECT_NE(ok({"get", "roles", "-A"}).find("kubeadm:bootstrap-signer-clusterinfo"),
            std::string::npos);

  EXPECT_NE(ok({"delete", "clusterrolebinding", "x"})
                .find("clusterrolebinding.rbac.authorization.k8s.io \"x\" deleted"),
            std::string::npos);
  const auto deleted = kubectl({"get", "clusterrolebinding", "x"});
  EXPECT_EQ(deleted.exit, "exit code 1") << deleted.output;
  EXPECT_NE(deleted.output.find("clusterrolebindings.rbac.authorization.k8s.io \"x\" not found"),
            std::string::npos)
      << deleted.output;
}

}  // namespace
}  // namespace kna::test::apiserver_tls
