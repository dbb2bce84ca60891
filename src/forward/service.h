// Delivery to one upstream platform (数据转发, DESIGN.md "forward ── outbox per upstream
// platform, acknowledged delivery ledger").
//
// A ForwardService tails Store::changes from its own durable cursor (forward_cursor row `name`),
// turns each batch into HJ 212 uploads (frames.h) and sends them over TCP to the upstream, which
// is the server: we connect to it like a data logger. Every frame asks for a 9014 (Flag ack bit)
// and counts as delivered only when the 9014 with its QN arrives. At most `max_in_flight` frames
// wait for their 9014; on an ack timeout, a dropped connection or a frame from the upstream that
// does not decode, the connection is closed and opened again after a back-off (retry_min_ms
// doubling to retry_max_ms, reset by an ack), and sending resumes at the first unacknowledged
// frame with the same QN (a retry keeps its QN, HJ212-2025.md "Resend handling").
//
// At-least-once: the cursor moves, in the transaction that records an ack, only past changes
// whose frames are all acknowledged (to the batch's end once every frame of it is). A restart or
// an outage therefore never loses a value; an ack lost on the way, or a restart in the middle of a
// batch, makes the upstream receive some frames twice (it deduplicates by MN + CN + DataTime +
// factor, as HJ 212 receivers do). Nothing is dropped on the way: frames are built again from the
// store after a restart.
//
// Tables, in the store's SQLite file through the service's own connection (synchronous=FULL):
//   forward_cursor(upstream, sequence)
//   forward_ledger(id, upstream, qn, mn, local_mn, cn, data_ms, seq_from, seq_to, n_values,
//                  reason, first_sent_ms, last_sent_ms, attempts, acked_ms)
// one ledger row per frame, written when it is first sent, updated at each re-send and at its
// ack. Acknowledged rows older than ledger_keep_days (by ack time) are deleted once an hour; 0
// keeps them all. Unacknowledged rows are never deleted.
//
// Thread-safety: every public method may be called from any thread; the network runs on the
// service's own thread (a private Boost.Asio io_context) between start() and stop().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "forward/frames.h"
#include "protocol/hj212/message.h"
#include "storage/store.h"

namespace ecomon::forward {

struct ForwardOptions {
  std::string name;  // the upstream's name: the ledger's and the cursor's key
  std::string host;
  std::uint16_t port = 0;
  protocol::hj212::Version version = protocol::hj212::Version::k2017;  // k2017 or k2025
  std::string pw;  // the access password the upstream assigned
  Selection selection;
  std::int64_t ack_timeout_ms = 10000;
  std::size_t max_in_flight = 1;
  bool from_beginning = false;  // the first start: the whole feed, else only what comes next
  std::int64_t connect_timeout_ms = 10000;
  std::int64_t retry_min_ms = 1000;
  std::int64_t retry_max_ms = 60000;
  std::int64_t poll_ms = 200;      // the thread's fallback wake-up
  std::size_t batch_limit = 2000;  // changes read at once
  std::int64_t ledger_keep_days = 400;
};

struct ForwardStatus {
  std::string name;
  std::string host;
  std::uint16_t port = 0;
  bool connected = false;
  std::uint64_t cursor = 0;
  std::uint64_t feed_end = 0;      // the newest change-feed sequence
  std::uint64_t backlog = 0;       // changes after the cursor (feed_end − cursor)
  std::size_t frames_pending = 0;  // frames of the current batch not yet acknowledged
  std::optional<std::int64_t> last_ack_ms;
  std::string last_error;  // "" when none since the last ack
  std::optional<std::int64_t> last_error_ms;
  std::uint64_t frames_sent = 0;  // first sendings
  std::uint64_t frames_acked = 0;
  std::uint64_t frames_retried = 0;  // re-sendings
  std::uint64_t values_acked = 0;
  std::uint64_t connects = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t ack_timeouts = 0;
  std::uint64_t bad_replies = 0;      // undecodable bytes or frames from the upstream
  std::uint64_t ignored_replies = 0;  // decoded frames that acknowledge nothing in flight
};

struct LedgerRow {
  std::int64_t id = 0;
  std::string qn;
  std::string mn;  // as sent
  std::string local_mn;
  int cn = 0;
  std::int64_t data_ms = 0;
  std::uint64_t seq_from = 0;
  std::uint64_t seq_to = 0;
  std::int64_t values = 0;
  std::string reason;  // live, late, new_version
  std::int64_t first_sent_ms = 0;
  std::int64_t last_sent_ms = 0;
  std::int64_t attempts = 0;
  std::optional<std::int64_t> acked_ms;
};

struct LedgerQuery {
  std::string mn;                    // ours or the upstream's; empty: all
  std::int64_t from_ms = INT64_MIN;  // data time, inclusive
  std::int64_t to_ms = INT64_MAX;    // data time, exclusive
  std::size_t limit = 100;
};

class ForwardService {
 public:
  // Opens (creating the tables) the store's SQLite file at `path`; `store` is the change feed.
  // Errors: cannot_open, db_error, bad_config (no name, host or port; a version other than 2017
  // or 2025; max_in_flight 0).
  static core::Result<std::unique_ptr<ForwardService>> open(const std::string& path,
                                                            const storage::Store& store,
                                                            const core::Clock& clock,
                                                            ForwardOptions options);
  ~ForwardService();
  ForwardService(const ForwardService&) = delete;
  ForwardService& operator=(const ForwardService&) = delete;

  void start();
  void stop();  // idempotent; unacknowledged frames are sent again after the next start
  // New changes are in the store (the app calls it after each ingest commit).
  void notify();

  const ForwardOptions& options() const;
  ForwardStatus status() const;
  // Newest first (by data time, then id).
  core::Result<std::vector<LedgerRow>> ledger(const LedgerQuery& q) const;

  class Impl;

 private:
  explicit ForwardService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// JSON of GET /api/v1/forward: {"upstreams":[{name, host, port, connected, cursor, ...}]}.
std::string status_json(const std::vector<ForwardStatus>& all);
// JSON of GET /api/v1/forward/{name}/ledger: {"upstream":name,"frames":[...]}.
std::string ledger_json(const std::string& name, const std::vector<LedgerRow>& rows);

// The newest sequence of the change feed (0 when empty), found with O(log n) one-row reads.
core::Result<std::uint64_t> feed_end(const storage::Store& store);

}  // namespace ecomon::forward
