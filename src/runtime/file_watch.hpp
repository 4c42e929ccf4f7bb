#pragma once
// Tells the loop when a file changes (written in place, renamed into place, or removed), through
// inotify on its folder: flanneld replaces subnet.env by rename, which a watch on the file itself
// would miss.

#include <functional>
#include <memory>
#include <string>

#include "kna/error.hpp"

namespace boost::asio {
class io_context;
}

namespace kna {

class FileWatcher {
 public:
  // `on_change` runs on the loop after each change of `dir`/`name`. The folder is created if
  // missing.
  FileWatcher(boost::asio::io_context& io, std::string dir, std::string name,
              std::function<void()> on_change);
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  Status start();
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace kna
