// Online backup and restore of the SQLite store, with the files that travel with it.
//
// A backup is one SQLite file: a copy of the whole store (every table, also ones other subsystems
// add later) taken in one read transaction with `VACUUM INTO`, so it is a consistent snapshot of
// the committed batches even while another process writes the store; plus two tables of its own:
//   ecomon_backup_meta(key TEXT PRIMARY KEY, value TEXT)   format_version, created_at (ISO 8601),
//                                                          source, ecomon_version, value_count,
//                                                          frame_count, file_count
//   ecomon_backup_files(path TEXT PRIMARY KEY, content BLOB)  the regular files under the layout's
//                                                          file_dirs, by path relative to its
//                                                          files_root ("registry/sites.csv")
// The file keeps the store's application_id, is in rollback-journal mode (no -wal beside it), and
// is written as `to + ".tmp"`, fsynced and renamed, so `to` is either absent or complete.
//
// Restore checks the file (application_id, the meta table and its format version, PRAGMA
// integrity_check, the value count, every file path), copies the database without the two backup
// tables to a temporary name beside the store, opens it as a store (schema version), fsyncs and
// renames it over the store (removing a stale -wal and -shm first), then replaces the file
// directories. Nothing in the target is touched until the backup has passed every check.
//
// Neither function knows about running servers: the caller keeps them away (app/data_lock.h).
// Thread-safety: free functions with no shared state.
//
// Errors (core::Error::reason; the detail is one line naming the file and the cause):
//   no_store        backup: the store file does not exist
//   not_a_store     backup: the file is not an ecomon store (another application's, not SQLite)
//   not_found       restore: the backup file does not exist or cannot be read
//   not_a_backup    restore: not an SQLite file, another application's, an ecomon store rather than
//                   a backup, missing or malformed meta, a file path outside file_dirs
//   backup_too_new  restore: written by a newer ecomon (format version)
//   schema_too_new  restore: the store inside was written by a newer ecomon
//   corrupt         the file is damaged or truncated (integrity_check, counts, SQLite CORRUPT)
//   exists          the target exists and `force` is false
//   bad_target      backup: `to` is one of the store's files or inside a folder the backup packs
//   busy            the store stayed locked longer than busy_timeout_ms
//   disk_full       no space left on the target's file system
//   io_error        any other failure to read, write, fsync or rename
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace ecomon::storage {

// Where a store and its files live.
struct BackupLayout {
  std::string store_path;  // the SQLite store ("var/ecomon.db")
  std::string files_root;  // file paths in the backup are relative to this ("var")
  // Folders under files_root whose regular files (recursively) travel with the store; restore
  // replaces each of them whole and refuses any other path.
  std::vector<std::string> file_dirs;
};

struct BackupOptions {
  bool force = false;           // replace an existing backup file
  int busy_timeout_ms = 30000;  // wait this long for the store's locks
  std::int64_t now_ms = 0;      // created_at (UTC ms; written as Beijing time with its offset)
  std::string ecomon_version;   // written into the meta table
};

struct RestoreOptions {
  bool force = false;  // replace an existing store (and the file directories)
};

// What a backup holds (its meta table), and where it was written or read.
struct BackupInfo {
  std::string path;  // the backup file
  int format_version = 0;
  std::string created_at;
  std::string source;  // the store the backup was taken from
  std::string ecomon_version;
  std::uint64_t value_count = 0;  // value versions (the change feed position) in the snapshot
  std::uint64_t frame_count = 0;  // frames in the archive
  std::uint64_t file_count = 0;   // files of the file_dirs
  std::uint64_t bytes = 0;        // size of the backup file
};

inline constexpr int kBackupFormatVersion = 1;

// Writes a backup of the store at layout.store_path and of layout's files to `to`. The store may
// be in use by other processes (readers and writers) meanwhile. A file that is edited while it is
// read is read again, so the files are taken as of one moment when edits are not continuous.
core::Result<BackupInfo> backup_sqlite(const BackupLayout& layout, const std::string& to,
                                       const BackupOptions& options);

// Checks the backup `from` and restores it into `layout` (store and file directories). Refuses an
// existing store (or its -wal, or an existing file directory) unless options.force.
core::Result<BackupInfo> restore_sqlite(const std::string& from, const BackupLayout& layout,
                                        const RestoreOptions& options);

}  // namespace ecomon::storage
