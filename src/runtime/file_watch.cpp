#include "runtime/file_watch.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace kna {

struct FileWatcher::Impl : std::enable_shared_from_this<FileWatcher::Impl> {
  Impl(boost::asio::io_context& io, std::string d, std::string n, std::function<void()> cb)
      : stream(io), dir(std::move(d)), name(std::move(n)), on_change(std::move(cb)) {}

  void read() {
    stream.async_read_some(boost::asio::buffer(buf),
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (ec || stopped) return;
    bool ours = false;
    for (std::size_t off = 0; off + sizeof(inotify_event) <= n;) {
      inotify_event ev{};
      std::memcpy(&ev, buf.data() + off, sizeof ev);
      const char* ev_name = buf.data() + off + sizeof(inotify_event);
      if (ev.len > 0 && name == std::string(ev_name, ::strnlen(ev_name, ev.len))) ours = true;
      off += sizeof(inotify_event) + ev.len;
    }
    if (ours) on_change();
    read();
  }

  boost::asio::posix::stream_descriptor stream;
  std::string dir;
  std::string name;
  std::function<void()> on_change;
  alignas(inotify_event) std::array<char, 4096> buf{};
  bool stopped{false};
};

FileWatcher::FileWatcher(boost::asio::io_context& io, std::string dir, std::string name,
                         std::function<void()> on_change)
    : impl_(std::make_shared<Impl>(io, std::move(dir), std::move(name), std::move(on_change))) {}

FileWatcher::~FileWatcher() {
  stop();
}

Status FileWatcher::start() {
  std::error_code ec;
  std::filesystem::create_directories(impl_->dir, ec);
  if (ec) return Error{"cannot create " + impl_->dir + ": " + ec.message()};
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return Error{std::string("inotify_init1: ") + std::strerror(errno)};
  if (::inotify_add_watch(fd, impl_->dir.c_str(),
                          IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_CREATE) <
      0) {
    const int err = errno;
    ::close(fd);
    return Error{"cannot watch " + impl_->dir + ": " + std::strerror(err)};
  }
  impl_->stream.assign(fd);
  impl_->read();
  return kOk;
}

void FileWatcher::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->stream.close(ec);
}

}  // namespace kna
