// Small SQLite helpers shared by the services that keep their own tables in the store's file
// through their own connection (auth, alarm, incidents): one way to open such a connection, one
// statement wrapper with positional binding, one error mapping. Header-only; no Store here.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ecomon::storage::sql {

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, CloseDb>;

struct Finalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Prepared = std::unique_ptr<sqlite3_stmt, Finalize>;

// "busy" when another connection holds the lock, "db_error" otherwise; the detail names `what`.
inline core::Error error(sqlite3* db, std::string_view what) {
  const int code = sqlite3_extended_errcode(db) & 0xff;
  const bool busy = code == SQLITE_BUSY || code == SQLITE_LOCKED;
  return core::Error{busy ? "busy" : "db_error", std::string(what) + ": " + sqlite3_errmsg(db)};
}

inline bool exec(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

// Opens an existing database read-write for a service: extended result codes, the busy timeout,
// synchronous=FULL (what it writes is fsynced like acknowledged values), foreign keys on.
// Errors: cannot_open, db_error.
inline core::Result<Connection> open_service_connection(const std::string& path,
                                                        int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  Connection db(raw);
  if (rc != SQLITE_OK) {
    return core::fail(
        core::Error{"cannot_open", path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))});
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  if (!exec(db.get(), "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")) {
    return core::fail(error(db.get(), path));
  }
  return db;
}

// One statement with positional binding: either prepared here and finalized at the end, or a
// cached one borrowed and reset (bindings cleared) at the end. A statement that failed to
// prepare makes every step() return SQLITE_ERROR.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql) : owned_(true) {
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &s_, nullptr) !=
        SQLITE_OK) {
      sqlite3_finalize(s_);
      s_ = nullptr;
    }
  }
  explicit Statement(sqlite3_stmt* cached) : s_(cached) {}
  ~Statement() {
    if (owned_) {
      sqlite3_finalize(s_);
    } else if (s_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return s_ != nullptr; }
  Statement& bind(std::string_view v) {
    // A null data pointer would bind NULL, not the empty string.
    if (s_) {
      sqlite3_bind_text(s_, ++n_, v.data() ? v.data() : "", static_cast<int>(v.size()),
                        SQLITE_TRANSIENT);
    }
    return *this;
  }
  Statement& bind(std::int64_t v) {
    if (s_) sqlite3_bind_int64(s_, ++n_, v);
    return *this;
  }
  Statement& bind(double v) {
    if (s_) sqlite3_bind_double(s_, ++n_, v);
    return *this;
  }
  Statement& bind(std::optional<double> v) { return v ? bind(*v) : bind_null(); }
  Statement& bind(std::optional<std::int64_t> v) { return v ? bind(*v) : bind_null(); }
  Statement& bind_null() {
    if (s_) sqlite3_bind_null(s_, ++n_);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return s_ ? sqlite3_step(s_) : SQLITE_ERROR; }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
  double real(int col) const { return sqlite3_column_double(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::optional<double> opt_real(int col) const {
    return is_null(col) ? std::nullopt : std::optional<double>(real(col));
  }
  std::optional<std::int64_t> opt_integer(int col) const {
    return is_null(col) ? std::nullopt : std::optional<std::int64_t>(integer(col));
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  bool owned_ = false;
  int n_ = 0;
};

}  // namespace ecomon::storage::sql
