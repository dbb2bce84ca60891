#include "app/data_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

namespace ecomon::app {
namespace {

// data_dir_in_use() holds a shared lock for microseconds; a holder that is still there after this
// many tries 20 ms apart is a real one.
constexpr int kLockAttempts = 10;
constexpr auto kLockRetryDelay = std::chrono::milliseconds(20);

std::string lock_path(const std::string& dir) { return dir + "/.lock"; }

}  // namespace

DataDirLock::DataDirLock(DataDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

core::Result<DataDirLock> lock_data_dir(const std::string& dir) {
  const std::string path = lock_path(dir);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return core::fail(core::Error{"io_error", "cannot open " + path + ": " + std::strerror(errno)});
  }
  DataDirLock lock(fd);
  for (int attempt = 1;; ++attempt) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return lock;
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK) {
      return core::fail(core::Error{"io_error", "cannot lock " + path + ": " + std::strerror(err)});
    }
    if (attempt == kLockAttempts) {
      return core::fail(core::Error{
          "in_use",
          dir + " is in use by another ecomon process (serve or restore holds " + path + ")"});
    }
    std::this_thread::sleep_for(kLockRetryDelay);
  }
}

bool data_dir_in_use(const std::string& dir) {
  const int fd = ::open(lock_path(dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  int rc;
  do {
    rc = ::flock(fd, LOCK_SH | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  const bool held = rc != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // also releases the probe's shared lock
  return held;
}

}  // namespace ecomon::app
