#include "storage/sqlite/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "core/civil_time.h"
#include "storage/sqlite/sqlite_store.h"

namespace ecomon::storage {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMetaTable = "ecomon_backup_meta";
constexpr const char* kFilesTable = "ecomon_backup_files";
// A file edited while the file directories are read is read again, at most this many times.
constexpr int kFileReadAttempts = 5;

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;

struct FinalizeStmt {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, FinalizeStmt>;

// Details are one line (SQLite's integrity_check answers span several), at most 500 characters.
core::Error error(std::string reason, std::string detail) {
  std::string line;
  for (char c : detail) {
    if (c == '\n' || c == '\r') {
      if (!line.empty() && line.back() != ' ') line += ' ';
    } else {
      line += c;
    }
  }
  if (line.size() > 500) line = line.substr(0, 497) + "...";
  return core::Error{std::move(reason), std::move(line)};
}

// The reason of an SQLite failure while reading or writing a file we own.
std::string reason_of(int code) {
  switch (code & 0xff) {
    case SQLITE_NOTADB:
      return "not_a_database";  // said in the caller's words: not_a_store, not_a_backup
    case SQLITE_CORRUPT:
      return "corrupt";
    case SQLITE_FULL:
      return "disk_full";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "busy";
    default:
      return "io_error";
  }
}

std::string sqlite_message(sqlite3* db, int code) {
  std::string m = db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  return m + " (SQLite code " + std::to_string(code) + ")";
}

core::Error db_error(sqlite3* db, int code, const std::string& what) {
  return error(reason_of(code), what + ": " + sqlite_message(db, code));
}

core::Error errno_error(const std::string& what, int err) {
  return error(err == ENOSPC ? "disk_full" : "io_error", what + ": " + std::strerror(err));
}

core::Result<Db> open_db(const std::string& path, int flags, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);  // closed on every path, also when the open failed
  if (rc != SQLITE_OK) return core::fail(db_error(db.get(), rc, "cannot open " + path));
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  return db;
}

core::Result<Stmt> prepare(sqlite3* db, std::string_view sql, const std::string& what) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  Stmt stmt(s);
  if (rc != SQLITE_OK) return core::fail(db_error(db, rc, what));
  return stmt;
}

core::Result<void> exec(sqlite3* db, const std::string& sql, const std::string& what) {
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return core::fail(db_error(db, rc, what));
  return {};
}

// The first column of the first row as text; nullopt when there is no row or it is NULL.
core::Result<std::optional<std::string>> query_text(sqlite3* db, std::string_view sql,
                                                    const std::string& what) {
  auto s = prepare(db, sql, what);
  if (!s.ok()) return core::fail(s.error());
  const int rc = sqlite3_step(s->get());
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return core::fail(db_error(db, rc, what));
  const auto* text = sqlite3_column_text(s->get(), 0);
  if (!text) return std::optional<std::string>();
  return std::optional<std::string>(reinterpret_cast<const char*>(text));
}

core::Result<std::int64_t> query_int(sqlite3* db, std::string_view sql, const std::string& what) {
  auto s = prepare(db, sql, what);
  if (!s.ok()) return core::fail(s.error());
  const int rc = sqlite3_step(s->get());
  if (rc == SQLITE_DONE) return std::int64_t{0};
  if (rc != SQLITE_ROW) return core::fail(db_error(db, rc, what));
  return sqlite3_column_int64(s->get(), 0);
}

// fsync of a file or a directory (a rename is durable once its directory is synced).
core::Result<void> sync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) return core::fail(errno_error("cannot open " + path + " to sync it", errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return core::fail(errno_error("fsync " + path, err));
  return {};
}

std::string parent_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

core::Result<void> write_synced(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return core::fail(errno_error("cannot write " + path, errno));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return core::fail(errno_error("write " + path, err));
    }
    done += static_cast<std::size_t>(n);
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  if (::close(fd) != 0 || rc != 0)
    return core::fail(errno_error("write " + path, rc ? err : errno));
  return {};
}

core::Result<void> rename_path(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (ec) return core::fail(errno_error("cannot rename " + from + " to " + to, ec.value()));
  return {};
}

// Removes a file or directory tree; a missing one is fine.
core::Result<void> remove_path(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return core::fail(errno_error("cannot remove " + path, ec.value()));
  return {};
}

// Removes `path` when the scope ends unless disarmed: a failed backup or restore leaves no
// temporary file behind.
class RemoveUnlessKept {
 public:
  explicit RemoveUnlessKept(std::vector<std::string> paths) : paths_(std::move(paths)) {}
  ~RemoveUnlessKept() {
    if (keep_) return;
    std::error_code ec;
    for (const auto& p : paths_) fs::remove_all(p, ec);
  }
  RemoveUnlessKept(const RemoveUnlessKept&) = delete;
  RemoveUnlessKept& operator=(const RemoveUnlessKept&) = delete;
  void keep() { keep_ = true; }

 private:
  std::vector<std::string> paths_;
  bool keep_ = false;
};

// The files SQLite may keep beside a database.
std::vector<std::string> with_sidecars(const std::string& db) {
  return {db, db + "-journal", db + "-wal", db + "-shm"};
}

struct PackedFile {
  std::string path;  // relative to the layout's files_root, '/'-separated
  std::string content;
  friend bool operator==(const PackedFile&, const PackedFile&) = default;
};

core::Result<std::vector<PackedFile>> read_files_once(const BackupLayout& layout) {
  std::vector<PackedFile> out;
  const fs::path root(layout.files_root);
  for (const auto& dir : layout.file_dirs) {
    std::error_code ec;
    const fs::path top = root / dir;
    if (!fs::is_directory(top, ec)) continue;
    fs::recursive_directory_iterator it(top, ec), end;
    if (ec) return core::fail(errno_error("cannot read " + top.string(), ec.value()));
    for (; it != end; it.increment(ec)) {
      if (ec) return core::fail(errno_error("cannot read " + top.string(), ec.value()));
      if (!it->is_regular_file(ec)) continue;
      std::ifstream in(it->path(), std::ios::binary);
      std::error_code gone;
      if (!in && !fs::exists(it->path(), gone)) continue;  // renamed away since it was listed
      std::ostringstream content;
      content << in.rdbuf();
      if (!in) return core::fail(error("io_error", "cannot read " + it->path().string()));
      out.push_back(
          PackedFile{it->path().lexically_relative(root).generic_string(), content.str()});
    }
    if (ec) return core::fail(errno_error("cannot read " + top.string(), ec.value()));
  }
  std::sort(out.begin(), out.end(),
            [](const PackedFile& a, const PackedFile& b) { return a.path < b.path; });
  return out;
}

// Reads until two reads agree, so an edit saved file by file while we read is not half taken.
core::Result<std::vector<PackedFile>> read_files(const BackupLayout& layout) {
  auto last = read_files_once(layout);
  for (int i = 1; last.ok() && i < kFileReadAttempts; ++i) {
    auto again = read_files_once(layout);
    if (!again.ok() || *again == *last) return again;
    last = std::move(again);
  }
  return last;
}

// A path a backup may name: relative, under one of the file directories, no "." or ".." parts,
// names a file system takes (a part at most 255 bytes, the whole at most 1024).
bool is_safe_path(const std::string& path, const std::vector<std::string>& file_dirs) {
  if (path.empty() || path.size() > 1024 || path.front() == '/' ||
      path.find('\0') != std::string::npos) {
    return false;
  }
  bool under = false;
  for (const auto& dir : file_dirs) {
    if (path.size() > dir.size() + 1 && path.compare(0, dir.size(), dir) == 0 &&
        path[dir.size()] == '/') {
      under = true;
    }
  }
  if (!under) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    const std::string_view part = std::string_view(path).substr(
        start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == ".." || part.size() > 255) return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

// ---- backup ----

core::Result<void> add_backup_tables(sqlite3* db, const std::string& tmp, BackupInfo& info,
                                     const std::vector<PackedFile>& files) {
  // One fsync of the finished file replaces SQLite's: the file has no name until it is renamed.
  if (auto r = exec(db, "PRAGMA journal_mode=DELETE; PRAGMA synchronous=OFF;", tmp); !r.ok())
    return r;
  auto values = query_int(db, "SELECT max(sequence) FROM value_versions", tmp + ": value count");
  if (!values.ok()) return core::fail(values.error());
  auto frames = query_int(db, "SELECT max(id) FROM frames", tmp + ": frame count");
  if (!frames.ok()) return core::fail(frames.error());
  info.value_count = static_cast<std::uint64_t>(*values);
  info.frame_count = static_cast<std::uint64_t>(*frames);
  info.file_count = files.size();

  if (auto r = exec(db, "BEGIN", tmp); !r.ok()) return r;
  const std::string create = std::string("CREATE TABLE ") + kMetaTable +
                             "(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID; "
                             "CREATE TABLE " +
                             kFilesTable + "(path TEXT PRIMARY KEY, content BLOB NOT NULL);";
  if (auto r = exec(db, create, tmp + ": create backup tables"); !r.ok()) return r;

  auto meta = prepare(db, std::string("INSERT INTO ") + kMetaTable + "(key, value) VALUES(?1, ?2)",
                      tmp + ": meta");
  if (!meta.ok()) return core::fail(meta.error());
  const std::pair<const char*, std::string> rows[] = {
      {"format_version", std::to_string(info.format_version)},
      {"created_at", info.created_at},
      {"source", info.source},
      {"ecomon_version", info.ecomon_version},
      {"value_count", std::to_string(info.value_count)},
      {"frame_count", std::to_string(info.frame_count)},
      {"file_count", std::to_string(info.file_count)},
  };
  for (const auto& [key, value] : rows) {
    sqlite3_stmt* s = meta->get();
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, value.c_str(), static_cast<int>(value.size()), SQLITE_STATIC);
    if (const int rc = sqlite3_step(s); rc != SQLITE_DONE)
      return core::fail(db_error(db, rc, tmp + ": meta"));
  }
  auto insert =
      prepare(db, std::string("INSERT INTO ") + kFilesTable + "(path, content) VALUES(?1, ?2)",
              tmp + ": files");
  if (!insert.ok()) return core::fail(insert.error());
  for (const auto& f : files) {
    sqlite3_stmt* s = insert->get();
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, f.path.c_str(), static_cast<int>(f.path.size()), SQLITE_STATIC);
    sqlite3_bind_blob64(s, 2, f.content.data(), f.content.size(), SQLITE_STATIC);
    if (const int rc = sqlite3_step(s); rc != SQLITE_DONE)
      return core::fail(db_error(db, rc, tmp + ": file " + f.path));
  }
  return exec(db, "COMMIT", tmp + ": commit");
}

// ---- restore ----

// An opened backup that passed every check.
struct CheckedBackup {
  Db db;
  BackupInfo info;
};

core::Result<CheckedBackup> check_backup(const std::string& from,
                                         const std::vector<std::string>& file_dirs) {
  const std::string not_backup = from + ": not an ecomon backup";
  // Read-only: checking a file never changes it (a file that is no database stays as it was).
  auto opened = open_db(from, SQLITE_OPEN_READONLY, 5000);
  if (!opened.ok()) {
    return core::fail(error("not_found", "cannot read " + from + ": " + opened.error().detail));
  }
  sqlite3* db = opened->get();
  // Errors while reading the file say what the file is not.
  auto fail_read = [&](const core::Error& e) {
    if (e.reason == "corrupt") {
      std::string_view cause = e.detail;
      if (cause.rfind(from + ": ", 0) == 0) cause.remove_prefix(from.size() + 2);
      return error("corrupt", from + ": damaged or truncated backup (" + std::string(cause) + ")");
    }
    if (e.reason == "not_a_database") {
      return error("not_a_backup", not_backup + " (not an SQLite database)");
    }
    if (e.reason == "io_error") return error("not_a_backup", not_backup + " (" + e.detail + ")");
    return e;
  };

  auto app_id = query_int(db, "PRAGMA application_id", from);
  if (!app_id.ok()) return core::fail(fail_read(app_id.error()));
  auto tables = query_int(db, "SELECT count(*) FROM sqlite_schema", from);
  if (!tables.ok()) return core::fail(fail_read(tables.error()));
  if (*tables == 0) return core::fail(error("not_a_backup", not_backup + " (an empty database)"));
  if (*app_id != kSqliteApplicationId) {
    return core::fail(
        error("not_a_backup", not_backup + " (an SQLite database of another application)"));
  }
  auto has_meta = query_int(
      db,
      std::string("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '") +
          kMetaTable + "'",
      from);
  if (!has_meta.ok()) return core::fail(fail_read(has_meta.error()));
  if (*has_meta == 0) {
    return core::fail(error("not_a_backup", not_backup + " (an ecomon store without the " +
                                                kMetaTable +
                                                " table; restore reads files written by "
                                                "`ecomon backup`)"));
  }
  auto check = query_text(db, "PRAGMA integrity_check", from + ": integrity_check");
  if (!check.ok()) return core::fail(fail_read(check.error()));
  if (check->value_or("") != "ok") {
    std::string first = check->value_or("no answer");
    if (first.size() > 160) first = first.substr(0, 157) + "...";
    return core::fail(
        error("corrupt", from + ": damaged or truncated backup (integrity_check: " + first + ")"));
  }

  std::map<std::string, std::string> meta;
  {
    auto s = prepare(db, std::string("SELECT key, value FROM ") + kMetaTable, from + ": meta");
    if (!s.ok()) return core::fail(fail_read(s.error()));
    for (;;) {
      const int rc = sqlite3_step(s->get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return core::fail(fail_read(db_error(db, rc, from + ": meta")));
      const auto* k = sqlite3_column_text(s->get(), 0);
      const auto* v = sqlite3_column_text(s->get(), 1);
      if (k && v) meta[reinterpret_cast<const char*>(k)] = reinterpret_cast<const char*>(v);
    }
  }
  auto number = [&](const char* key) -> std::optional<std::int64_t> {
    auto it = meta.find(key);
    if (it == meta.end() || it->second.empty() || it->second.size() > 18) return std::nullopt;
    std::int64_t n = 0;
    for (char c : it->second) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  };
  const auto format = number("format_version");
  const auto values = number("value_count");
  const auto frames = number("frame_count");
  const auto files = number("file_count");
  if (!format || !values || !frames || !files) {
    return core::fail(error("not_a_backup",
                            not_backup + " (" + kMetaTable +
                                " lacks format_version, value_count, frame_count or file_count)"));
  }
  if (*format > kBackupFormatVersion) {
    return core::fail(
        error("backup_too_new", from + ": backup format " + std::to_string(*format) +
                                    " was written by a newer ecomon; this one reads " +
                                    std::to_string(kBackupFormatVersion)));
  }
  if (*format < 1) {
    return core::fail(
        error("not_a_backup", not_backup + " (format version " + std::to_string(*format) + ")"));
  }
  auto schema =
      query_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'",
                from + ": store schema version");
  if (!schema.ok()) return core::fail(fail_read(schema.error()));
  if (*schema > kSqliteSchemaVersion) {
    return core::fail(error("schema_too_new", from + ": the store inside has schema version " +
                                                  std::to_string(*schema) +
                                                  ", written by a newer ecomon; this one reads " +
                                                  std::to_string(kSqliteSchemaVersion)));
  }
  auto stored_values = query_int(db, "SELECT max(sequence) FROM value_versions", from);
  if (!stored_values.ok()) return core::fail(fail_read(stored_values.error()));
  if (*stored_values != *values) {
    return core::fail(error("corrupt", from + ": holds " + std::to_string(*stored_values) +
                                           " value versions, its meta table says " +
                                           std::to_string(*values)));
  }
  {
    auto s = prepare(db, std::string("SELECT path FROM ") + kFilesTable, from + ": files");
    if (!s.ok()) return core::fail(fail_read(s.error()));
    std::int64_t n = 0;
    std::set<std::string> paths, folders;
    for (;;) {
      const int rc = sqlite3_step(s->get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return core::fail(fail_read(db_error(db, rc, from + ": files")));
      const auto* p = sqlite3_column_text(s->get(), 0);
      const std::string path =
          p ? std::string(reinterpret_cast<const char*>(p),
                          static_cast<std::size_t>(sqlite3_column_bytes(s->get(), 0)))
            : std::string();
      if (!is_safe_path(path, file_dirs)) {
        return core::fail(error("not_a_backup", not_backup + " (it names the file '" + path +
                                                    "', outside the directories it may restore)"));
      }
      for (std::size_t slash = path.find('/'); slash != std::string::npos;
           slash = path.find('/', slash + 1)) {
        folders.insert(path.substr(0, slash));
      }
      paths.insert(path);
      ++n;
    }
    // "registry/a" cannot be a file and the folder of "registry/a/b" at once.
    for (const auto& p : paths) {
      if (folders.count(p)) {
        return core::fail(
            error("not_a_backup", not_backup + " ('" + p + "' is both a file and a folder in it)"));
      }
    }
    if (n != *files) {
      return core::fail(error("corrupt", from + ": holds " + std::to_string(n) +
                                             " files, its meta table says " +
                                             std::to_string(*files)));
    }
  }

  CheckedBackup out{std::move(*opened), {}};
  out.info.path = from;
  out.info.format_version = static_cast<int>(*format);
  out.info.created_at = meta["created_at"];
  out.info.source = meta["source"];
  out.info.ecomon_version = meta["ecomon_version"];
  out.info.value_count = static_cast<std::uint64_t>(*values);
  out.info.frame_count = static_cast<std::uint64_t>(*frames);
  out.info.file_count = static_cast<std::uint64_t>(*files);
  std::error_code ec;
  out.info.bytes = fs::file_size(from, ec);
  return out;
}

core::Result<std::vector<PackedFile>> read_packed_files(sqlite3* db, const std::string& from) {
  auto s = prepare(db, std::string("SELECT path, content FROM ") + kFilesTable + " ORDER BY path",
                   from + ": files");
  if (!s.ok()) return core::fail(s.error());
  std::vector<PackedFile> out;
  for (;;) {
    const int rc = sqlite3_step(s->get());
    if (rc == SQLITE_DONE) return out;
    if (rc != SQLITE_ROW) return core::fail(db_error(db, rc, from + ": files"));
    PackedFile f;
    f.path = reinterpret_cast<const char*>(sqlite3_column_text(s->get(), 0));
    const void* blob = sqlite3_column_blob(s->get(), 1);
    const int n = sqlite3_column_bytes(s->get(), 1);
    if (blob) f.content.assign(static_cast<const char*>(blob), static_cast<std::size_t>(n));
    out.push_back(std::move(f));
  }
}

// Copies the checked backup to `tmp` as a plain store: the backup's own tables dropped, opened
// once as a store (schema check; WAL mode), fsynced.
core::Result<void> write_store_copy(sqlite3* backup, const std::string& from,
                                    const std::string& tmp) {
  {
    auto opened = open_db(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 5000);
    if (!opened.ok()) return core::fail(opened.error());
    sqlite3* db = opened->get();
    sqlite3_backup* copy = sqlite3_backup_init(db, "main", backup, "main");
    if (!copy) return core::fail(db_error(db, sqlite3_errcode(db), "copy " + from + " to " + tmp));
    // All pages in one step: the backup file is ours alone, nothing restarts the copy.
    const int step = sqlite3_backup_step(copy, -1);
    const int finish = sqlite3_backup_finish(copy);
    if (step != SQLITE_DONE) return core::fail(db_error(db, step, "copy " + from + " to " + tmp));
    if (finish != SQLITE_OK) return core::fail(db_error(db, finish, "copy " + from + " to " + tmp));
    const std::string drop = std::string("PRAGMA synchronous=OFF; DROP TABLE ") + kFilesTable +
                             "; DROP TABLE " + kMetaTable + ";";
    if (auto r = exec(db, drop, tmp + ": drop the backup tables"); !r.ok()) return r;
  }
  {
    // The real opener checks what this build can read, and leaves the file in WAL mode; closing
    // it checkpoints and removes the -wal, so the file alone is the store.
    auto store = open_sqlite_store(tmp);
    if (!store.ok()) {
      const auto& e = store.error();
      const bool keep = e.reason == "schema_too_new" || e.reason == "disk_full";
      return core::fail(error(keep ? e.reason : "corrupt",
                              from + ": the store inside does not open: " + e.detail));
    }
  }
  return sync_path(tmp, false);
}

// Replaces files_root/dir with the backup's files under dir: written beside it, synced, swapped.
core::Result<void> restore_dir(const BackupLayout& layout, const std::string& dir,
                               const std::vector<PackedFile>& files) {
  const std::string target = (fs::path(layout.files_root) / dir).string();
  const std::string tmp = target + ".restore-tmp";
  const std::string old = target + ".restore-old";
  if (auto r = remove_path(tmp); !r.ok()) return r;
  if (auto r = remove_path(old); !r.ok()) return r;
  RemoveUnlessKept cleanup({tmp});
  bool any = false;
  std::vector<std::string> dirs;
  for (const auto& f : files) {
    if (f.path.compare(0, dir.size() + 1, dir + "/") != 0) continue;
    any = true;
    const fs::path path = fs::path(tmp) / f.path.substr(dir.size() + 1);
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec)
      return core::fail(errno_error("cannot create " + path.parent_path().string(), ec.value()));
    dirs.push_back(path.parent_path().string());
    if (auto r = write_synced(path.string(), f.content); !r.ok()) return r;
  }
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  for (const auto& d : dirs) {
    if (auto r = sync_path(d, true); !r.ok()) return r;
  }
  std::error_code ec;
  const bool existed = fs::exists(fs::symlink_status(target, ec));
  if (existed) {
    if (auto r = rename_path(target, old); !r.ok()) return r;
  }
  if (any) {
    if (auto r = rename_path(tmp, target); !r.ok()) return r;
  }
  cleanup.keep();
  if (auto r = sync_path(layout.files_root, true); !r.ok()) return r;
  // The replaced files go. When the backup had none here, so does the directory: the backup was
  // taken without edits, and the shipped registry applies again.
  return remove_path(old);
}

}  // namespace

core::Result<BackupInfo> backup_sqlite(const BackupLayout& layout, const std::string& to,
                                       const BackupOptions& options) {
  std::error_code ec;
  if (!fs::exists(layout.store_path, ec)) {
    return core::fail(error("no_store", layout.store_path + ": no store here, nothing to back up"));
  }
  // The copy may land neither on the store's own files nor inside a folder it packs.
  const fs::path target = fs::weakly_canonical(fs::absolute(to, ec), ec);
  for (const auto& p : with_sidecars(layout.store_path)) {
    if (target == fs::weakly_canonical(fs::absolute(p, ec), ec)) {
      return core::fail(error("bad_target", to + " is the store's own file"));
    }
  }
  for (const auto& dir : layout.file_dirs) {
    const fs::path packed =
        fs::weakly_canonical(fs::absolute(fs::path(layout.files_root) / dir, ec), ec);
    const fs::path rel = target.lexically_relative(packed);
    if (!rel.empty() && *rel.begin() != "..") {
      return core::fail(
          error("bad_target", to + " is inside " + packed.string() + ", which the backup packs"));
    }
  }
  if (!options.force && fs::exists(fs::symlink_status(to, ec))) {
    return core::fail(error("exists", to + " exists (--force replaces it)"));
  }
  BackupInfo info;
  info.path = to;
  info.format_version = kBackupFormatVersion;
  info.created_at = core::format_beijing(options.now_ms);
  info.source = fs::absolute(layout.store_path, ec).lexically_normal().string();
  if (ec) info.source = layout.store_path;
  info.ecomon_version = options.ecomon_version;

  const std::string tmp = to + ".tmp";
  for (const auto& p : with_sidecars(tmp)) {  // left by a backup that was killed
    if (auto r = remove_path(p); !r.ok()) return core::fail(r.error());
  }
  RemoveUnlessKept cleanup(with_sidecars(tmp));
  {
    // Read-write so that, when no server runs, closing checkpoints and removes the -wal as the
    // store does. (query_only would refuse VACUUM INTO; this connection only reads and copies.)
    auto source = open_db(layout.store_path, SQLITE_OPEN_READWRITE, options.busy_timeout_ms);
    if (!source.ok()) return core::fail(source.error());
    sqlite3* db = source->get();
    auto app_id = query_int(db, "PRAGMA application_id", layout.store_path);
    if (!app_id.ok() && app_id.error().reason == "not_a_database") {
      return core::fail(error("not_a_store", layout.store_path + ": not an SQLite database"));
    }
    if (!app_id.ok()) return core::fail(app_id.error());
    if (*app_id != kSqliteApplicationId) {
      return core::fail(error("not_a_store", layout.store_path +
                                                 ": an SQLite database of another application, "
                                                 "not an ecomon store"));
    }
    // Readable by the owner only: the store holds password hashes, API key hashes and device
    // passwords. Created empty first (VACUUM INTO fills an empty file), so it is never readable
    // by others, not even while it is written.
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return core::fail(errno_error("cannot create " + tmp, errno));
    ::close(fd);
    // One statement, one read transaction: the copy is the store as of one commit, whatever other
    // processes write meanwhile (WAL readers never block writers, nor are they restarted).
    auto vacuum = prepare(db, "VACUUM INTO ?1", layout.store_path + ": backup");
    if (!vacuum.ok()) return core::fail(vacuum.error());
    sqlite3_bind_text(vacuum->get(), 1, tmp.c_str(), static_cast<int>(tmp.size()), SQLITE_STATIC);
    if (const int rc = sqlite3_step(vacuum->get()); rc != SQLITE_DONE) {
      return core::fail(db_error(db, rc, layout.store_path + ": copy to " + tmp));
    }
  }
  auto files = read_files(layout);
  if (!files.ok()) return core::fail(files.error());
  {
    auto out = open_db(tmp, SQLITE_OPEN_READWRITE, options.busy_timeout_ms);
    if (!out.ok()) return core::fail(out.error());
    if (auto r = add_backup_tables(out->get(), tmp, info, *files); !r.ok())
      return core::fail(r.error());
  }
  if (auto r = sync_path(tmp, false); !r.ok()) return core::fail(r.error());
  if (auto r = rename_path(tmp, to); !r.ok()) return core::fail(r.error());
  cleanup.keep();
  if (auto r = sync_path(parent_of(to), true); !r.ok()) return core::fail(r.error());
  info.bytes = fs::file_size(to, ec);
  return info;
}

core::Result<BackupInfo> restore_sqlite(const std::string& from, const BackupLayout& layout,
                                        const RestoreOptions& options) {
  std::error_code ec;
  if (!fs::is_regular_file(from, ec)) {
    return core::fail(error("not_found", from + ": no such backup file"));
  }
  if (!options.force) {
    for (const auto& p : {layout.store_path, layout.store_path + "-wal"}) {
      if (fs::exists(fs::symlink_status(p, ec))) {
        return core::fail(error("exists", p + " exists (--force replaces the store)"));
      }
    }
    for (const auto& dir : layout.file_dirs) {
      const std::string p = (fs::path(layout.files_root) / dir).string();
      if (fs::exists(fs::symlink_status(p, ec))) {
        return core::fail(error("exists", p + " exists (--force replaces it)"));
      }
    }
  }
  auto checked = check_backup(from, layout.file_dirs);
  if (!checked.ok()) return core::fail(checked.error());
  auto files = read_packed_files(checked->db.get(), from);
  if (!files.ok()) return core::fail(files.error());

  fs::create_directories(parent_of(layout.store_path), ec);
  if (ec)
    return core::fail(errno_error("cannot create " + parent_of(layout.store_path), ec.value()));
  const std::string tmp = layout.store_path + ".restore-tmp";
  for (const auto& p : with_sidecars(tmp)) {
    if (auto r = remove_path(p); !r.ok()) return core::fail(r.error());
  }
  RemoveUnlessKept cleanup(with_sidecars(tmp));
  if (auto r = write_store_copy(checked->db.get(), from, tmp); !r.ok())
    return core::fail(r.error());
  checked->db.reset();

  // The old store's -wal would be replayed into the new file: it goes first.
  for (const auto& p : with_sidecars(layout.store_path)) {
    if (p == layout.store_path) continue;
    if (auto r = remove_path(p); !r.ok()) return core::fail(r.error());
  }
  if (auto r = rename_path(tmp, layout.store_path); !r.ok()) return core::fail(r.error());
  cleanup.keep();
  if (auto r = sync_path(parent_of(layout.store_path), true); !r.ok()) return core::fail(r.error());
  for (const auto& dir : layout.file_dirs) {
    if (auto r = restore_dir(layout, dir, *files); !r.ok()) return core::fail(r.error());
  }
  return checked->info;
}

}  // namespace ecomon::storage
