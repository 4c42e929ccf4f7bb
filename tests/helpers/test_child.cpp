// A child process that tests control through flags, so that process tests are deterministic.
// Plain POSIX, no libraries. On SIGTERM it exits 0 unless --ignore-sigterm.
//
//   --ready-file PATH      create PATH once --ready-after-ms (default 0) has passed
//   --ready-after-ms N
//   --exit-after-ms N      end after N ms (default: only with --exit-code or --raise; else never)
//   --exit-code C          exit with C (default 0)
//   --raise SIG            end by raising signal SIG instead of exiting
//   --ignore-sigterm       ignore SIGTERM (the supervisor must SIGKILL it)
//   --ignore-sighup        ignore SIGHUP (by default it ends the process, as for any program
//                          that does not handle it)
//   --print-lines N        print "line 1" … "line N" to stdout at start
//   --print-stderr-lines N print "err 1" … "err N" to stderr at start
//   --print-env NAME       print "NAME=value" (or "NAME unset") to stdout at start
//   --print-pid            print "pid N" to stdout at start
//   --tick-ms N            print "tick 1", "tick 2"… to stdout every N ms, from the start until
//                          it ends (a write to a pipe with no reader kills it with SIGPIPE)
//   --write-pidfile PATH   write our pid to PATH at start (like dockerd -p)
//   --fork-orphan          fork a grandchild that lives --orphan-ms (default 200) and exits 0;
//                          print "orphan N" to stdout

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

struct Options {
  const char* ready_file{nullptr};
  long ready_after_ms{0};
  long exit_after_ms{-1};
  int exit_code{0};
  bool exit_code_set{false};
  int raise_signal{0};
  bool ignore_sigterm{false};
  bool ignore_sighup{false};
  long print_lines{0};
  long print_stderr_lines{0};
  std::vector<const char*> print_env;
  bool print_pid{false};
  long tick_ms{0};
  const char* pidfile{nullptr};
  bool fork_orphan{false};
  long orphan_ms{200};
};

[[noreturn]] void usage(const char* what) {
  fprintf(stderr, "test_child: bad arguments: %s\n", what);
  _exit(64);
}

long to_long(const char* s) {
  char* end = nullptr;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0') usage(s);
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) usage(argv[i]);
      return argv[++i];
    };
    if (a == "--ready-file") {
      o.ready_file = next();
    } else if (a == "--ready-after-ms") {
      o.ready_after_ms = to_long(next());
    } else if (a == "--exit-after-ms") {
      o.exit_after_ms = to_long(next());
    } else if (a == "--exit-code") {
      o.exit_code = static_cast<int>(to_long(next()));
      o.exit_code_set = true;
    } else if (a == "--raise") {
      o.raise_signal = static_cast<int>(to_long(next()));
    } else if (a == "--ignore-sigterm") {
      o.ignore_sigterm = true;
    } else if (a == "--ignore-sighup") {
      o.ignore_sighup = true;
    } else if (a == "--print-lines") {
      o.print_lines = to_long(next());
    } else if (a == "--print-stderr-lines") {
      o.print_stderr_lines = to_long(next());
    } else if (a == "--print-env") {
      o.print_env.push_back(next());
    } else if (a == "--print-pid") {
      o.print_pid = true;
    } else if (a == "--tick-ms") {
      o.tick_ms = to_long(next());
    } else if (a == "--write-pidfile") {
      o.pidfile = next();
    } else if (a == "--fork-orphan") {
      o.fork_orphan = true;
    } else if (a == "--orphan-ms") {
      o.orphan_ms = to_long(next());
    } else {
      usage(argv[i]);
    }
  }
  if (o.exit_after_ms < 0 && (o.exit_code_set || o.raise_signal != 0)) o.exit_after_ms = 0;
  return o;
}

long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1'000'000;
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1'000'000};
  while (nanosleep(&ts, &ts) == -1) {
  }
}

void on_sigterm(int) {
  _exit(0);
}

void write_pidfile(const char* path) {
  FILE* f = fopen(path, "w");
  if (f == nullptr) {
    perror("test_child: pidfile");
    _exit(65);
  }
  fprintf(f, "%d\n", static_cast<int>(getpid()));
  fclose(f);
}

void fork_orphan(long lifetime_ms) {
  const pid_t pid = fork();
  if (pid == -1) {
    perror("test_child: fork");
    _exit(66);
  }
  if (pid == 0) {
    sleep_ms(lifetime_ms);
    _exit(0);
  }
  printf("orphan %d\n", static_cast<int>(pid));
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  struct sigaction sa {};
  sa.sa_handler = o.ignore_sigterm ? SIG_IGN : on_sigterm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  if (o.ignore_sighup) signal(SIGHUP, SIG_IGN);

  const long start = now_ms();
  if (o.pidfile != nullptr) write_pidfile(o.pidfile);
  if (o.print_pid) printf("pid %d\n", static_cast<int>(getpid()));
  for (const char* name : o.print_env) {
    const char* v = getenv(name);
    if (v != nullptr) {
      printf("%s=%s\n", name, v);
    } else {
      printf("%s unset\n", name);
    }
  }
  for (long i = 1; i <= o.print_lines; ++i) printf("line %ld\n", i);
  fflush(stdout);
  for (long i = 1; i <= o.print_stderr_lines; ++i) fprintf(stderr, "err %ld\n", i);
  if (o.fork_orphan) fork_orphan(o.orphan_ms);
  fflush(stdout);

  bool ready_pending = o.ready_file != nullptr;
  long next_tick = o.tick_ms > 0 ? 0 : -1;
  long ticks = 0;
  for (;;) {
    const long elapsed = now_ms() - start;
    if (next_tick >= 0 && elapsed >= next_tick) {
      printf("tick %ld\n", ++ticks);
      fflush(stdout);
      next_tick += o.tick_ms;
    }
    if (ready_pending && elapsed >= o.ready_after_ms) {
      const int fd = open(o.ready_file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd == -1) {
        perror("test_child: ready file");
        _exit(67);
      }
      close(fd);
      ready_pending = false;
    }
    if (o.exit_after_ms >= 0 && elapsed >= o.exit_after_ms) {
      if (o.raise_signal != 0) {
        signal(o.raise_signal, SIG_DFL);
        raise(o.raise_signal);
      }
      _exit(o.exit_code);
    }
    long wait = -1;
    if (ready_pending) wait = o.ready_after_ms - elapsed;
    if (o.exit_after_ms >= 0) {
      const long to_exit = o.exit_after_ms - elapsed;
      wait = wait < 0 ? to_exit : (to_exit < wait ? to_exit : wait);
    }
    if (next_tick >= 0) {
      const long to_tick = next_tick - elapsed;
      wait = wait < 0 ? to_tick : (to_tick < wait ? to_tick : wait);
    }
    if (wait < 0) {
      pause();  // nothing left to do but wait for a signal
    } else {
      sleep_ms(wait);
    }
  }
}
