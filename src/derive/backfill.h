// Automatic backfill requests (自动补数, issue #5 §3): for a connected data logger with a gap in
// its minute, hourly or daily data, the platform asks the logger for the missing range (HJ 212
// CN 2051 / 2061 / 2031 with BeginTime and EndTime) and records what it asked and what came back.
//
// A scan (every scan_interval_ms, on its own thread) looks at each device that is online now and,
// for each of minute and hourly data the device sent within `lookback_ms` (daily data: within
// `day_lookback_ms`; a day is a Beijing civil day, stamped by its start), lists the holes: the
// periods between its first and its last period there with no value of any factor (a backfill
// request asks for whole records, not factors). A tail (nothing since some time) is not a hole
// yet: a device that is online either sends it now — a burst under way is not asked for again —
// or its next period makes it one. Runs of missing periods, cut at max_range_ms, are requested,
// bounded:
//   - not again: a range overlapping one requested for the same device and kind within
//     repeat_after_ms is skipped (counted as skipped_recent);
//   - in rate: at most one request in flight per device, max_in_flight in total, and
//     max_per_device_per_hour requests per device in any hour (skipped_rate_limited).
// BeginTime is the first missing period's start and EndTime the last missing period's start
// (HJ 212 DataTime stamps a period by its start; the range is inclusive of both, as the appendix
// examples request whole days with 000000 … 235959 — an ASSUMPTION: the standard's text is not in
// ../shared/reference). The device's answer (9011/9012, or none: timeout) is the request's
// outcome; `settle_ms` after it the range is counted again: missing_after and fulfilled
// (nothing missing any more). A request is a row of `backfill_requests` in the store's file (own
// connection, like the review service), so the trail survives restarts and is in backups.
//
// Sending is not done here: `Sender` (the app: encoder + Gateway::send_command) sends the command
// and calls `done(outcome)` once, from any thread (executed, refused, failed, timeout, offline,
// stopped). Thread-safety: every public method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "storage/store.h"

namespace ecomon::derive {

struct BackfillOptions {
  bool enabled = false;  // config [backfill] enabled; off: no scans, the table is still served
  std::int64_t scan_interval_ms = 60'000;
  std::int64_t lookback_ms = 24 * 3'600'000LL;
  std::int64_t day_lookback_ms = 7 * 24 * 3'600'000LL;  // daily data (CN 2031)
  std::int64_t repeat_after_ms = 6 * 3'600'000LL;
  int max_in_flight = 4;
  int max_per_device_per_hour = 4;
  std::int64_t max_range_ms = 24 * 3'600'000LL;
  std::int64_t settle_ms = 5'000;    // after the answer, before counting what came back
  std::int64_t timeout_ms = 60'000;  // passed to the sender: how long the device may take
};

struct BackfillRequest {
  std::int64_t id = 0;
  std::string mn;
  storage::DataKind kind = storage::DataKind::kHour;
  int cn = 2061;
  std::int64_t from_ms = 0;  // first missing period's start
  std::int64_t to_ms = 0;    // last missing period's end (exclusive)
  std::int64_t requested_ms = 0;
  std::string outcome = "pending";  // pending, executed, refused, failed, timeout, offline, stopped
  std::optional<std::int64_t> answered_ms;
  std::int64_t missing_before = 0;            // periods missing when asked
  std::optional<std::int64_t> missing_after;  // counted settle_ms after the answer
  std::optional<bool> fulfilled;              // missing_after == 0
};

struct BackfillCounters {
  std::uint64_t requests_sent = 0;
  std::map<std::string, std::uint64_t> outcomes;  // by outcome
  std::uint64_t fulfilled = 0;
  std::uint64_t skipped_recent = 0;
  std::uint64_t skipped_rate_limited = 0;
  std::uint64_t periods_recovered = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t scan_errors = 0;
};

class BackfillService {
 public:
  using Sender =
      std::function<void(const std::string& mn, int cn, std::int64_t begin_ms, std::int64_t end_ms,
                         std::int64_t timeout_ms, std::function<void(std::string outcome)> done)>;
  using OnlineDevices = std::function<std::vector<std::string>()>;

  // Opens (creating its table) the store's SQLite file at `path`. Errors: cannot_open, db_error.
  static core::Result<std::unique_ptr<BackfillService>> open(const std::string& path,
                                                             const storage::Store& store,
                                                             const core::Clock& clock,
                                                             BackfillOptions options);
  ~BackfillService();  // stop()

  // The app wires these before start(); without them scan() does nothing.
  void set_sender(Sender send);
  void set_online_devices(OnlineDevices online);

  // One scan: settles answered requests, then sends what the bounds allow. Returns the requests
  // sent. Tests call it directly with a fake clock; the thread calls it every scan_interval_ms.
  core::Result<int> scan();
  // Starts the scanning thread when enabled; stop() ends it (idempotent).
  void start();
  void stop();

  // Newest first; `mn` empty: every device.
  core::Result<std::vector<BackfillRequest>> requests(const std::string& mn,
                                                      std::size_t limit) const;
  BackfillCounters counters() const;
  const BackfillOptions& options() const;

 private:
  class Impl;
  explicit BackfillService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecomon::derive
