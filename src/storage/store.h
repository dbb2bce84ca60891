// The store: every accepted frame (raw bytes and provenance) and every value in it, kept with
// versions and a change feed. Raw data is never overwritten: a value that differs from the stored
// one for the same key is a new version; the same value again is a duplicate, stored once.
//
// Value key: (mn, kind, measured_ms, factor, field). Backends: storage/memory (tests),
// storage/sqlite (the embedded default); one contract test suite
// (tests/standards_zz_storage_contract_test.cpp) runs on every backend.
//
// Thread-safety: write() is called from one writer thread at a time; the read functions may be
// called from other threads concurrently with write().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ecomon::storage {

// rtd = HJ 212 CN 2011 real-time, minute = 2051, hour = 2061, day = 2031; other = anything else
// with values (running state 2021, ...).
enum class DataKind : std::uint8_t { kRealtime, kMinute, kHour, kDay, kOther };
std::string_view kind_name(DataKind k);  // "rtd", "minute", "hour", "day", "other"
std::optional<DataKind> parse_kind(std::string_view name);

// Quality bits of a stored value.
enum Quality : std::uint32_t {
  kQualityClockSuspect = 1u << 0,    // measured time beyond the tolerance in the future
  kQualityQuarantined = 1u << 1,     // from an unknown device under the `quarantine` policy
  kQualityPending = 1u << 2,         // from a pending (commissioning) device: never published
  kQualityResend = 1u << 3,          // sent again by the device (HJ 212-2025 RF=1, history upload)
  kQualityBelowDetection = 1u << 4,  // reported below the detection limit ("<0.01", "0.01L",
                                     // "ND"): `number` is empty, `text` keeps the report, and
                                     // detection_limit_of(text) gives the limit when it has one
};

// Values with these bits never become a site's latest value: a logger whose clock jumps to 2099
// must not pin latest(), and quarantined or pending data is never published.
inline constexpr std::uint32_t kQualityNotLatest =
    kQualityClockSuspect | kQualityQuarantined | kQualityPending;

// The detection limit in a below-detection report (core/non_detect.h): "<0.01" and "0.01L" give
// 0.01; "ND", "未检出" give nullopt.
std::optional<double> detection_limit_of(std::string_view text);
// True when `text` reports a value below the detection limit.
bool is_below_detection(std::string_view text);

struct Value {
  std::string site;    // site code at measured time ("" when the device has no site)
  std::string mn;      // device
  std::string factor;  // HJ 212-2017 code where known, else as sent
  std::string field;   // Rtd, Avg, Min, Max, Cou, ZsAvg, ...
  DataKind kind = DataKind::kRealtime;
  std::int64_t measured_ms = 0;  // UTC instant (HJ 212 DataTime converted from UTC+8)
  std::int64_t received_ms = 0;  // UTC instant the frame arrived
  std::optional<double> number;  // the value, when numeric
  std::string text;              // the value as sent (always kept)
  std::string flag;              // device data flag (N, D, M, ...), "" if none
  std::uint64_t frame_id = 0;    // the frame it came in (assigned by write())
  std::uint32_t version = 1;     // assigned by write(): 1, then +1 for each different value
  std::uint32_t quality = 0;     // Quality bits
  std::uint64_t sequence = 0;    // change-feed sequence of this version (assigned by write())
};

struct Frame {
  std::uint64_t id = 0;  // assigned by write()
  std::string mn;
  std::string cn;
  std::string peer;  // "203.0.113.7:50412"
  std::int64_t received_ms = 0;
  std::string outcome;  // "stored", "duplicate", "quarantined", or a rejection reason
  std::string bytes;    // the frame exactly as received
};

struct FrameWrite {
  Frame frame;
  std::vector<Value> values;  // frame_id, version and sequence are assigned by write()
};

struct WriteResult {
  std::uint64_t first_frame_id = 0;  // ids of the batch's frames are consecutive from here
  std::size_t values_stored = 0;     // new keys
  std::size_t new_versions = 0;      // known keys with a different value
  std::size_t duplicates = 0;        // known keys with the same value (and flag): not stored again
  std::uint64_t last_sequence = 0;   // change feed position after this batch
};

struct RecordQuery {
  std::string mn;                    // required
  std::optional<DataKind> kind;      // all kinds when absent
  std::int64_t from_ms = INT64_MIN;  // measured time, inclusive
  std::int64_t to_ms = INT64_MAX;    // measured time, exclusive
  std::size_t limit = 10000;
};

struct SeriesQuery {
  std::string site;    // required
  std::string factor;  // required
  std::optional<DataKind> kind;
  std::int64_t from_ms = INT64_MIN;
  std::int64_t to_ms = INT64_MAX;
  std::size_t limit = 100000;
};

// One entry of the change feed: a value version was committed.
struct Change {
  std::uint64_t sequence = 0;
  Value value;
};

class Store {
 public:
  virtual ~Store() = default;

  // Commits the frames and their values in one transaction; durable (fsynced) when it returns ok.
  // All or nothing: on error nothing of the batch is stored (and the ids written into `batch` mean
  // nothing). Values are processed in batch order, so a key repeated within the batch is
  // deduplicated too. A duplicate gets the version it repeats and sequence 0 (not in the feed).
  // Errors: `bad_value` (a value without factor or field, or a kind out of range: a caller's bug
  // that fails the whole batch, so check values before batching), or the backend's (its header).
  virtual core::Result<WriteResult> write(std::vector<FrameWrite>& batch) = 0;

  // Every stored value version of a device, ordered by measured time, factor, field, kind, version.
  virtual core::Result<std::vector<Value>> records(const RecordQuery& q) const = 0;
  // The latest version of the values of one site and factor, ordered by measured time (then kind,
  // field, mn). A key whose latest version names another site is not in this site's series.
  virtual core::Result<std::vector<Value>> series(const SeriesQuery& q) const = 0;
  // The latest value of each (factor, field, kind) of a site by measured time (not by arrival),
  // ordered by factor, field, kind; a tie in measured time goes to the later write. (A later
  // version that names another site does not take the value out of the old site's latest.)
  virtual core::Result<std::vector<Value>> latest(std::string_view site) const = 0;
  // A stored frame.
  virtual core::Result<std::optional<Frame>> frame(std::uint64_t id) const = 0;
  // Changes after `after_sequence`, oldest first, at most `limit`.
  virtual core::Result<std::vector<Change>> changes(std::uint64_t after_sequence,
                                                    std::size_t limit) const = 0;
  // Counts for /metrics and tests.
  virtual core::Result<std::uint64_t> value_count() const = 0;
  virtual core::Result<std::uint64_t> frame_count() const = 0;
};

}  // namespace ecomon::storage
