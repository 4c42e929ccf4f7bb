#pragma once
// Starts the test child outside any runtime, like a process an earlier agent left behind.

#include <spawn.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace kna::test {

// Runs the test child with exactly `env` as its environment and returns its pid once it has
// printed its first line: by then its environment is readable in /proc and its signal handling is
// set up (right after exec, /proc/<pid>/environ can still read empty). -1 on failure.
inline int spawn_test_child(std::vector<std::string> env, std::vector<std::string> args = {}) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<std::string> argv_s{KNA_TEST_CHILD, "--print-pid"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, KNA_TEST_CHILD, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return -1;
  }
  char c = 0;
  while (::read(fds[0], &c, 1) == 1 && c != '\n') {
  }
  ::close(fds[0]);
  return pid;
}

}  // namespace kna::test
