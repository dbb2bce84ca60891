#include "forward/service.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include "core/civil_time.h"
#include "core/json_writer.h"
#include "protocol/hj212/decoder.h"
#include "protocol/hj212/encoder.h"
#include "protocol/hj212/frame.h"
#include "storage/sqlite/sql.h"

namespace ecomon::forward {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Stmt = storage::sql::Statement;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS forward_cursor(
  upstream TEXT PRIMARY KEY,
  sequence INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS forward_ledger(
  id INTEGER PRIMARY KEY,
  upstream TEXT NOT NULL,
  qn TEXT NOT NULL,
  mn TEXT NOT NULL,
  local_mn TEXT NOT NULL,
  cn INTEGER NOT NULL,
  data_ms INTEGER NOT NULL,
  seq_from INTEGER NOT NULL,
  seq_to INTEGER NOT NULL,
  n_values INTEGER NOT NULL,
  reason TEXT NOT NULL,
  first_sent_ms INTEGER NOT NULL,
  last_sent_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  acked_ms INTEGER);
CREATE INDEX IF NOT EXISTS forward_ledger_by_data ON forward_ledger(upstream, data_ms);
CREATE INDEX IF NOT EXISTS forward_ledger_by_ack ON forward_ledger(upstream, acked_ms);
)sql";

// The ST of the frame a value came in ("22" when the archived frame cannot be read — it always
// can for a value in the store: frame and values are committed together).
std::string st_of_frame(const storage::Store& store, const storage::Value& v) {
  auto f = store.frame(v.frame_id);
  if (f && *f) {
    const std::string& b = (*f)->bytes;
    for (std::size_t at = b.find("ST="); at != std::string::npos; at = b.find("ST=", at + 1)) {
      if (at == 0 || (b[at - 1] != ';' && b[at - 1] != ',' &&
                      !std::isdigit(static_cast<unsigned char>(b[at - 1])))) {
        continue;
      }
      const std::size_t end = b.find_first_of(";,&", at + 3);
      if (end == std::string::npos) break;
      return b.substr(at + 3, end - at - 3);
    }
  }
  return "22";
}

}  // namespace

core::Result<std::uint64_t> feed_end(const storage::Store& store) {
  // changes(x, 1) is empty exactly when x >= the newest sequence.
  auto empty_after = [&](std::uint64_t x) -> core::Result<bool> {
    auto c = store.changes(x, 1);
    if (!c) return core::fail(c.error());
    return c->empty();
  };
  std::uint64_t lo = 0;  // a position with changes after it (or 0)
  std::uint64_t hi = 1;
  while (true) {
    auto e = empty_after(hi);
    if (!e) return core::fail(e.error());
    if (*e) break;
    lo = hi;
    hi *= 2;
  }
  auto e0 = empty_after(0);
  if (!e0) return core::fail(e0.error());
  if (*e0) return std::uint64_t{0};
  // Invariant: changes after lo exist, none after hi.
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    auto e = empty_after(mid);
    if (!e) return core::fail(e.error());
    (*e ? hi : lo) = mid;
  }
  return hi;
}

class ForwardService::Impl {
 public:
  Impl(const storage::Store& store, const core::Clock& clock, ForwardOptions o)
      : store_(store),
        clock_(clock),
        o_(std::move(o)),
        builder_(o_.selection, [&store](const storage::Value& v) { return st_of_frame(store, v); }),
        timer_(io_) {}

  // --- opening ---

  core::Result<void> open(const std::string& path) {
    if (o_.name.empty() || o_.host.empty() || o_.port == 0) {
      return core::fail(core::Error{"bad_config", "a forward upstream needs name, host and port"});
    }
    if (o_.version != protocol::hj212::Version::k2017 &&
        o_.version != protocol::hj212::Version::k2025) {
      return core::fail(core::Error{"bad_config", "forward version must be 2017 or 2025"});
    }
    if (o_.max_in_flight == 0) {
      return core::fail(core::Error{"bad_config", "forward max_in_flight must be >= 1"});
    }
    auto db = storage::sql::open_service_connection(path, 5000);
    if (!db) return core::fail(db.error());
    db_ = std::move(*db);
    if (!storage::sql::exec(db_.get(), kSchema)) return core::fail(err("schema"));
    {
      Stmt q(db_.get(), "SELECT sequence FROM forward_cursor WHERE upstream=?");
      q.bind(o_.name);
      const int rc = q.step();
      if (rc == SQLITE_ROW) {
        cursor_ = static_cast<std::uint64_t>(q.integer(0));
      } else if (rc == SQLITE_DONE) {
        std::uint64_t start = 0;
        if (!o_.from_beginning) {
          auto end = feed_end(store_);
          if (!end) return core::fail(end.error());
          start = *end;
        }
        Stmt ins(db_.get(), "INSERT INTO forward_cursor(upstream, sequence) VALUES(?, ?)");
        ins.bind(o_.name).bind(static_cast<std::int64_t>(start));
        if (ins.step() != SQLITE_DONE) return core::fail(err("cursor"));
        cursor_ = start;
      } else {
        return core::fail(err("cursor"));
      }
    }
    {
      // What the upstream already has decides which values are late (frames.h).
      Stmt q(db_.get(),
             "SELECT local_mn, cn, MAX(data_ms) FROM forward_ledger WHERE upstream=? GROUP BY "
             "local_mn, cn");
      q.bind(o_.name);
      int rc;
      while ((rc = q.step()) == SQLITE_ROW) {
        builder_.seen(q.text(0), static_cast<int>(q.integer(1)), q.integer(2));
      }
      if (rc != SQLITE_DONE) return core::fail(err("ledger"));
    }
    st_.name = o_.name;
    st_.host = o_.host;
    st_.port = o_.port;
    st_.cursor = cursor_;
    return {};
  }

  core::Error err(std::string_view what) const { return storage::sql::error(db_.get(), what); }

  // --- the batch: frames built from the feed after the cursor ---

  struct Pending {
    OutFrame frame;
    std::string qn;
    std::int64_t ledger_id = 0;  // 0: never sent
    std::int64_t sent_ms = 0;    // the latest sending on the current connection
    bool in_flight = false;
    bool acked = false;
    std::int64_t acked_ms = 0;
    bool ack_recorded = false;  // acked_ms is in the ledger
  };

  // Reads the next batch when the current one is done. Returns false on a store error.
  core::Result<void> fill() {
    if (!batch_.empty()) {
      // Every frame acknowledged but the cursor not written (the database refused): again.
      if (pending_count() == 0) return advance_cursor();
      return {};
    }
    prune();
    auto changes = store_.changes(cursor_, o_.batch_limit);
    if (!changes) return core::fail(changes.error());
    if (changes->empty()) return {};
    batch_end_ = changes->back().sequence;
    for (auto& f : builder_.build(*changes)) {
      Pending p;
      p.frame = std::move(f);
      batch_.push_back(std::move(p));
    }
    if (batch_.empty()) return advance_cursor();  // nothing this upstream takes
    next_ = 0;
    set_pending();
    return {};
  }

  // The cursor after the acknowledged frames: below the first unacknowledged frame's first
  // change, or the batch's end when all are acknowledged; written in one transaction with the
  // acks not yet in the ledger.
  core::Result<void> advance_cursor() {
    std::uint64_t to = batch_end_;
    for (const auto& p : batch_) {
      if (!p.acked) to = std::min(to, p.frame.seq_from - 1);
    }
    to = std::max(to, cursor_);
    if (!storage::sql::exec(db_.get(), "BEGIN IMMEDIATE")) return core::fail(err("begin"));
    auto rollback = [&](const char* what) {
      auto e = err(what);
      storage::sql::exec(db_.get(), "ROLLBACK");
      return core::fail(e);
    };
    for (const auto& p : batch_) {
      if (!p.acked || p.ack_recorded) continue;
      Stmt q(db_.get(), "UPDATE forward_ledger SET acked_ms=? WHERE id=?");
      q.bind(p.acked_ms).bind(p.ledger_id);
      if (q.step() != SQLITE_DONE) return rollback("ack");
    }
    if (to != cursor_) {
      Stmt q(db_.get(), "UPDATE forward_cursor SET sequence=? WHERE upstream=?");
      q.bind(static_cast<std::int64_t>(to)).bind(o_.name);
      if (q.step() != SQLITE_DONE) return rollback("cursor");
    }
    if (!storage::sql::exec(db_.get(), "COMMIT")) return rollback("commit");
    for (auto& p : batch_) p.ack_recorded = p.acked;
    cursor_ = to;
    if (std::all_of(batch_.begin(), batch_.end(), [](const Pending& p) { return p.acked; })) {
      batch_.clear();
      next_ = 0;
    }
    std::lock_guard lock(mu_);
    st_.cursor = cursor_;
    return {};
  }

  void prune() {
    if (o_.ledger_keep_days <= 0) return;
    const std::int64_t now = clock_.now_ms();
    if (now - last_prune_ms_ < 3'600'000) return;
    last_prune_ms_ = now;
    Stmt q(db_.get(),
           "DELETE FROM forward_ledger WHERE upstream=? AND acked_ms IS NOT NULL AND acked_ms<?");
    q.bind(o_.name).bind(now - o_.ledger_keep_days * 86'400'000);
    if (q.step() != SQLITE_DONE) note_error("ledger prune: " + err("prune").detail);
  }

  // A QN unique for this upstream: the Beijing time in ms, moved on when two frames share a ms.
  std::string make_qn() {
    std::int64_t ms = std::max(clock_.now_ms(), last_qn_ms_ + 1);
    last_qn_ms_ = ms;
    const auto t = core::civil_from_unix_ms(ms, core::kChinaUtcOffsetSeconds);
    char b[8];
    std::snprintf(b, sizeof b, "%03u", static_cast<unsigned>(t.millisecond));
    return protocol::hj212::format_hj212_time(t) + b;
  }

  // Records a sending in the ledger (inside send_ready's transaction); false when the database
  // refused.
  bool record_sending(Pending& p, std::int64_t now) {
    if (p.ledger_id == 0) {
      p.qn = make_qn();
      Stmt q(
          db_.get(),
          "INSERT INTO forward_ledger(upstream, qn, mn, local_mn, cn, data_ms, seq_from, seq_to, "
          "n_values, reason, first_sent_ms, last_sent_ms, attempts) "
          "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,1)");
      q.bind(o_.name).bind(p.qn).bind(p.frame.mn).bind(p.frame.local_mn);
      q.bind(static_cast<std::int64_t>(p.frame.cn)).bind(p.frame.data_ms);
      q.bind(static_cast<std::int64_t>(p.frame.seq_from))
          .bind(static_cast<std::int64_t>(p.frame.seq_to));
      q.bind(static_cast<std::int64_t>(p.frame.values)).bind(reason_name(p.frame.reason));
      q.bind(now).bind(now);
      if (q.step() != SQLITE_DONE) {
        note_error("ledger: " + err("insert").detail);
        return false;
      }
      p.ledger_id = sqlite3_last_insert_rowid(db_.get());
    } else {
      Stmt q(db_.get(), "UPDATE forward_ledger SET attempts=attempts+1, last_sent_ms=? WHERE id=?");
      q.bind(now).bind(p.ledger_id);
      if (q.step() != SQLITE_DONE) {
        note_error("ledger: " + err("update").detail);
        return false;
      }
    }
    return true;
  }

  // --- the connection ---

  void note_error(std::string e) {
    const std::int64_t now = clock_.now_ms();
    if (now - last_log_ms_ >= 10000) {  // one line per 10 s at most
      last_log_ms_ = now;
      std::fprintf(stderr, "ecomon forward %s: %s\n", o_.name.c_str(), e.c_str());
    }
    std::lock_guard lock(mu_);
    st_.last_error = std::move(e);
    st_.last_error_ms = now;
  }

  // Closes the connection; what was in flight is sent again (same QN) after the back-off.
  void drop(std::string why) {
    if (!socket_) return;
    boost::system::error_code ignored;
    socket_->close(ignored);
    socket_.reset();
    ++generation_;
    writing_ = false;
    framer_ = protocol::hj212::Framer();
    for (auto& p : batch_) p.in_flight = false;
    next_ = first_unacked();
    next_connect_ms_ = clock_.now_ms() + backoff_ms_;
    backoff_ms_ = std::min(backoff_ms_ * 2, o_.retry_max_ms);
    note_error(std::move(why));
    std::lock_guard lock(mu_);
    st_.connected = false;
  }

  std::size_t first_unacked() const {
    for (std::size_t i = 0; i < batch_.size(); ++i) {
      if (!batch_[i].acked) return i;
    }
    return batch_.size();
  }

  void connect() {
    ++generation_;
    const std::uint64_t gen = generation_;
    boost::system::error_code ec;
    tcp::resolver resolver(io_);
    const auto endpoints = resolver.resolve(o_.host, std::to_string(o_.port), ec);
    auto failed = [&](const std::string& why) {
      next_connect_ms_ = clock_.now_ms() + backoff_ms_;
      backoff_ms_ = std::min(backoff_ms_ * 2, o_.retry_max_ms);
      note_error(why);
      std::lock_guard lock(mu_);
      ++st_.connect_failures;
    };
    if (ec) return failed("resolve " + o_.host + ": " + ec.message());
    auto socket = std::make_shared<tcp::socket>(io_);
    auto result = std::make_shared<std::optional<boost::system::error_code>>();
    asio::async_connect(
        *socket, endpoints,
        [this, result, socket](const boost::system::error_code& e, const tcp::endpoint&) {
          *result = e;
          io_.stop();
        });
    const std::int64_t deadline = clock_.now_ms() + o_.connect_timeout_ms;
    while (!*result && !stopping_ && clock_.now_ms() < deadline) {
      wait_ms(deadline - clock_.now_ms());
    }
    if (!*result) {
      socket->close(ec);  // the handler runs later with operation_aborted; it holds `result`
      if (stopping_) return;
      return failed("connect " + o_.host + ":" + std::to_string(o_.port) + ": timeout");
    }
    if (**result) {
      return failed("connect " + o_.host + ":" + std::to_string(o_.port) + ": " +
                    (*result)->message());
    }
    if (gen != generation_) return;
    socket_ = std::move(socket);
    socket_->set_option(tcp::no_delay(true), ec);
    {
      std::lock_guard lock(mu_);
      st_.connected = true;
      ++st_.connects;
    }
    read();
  }

  void read() {
    const std::uint64_t gen = generation_;
    auto s = socket_;
    s->async_read_some(asio::buffer(read_buf_), [this, gen, s](const boost::system::error_code& e,
                                                               std::size_t n) {
      if (gen != generation_) return;
      if (e) {
        drop(e == asio::error::eof ? "the upstream closed the connection" : "read: " + e.message());
        io_.stop();
        return;
      }
      on_bytes(std::string_view(read_buf_.data(), n));
      record_acks();
      if (gen == generation_) read();
      io_.stop();  // let the loop look at what the bytes acknowledged
    });
  }

  void on_bytes(std::string_view bytes) {
    framer_.feed(bytes);
    while (socket_) {
      const std::uint64_t skipped = framer_.skipped_bytes();
      auto r = framer_.next();
      if (framer_.skipped_bytes() != skipped) {
        bad_reply("bytes outside any HJ 212 frame from the upstream");
        return;
      }
      if (!r) return;
      if (r->status != protocol::hj212::ScanStatus::kFrame) {
        bad_reply("bad frame from the upstream: " + r->detail);
        return;
      }
      auto m = protocol::hj212::decode(r->frame, {});
      if (!m) {
        bad_reply("bad frame from the upstream: " +
                  std::string(protocol::hj212::reason_code(m.error().reason)) + " " +
                  m.error().detail);
        return;
      }
      on_message(*m);
    }
  }

  void bad_reply(std::string why) {
    {
      std::lock_guard lock(mu_);
      ++st_.bad_replies;
    }
    drop(std::move(why));
  }

  void on_message(const protocol::hj212::Message& m) {
    const auto qn = m.request_qn();
    if (m.cn_code == 9014 && qn) {
      for (std::size_t i = 0; i < batch_.size(); ++i) {
        Pending& p = batch_[i];
        if (!p.in_flight || p.qn != *qn) continue;
        const std::int64_t now = clock_.now_ms();
        p.in_flight = false;
        p.acked = true;
        p.acked_ms = now;
        backoff_ms_ = o_.retry_min_ms;
        acks_to_record_ = true;  // record_acks(), once per read
        const std::size_t values = p.frame.values;
        std::lock_guard lock(mu_);
        ++st_.frames_acked;
        st_.values_acked += values;
        st_.last_ack_ms = now;
        st_.last_error.clear();
        st_.frames_pending = pending_count();
        return;
      }
    }
    // An answer to nothing in flight (a late 9014 of a frame already acknowledged, a 9013, a
    // command we do not execute): counted, otherwise ignored.
    std::lock_guard lock(mu_);
    ++st_.ignored_replies;
  }

  // Writes the acks of one read and the cursor in one transaction. On failure the acks stay in
  // memory and are written with the next ones (fill() retries when the whole batch is
  // acknowledged); a restart in between sends those frames again (at-least-once).
  void record_acks() {
    if (!acks_to_record_) return;
    acks_to_record_ = false;
    if (auto r = advance_cursor(); !r) note_error("ledger: " + r.error().detail);
  }

  std::size_t pending_count() const {
    return static_cast<std::size_t>(
        std::count_if(batch_.begin(), batch_.end(), [](const Pending& p) { return !p.acked; }));
  }

  void set_pending() {
    std::lock_guard lock(mu_);
    st_.frames_pending = pending_count();
  }

  // Sends frames up to max_in_flight, in order, as one write.
  void send_ready() {
    if (!socket_ || writing_) return;
    std::size_t in_flight = static_cast<std::size_t>(
        std::count_if(batch_.begin(), batch_.end(), [](const Pending& p) { return p.in_flight; }));
    std::vector<std::size_t> chosen;
    for (; in_flight + chosen.size() < o_.max_in_flight && next_ < batch_.size(); ++next_) {
      if (!batch_[next_].acked && !batch_[next_].in_flight) chosen.push_back(next_);
    }
    if (chosen.empty()) return;
    // The ledger rows of one write in one transaction; undone together when it fails.
    const std::int64_t now = clock_.now_ms();
    std::vector<std::pair<std::int64_t, std::string>> before;
    bool ok = storage::sql::exec(db_.get(), "BEGIN IMMEDIATE");
    for (const std::size_t i : chosen) {
      before.emplace_back(batch_[i].ledger_id, batch_[i].qn);
      if (!ok || !record_sending(batch_[i], now)) {
        ok = false;
        break;
      }
    }
    if (ok) ok = storage::sql::exec(db_.get(), "COMMIT");
    if (!ok) {
      note_error("ledger: " + err("sending").detail);
      storage::sql::exec(db_.get(), "ROLLBACK");
      for (std::size_t k = 0; k < before.size(); ++k) {
        batch_[chosen[k]].ledger_id = before[k].first;
        batch_[chosen[k]].qn = before[k].second;
      }
      next_ = chosen.front();
      return;
    }
    auto bytes = std::make_shared<std::string>();
    for (std::size_t k = 0; k < chosen.size(); ++k) {
      Pending& p = batch_[chosen[k]];
      *bytes += protocol::hj212::encode_frame(p.frame.segment(p.qn, o_.pw, o_.version));
      p.in_flight = true;
      p.sent_ms = now;
      std::lock_guard lock(mu_);
      ++(before[k].first == 0 ? st_.frames_sent : st_.frames_retried);
    }
    if (bytes->empty()) return;
    writing_ = true;
    const std::uint64_t gen = generation_;
    auto s = socket_;
    asio::async_write(*s, asio::buffer(*bytes),
                      [this, gen, s, bytes](const boost::system::error_code& e, std::size_t) {
                        if (gen != generation_) return;
                        writing_ = false;
                        if (e) drop("write: " + e.message());
                        io_.stop();
                      });
  }

  // Runs the io_context for up to `ms` or until a handler, notify() or stop() stops it.
  void wait_ms(std::int64_t ms) {
    io_.restart();
    timer_.expires_after(std::chrono::milliseconds(std::max<std::int64_t>(ms, 0)));
    timer_.async_wait([this](const boost::system::error_code& e) {
      if (!e) io_.stop();
    });
    io_.run();
    timer_.cancel();
  }

  void wake() {
    if (wake_posted_.exchange(true)) return;
    asio::post(io_, [this] {
      wake_posted_ = false;
      io_.stop();
    });
  }

  void loop() {
    backoff_ms_ = o_.retry_min_ms;
    while (!stopping_) {
      const std::int64_t now = clock_.now_ms();
      if (!socket_) {
        if (now < next_connect_ms_) {
          wait_ms(std::min(next_connect_ms_ - now, o_.poll_ms));
        } else {
          connect();
        }
        continue;
      }
      if (auto r = fill(); !r) note_error(r.error().reason + ": " + r.error().detail);
      send_ready();
      if (!socket_) continue;
      // The oldest frame in flight decides how long an ack may take.
      std::optional<std::int64_t> deadline;
      for (const auto& p : batch_) {
        if (p.in_flight)
          deadline = std::min(deadline.value_or(INT64_MAX), p.sent_ms + o_.ack_timeout_ms);
      }
      if (deadline && now >= *deadline) {
        {
          std::lock_guard lock(mu_);
          ++st_.ack_timeouts;
        }
        const auto& p = *std::find_if(batch_.begin(), batch_.end(),
                                      [](const Pending& x) { return x.in_flight; });
        drop("ack_timeout: no 9014 for QN " + p.qn + " within " +
             std::to_string(o_.ack_timeout_ms) + " ms");
        continue;
      }
      wait_ms(std::min(deadline ? *deadline - now : o_.poll_ms, o_.poll_ms));
    }
    boost::system::error_code ignored;
    if (socket_) socket_->close(ignored);
    socket_.reset();
    ++generation_;
    io_.restart();
    io_.poll();  // the closed socket's handlers, so nothing refers to this thread's state later
    std::lock_guard lock(mu_);
    st_.connected = false;
  }

  void start() {
    std::lock_guard lock(thread_mu_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    thread_ = std::thread([this] { loop(); });
  }

  void stop() {
    {
      std::lock_guard lock(thread_mu_);
      if (!running_) return;
      stopping_ = true;
    }
    asio::post(io_, [this] { io_.stop(); });
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(thread_mu_);
    running_ = false;
    batch_.clear();  // rebuilt from the cursor at the next start
  }

  ForwardStatus status() const {
    ForwardStatus s;
    {
      std::lock_guard lock(mu_);
      s = st_;
    }
    if (auto end = feed_end(store_); end) {
      s.feed_end = *end;
      s.backlog = *end > s.cursor ? *end - s.cursor : 0;
    }
    return s;
  }

  core::Result<std::vector<LedgerRow>> ledger(const LedgerQuery& q) const {
    std::lock_guard lock(read_mu_);
    if (!read_db_) {
      // A connection of its own: the API's threads never wait for the sending thread's.
      auto db = storage::sql::open_service_connection(path_, 5000);
      if (!db) return core::fail(db.error());
      read_db_ = std::move(*db);
    }
    Stmt s(read_db_.get(),
           "SELECT id, qn, mn, local_mn, cn, data_ms, seq_from, seq_to, n_values, reason, "
           "first_sent_ms, last_sent_ms, attempts, acked_ms FROM forward_ledger WHERE upstream=? "
           "AND data_ms>=? AND data_ms<? AND (?='' OR mn=? OR local_mn=?) "
           "ORDER BY data_ms DESC, id DESC LIMIT ?");
    s.bind(o_.name).bind(q.from_ms).bind(q.to_ms).bind(q.mn).bind(q.mn).bind(q.mn);
    s.bind(static_cast<std::int64_t>(q.limit));
    std::vector<LedgerRow> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      LedgerRow r;
      r.id = s.integer(0);
      r.qn = s.text(1);
      r.mn = s.text(2);
      r.local_mn = s.text(3);
      r.cn = static_cast<int>(s.integer(4));
      r.data_ms = s.integer(5);
      r.seq_from = static_cast<std::uint64_t>(s.integer(6));
      r.seq_to = static_cast<std::uint64_t>(s.integer(7));
      r.values = s.integer(8);
      r.reason = s.text(9);
      r.first_sent_ms = s.integer(10);
      r.last_sent_ms = s.integer(11);
      r.attempts = s.integer(12);
      r.acked_ms = s.opt_integer(13);
      out.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return core::fail(storage::sql::error(read_db_.get(), "ledger"));
    return out;
  }

  const storage::Store& store_;
  const core::Clock& clock_;
  const ForwardOptions o_;
  std::string path_;

  // The sending thread's state (touched only there, and by stop() after the join).
  storage::sql::Connection db_;
  FrameBuilder builder_;
  std::uint64_t cursor_ = 0;
  std::uint64_t batch_end_ = 0;
  std::deque<Pending> batch_;
  std::size_t next_ = 0;  // the next frame to send
  std::int64_t last_qn_ms_ = 0;
  std::int64_t last_prune_ms_ = 0;
  std::int64_t last_log_ms_ = 0;
  std::int64_t next_connect_ms_ = 0;
  std::int64_t backoff_ms_ = 1000;
  asio::io_context io_;
  asio::steady_timer timer_;
  std::shared_ptr<tcp::socket> socket_;
  std::uint64_t generation_ = 0;  // handlers of an older connection do nothing
  bool writing_ = false;
  protocol::hj212::Framer framer_;
  std::array<char, 4096> read_buf_{};
  std::atomic<bool> wake_posted_{false};
  bool acks_to_record_ = false;

  // Shared with the API's threads.
  mutable std::mutex mu_;
  ForwardStatus st_;
  mutable std::mutex read_mu_;
  mutable storage::sql::Connection read_db_;

  std::mutex thread_mu_;
  bool running_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

ForwardService::ForwardService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ForwardService::~ForwardService() { impl_->stop(); }

core::Result<std::unique_ptr<ForwardService>> ForwardService::open(const std::string& path,
                                                                   const storage::Store& store,
                                                                   const core::Clock& clock,
                                                                   ForwardOptions options) {
  auto impl = std::make_unique<Impl>(store, clock, std::move(options));
  impl->path_ = path;
  if (auto r = impl->open(path); !r) return core::fail(r.error());
  return std::unique_ptr<ForwardService>(new ForwardService(std::move(impl)));
}

void ForwardService::start() { impl_->start(); }
void ForwardService::stop() { impl_->stop(); }
void ForwardService::notify() { impl_->wake(); }
const ForwardOptions& ForwardService::options() const { return impl_->o_; }
ForwardStatus ForwardService::status() const { return impl_->status(); }
core::Result<std::vector<LedgerRow>> ForwardService::ledger(const LedgerQuery& q) const {
  return impl_->ledger(q);
}

namespace {

void optional_time(core::JsonWriter& w, const char* key, const std::optional<std::int64_t>& ms) {
  w.key(key);
  if (ms) {
    w.value(core::format_beijing(*ms));
  } else {
    w.null();
  }
}

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

}  // namespace

std::string status_json(const std::vector<ForwardStatus>& all) {
  core::JsonWriter w;
  w.begin_object().key("upstreams").begin_array();
  for (const auto& s : all) {
    w.begin_object();
    w.key("name").value(s.name).key("host").value(s.host).key("port").value(std::int64_t{s.port});
    w.key("connected").value(s.connected).key("cursor").value(i64(s.cursor));
    w.key("feed_end").value(i64(s.feed_end)).key("backlog").value(i64(s.backlog));
    w.key("frames_pending").value(i64(s.frames_pending));
    optional_time(w, "last_ack_at", s.last_ack_ms);
    w.key("last_error");
    if (s.last_error.empty()) {
      w.null();
    } else {
      w.value(s.last_error);
    }
    optional_time(w, "last_error_at", s.last_error_ms);
    w.key("frames_sent").value(i64(s.frames_sent)).key("frames_acked").value(i64(s.frames_acked));
    w.key("frames_retried").value(i64(s.frames_retried));
    w.key("values_acked").value(i64(s.values_acked));
    w.key("connects").value(i64(s.connects)).key("connect_failures").value(i64(s.connect_failures));
    w.key("ack_timeouts").value(i64(s.ack_timeouts)).key("bad_replies").value(i64(s.bad_replies));
    w.key("ignored_replies").value(i64(s.ignored_replies));
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

std::string ledger_json(const std::string& name, const std::vector<LedgerRow>& rows) {
  core::JsonWriter w;
  w.begin_object().key("upstream").value(name).key("frames").begin_array();
  for (const auto& r : rows) {
    w.begin_object();
    w.key("id").value(r.id).key("qn").value(r.qn).key("mn").value(r.mn);
    w.key("local_mn").value(r.local_mn).key("cn").value(static_cast<std::int64_t>(r.cn));
    w.key("data_time").value(core::format_beijing(r.data_ms));
    w.key("seq_from").value(i64(r.seq_from)).key("seq_to").value(i64(r.seq_to));
    w.key("values").value(r.values).key("reason").value(r.reason);
    w.key("first_sent_at").value(core::format_beijing(r.first_sent_ms));
    w.key("last_sent_at").value(core::format_beijing(r.last_sent_ms));
    w.key("attempts").value(r.attempts);
    optional_time(w, "acked_at", r.acked_ms);
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

}  // namespace ecomon::forward
