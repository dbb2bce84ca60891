#include "app/backup.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "app/data_lock.h"
#include "auth/service.h"
#include "core/clock.h"
#include "storage/sqlite/backup.h"

#ifndef ECOMON_VERSION
#define ECOMON_VERSION "unknown"
#endif

namespace ecomon::app {
namespace {

namespace fs = std::filesystem;

// A data directory as run_serve() uses it: the store file, the registry edits saved through the
// API (which win over the shipped registry), and the alarms' evidence files (alarm/evidence.h),
// whose rows are in the store.
storage::BackupLayout layout_of(const std::string& data_dir) {
  return storage::BackupLayout{data_dir + "/ecomon.db", data_dir, {"registry", "evidence"}};
}

int exit_status(const core::Error& e) {
  return e.reason == "io_error" || e.reason == "disk_full" || e.reason == "busy" ? 1 : 2;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The data directory of a running server that `path` would be written into, if any.
std::string running_data_dir_above(const std::string& path) {
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(fs::absolute(path, ec), ec).parent_path();
  for (;;) {
    if (data_dir_in_use(dir.string())) return dir.string();
    if (dir == dir.parent_path() || dir.empty()) return {};
    dir = dir.parent_path();
  }
}

}  // namespace

int run_backup(const BackupOptions& o) {
  if (o.to.empty() || o.data_dir.empty()) {
    std::fprintf(stderr, "ecomon backup: --data DIR and --to FILE are required\n");
    return 2;
  }
  // A backup belongs outside a live data directory: a restore there, or the directory's loss,
  // would take the backup with it.
  if (const std::string busy = running_data_dir_above(o.to); !busy.empty()) {
    std::fprintf(stderr,
                 "ecomon backup: %s is inside %s, the data directory of a running ecomon serve; "
                 "write the backup elsewhere\n",
                 o.to.c_str(), busy.c_str());
    return 2;
  }
  core::SystemClock clock;
  storage::BackupOptions options;
  options.force = o.force;
  options.now_ms = clock.now_ms();
  options.ecomon_version = ECOMON_VERSION;
  const auto start = std::chrono::steady_clock::now();
  auto info = storage::backup_sqlite(layout_of(o.data_dir), o.to, options);
  if (!info.ok()) {
    std::fprintf(stderr, "ecomon backup: %s\n", info.error().detail.c_str());
    return exit_status(info.error());
  }
  std::printf(
      "ecomon backup: %s -> %s: %llu value versions, %llu frames, %llu files (registry, evidence), "
      "%.1f MB "
      "in %.2f s (snapshot of %s)\n",
      info->source.c_str(), o.to.c_str(), static_cast<unsigned long long>(info->value_count),
      static_cast<unsigned long long>(info->frame_count),
      static_cast<unsigned long long>(info->file_count), static_cast<double>(info->bytes) / 1e6,
      seconds_since(start), info->created_at.c_str());
  return 0;
}

int run_restore(const RestoreOptions& o) {
  if (o.from.empty() || o.data_dir.empty()) {
    std::fprintf(stderr, "ecomon restore: --from FILE and --data DIR are required\n");
    return 2;
  }
  std::error_code ec;
  const bool existed = fs::exists(o.data_dir, ec);
  fs::create_directories(o.data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "ecomon restore: cannot create %s: %s\n", o.data_dir.c_str(),
                 ec.message().c_str());
    return 1;
  }
  // Held until the restore is done: no server starts on a half-restored directory.
  auto lock = lock_data_dir(o.data_dir);
  if (!lock.ok()) {
    std::fprintf(stderr, "ecomon restore: %s; stop it first\n", lock.error().detail.c_str());
    return exit_status(lock.error());
  }
  const auto start = std::chrono::steady_clock::now();
  auto info = storage::restore_sqlite(o.from, layout_of(o.data_dir), {o.force});
  if (!info.ok()) {
    std::fprintf(stderr, "ecomon restore: %s\n", info.error().detail.c_str());
    if (!existed) fs::remove_all(o.data_dir, ec);  // leave no empty directory behind
    return exit_status(info.error());
  }
  // Sessions of the backup's time end: everyone logs in again on the restored platform.
  const std::string db = o.data_dir + "/ecomon.db";
  // The audit head of the replaced store does not describe the restored trail.
  fs::remove(db + ".audit-head", ec);
  core::SystemClock clock;
  if (auto auth = auth::AuthService::open(db, clock)) {
    auto ended = (*auth)->end_all_sessions("cli", "restore from " + o.from, "cli");
    if (!ended) {
      std::fprintf(stderr, "ecomon restore: sessions could not be ended: %s\n",
                   ended.error().detail.c_str());
      return 1;
    }
  } else {
    std::fprintf(stderr, "ecomon restore: %s\n", auth.error().detail.c_str());
    return 1;
  }
  // Sealed device keys need the master key, which backups do not carry.
  if (!fs::exists(o.data_dir + "/secret.key", ec)) {
    for (const auto& entry : fs::directory_iterator(o.data_dir + "/registry", ec)) {
      std::ifstream in(entry.path());
      const std::string text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      if (text.find("enc:v1:") != std::string::npos) {
        std::fprintf(stderr,
                     "ecomon restore: warning: %s holds sealed device keys; copy the master key "
                     "secret.key of the backed-up directory into %s before `ecomon serve`\n",
                     entry.path().c_str(), o.data_dir.c_str());
        break;
      }
    }
  }
  std::printf(
      "ecomon restore: %s -> %s: %llu value versions, %llu frames, %llu files (registry, evidence) "
      "in %.2f s "
      "(backup of %s taken %s by ecomon %s)\n",
      o.from.c_str(), o.data_dir.c_str(), static_cast<unsigned long long>(info->value_count),
      static_cast<unsigned long long>(info->frame_count),
      static_cast<unsigned long long>(info->file_count), seconds_since(start), info->source.c_str(),
      info->created_at.c_str(), info->ecomon_version.c_str());
  return 0;
}

}  // namespace ecomon::app
