#include "storage/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace ecomon::storage {

namespace {

constexpr int kApplicationId = kSqliteApplicationId;  // "ECMS": tells an ecomon store from others
constexpr int kSchemaVersion = kSqliteSchemaVersion;
// Page caches. A batch writes next to the newest value of each of its devices, so the writer keeps
// those pages (a few per device) in memory between batches instead of reading them back.
constexpr int kWriterCacheKib = 64 * 1024;
constexpr int kReaderCacheKib = 16 * 1024;
// Checkpoint when the WAL holds this many pages (~40 MB) rather than SQLite's 1,000: a batch
// dirties a page per device, and the same pages are dirtied again by the next batches, so copying
// them into the database every few batches instead of after each one halves the bytes written
// (measured with bench/storage_bench.cpp).
constexpr int kWalCheckpointPages = 10000;

constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE devices(id INTEGER PRIMARY KEY, mn TEXT NOT NULL UNIQUE);
CREATE TABLE frames(
  id INTEGER PRIMARY KEY,
  mn TEXT NOT NULL,
  cn TEXT NOT NULL,
  peer TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  bytes BLOB NOT NULL);
CREATE TABLE value_versions(
  device INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  measured_ms INTEGER NOT NULL,
  factor TEXT NOT NULL,
  field TEXT NOT NULL,
  version INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  is_latest INTEGER NOT NULL,
  site TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  number REAL,
  text TEXT NOT NULL,
  flag TEXT NOT NULL,
  frame_id INTEGER NOT NULL,
  quality INTEGER NOT NULL,
  PRIMARY KEY(device, kind, measured_ms, factor, field, version)) WITHOUT ROWID;
CREATE UNIQUE INDEX value_versions_by_sequence ON value_versions(sequence);
CREATE TABLE site_devices(
  site TEXT NOT NULL,
  device INTEGER NOT NULL,
  PRIMARY KEY(site, device)) WITHOUT ROWID;
CREATE TABLE latest_values(
  site TEXT NOT NULL,
  factor TEXT NOT NULL,
  field TEXT NOT NULL,
  kind INTEGER NOT NULL,
  device INTEGER NOT NULL,
  measured_ms INTEGER NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY(site, factor, field, kind)) WITHOUT ROWID;
)sql";

// The columns read_value() expects, in its order (v = value_versions, d = devices).
constexpr std::string_view kValueColumns =
    "d.mn, v.kind, v.measured_ms, v.factor, v.field, v.version, v.sequence, v.site, "
    "v.received_ms, v.number, v.text, v.flag, v.frame_id, v.quality";

std::string reason_of(int code) {
  switch (code & 0xff) {
    case SQLITE_NOTADB:
      return "not_a_store";
    case SQLITE_CORRUPT:
      return "corrupt";
    case SQLITE_READONLY:
      return "read_only";
    case SQLITE_CANTOPEN:
      return "cannot_open";
    case SQLITE_FULL:
      return "disk_full";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "busy";
    default:
      return "db_error";
  }
}

core::Error db_error(sqlite3* db, int code, std::string_view what) {
  std::string detail(what);
  detail += ": ";
  detail += db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  detail += " (SQLite code " + std::to_string(code) + ")";  // the extended code names the cause
  return core::Error{reason_of(code), std::move(detail)};
}

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

struct FinalizeStmt {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, FinalizeStmt>;

// Resets a cached statement when the scope ends, whatever the path out: a statement left mid-scan
// would keep its read transaction open and block checkpoints.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* s) : s_(s) {}
  ~ResetOnExit() { sqlite3_reset(s_); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  sqlite3_stmt* s_;
};

core::Result<Stmt> prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) return core::fail(db_error(db, rc, "prepare"));
  return Stmt(s);
}

core::Result<void> exec(sqlite3* db, const char* sql, std::string_view what) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return core::fail(db_error(db, rc, what));
  return {};
}

// Runs a statement that returns at most one row of one integer column; nullopt when no row or NULL.
core::Result<std::optional<std::int64_t>> query_int(sqlite3* db, sqlite3_stmt* s,
                                                    std::string_view what) {
  ResetOnExit reset(s);
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::optional<std::int64_t>();
  if (rc != SQLITE_ROW) return core::fail(db_error(db, rc, what));
  if (sqlite3_column_type(s, 0) == SQLITE_NULL) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(sqlite3_column_int64(s, 0));
}

core::Result<std::optional<std::int64_t>> query_int(sqlite3* db, std::string_view sql,
                                                    std::string_view what) {
  auto s = prepare(db, sql);
  if (!s.ok()) return core::fail(s.error());
  return query_int(db, s->get(), what);
}

void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  // A non-null pointer even for "": a null one would bind NULL, not the empty text.
  sqlite3_bind_text64(s, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
}

void bind_blob(sqlite3_stmt* s, int i, std::string_view v) {
  if (v.empty()) {
    sqlite3_bind_zeroblob(s, i, 0);
  } else {
    sqlite3_bind_blob64(s, i, v.data(), v.size(), SQLITE_STATIC);
  }
}

void bind_u64(sqlite3_stmt* s, int i, std::uint64_t v) {
  sqlite3_bind_int64(s, i, static_cast<std::int64_t>(v));
}

void bind_limit(sqlite3_stmt* s, int i, std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  sqlite3_bind_int64(s, i, static_cast<std::int64_t>(std::min(limit, kMax)));
}

std::string column_string(sqlite3_stmt* s, int i) {
  // The bytes as stored (blob access does no text conversion): NUL bytes included.
  const void* p = sqlite3_column_blob(s, i);
  const int n = sqlite3_column_bytes(s, i);
  return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
}

Value read_value(sqlite3_stmt* s) {
  Value v;
  v.mn = column_string(s, 0);
  v.kind = static_cast<DataKind>(sqlite3_column_int(s, 1));
  v.measured_ms = sqlite3_column_int64(s, 2);
  v.factor = column_string(s, 3);
  v.field = column_string(s, 4);
  v.version = static_cast<std::uint32_t>(sqlite3_column_int64(s, 5));
  v.sequence = static_cast<std::uint64_t>(sqlite3_column_int64(s, 6));
  v.site = column_string(s, 7);
  v.received_ms = sqlite3_column_int64(s, 8);
  if (sqlite3_column_type(s, 9) != SQLITE_NULL) v.number = sqlite3_column_double(s, 9);
  v.text = column_string(s, 10);
  v.flag = column_string(s, 11);
  v.frame_id = static_cast<std::uint64_t>(sqlite3_column_int64(s, 12));
  v.quality = static_cast<std::uint32_t>(sqlite3_column_int64(s, 13));
  return v;
}

// Steps a bound statement to the end, appending each row as read by `read`.
template <class T, class Read>
core::Result<std::vector<T>> collect(sqlite3* db, sqlite3_stmt* s, std::string_view what,
                                     Read read) {
  ResetOnExit reset(s);
  std::vector<T> out;
  for (;;) {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) return core::fail(db_error(db, rc, what));
    out.push_back(read(s));
  }
}

// A value without a factor or field, or with a kind out of range, is the caller's bug (the HJ 212
// decoder never makes one). An empty mn is accepted: HJ 212 allows it, and refusing it here would
// fail every frame that shares the batch.
std::optional<core::Error> validate(const Value& v) {
  if (v.factor.empty() || v.field.empty()) {
    return core::Error{"bad_value", "a value of mn '" + v.mn +
                                        "' needs a factor and a field (factor '" + v.factor +
                                        "', field '" + v.field + "')"};
  }
  if (static_cast<std::uint8_t>(v.kind) > static_cast<std::uint8_t>(DataKind::kOther)) {
    return core::Error{"bad_value", "data kind out of range for mn '" + v.mn + "'"};
  }
  return std::nullopt;
}

core::Result<Db> open_db(const std::string& path, int flags, const SqliteOptions& options) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);  // closed on every path, also when the open failed
  if (rc != SQLITE_OK) return core::fail(db_error(db.get(), rc, "cannot open " + path));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), options.busy_timeout_ms);
  return db;
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {}

  core::Result<void> open(const SqliteOptions& options) {
    if (auto r = open_writer(options); !r.ok()) return r;
    return open_reader(options);
  }

  core::Result<WriteResult> write(std::vector<FrameWrite>& batch) override {
    std::lock_guard lock(write_mu_);
    CacheAdditions added;
    auto result = write_locked(batch, added);
    if (!result.ok()) {
      // SQLite rolls some failures back by itself (an I/O error at commit); roll back the rest.
      if (!sqlite3_get_autocommit(w_.db.get())) {
        ResetOnExit reset(w_.rollback.get());
        sqlite3_step(w_.rollback.get());
      }
      // Rows the cache learnt of in the rolled-back transaction no longer exist.
      for (const auto& mn : added.devices) w_.device_ids.erase(mn);
      for (const auto& pair : added.site_devices) w_.site_devices.erase(pair);
      if (result.error().reason != "bad_value") {
        return core::fail(core::Error{result.error().reason, path_ + ": " + result.error().detail});
      }
    }
    return result;
  }

  core::Result<std::vector<Value>> records(const RecordQuery& q) const override {
    std::lock_guard lock(read_mu_);
    sqlite3_stmt* s = q.kind ? r_.records_kind.get() : r_.records_all.get();
    int i = 1;
    bind_text(s, i++, q.mn);
    if (q.kind) sqlite3_bind_int(s, i++, static_cast<int>(*q.kind));
    sqlite3_bind_int64(s, i++, q.from_ms);
    sqlite3_bind_int64(s, i++, q.to_ms);
    bind_limit(s, i, q.limit);
    return collect<Value>(r_.db.get(), s, "records", read_value);
  }

  core::Result<std::vector<Value>> series(const SeriesQuery& q) const override {
    std::lock_guard lock(read_mu_);
    sqlite3_stmt* s = q.kind ? r_.series_kind.get() : r_.series_all.get();
    int i = 1;
    bind_text(s, i++, q.site);
    bind_text(s, i++, q.factor);
    if (q.kind) sqlite3_bind_int(s, i++, static_cast<int>(*q.kind));
    sqlite3_bind_int64(s, i++, q.from_ms);
    sqlite3_bind_int64(s, i++, q.to_ms);
    bind_limit(s, i, q.limit);
    return collect<Value>(r_.db.get(), s, "series", read_value);
  }

  core::Result<std::vector<Value>> latest(std::string_view site) const override {
    std::lock_guard lock(read_mu_);
    bind_text(r_.latest.get(), 1, site);
    return collect<Value>(r_.db.get(), r_.latest.get(), "latest", read_value);
  }

  core::Result<std::optional<Frame>> frame(std::uint64_t id) const override {
    std::lock_guard lock(read_mu_);
    sqlite3_stmt* s = r_.frame.get();
    bind_u64(s, 1, id);
    auto rows = collect<Frame>(r_.db.get(), s, "frame", [](sqlite3_stmt* st) {
      Frame f;
      f.id = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
      f.mn = column_string(st, 1);
      f.cn = column_string(st, 2);
      f.peer = column_string(st, 3);
      f.received_ms = sqlite3_column_int64(st, 4);
      f.outcome = column_string(st, 5);
      f.bytes = column_string(st, 6);
      return f;
    });
    if (!rows.ok()) return core::fail(rows.error());
    if (rows->empty()) return std::optional<Frame>();
    return std::optional<Frame>(std::move(rows->front()));
  }

  core::Result<std::vector<Change>> changes(std::uint64_t after_sequence,
                                            std::size_t limit) const override {
    std::lock_guard lock(read_mu_);
    sqlite3_stmt* s = r_.changes.get();
    bind_u64(s, 1, after_sequence);
    bind_limit(s, 2, limit);
    return collect<Change>(r_.db.get(), s, "changes", [](sqlite3_stmt* st) {
      Value v = read_value(st);
      const auto seq = v.sequence;
      return Change{seq, std::move(v)};
    });
  }

  // Values are never deleted and sequences are dense, so the count is the last sequence: an
  // index seek, where count(*) would read the whole index.
  core::Result<std::uint64_t> value_count() const override {
    std::lock_guard lock(read_mu_);
    auto n = query_int(r_.db.get(), r_.value_count.get(), "value_count");
    if (!n.ok()) return core::fail(n.error());
    return static_cast<std::uint64_t>(n->value_or(0));
  }

  core::Result<std::uint64_t> frame_count() const override {
    std::lock_guard lock(read_mu_);
    auto n = query_int(r_.db.get(), r_.frame_count.get(), "frame_count");
    if (!n.ok()) return core::fail(n.error());
    return static_cast<std::uint64_t>(n->value_or(0));
  }

 private:
  // The writer connection and its statements (members destroyed in reverse: statements first).
  struct Writer {
    Db db;
    Stmt begin, commit, rollback;
    Stmt max_frame_id, max_sequence;
    Stmt find_device, insert_device;
    Stmt insert_frame, insert_value, last_version, retire_version, upsert_latest;
    Stmt insert_site_device;
    std::unordered_map<std::string, std::int64_t> device_ids;     // cache of table devices
    std::set<std::pair<std::string, std::int64_t>> site_devices;  // cache of table site_devices
  };
  struct Reader {
    Db db;
    Stmt records_kind, records_all, series_kind, series_all, latest, frame, changes;
    Stmt value_count, frame_count;
  };

  core::Result<void> open_writer(const SqliteOptions& options) {
    auto db = open_db(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options);
    if (!db.ok()) return core::fail(db.error());
    w_.db = std::move(*db);
    sqlite3* d = w_.db.get();
    if (sqlite3_db_readonly(d, "main") == 1) {
      return core::fail(core::Error{"read_only", path_ + ": the file cannot be written"});
    }

    // Look before changing anything: another application's database must stay untouched.
    auto app = query_int(d, "PRAGMA application_id", path_);
    if (!app.ok()) {
      auto e = app.error();
      if (e.reason == "not_a_store")
        e.detail = path_ + ": not an SQLite database (" + e.detail + ")";
      return core::fail(std::move(e));
    }
    auto objects = query_int(d, "SELECT count(*) FROM sqlite_schema", path_);
    if (!objects.ok()) return core::fail(objects.error());
    const bool fresh = app->value_or(0) == 0 && objects->value_or(0) == 0;
    if (!fresh && app->value_or(0) != kApplicationId) {
      return core::fail(
          core::Error{"not_a_store",
                      path_ + ": an SQLite database of another application, not an ecomon store"});
    }

    auto mode = prepare(d, "PRAGMA journal_mode=WAL");
    if (!mode.ok()) return core::fail(mode.error());
    {
      ResetOnExit reset(mode->get());
      const int rc = sqlite3_step(mode->get());
      if (rc != SQLITE_ROW) return core::fail(db_error(d, rc, path_ + ": journal_mode"));
      if (column_string(mode->get(), 0) != "wal") {
        return core::fail(core::Error{"db_error", path_ + ": WAL mode is not available"});
      }
    }
    const std::string pragmas =
        std::string("PRAGMA synchronous=") + (options.synchronous_full ? "FULL" : "NORMAL") +
        "; PRAGMA cache_size=-" + std::to_string(kWriterCacheKib) +
        "; PRAGMA wal_autocheckpoint=" + std::to_string(kWalCheckpointPages) + ";";
    if (auto r = exec(d, pragmas.c_str(), path_); !r.ok()) return r;
    if (fresh) {
      if (auto r = create_schema(); !r.ok()) return r;
    }
    if (auto r = check_schema(); !r.ok()) return r;
    return prepare_writer();
  }

  core::Result<void> create_schema() {
    sqlite3* d = w_.db.get();
    if (auto r = exec(d, "BEGIN IMMEDIATE", path_); !r.ok()) return r;
    auto body = [&]() -> core::Result<void> {
      // Another process may have created the store since we looked.
      auto objects = query_int(d, "SELECT count(*) FROM sqlite_schema", path_);
      if (!objects.ok()) return core::fail(objects.error());
      if (objects->value_or(0) != 0) return {};
      if (auto r = exec(d, kSchema, path_ + ": create schema"); !r.ok()) return r;
      const std::string meta = "INSERT INTO meta(key, value) VALUES('schema_version', '" +
                               std::to_string(kSchemaVersion) +
                               "'); PRAGMA application_id=" + std::to_string(kApplicationId) + ";";
      return exec(d, meta.c_str(), path_ + ": create schema");
    };
    auto r = body();
    if (!r.ok()) {
      sqlite3_exec(d, "ROLLBACK", nullptr, nullptr, nullptr);
      return r;
    }
    return exec(d, "COMMIT", path_ + ": create schema");
  }

  core::Result<void> check_schema() {
    sqlite3* d = w_.db.get();
    auto app = query_int(d, "PRAGMA application_id", path_);
    if (!app.ok()) return core::fail(app.error());
    if (app->value_or(0) != kApplicationId) {
      return core::fail(
          core::Error{"not_a_store",
                      path_ + ": an SQLite database of another application, not an ecomon store"});
    }
    auto version =
        query_int(d, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'",
                  path_ + ": schema version");
    if (!version.ok()) return core::fail(version.error());
    if (!version->has_value()) {
      return core::fail(core::Error{"corrupt", path_ + ": the schema version is missing"});
    }
    if (**version > kSchemaVersion) {
      return core::fail(
          core::Error{"schema_too_new", path_ + ": schema version " + std::to_string(**version) +
                                            " was written by a newer ecomon; this one reads " +
                                            std::to_string(kSchemaVersion)});
    }
    if (**version < kSchemaVersion) {
      return core::fail(
          core::Error{"db_error", path_ + ": unknown schema version " + std::to_string(**version)});
    }
    return {};
  }

  core::Result<void> prepare_writer() {
    sqlite3* d = w_.db.get();
    const std::pair<Stmt*, const char*> statements[] = {
        {&w_.begin, "BEGIN IMMEDIATE"},
        {&w_.commit, "COMMIT"},
        {&w_.rollback, "ROLLBACK"},
        {&w_.max_frame_id, "SELECT max(id) FROM frames"},
        {&w_.max_sequence, "SELECT max(sequence) FROM value_versions"},
        {&w_.find_device, "SELECT id FROM devices WHERE mn = ?1"},
        {&w_.insert_device, "INSERT INTO devices(mn) VALUES(?1)"},
        {&w_.insert_frame,
         "INSERT INTO frames(id, mn, cn, peer, received_ms, outcome, bytes) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
        // A new key is the common case: one insert that does nothing when the key exists.
        {&w_.insert_value,
         "INSERT INTO value_versions(device, kind, measured_ms, factor, field, version, sequence, "
         "is_latest, site, received_ms, number, text, flag, frame_id, quality) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
         "ON CONFLICT(device, kind, measured_ms, factor, field, version) DO NOTHING"},
        {&w_.last_version,
         "SELECT version, text, flag FROM value_versions WHERE device = ?1 AND kind = ?2 AND "
         "measured_ms = ?3 AND factor = ?4 AND field = ?5 ORDER BY version DESC LIMIT 1"},
        {&w_.retire_version,
         "UPDATE value_versions SET is_latest = 0 WHERE device = ?1 AND kind = ?2 AND "
         "measured_ms = ?3 AND factor = ?4 AND field = ?5 AND version = ?6"},
        // Later measured time wins; a tie goes to the later write (a new version of the same key).
        {&w_.insert_site_device,
         "INSERT INTO site_devices(site, device) VALUES(?1, ?2) ON CONFLICT DO NOTHING"},
        {&w_.upsert_latest,
         "INSERT INTO latest_values(site, factor, field, kind, device, measured_ms, version) "
         "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(site, factor, field, kind) DO UPDATE SET "
         "device = excluded.device, measured_ms = excluded.measured_ms, version = excluded.version "
         "WHERE excluded.measured_ms >= latest_values.measured_ms"},
    };
    for (const auto& [stmt, sql] : statements) {
      auto s = prepare(d, sql);
      if (!s.ok()) return core::fail(s.error());
      *stmt = std::move(*s);
    }
    auto devices = prepare(d, "SELECT id, mn FROM devices");
    if (!devices.ok()) return core::fail(devices.error());
    auto rows = collect<std::pair<std::string, std::int64_t>>(
        d, devices->get(), path_ + ": devices",
        [](sqlite3_stmt* s) { return std::pair(column_string(s, 1), sqlite3_column_int64(s, 0)); });
    if (!rows.ok()) return core::fail(rows.error());
    w_.device_ids.insert(rows->begin(), rows->end());
    auto pairs = prepare(d, "SELECT site, device FROM site_devices");
    if (!pairs.ok()) return core::fail(pairs.error());
    auto pair_rows = collect<std::pair<std::string, std::int64_t>>(
        d, pairs->get(), path_ + ": site devices",
        [](sqlite3_stmt* s) { return std::pair(column_string(s, 0), sqlite3_column_int64(s, 1)); });
    if (!pair_rows.ok()) return core::fail(pair_rows.error());
    w_.site_devices.insert(pair_rows->begin(), pair_rows->end());
    return {};
  }

  core::Result<void> open_reader(const SqliteOptions& options) {
    auto db = open_db(path_, SQLITE_OPEN_READWRITE, options);
    if (!db.ok()) return core::fail(db.error());
    r_.db = std::move(*db);
    sqlite3* d = r_.db.get();
    const std::string pragmas =
        "PRAGMA query_only=1; PRAGMA cache_size=-" + std::to_string(kReaderCacheKib) + ";";
    if (auto r = exec(d, pragmas.c_str(), path_); !r.ok()) return r;

    const std::string from = " FROM value_versions v JOIN devices d ON d.id = v.device ";
    const std::string select = "SELECT " + std::string(kValueColumns) + from;
    const std::string select_latest =
        "SELECT " + std::string(kValueColumns) +
        " FROM latest_values l JOIN value_versions v ON v.device = l.device AND v.kind = l.kind "
        "AND v.measured_ms = l.measured_ms AND v.factor = l.factor AND v.field = l.field AND "
        "v.version = l.version JOIN devices d ON d.id = v.device ";
    // A site's series is read from its devices' rows (primary key: device, kind, time), which
    // saves the write path a second scattered index; the other factors in the range are skipped.
    const std::string select_series =
        "SELECT " + std::string(kValueColumns) +
        " FROM site_devices s JOIN value_versions v ON v.device = s.device JOIN devices d ON d.id "
        "= v.device WHERE s.site = ?1 AND v.site = ?1 AND v.factor = ?2 AND v.is_latest = 1 AND ";
    // Without a kind, `kind IN (...)` lets the index still seek the time range of each kind.
    const std::string all_kinds = "v.kind IN (0, 1, 2, 3, 4)";
    const std::pair<Stmt*, std::string> statements[] = {
        {&r_.records_kind, select + "WHERE d.mn = ?1 AND v.kind = ?2 AND v.measured_ms >= ?3 AND "
                                    "v.measured_ms < ?4 ORDER BY v.measured_ms, v.factor, v.field, "
                                    "v.version LIMIT ?5"},
        {&r_.records_all, select + "WHERE d.mn = ?1 AND " + all_kinds +
                              " AND v.measured_ms >= ?2 AND v.measured_ms < ?3 ORDER BY "
                              "v.measured_ms, v.factor, v.field, v.kind, v.version LIMIT ?4"},
        {&r_.series_kind, select_series +
                              "v.kind = ?3 AND v.measured_ms >= ?4 AND v.measured_ms < ?5 "
                              "ORDER BY v.measured_ms, v.kind, v.field, d.mn LIMIT ?6"},
        {&r_.series_all, select_series + all_kinds +
                             " AND v.measured_ms >= ?3 AND v.measured_ms < ?4 "
                             "ORDER BY v.measured_ms, v.kind, v.field, d.mn LIMIT ?5"},
        {&r_.latest, select_latest + "WHERE l.site = ?1 ORDER BY l.factor, l.field, l.kind"},
        {&r_.frame,
         "SELECT id, mn, cn, peer, received_ms, outcome, bytes FROM frames WHERE id = ?1"},
        {&r_.changes, select + "WHERE v.sequence > ?1 ORDER BY v.sequence LIMIT ?2"},
        {&r_.value_count, "SELECT max(sequence) FROM value_versions"},
        {&r_.frame_count, "SELECT max(id) FROM frames"},
    };
    for (const auto& [stmt, sql] : statements) {
      auto s = prepare(d, sql);
      if (!s.ok()) return core::fail(s.error());
      *stmt = std::move(*s);
    }
    return {};
  }

  // What a write transaction added to the writer's caches, to forget if it is rolled back.
  struct CacheAdditions {
    std::vector<std::string> devices;
    std::vector<std::pair<std::string, std::int64_t>> site_devices;
  };

  // The device's id, inserting the device when it is new.
  core::Result<std::int64_t> device_id(const std::string& mn, CacheAdditions& added) {
    if (auto it = w_.device_ids.find(mn); it != w_.device_ids.end()) return it->second;
    sqlite3* d = w_.db.get();
    // Another process writing the same file may have added it.
    bind_text(w_.find_device.get(), 1, mn);
    auto found = query_int(d, w_.find_device.get(), "find device");
    if (!found.ok()) return core::fail(found.error());
    std::int64_t id = 0;
    if (found->has_value()) {
      id = **found;
    } else {
      sqlite3_stmt* s = w_.insert_device.get();
      ResetOnExit reset(s);
      bind_text(s, 1, mn);
      if (const int rc = sqlite3_step(s); rc != SQLITE_DONE) {
        return core::fail(db_error(d, rc, "insert device"));
      }
      id = sqlite3_last_insert_rowid(d);
    }
    w_.device_ids.emplace(mn, id);
    added.devices.push_back(mn);
    return id;
  }

  // Records that the device reported for the site: series() reads a site through its devices.
  core::Result<void> note_site_device(const std::string& site, std::int64_t device,
                                      CacheAdditions& added) {
    auto pair = std::pair(site, device);
    if (w_.site_devices.count(pair)) return {};
    sqlite3_stmt* s = w_.insert_site_device.get();
    ResetOnExit reset(s);
    bind_text(s, 1, site);
    sqlite3_bind_int64(s, 2, device);
    if (const int rc = sqlite3_step(s); rc != SQLITE_DONE) {
      return core::fail(db_error(w_.db.get(), rc, "insert site device"));
    }
    added.site_devices.push_back(pair);
    w_.site_devices.insert(std::move(pair));
    return {};
  }

  // Binds the value key (device, kind, measured_ms, factor, field) to parameters 1-5.
  static void bind_key(sqlite3_stmt* s, std::int64_t device, const Value& v) {
    sqlite3_bind_int64(s, 1, device);
    sqlite3_bind_int(s, 2, static_cast<int>(v.kind));
    sqlite3_bind_int64(s, 3, v.measured_ms);
    bind_text(s, 4, v.factor);
    bind_text(s, 5, v.field);
  }

  // Inserts one version (bound in full the first time; only version and sequence change after).
  core::Result<bool> insert_version(const Value& v) {
    sqlite3_stmt* s = w_.insert_value.get();
    ResetOnExit reset(s);
    sqlite3_bind_int64(s, 6, v.version);
    bind_u64(s, 7, v.sequence);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return core::fail(db_error(w_.db.get(), rc, "insert value"));
    return sqlite3_changes(w_.db.get()) == 1;
  }

  core::Result<void> upsert_latest(std::int64_t device, const Value& v) {
    if (v.quality & kQualityNotLatest) return {};
    sqlite3_stmt* s = w_.upsert_latest.get();
    ResetOnExit reset(s);
    bind_text(s, 1, v.site);
    bind_text(s, 2, v.factor);
    bind_text(s, 3, v.field);
    sqlite3_bind_int(s, 4, static_cast<int>(v.kind));
    sqlite3_bind_int64(s, 5, device);
    sqlite3_bind_int64(s, 6, v.measured_ms);
    sqlite3_bind_int64(s, 7, v.version);
    if (const int rc = sqlite3_step(s); rc != SQLITE_DONE) {
      return core::fail(db_error(w_.db.get(), rc, "update latest"));
    }
    return {};
  }

  core::Result<WriteResult> write_locked(std::vector<FrameWrite>& batch, CacheAdditions& added) {
    sqlite3* d = w_.db.get();
    {
      ResetOnExit reset(w_.begin.get());
      if (const int rc = sqlite3_step(w_.begin.get()); rc != SQLITE_DONE) {
        return core::fail(db_error(d, rc, "begin"));
      }
    }
    // Read inside the write transaction, so another writer process cannot hand out the same ids.
    auto max_frame = query_int(d, w_.max_frame_id.get(), "frame id");
    if (!max_frame.ok()) return core::fail(max_frame.error());
    auto max_sequence = query_int(d, w_.max_sequence.get(), "sequence");
    if (!max_sequence.ok()) return core::fail(max_sequence.error());
    std::uint64_t next_frame = static_cast<std::uint64_t>(max_frame->value_or(0)) + 1;
    std::uint64_t sequence = static_cast<std::uint64_t>(max_sequence->value_or(0));

    WriteResult r;
    r.first_frame_id = next_frame;
    for (auto& fw : batch) {
      Frame& f = fw.frame;
      f.id = next_frame++;
      {
        sqlite3_stmt* s = w_.insert_frame.get();
        ResetOnExit reset(s);
        bind_u64(s, 1, f.id);
        bind_text(s, 2, f.mn);
        bind_text(s, 3, f.cn);
        bind_text(s, 4, f.peer);
        sqlite3_bind_int64(s, 5, f.received_ms);
        bind_text(s, 6, f.outcome);
        bind_blob(s, 7, f.bytes);
        if (const int rc = sqlite3_step(s); rc != SQLITE_DONE) {
          return core::fail(db_error(d, rc, "insert frame"));
        }
      }
      for (auto& v : fw.values) {
        // Checked where it is written: a bad value aborts the transaction like any other error.
        if (auto e = validate(v)) return core::fail(std::move(*e));
        auto device = device_id(v.mn, added);
        if (!device.ok()) return core::fail(device.error());
        if (auto n = note_site_device(v.site, *device, added); !n.ok())
          return core::fail(n.error());
        v.frame_id = f.id;
        v.version = 1;
        v.sequence = sequence + 1;

        sqlite3_stmt* s = w_.insert_value.get();
        bind_key(s, *device, v);
        bind_text(s, 8, v.site);
        sqlite3_bind_int64(s, 9, v.received_ms);
        if (v.number) {
          sqlite3_bind_double(s, 10, *v.number);
        } else {
          sqlite3_bind_null(s, 10);
        }
        bind_text(s, 11, v.text);
        bind_text(s, 12, v.flag);
        bind_u64(s, 13, v.frame_id);
        sqlite3_bind_int64(s, 14, v.quality);
        auto inserted = insert_version(v);
        if (!inserted.ok()) return core::fail(inserted.error());
        if (*inserted) {
          ++sequence;
          ++r.values_stored;
          if (auto u = upsert_latest(*device, v); !u.ok()) return core::fail(u.error());
          continue;
        }

        // The key exists: a duplicate of its latest version, or a new version.
        std::uint32_t last = 0;
        bool same = false;
        {
          sqlite3_stmt* q = w_.last_version.get();
          ResetOnExit reset(q);
          bind_key(q, *device, v);
          const int rc = sqlite3_step(q);
          if (rc != SQLITE_ROW) return core::fail(db_error(d, rc, "find version"));
          last = static_cast<std::uint32_t>(sqlite3_column_int64(q, 0));
          same = column_string(q, 1) == v.text && column_string(q, 2) == v.flag;
        }
        if (same) {
          v.version = last;
          v.sequence = 0;
          ++r.duplicates;
          continue;
        }
        {
          sqlite3_stmt* u = w_.retire_version.get();
          ResetOnExit reset(u);
          bind_key(u, *device, v);
          sqlite3_bind_int64(u, 6, last);
          if (const int rc = sqlite3_step(u); rc != SQLITE_DONE) {
            return core::fail(db_error(d, rc, "retire version"));
          }
        }
        v.version = last + 1;
        auto inserted_version = insert_version(v);
        if (!inserted_version.ok()) return core::fail(inserted_version.error());
        if (!*inserted_version) {
          return core::fail(core::Error{"db_error", "version " + std::to_string(v.version) +
                                                        " of a value of " + v.mn + " exists"});
        }
        ++sequence;
        ++r.new_versions;
        if (auto u = upsert_latest(*device, v); !u.ok()) return core::fail(u.error());
      }
    }
    {
      ResetOnExit reset(w_.commit.get());
      if (const int rc = sqlite3_step(w_.commit.get()); rc != SQLITE_DONE) {
        return core::fail(db_error(d, rc, "commit"));
      }
    }
    added = {};  // committed: the caches are now true
    r.last_sequence = sequence;
    return r;
  }

  const std::string path_;
  std::mutex write_mu_;
  Writer w_;
  mutable std::mutex read_mu_;
  Reader r_;
};

}  // namespace

core::Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                       const SqliteOptions& options) {
  auto store = std::make_unique<SqliteStore>(path);
  if (auto r = store->open(options); !r.ok()) return core::fail(r.error());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace ecomon::storage
