// The advisory lock on a data directory. `ecomon serve` holds an exclusive flock(2) on DIR/.lock
// for its lifetime and `ecomon restore` while it replaces the store, so a second server, or a
// restore under a running server, is refused with a reason instead of corrupting the store. The
// kernel drops the lock when the process ends, also on kill -9; the file itself stays. Advisory:
// only processes that ask (ecomon, `flock -n DIR/.lock`) see it.
//
// Thread-safety: a DataDirLock belongs to one owner; the functions share no state.
#pragma once

#include <string>

#include "core/result.h"

namespace ecomon::app {

class DataDirLock {
 public:
  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();  // releases the lock

 private:
  friend core::Result<DataDirLock> lock_data_dir(const std::string& dir);
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Takes the lock of `dir` (an existing directory), creating DIR/.lock when needed.
// Errors: in_use (another process holds it; the detail names the file), io_error.
core::Result<DataDirLock> lock_data_dir(const std::string& dir);

// True when some process holds the lock of `dir`; false when none does or there is no DIR/.lock.
// Creates nothing. (It probes with a shared lock for an instant; lock_data_dir() retries briefly,
// so a probe never makes a server fail to start.)
bool data_dir_in_use(const std::string& dir);

}  // namespace ecomon::app
