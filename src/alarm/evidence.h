// Evidence files of alarm handling (现场取证, issue #6 §3): photos, PDFs, lab sheets attached to an
// alarm (or its enforcement task). The bytes are stored once per content under the data directory
// by SHA-256 (DIR/evidence/ab/abcdef…, written to a temporary file, fsynced, renamed), and each
// upload is a row of `alarm_evidence` (alarm, uploader, time, sanitised name, type, size, sha256)
// in the store's SQLite file through this service's own connection, like the incidents. A file
// uploaded twice (to two alarms, say) is stored once and listed twice.
//
// Limits, each with its reason (core::Error::reason) and a counter (refused()):
//   too_large      more than max_bytes (default 10 MiB) — the HTTP server allows this much only
//                  on the upload route (api/http_server.cpp)
//   empty          no bytes
//   bad_type       a Content-Type outside the whitelist: image/jpeg, image/png, application/pdf,
//                  text/plain, text/csv, and the Excel workbook type
//                  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet
//   type_mismatch  the bytes do not start as the type says (JPEG FF D8 FF, PNG 89 50 4E 47 0D 0A
//                  1A 0A, PDF "%PDF-", XLSX "PK\3\4"; text: valid UTF-8 without NUL), so a
//                  program cannot be uploaded as a "photo"
//   too_many       more than max_per_alarm files (default 100) on one alarm
// Names: sanitise_name() keeps the last path segment, drops control characters and characters
// that are special in file systems or headers (/ \ : * ? " < > | ;), leading dots and spaces, and
// keeps at most 120 bytes (whole UTF-8 characters); an empty result becomes "evidence". The name
// is only ever a label: the file on disk is named by its hash.
//
// Thread-safety: every method may be called from any thread (one mutex guards the connection).
// Errors also: cannot_open, db_error, io_error, not_found.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace ecomon::alarm {

struct Evidence {
  std::int64_t id = 0;
  std::int64_t alarm_id = 0;
  std::string uploader;  // user name, apikey:<id>
  std::int64_t at_ms = 0;
  std::string name;          // sanitised
  std::string content_type;  // one of the whitelist
  std::int64_t size = 0;     // bytes
  std::string sha256;        // lowercase hex
};

struct EvidenceOptions {
  std::size_t max_bytes = 10 * 1024 * 1024;
  std::size_t max_per_alarm = 100;
  int busy_timeout_ms = 10000;
};

// The name as stored and shown (see above). Pure.
std::string sanitise_name(std::string_view name);
// True for the whitelisted content types (parameters such as "; charset=utf-8" ignored).
bool evidence_type_allowed(std::string_view content_type);

class EvidenceService {
 public:
  // Opens (and creates the table in) the SQLite database at `db_path`; files go under `dir`
  // (created when missing).
  static core::Result<std::unique_ptr<EvidenceService>> open(const std::string& db_path,
                                                             const std::string& dir,
                                                             const core::Clock& clock,
                                                             EvidenceOptions options = {});
  ~EvidenceService();
  EvidenceService(const EvidenceService&) = delete;
  EvidenceService& operator=(const EvidenceService&) = delete;

  // Checks and stores one file for an alarm (the caller checked that the alarm exists and may be
  // touched by the uploader). Durable when it returns.
  core::Result<Evidence> add(std::int64_t alarm_id, const std::string& uploader,
                             std::string_view name, std::string_view content_type,
                             std::string_view bytes);
  core::Result<std::vector<Evidence>> list(std::int64_t alarm_id);  // oldest first
  // One file of an alarm and its bytes (not_found when the id is not this alarm's; io_error when
  // the file is missing or does not match its hash any more).
  core::Result<std::pair<Evidence, std::string>> read(std::int64_t alarm_id, std::int64_t id);

  // Uploads refused since start, by reason.
  std::map<std::string, std::uint64_t> refused();

  class Impl;

 private:
  explicit EvidenceService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecomon::alarm
