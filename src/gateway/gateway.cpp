#include "gateway/gateway.h"

#include <boost/asio.hpp>
#include <charconv>
#include <cstdio>
#include <deque>
#include <set>

#include "net/listener.h"
#include "protocol/hj212/decoder.h"
#include "protocol/hj212/encoder.h"
#include "protocol/hj212/frame.h"

namespace ecomon::gateway {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace hj = protocol::hj212;

std::optional<UnknownDevicePolicy> parse_unknown_device_policy(std::string_view text) {
  if (text == "reject") return UnknownDevicePolicy::kReject;
  if (text == "quarantine") return UnknownDevicePolicy::kQuarantine;
  if (text == "accept") return UnknownDevicePolicy::kAccept;
  return std::nullopt;
}

namespace {

// The MN of a segment whose decoding failed, to find the device's own profile.
std::optional<std::string> peek_mn(std::string_view segment) {
  std::size_t at = segment.find("MN=");
  while (at != std::string_view::npos && at > 0 && segment[at - 1] != ';' &&
         segment[at - 1] != ',' && segment[at - 1] != ' ') {
    at = segment.find("MN=", at + 1);
  }
  if (at == std::string_view::npos) return std::nullopt;
  const std::size_t from = at + 3;
  std::size_t end = segment.find_first_of(";,", from);
  if (end == std::string_view::npos) end = segment.size();
  return std::string(segment.substr(from, end - from));
}

hj::DecodeOptions decode_options_for(const registry::Device& d) {
  hj::DecodeOptions o;
  o.crc_mode = hj::parse_crc_mode(d.profile.crc).value_or(hj::CrcMode::kHj212);
  o.accept_length_mismatch = d.profile.accept_length_mismatch;
  if (!d.profile.sm4_key_hex.empty()) o.sm4_key = hj::parse_sm4_key(d.profile.sm4_key_hex);
  return o;
}

bool is_answer(int cn) { return cn >= 9011 && cn <= 9014; }

constexpr std::size_t kMaxTrackedDevices = 100000;
bool is_notice(int cn) { return cn == 1013 || cn == 9015 || cn == 1001 || cn == 1014; }

}  // namespace

class Connection;

class Gateway::Impl : public std::enable_shared_from_this<Gateway::Impl> {
 public:
  Impl(asio::io_context& io, ingest::Ingestor& ingestor, registry::RegistryHolder& registry,
       const core::Clock& clock, GatewayOptions options)
      : io_(io),
        acceptor_(io),
        ingestor_(ingestor),
        registry_(registry),
        clock_(clock),
        options_(options) {}

  core::Result<std::uint16_t> listen(const std::string& address, std::uint16_t port) {
    auto bound = net::listen_on(acceptor_, address, port);
    if (bound) accept();
    return bound;
  }

  void stop();
  void accept();

  // Counters, guarded by mutex_ (read from the API thread).
  void count_outcome(const std::string& outcome) {
    std::lock_guard lock(mutex_);
    ++counters_.frames_by_outcome[outcome];
  }
  template <class F>
  void with_counters(F f) {
    std::lock_guard lock(mutex_);
    f(counters_);
  }
  void seen(const std::string& mn, const std::string& peer, bool rejected) {
    std::lock_guard lock(mutex_);
    // Bounded: quarantined traffic with ever new MNs must not grow this without limit.
    if (devices_.size() >= kMaxTrackedDevices && !devices_.contains(mn)) return;
    DeviceStatus& d = devices_[mn];
    d.mn = mn;
    d.last_seen_ms = clock_.now_ms();
    d.peer = peer;
    ++d.frames;
    if (rejected) ++d.rejected;
  }
  // Rate-limited log: at most one line per key per second.
  void log(const std::string& key, const std::string& line) {
    const std::int64_t now = clock_.now_ms();
    {
      std::lock_guard lock(mutex_);
      std::int64_t& last = last_log_ms_[key];
      if (now - last < 1000) {
        ++suppressed_logs_;
        return;
      }
      last = now;
    }
    std::fprintf(stderr, "gateway: %s\n", line.c_str());
  }

  // Commands in flight, by (MN, QN); touched on the loop thread only.
  struct PendingCommand {
    std::function<void(CommandResult)> done;
    std::shared_ptr<asio::steady_timer> timer;
    int qn_rtn = 0;
  };
  void finish_command(const std::pair<std::string, std::string>& key, CommandResult result) {
    auto it = commands_.find(key);
    if (it == commands_.end()) return;
    auto pending = std::move(it->second);
    commands_.erase(it);
    pending.timer->cancel();
    result.qn_rtn = result.qn_rtn ? result.qn_rtn : pending.qn_rtn;
    pending.done(std::move(result));
  }
  // A 9011 or 9012 from a device: the answer to one of our commands, if its QN is ours.
  void on_answer(const std::string& mn, const hj::Message& m) {
    // 2005 answers carry the QN inside CP.
    const std::string_view qn = m.qn ? *m.qn : m.param("QN").value_or(std::string_view{});
    const auto key = std::make_pair(mn, std::string(qn));
    auto it = commands_.find(key);
    if (it == commands_.end()) return;
    auto number = [&](std::string_view name) {
      const auto v = m.param(name);
      int out = 0;
      if (v) std::from_chars(v->data(), v->data() + v->size(), out);
      return out;
    };
    if (m.cn_code == 9011) {
      it->second.qn_rtn = number("QnRtn");
      if (it->second.qn_rtn != 1)
        finish_command(key, CommandResult{"refused", it->second.qn_rtn, 0});
    } else if (m.cn_code == 9012) {
      const int exe = number("ExeRtn");
      finish_command(key, CommandResult{exe == 1 ? "executed" : "failed", 0, exe});
    }
  }
  std::map<std::pair<std::string, std::string>, PendingCommand> commands_;

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  ingest::Ingestor& ingestor_;
  registry::RegistryHolder& registry_;
  const core::Clock& clock_;
  GatewayOptions options_;
  std::set<std::shared_ptr<Connection>> connections_;
  bool stopped_ = false;

  mutable std::mutex mutex_;
  GatewayCounters counters_;
  std::map<std::string, DeviceStatus> devices_;
  std::map<std::string, std::int64_t> last_log_ms_;
  std::uint64_t suppressed_logs_ = 0;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Gateway::Impl> gw, tcp::socket socket)
      : gw_(std::move(gw)),
        socket_(std::move(socket)),
        idle_(gw_->io_),
        framer_(hj::Framer::Limits{gw_->options_.max_segment}) {
    boost::system::error_code ec;
    const auto ep = socket_.remote_endpoint(ec);
    peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
  }

  void start() {
    arm_idle();
    read();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    idle_.cancel();
    gw_->with_counters([](GatewayCounters& c) { --c.connections_open; });
    gw_->connections_.erase(shared_from_this());
  }

  const std::set<std::string>& mns() const { return mns_; }
  bool closed() const { return closed_; }
  std::int64_t last_frame_ms() const { return last_frame_ms_; }
  // Queues bytes the platform sends on its own (a command), after the replies already queued.
  void send_raw(std::string bytes) {
    out_ += bytes;
    write();
  }

 private:
  struct Reply {
    std::uint64_t id;
    bool ready = false;
    std::string bytes;           // empty: nothing to send (commit failed)
    std::string key_request_mn;  // a device's own 1014 (new key wanted): told after its 9013
    bool committed = false;
  };

  void arm_idle() {
    idle_.expires_after(std::chrono::milliseconds(gw_->options_.idle_timeout_ms));
    idle_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->closed_) return;
      self->gw_->with_counters([](GatewayCounters& c) { ++c.idle_timeouts; });
      self->close();
    });
  }

  void read() {
    if (closed_ || reading_ || read_closed_) return;
    // Backpressure: frames in flight, or replies the device does not read, pause reading; flush()
    // and the write completion resume it.
    if (replies_.size() >= gw_->options_.max_pending_replies) return;
    if (out_.size() + sending_.size() > gw_->options_.max_buffered_bytes) return;
    reading_ = true;
    socket_.async_read_some(asio::buffer(buf_), [self = shared_from_this()](
                                                    const boost::system::error_code& ec,
                                                    std::size_t n) {
      self->reading_ = false;
      if (self->closed_) return;
      if (ec == asio::error::eof) {
        // The device closed its side: a last frame without CR LF is complete now, and the
        // replies still owed are sent before the connection closes.
        self->read_closed_ = true;
        self->framer_.finish();
        while (auto r = self->framer_.next()) self->handle(*r);
        self->close_when_done();
        return;
      }
      if (ec) {
        self->close();
        return;
      }
      self->arm_idle();
      self->framer_.feed(std::string_view(self->buf_.data(), n));
      while (auto r = self->framer_.next()) {
        self->handle(*r);
        if (self->closed_) return;
      }
      if (self->framer_.buffered() > self->gw_->options_.max_buffered_bytes) {
        self->gw_->with_counters([](GatewayCounters& c) { ++c.buffer_overflows; });
        self->gw_->log("overflow", "max_buffered_bytes exceeded by " + self->peer_ + "; closing");
        self->close();
        return;
      }
      self->read();
    });
  }

  // Archives a frame that is not accepted (no values, no reply). `registered`: the MN is a known
  // device (its rejections are counted on it; unknown MNs are not, so junk cannot grow the map).
  void archive_rejected(const std::string& mn, const std::string& cn, std::string_view raw,
                        const std::string& outcome, const std::string& detail,
                        bool registered = false) {
    gw_->count_outcome(outcome);
    if (registered) gw_->seen(mn, peer_, true);
    gw_->log(outcome, outcome + " from " + peer_ + (mn.empty() ? "" : " MN=" + mn) + ": " + detail);
    storage::FrameWrite fw;
    fw.frame.mn = mn;
    fw.frame.cn = cn;
    fw.frame.peer = peer_;
    fw.frame.received_ms = gw_->clock_.now_ms();
    fw.frame.outcome = outcome;
    fw.frame.bytes = std::string(raw);
    submit(std::move(fw), std::string());
  }

  // Queues a frame for its durable commit. Every frame takes a slot in replies_, answered or not,
  // so replies keep frame order and max_pending_replies bounds what one connection has in flight.
  void submit(storage::FrameWrite fw, std::string reply, std::string key_request_mn = {}) {
    const std::uint64_t id = next_reply_id_++;
    replies_.push_back(Reply{id, false, {}, std::move(key_request_mn)});
    auto self = shared_from_this();
    asio::io_context& io = gw_->io_;
    const bool queued =
        gw_->ingestor_.submit(std::move(fw), [self, &io, id, reply = std::move(reply)](
                                                 const core::Result<ingest::Committed>& c) mutable {
          // Runs on the writer thread: hand everything, the last reference included, to the loop.
          asio::post(io, [self = std::move(self), id, ok = c.ok(), reply = std::move(reply)] {
            self->on_committed(id, ok, reply);
          });
        });
    if (!queued) on_committed(id, false, reply);
  }

  void handle(const hj::ScanResult& r) {
    if (r.status == hj::ScanStatus::kError) {
      archive_rejected("", "", r.raw, std::string(hj::reason_code(r.reason)), r.detail);
      return;
    }
    auto registry = gw_->registry_.get();
    hj::Message m;
    auto decoded = hj::decode_into(r.frame, hj::DecodeOptions{}, m);
    const registry::Device* device = nullptr;
    if (!decoded) {
      // A device with its own CRC mode, key or leniency: decode again with its profile.
      if (auto mn = peek_mn(r.frame.segment)) {
        device = registry->find_device(*mn);
        if (device) decoded = hj::decode_into(r.frame, decode_options_for(*device), m);
      }
    }
    if (!decoded) {
      const auto mn = peek_mn(r.frame.segment);
      archive_rejected(mn.value_or(""), "", r.raw,
                       std::string(hj::reason_code(decoded.error().reason)),
                       decoded.error().detail);
      return;
    }
    const std::string mn(m.mn);
    const std::string cn(m.cn);
    if (device && device->mn != mn) {
      // The profile was chosen by a peeked MN that the decoder read differently ("MN =X;MN=Y"):
      // never authenticate one device with another's password.
      archive_rejected(mn, cn, r.raw, "bad_header", "ambiguous MN in the header");
      return;
    }
    if (!device) device = registry->find_device(mn);

    std::uint32_t quality = 0;
    std::string outcome = "stored";
    if (!device) {
      switch (gw_->options_.unknown_devices) {
        case UnknownDevicePolicy::kReject:
          archive_rejected(mn, cn, r.raw, "unknown_device", "MN is not registered");
          return;
        case UnknownDevicePolicy::kAccept:
          if (!mn.empty() && !registry->find_site(mn)) {
            // Commissioning: a pending device (with the PW it uses) under a provisional site.
            const std::int64_t from = gw_->clock_.now_ms() - 366LL * 24 * 3600 * 1000;
            const std::string pw(m.pw);
            const std::string st(m.st);
            auto updated = gw_->registry_.update([&](const registry::Registry& current) {
              registry::Registry next = current.with_pending_device(mn, st, from);
              if (const registry::Device* d = next.find_device(mn); d && d->pending) {
                registry::Device with_pw = *d;
                with_pw.password = pw;
                if (auto r2 = next.with_device(with_pw)) next = std::move(*r2);
              }
              return core::Result<registry::Registry>(std::move(next));
            });
            registry = updated ? *updated : gw_->registry_.get();
            device = registry->find_device(mn);
            gw_->log("pending:" + mn, "device " + mn + " registered as pending (policy accept)");
            break;
          }
          // An empty MN (2025 onboarding) or one that is already a site's code cannot get a
          // provisional site of its own: kept apart like quarantine.
          [[fallthrough]];
        case UnknownDevicePolicy::kQuarantine:
          quality |= storage::kQualityQuarantined;
          outcome = "quarantined";
          break;
      }
    }
    if (device && device->password != m.pw) {
      archive_rejected(mn, cn, r.raw, "bad_password", "PW does not match the registered password",
                       /*registered=*/true);
      return;
    }
    if (device && device->pending) quality |= storage::kQualityPending;
    mns_.insert(mn);
    last_frame_ms_ = gw_->clock_.now_ms();
    if (device && (m.cn_code == 9011 || m.cn_code == 9012)) gw_->on_answer(mn, m);
    gw_->seen(mn, peer_, false);
    gw_->count_outcome(outcome);

    storage::FrameWrite fw;
    fw.frame.mn = mn;
    fw.frame.cn = cn;
    fw.frame.peer = peer_;
    fw.frame.received_ms = gw_->clock_.now_ms();
    fw.frame.outcome = outcome;
    fw.frame.bytes = std::string(r.raw);
    if (ingest::carries_values(m.cn_code)) {
      const std::int64_t measured =
          m.data_time ? core::to_unix_ms(*m.data_time, core::kChinaUtcOffsetSeconds)
                      : fw.frame.received_ms;
      const registry::Site* site = registry->site_of(mn, measured);
      fw.values = ingest::values_of(m, site ? site->code : std::string(), fw.frame.received_ms,
                                    quality, gw_->options_.values);
    }

    // The reply, if any: never to an answer; 9013 to notices; 9014 to uploads asking for one.
    std::string reply_segment;
    if (!is_answer(m.cn_code)) {
      if (is_notice(m.cn_code)) {
        if (m.ack_requested || m.cn_code == 1013) reply_segment = hj::notice_ack_segment(m);
      } else if (m.ack_requested) {
        reply_segment = hj::data_ack_segment(m);
      }
    }
    std::string reply;
    if (!reply_segment.empty()) {
      const hj::CrcMode crc =
          device ? hj::parse_crc_mode(device->profile.crc).value_or(hj::CrcMode::kHj212)
                 : hj::CrcMode::kHj212;
      reply = hj::encode_frame(reply_segment, crc);
    }
    // A 2025 device's own 1014 carries SKCreateTime without NewSK: it asks for a new key.
    std::string key_request;
    if (device && m.cn_code == 1014 && device->profile.version == 2025 && m.param("SKCreateTime") &&
        !m.param("NewSK")) {
      key_request = mn;
    }
    submit(std::move(fw), std::move(reply), std::move(key_request));
  }

  // Runs on the loop after the commit holding frame `id` (ok) or its failure: then no ack, and
  // the device sends again.
  void on_committed(std::uint64_t id, bool ok, const std::string& reply) {
    for (auto& r : replies_) {
      if (r.id != id) continue;
      r.ready = true;
      r.committed = ok;
      if (ok) r.bytes = reply;
      break;
    }
    if (!ok && !reply.empty()) gw_->with_counters([](GatewayCounters& c) { ++c.acks_withheld; });
    flush();
  }

  // After the device closed its side: close once every owed reply is sent.
  void close_when_done() {
    if (read_closed_ && replies_.empty() && out_.empty() && !writing_) close();
  }

  // Sends the replies that are ready, in frame order.
  void flush() {
    if (closed_) return;
    while (!replies_.empty() && replies_.front().ready) {
      const bool acknowledged = !replies_.front().bytes.empty();
      if (acknowledged) {
        out_ += replies_.front().bytes;
        gw_->with_counters([](GatewayCounters& c) { ++c.replies_sent; });
      }
      // The device asked for a new key (HJ 212-2025 §6.4.3): its 9013 (if it asked for one) is
      // queued first, then the platform is told; it answers with a 1014 through send_command().
      if (replies_.front().committed && !replies_.front().key_request_mn.empty() &&
          gw_->options_.on_key_request) {
        gw_->options_.on_key_request(replies_.front().key_request_mn);
      }
      replies_.pop_front();
    }
    write();
    read();  // may have paused on max_pending_replies
    close_when_done();
  }

  void write() {
    if (writing_ || out_.empty() || closed_) return;
    writing_ = true;
    sending_ = std::move(out_);
    out_.clear();
    asio::async_write(
        socket_, asio::buffer(sending_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          self->writing_ = false;
          self->sending_.clear();
          if (ec) {
            self->close();
            return;
          }
          self->write();
          self->read();  // may have paused on unsent replies
          self->close_when_done();
        });
  }

  std::shared_ptr<Gateway::Impl> gw_;
  tcp::socket socket_;
  asio::steady_timer idle_;
  hj::Framer framer_;
  std::array<char, 16384> buf_{};
  std::deque<Reply> replies_;
  std::uint64_t next_reply_id_ = 0;
  std::string out_;
  std::string sending_;
  std::set<std::string> mns_;
  std::int64_t last_frame_ms_ = 0;
  std::string peer_;
  bool reading_ = false;
  bool read_closed_ = false;  // the device closed its side (EOF)
  bool writing_ = false;
  bool closed_ = false;
};

void Gateway::Impl::accept() {
  acceptor_.async_accept(
      [self = shared_from_this()](const boost::system::error_code& ec, tcp::socket socket) {
        if (self->stopped_) return;
        if (!ec) {
          bool refuse = false;
          self->with_counters([&](GatewayCounters& c) {
            if (c.connections_open >= self->options_.max_connections) {
              ++c.connections_refused_limit;
              refuse = true;
            } else {
              ++c.connections_open;
              ++c.connections_total;
            }
          });
          if (refuse) {
            self->log("max_connections", "max_connections reached; refusing a connection");
            boost::system::error_code ignored;
            socket.close(ignored);
          } else {
            auto conn = std::make_shared<Connection>(self, std::move(socket));
            self->connections_.insert(conn);
            conn->start();
          }
        }
        self->accept();
      });
}

void Gateway::Impl::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  auto all = connections_;
  for (const auto& c : all) c->close();
  // Commands still waiting for their device: answered now, never left hanging.
  while (!commands_.empty())
    finish_command(commands_.begin()->first, CommandResult{"stopped", 0, 0});
}

Gateway::Gateway(asio::io_context& io, ingest::Ingestor& ingestor,
                 registry::RegistryHolder& registry, const core::Clock& clock,
                 GatewayOptions options)
    : impl_(std::make_shared<Impl>(io, ingestor, registry, clock, options)) {}

Gateway::~Gateway() = default;

core::Result<std::uint16_t> Gateway::listen(const std::string& address, std::uint16_t port) {
  return impl_->listen(address, port);
}

void Gateway::stop() { impl_->stop(); }

void Gateway::send_command(const std::string& mn, const std::string& qn, std::string frame,
                           std::int64_t timeout_ms, std::function<void(CommandResult)> done) {
  asio::post(impl_->io_, [impl = impl_, mn, qn, frame = std::move(frame), timeout_ms,
                          done = std::move(done)]() mutable {
    if (impl->stopped_) {
      done(CommandResult{"stopped", 0, 0});
      return;
    }
    // The connection the device last sent a frame on.
    std::shared_ptr<Connection> target;
    for (const auto& c : impl->connections_) {
      if (c->closed() || !c->mns().contains(mn)) continue;
      if (!target || c->last_frame_ms() > target->last_frame_ms()) target = c;
    }
    if (!target) {
      done(CommandResult{"offline", 0, 0});
      return;
    }
    const auto key = std::make_pair(mn, qn);
    if (impl->commands_.contains(key)) {
      done(CommandResult{"duplicate_qn", 0, 0});
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(impl->io_);
    timer->expires_after(std::chrono::milliseconds(timeout_ms));
    timer->async_wait([impl, key](const boost::system::error_code& ec) {
      if (!ec) impl->finish_command(key, CommandResult{"timeout", 0, 0});
    });
    impl->commands_.emplace(key, Impl::PendingCommand{std::move(done), timer, 0});
    target->send_raw(std::move(frame));
  });
}

GatewayCounters Gateway::counters() const {
  std::lock_guard lock(impl_->mutex_);
  return impl_->counters_;
}

std::vector<DeviceStatus> Gateway::devices() const {
  std::lock_guard lock(impl_->mutex_);
  std::vector<DeviceStatus> out;
  const std::int64_t now = impl_->clock_.now_ms();
  for (const auto& [mn, d] : impl_->devices_) {
    DeviceStatus s = d;
    s.online = now - d.last_seen_ms < impl_->options_.idle_timeout_ms;
    out.push_back(s);
  }
  return out;
}

}  // namespace ecomon::gateway
