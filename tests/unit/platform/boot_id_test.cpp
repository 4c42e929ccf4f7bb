#include "platform/boot_id.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace kna {
namespace {

TEST(BootId, IsTheKernelsUuidWithoutNewlineAndStable) {
  const auto a = boot_id();
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a.value().size(), 36u);
  EXPECT_EQ(a.value().find('\n'), std::string::npos);
  EXPECT_EQ(a.value()[8], '-');
  const auto b = boot_id();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a.value(), b.value());
}

TEST(BootId, ReadsTheGivenFile) {
  const auto path =
      std::filesystem::path(::testing::TempDir()) / ("boot_id." + std::to_string(::getpid()));
  std::ofstream(path) << "3f2a1c9b-0d12-4e5f-8a7b-6c5d4e3f2a1b\n";
  const auto id = boot_id(path);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(id.value(), "3f2a1c9b-0d12-4e5f-8a7b-6c5d4e3f2a1b");
  std::filesystem::remove(path);
}

TEST(BootId, MissingFileIsAClearError) {
  const auto id = boot_id("/nonexistent/boot_id");
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().message,
            "cannot read boot id from /nonexistent/boot_id: No such file or directory");
}

}  // namespace
}  // namespace kna
