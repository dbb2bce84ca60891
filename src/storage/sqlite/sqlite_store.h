// The embedded default Store: one SQLite file in WAL mode.
//
// Layout (schema version 1, in table `meta`; the file carries application_id 0x45434D53, "ECMS"):
//   devices(id, mn)                    a dictionary, so value rows hold a small integer, not the MN
//   frames(id, mn, cn, peer, received_ms, outcome, bytes BLOB)      appended, one row per frame
//   value_versions                     WITHOUT ROWID, primary key (device, kind, measured_ms,
//                                      factor, field, version): the dedup lookup is one seek,
//                                      records() one range scan; a version is never rewritten
//                                      except its is_latest mark when a newer version arrives
//     + unique index on sequence       changes(), value_count()
//   site_devices(site, device)         series() scans the site's devices' rows in the time range
//   latest_values                      (site, factor, field, kind) -> the value latest() returns,
//                                      maintained by write()
// Every batch writes one place per device in value_versions (plus appends and latest_values): the
// write cost is a page per device per batch, whatever the batch's size per device.
//
// Durability: write() is one transaction committed with synchronous=FULL (the WAL is fsynced
// before write() returns), as DESIGN.md "Durable" requires on the acknowledgement path.
//
// Thread-safety: as Store. The writer and the readers use two connections, each behind its own
// mutex, so reads run concurrently with a write (WAL) and see only committed batches; reads from
// several threads take turns on the one read connection. Several processes may write the same file
// (ids and sequences are read inside each write transaction); SQLite serialises them.
//
// Errors (core::Error::reason; the detail carries the path and SQLite's message):
//   not_a_store     the file is not an SQLite database, or one of another application
//   schema_too_new  written by a newer ecomon
//   corrupt         SQLite reports the file malformed
//   cannot_open     the file cannot be opened or created (a missing directory, permissions)
//   read_only       the file cannot be written
//   disk_full       no space left while writing (the batch is rolled back, as on every error)
//   busy            another connection held the lock longer than busy_timeout_ms
//   db_error        any other SQLite failure
//   bad_value       store.h
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "storage/store.h"

namespace ecomon::storage {

// What marks a file as an ecomon store (PRAGMA application_id, "ECMS"), and the schema version this
// build creates and reads (table meta, key schema_version); storage/sqlite/backup.cpp checks both.
inline constexpr int kSqliteApplicationId = 0x45434D53;
inline constexpr int kSqliteSchemaVersion = 1;

struct SqliteOptions {
  // true: synchronous=FULL, the WAL is fsynced at every commit: durable, the acknowledgement path.
  // false: synchronous=NORMAL, no fsync per commit: the file stays consistent after a power loss
  // but the last commits may be lost; for tools, imports and benchmarks.
  bool synchronous_full = true;
  int busy_timeout_ms = 5000;  // wait this long for another writer's lock before `busy`
};

// Opens the store at `path`, creating the file and the schema when the file is new or empty.
core::Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                       const SqliteOptions& options = {});

}  // namespace ecomon::storage
