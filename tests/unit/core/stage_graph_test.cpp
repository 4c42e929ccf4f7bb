#include "core/stage_graph.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kna::core {
namespace {

using ::testing::HasSubstr;

StageSpec stage(std::string name, std::vector<Dependency> deps = {}) {
  StageSpec s;
  s.name = std::move(name);
  s.deps = std::move(deps);
  return s;
}

std::vector<std::string> names(const std::vector<StageSpec>& specs) {
  std::vector<std::string> out;
  for (const auto& s : specs) out.push_back(s.name);
  return out;
}

std::string error_of(std::vector<StageSpec> specs) {
  try {
    StageGraph g(specs);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(StageGraph, OrdersDependenciesFirst) {
  std::vector<StageSpec> s{stage("kubelet", {{"main"}}), stage("main", {{"flannel", false}}),
                           stage("flannel", {{"boot"}}), stage("boot")};
  StageGraph g(s);
  EXPECT_EQ(names(s), (std::vector<std::string>{"boot", "flannel", "main", "kubelet"}));
  ASSERT_EQ(g.deps(2).size(), 1u);
  EXPECT_EQ(g.deps(2)[0].stage, 1u);
  EXPECT_FALSE(g.deps(2)[0].restart_with);
  ASSERT_EQ(g.dependents(0).size(), 1u);
  EXPECT_EQ(g.dependents(0)[0].stage, 1u);
}

TEST(StageGraph, KeepsTheGivenOrderOfIndependentStages) {
  std::vector<StageSpec> s{stage("c"), stage("a"), stage("x", {{"b"}}), stage("b")};
  StageGraph g(s);
  EXPECT_EQ(names(s), (std::vector<std::string>{"c", "a", "b", "x"}));
}

TEST(StageGraph, RejectsAnUnknownDependency) {
  EXPECT_THAT(error_of({stage("a", {{"ghost"}})}),
              HasSubstr("stage 'a' depends on 'ghost', which is not a stage"));
}

TEST(StageGraph, RejectsACycleNamingItsStages) {
  const auto e = error_of({stage("ok"), stage("a", {{"c"}}), stage("b", {{"a"}}),
                           stage("c", {{"b"}}), stage("behind", {{"c"}})});
  EXPECT_THAT(e, HasSubstr("cycle"));
  EXPECT_THAT(e, HasSubstr("'a', 'b', 'c'"));
  EXPECT_THAT(e, ::testing::Not(HasSubstr("'ok'")));
  EXPECT_THAT(e, ::testing::Not(HasSubstr("'behind'")));
}

TEST(StageGraph, RejectsASelfDependencyAndDuplicateNames) {
  EXPECT_THAT(error_of({stage("a", {{"a"}})}), HasSubstr("cycle"));
  EXPECT_THAT(error_of({stage("a"), stage("a")}), HasSubstr("listed twice"));
  EXPECT_THAT(error_of({stage("")}), HasSubstr("no name"));
}

TEST(StageGraph, RestartClosureFollowsOnlyRestartWithEdgesTransitively) {
  std::vector<StageSpec> s{stage("a"), stage("b", {{"a"}}), stage("c", {{"b"}}),
                           stage("d", {{"a", false}}), stage("e", {{"d"}})};
  StageGraph g(s);
  EXPECT_EQ(g.restart_closure(0), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(g.restart_closure(3), (std::vector<std::size_t>{3, 4}));
}

TEST(StageGraph, MergesADependencyListedTwice) {
  std::vector<StageSpec> s{stage("a"), stage("b", {{"a", false}, {"a", true}})};
  StageGraph g(s);
  ASSERT_EQ(g.deps(1).size(), 1u);
  EXPECT_TRUE(g.deps(1)[0].restart_with);
  EXPECT_EQ(g.dependents(0).size(), 1u);
}

}  // namespace
}  // namespace kna::core
