// `ecomon backup` and `ecomon restore`: a data directory's store and registry edits in one file
// (the format and the checks: storage/sqlite/backup.h). The backup is taken online, as a
// consistent snapshot, while `ecomon serve` keeps ingesting; restore refuses a directory a server
// is using (app/data_lock.h) and an existing store unless forced.
//
// Both print one summary line on stdout when they succeed, and one line naming the reason on
// stderr when they fail. Exit status: 0 done, 2 bad usage or a file that is refused (not a backup,
// damaged, exists, in use), 1 an I/O failure (disk full, cannot write, locked too long).
#pragma once

#include <string>

namespace ecomon::app {

struct BackupOptions {
  std::string data_dir = "var";  // as `ecomon serve --data`
  std::string to;                // the backup file (required)
  bool force = false;            // replace an existing file
};

struct RestoreOptions {
  std::string from;      // the backup file (required)
  std::string data_dir;  // the directory to restore into (required; created when missing)
  bool force = false;    // replace an existing store and registry edits
};

int run_backup(const BackupOptions& options);
int run_restore(const RestoreOptions& options);

}  // namespace ecomon::app
