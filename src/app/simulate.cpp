#include "app/simulate.h"

#include <algorithm>
#include <boost/asio.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <random>

#include "app/csv.h"
#include "core/civil_time.h"
#include "protocol/hj212/decoder.h"
#include "protocol/hj212/encoder.h"
#include "protocol/hj212/frame.h"
#include "registry/registry.h"

namespace ecomon::app {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace hj = protocol::hj212;
using Clock = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string qn_of(std::int64_t ms, int seq) {
  const core::CivilTime t = core::civil_from_unix_ms(ms, core::kChinaUtcOffsetSeconds);
  char b[32];
  std::snprintf(b, sizeof b, "%04d%02u%02u%02u%02u%02u%03u", t.year, t.month, t.day, t.hour,
                t.minute, t.second, static_cast<unsigned>((t.millisecond + seq) % 1000));
  return b;
}

// One frame to send: its QN (to match the 9014) and bytes.
struct Outgoing {
  std::string qn;
  std::string bytes;
  Clock::time_point sent{};
  int attempts = 0;
};

struct Stats {
  std::uint64_t sent = 0, acked = 0, resent = 0, reconnects = 0, values = 0;
  std::vector<double> latency_ms;
};

// The frames one device will send.
struct Script {
  std::string mn;
  std::string st;
  std::deque<std::pair<std::string, std::int64_t>> cps;  // CP content, DataTime (ms)
  int cn = 2061;
  // --loop: the CP contents again (without their DataTime), one per hour from now on.
  std::vector<std::string> loop_values;
};

// "DataTime=...;rest" → ";rest".
std::string without_data_time(const std::string& cp) {
  const std::size_t semi = cp.find(';');
  return semi == std::string::npos ? std::string() : cp.substr(semi);
}

std::string data_time_text(std::int64_t ms) {
  const core::CivilTime t = core::civil_from_unix_ms(ms, core::kChinaUtcOffsetSeconds);
  char dt[24];
  std::snprintf(dt, sizeof dt, "%04d%02u%02u%02u%02u%02u", t.year, t.month, t.day, t.hour, t.minute,
                t.second);
  return dt;
}

class Device : public std::enable_shared_from_this<Device> {
 public:
  Device(asio::io_context& io, const SimulateOptions& o, tcp::endpoint ep, Script script,
         Stats& stats)
      : io_(io),
        o_(o),
        ep_(ep),
        socket_(io),
        timer_(io),
        script_(std::move(script)),
        stats_(stats) {}

  void start() { connect(); }
  bool done() const { return finished_; }

 private:
  std::string frame(const std::string& qn, const std::string& cp) {
    const int flag = o_.version == 2005 ? 1 : o_.version == 2025 ? 9 : 5;
    std::string seg;
    if (o_.version != 2005) seg += "QN=" + qn + ";";
    seg += "ST=" + script_.st + ";CN=" + std::to_string(script_.cn) + ";PW=" + o_.password +
           ";MN=" + script_.mn + ";Flag=" + std::to_string(flag) + ";CP=&&" + cp + "&&";
    return hj::encode_frame(seg);
  }

  void connect() {
    socket_ = tcp::socket(io_);
    socket_.async_connect(ep_, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) {
        self->retry_later();
        return;
      }
      self->framer_ = hj::Framer();
      // After a reconnect, everything not acknowledged goes again (the platform stores it once).
      for (auto& f : self->in_flight_) f.sent = {};
      self->read();
      self->pump();
    });
  }

  void retry_later() {
    ++stats_.reconnects;
    timer_.expires_after(std::chrono::milliseconds(500));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->connect();
    });
  }

  // Sends what the window and the rate allow; resends what timed out.
  void pump() {
    if (finished_) return;
    const auto now = Clock::now();
    std::string out;
    for (auto& f : in_flight_) {
      if (f.sent == Clock::time_point{} ||
          now - f.sent > std::chrono::milliseconds(o_.ack_timeout_ms)) {
        if (f.attempts > 0) ++stats_.resent;
        f.sent = now;
        ++f.attempts;
        out += f.bytes;
      }
    }
    while (static_cast<int>(in_flight_.size()) < o_.window && !script_.cps.empty() &&
           (o_.rate <= 0 || now >= next_send_)) {
      auto [cp, data_ms] = script_.cps.front();
      script_.cps.pop_front();
      Outgoing f;
      f.qn = qn_of(now_ms(), seq_++);
      f.bytes = frame(f.qn, cp);
      f.sent = now;
      f.attempts = 1;
      out += f.bytes;
      in_flight_.push_back(std::move(f));
      ++stats_.sent;
      if (o_.rate > 0) {
        next_send_ = std::max(next_send_, now) +
                     std::chrono::microseconds(static_cast<std::int64_t>(1e6 / o_.rate));
      }
    }
    if (in_flight_.empty() && script_.cps.empty() && o_.loop && !script_.loop_values.empty()) {
      // The next hour's values once that hour has ended (HJ 212 hourly DataTime = its start).
      const std::int64_t wall = now_ms();
      const std::int64_t next_end = (wall / 3600000 + 1) * 3600000;
      timer_.expires_after(std::chrono::milliseconds(next_end - wall + 5000));
      timer_.async_wait([self = shared_from_this(), next_end](const boost::system::error_code& ec) {
        if (ec) return;
        auto& s = self->script_;
        const std::string& values = s.loop_values[self->loop_index_++ % s.loop_values.size()];
        s.cps.emplace_back("DataTime=" + data_time_text(next_end - 3600000) + values,
                           next_end - 3600000);
        self->pump();
      });
      return;
    }
    if (in_flight_.empty() && script_.cps.empty()) {
      finished_ = true;
      boost::system::error_code ec;
      socket_.close(ec);
      timer_.cancel();
      return;
    }
    pending_out_ += out;
    write();
    timer_.expires_after(std::chrono::milliseconds(o_.rate > 0 ? 20 : 200));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->pump();
    });
  }

  // One write at a time: frames queued while a write is under way follow it, never interleave.
  void write() {
    if (writing_ || pending_out_.empty()) return;
    writing_ = true;
    sending_ = std::move(pending_out_);
    pending_out_.clear();
    asio::async_write(
        socket_, asio::buffer(sending_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          self->writing_ = false;
          if (ec) {
            // Aborted: the socket was closed on purpose (on_broken already ran).
            if (ec != asio::error::operation_aborted && !self->finished_) {
              self->on_broken();
            }
            return;
          }
          self->write();
        });
  }

  void on_broken() {
    // What was not written goes again after the reconnect (all unacknowledged frames do).
    pending_out_.clear();
    boost::system::error_code ec;
    socket_.close(ec);
    timer_.cancel();
    if (!finished_) retry_later();
  }

  void read() {
    socket_.async_read_some(
        asio::buffer(buf_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          if (ec) {
            if (!self->finished_ && ec != asio::error::operation_aborted) self->on_broken();
            return;
          }
          self->framer_.feed(std::string_view(self->buf_.data(), n));
          while (auto r = self->framer_.next()) {
            if (r->status != hj::ScanStatus::kFrame) continue;
            hj::Message m;
            if (!hj::decode_into(r->frame, {}, m) || m.cn_code != 9014) continue;
            const auto qn = m.request_qn();
            for (auto it = self->in_flight_.begin(); it != self->in_flight_.end(); ++it) {
              if (qn && it->qn == *qn) {
                self->stats_.latency_ms.push_back(
                    std::chrono::duration<double, std::milli>(Clock::now() - it->sent).count());
                ++self->stats_.acked;
                self->in_flight_.erase(it);
                break;
              }
            }
          }
          self->pump();
          self->read();
        });
  }

  asio::io_context& io_;
  const SimulateOptions& o_;
  tcp::endpoint ep_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  Script script_;
  Stats& stats_;
  hj::Framer framer_;
  std::array<char, 8192> buf_{};
  std::deque<Outgoing> in_flight_;
  std::string pending_out_;  // frames waiting for the current write to finish
  std::string sending_;      // the bytes of the write under way
  bool writing_ = false;
  Clock::time_point next_send_ = Clock::now();
  int seq_ = 0;
  std::size_t loop_index_ = 0;
  bool finished_ = false;
};

// Generated values: smooth daily cycles with noise around what an air station in a Sichuan city
// typically measures, each in its HJ 212 unit (CO in mg/m3, the other gases and particles in
// ug/m3), so a generated station's AQI is plausible next to the replayed ones.
struct Typical {
  const char* factor;
  double mean;
  int decimals;
};
constexpr Typical kTypical[] = {
    {"a34004", 35, 0},  {"a34002", 60, 0},  {"a21026", 8, 0},   {"a21004", 25, 0},
    {"a21005", 0.7, 2}, {"a05024", 70, 0},  {"a01001", 15, 1},  {"a01002", 65, 0},
    {"a01006", 95, 1},  {"a01007", 1.8, 1}, {"a01008", 180, 0}, {"a34001", 110, 0},
};

std::string generated_cp(std::int64_t data_ms, int values, std::mt19937& rng) {
  const core::CivilTime t = core::civil_from_unix_ms(data_ms, core::kChinaUtcOffsetSeconds);
  char dt[24];
  std::snprintf(dt, sizeof dt, "%04d%02u%02u%02u%02u%02u", t.year, t.month, t.day, t.hour, t.minute,
                t.second);
  std::string cp = std::string("DataTime=") + dt;
  std::normal_distribution<double> noise(0, 0.1);
  constexpr int kCount = static_cast<int>(std::size(kTypical));
  for (int i = 0; i < values; ++i) {
    const Typical& f = kTypical[i % kCount];
    const double v = f.mean * (1 + 0.3 * std::sin(t.hour / 24.0 * 6.283) + noise(rng));
    char b[96];
    std::snprintf(b, sizeof b, ";%s-Avg=%.*f,%s-Flag=N", f.factor, f.decimals, std::max(0.0, v),
                  f.factor);
    cp += b;
  }
  return cp;
}

}  // namespace

int run_simulate(const SimulateOptions& o) {
  const std::size_t colon = o.to.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "ecomon simulate: --to HOST:PORT\n");
    return 2;
  }
  asio::io_context io;
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(o.to.substr(0, colon), o.to.substr(colon + 1), ec);
  if (ec || results.empty()) {
    std::fprintf(stderr, "ecomon simulate: cannot resolve %s: %s\n", o.to.c_str(),
                 ec.message().c_str());
    return 2;
  }
  const tcp::endpoint ep = *results.begin();

  std::vector<Script> scripts;
  if (!o.replay_csv.empty()) {
    // Replay: one device per registered site that has rows in the CSV.
    auto reg = registry::load_registry(o.registry_dir.empty() ? "config/registry" : o.registry_dir);
    if (!reg) {
      std::fprintf(stderr, "ecomon simulate: registry: %s\n", reg.error().detail.c_str());
      return 2;
    }
    std::ifstream in(o.replay_csv);
    auto header = read_csv_record(in);
    if (!header || !*header) {
      std::fprintf(stderr, "ecomon simulate: cannot read %s\n", o.replay_csv.c_str());
      return 2;
    }
    struct Row {
      std::int64_t end_ms;
      std::string cp_values;
    };
    std::map<std::string, std::vector<Row>> by_site;
    static const std::pair<const char*, const char*> kColumns[] = {
        {"pm25_ugm3", "a34004"}, {"pm10_ugm3", "a34002"}, {"so2_ugm3", "a21026"},
        {"no2_ugm3", "a21004"},  {"co_mgm3", "a21005"},   {"o3_1h_ugm3", "a05024"}};
    std::size_t line = 1;
    while (true) {
      auto rec = read_csv_record(in);
      if (!rec || !*rec) break;
      ++line;
      CsvRow row(**header, **rec, line);
      const auto code = row.get("station_code");
      const auto ts = row.get("timestamp");
      if (!code || !ts) continue;
      const auto t = core::parse_iso8601(*ts);
      if (!t) continue;
      Row r;
      r.end_ms =
          core::to_unix_ms(t->civil, t->offset_seconds.value_or(core::kChinaUtcOffsetSeconds));
      for (const auto& [col, factor] : kColumns) {
        if (const auto v = row.get(col)) {
          r.cp_values +=
              std::string(";") + factor + "-Avg=" + std::string(*v) + "," + factor + "-Flag=N";
        }
      }
      by_site[std::string(*code)].push_back(std::move(r));
    }
    const std::int64_t now = now_ms();
    for (auto& [code, rows] : by_site) {
      std::string mn;
      std::string st = "22";
      for (const auto& a : reg->assignments()) {
        if (a.site == code && a.from_ms <= now && now < a.until_ms) mn = a.mn;
      }
      if (mn.empty()) continue;
      if (const registry::Device* d = reg->find_device(mn)) st = d->st;
      std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.end_ms < b.end_ms; });
      // Shift so the last hour of the data is the last full hour now.
      const std::int64_t shift =
          o.shift_to_now ? (now / 3600000) * 3600000 - rows.back().end_ms : 0;
      Script s;
      s.mn = mn;
      s.st = st;
      s.cn = 2061;
      for (const auto& r : rows) {
        // HJ 212 hourly data: DataTime is the START of the hour.
        const std::int64_t start = r.end_ms + shift - 3600000;
        const core::CivilTime t = core::civil_from_unix_ms(start, core::kChinaUtcOffsetSeconds);
        char dt[24];
        std::snprintf(dt, sizeof dt, "%04d%02u%02u%02u%02u%02u", t.year, t.month, t.day, t.hour,
                      t.minute, t.second);
        s.cps.emplace_back(std::string("DataTime=") + dt + r.cp_values, start);
      }
      scripts.push_back(std::move(s));
    }
    const std::size_t replayed = scripts.size();
    // The hours of the replay, for the sites that get generated values.
    std::vector<std::int64_t> hours;
    for (const auto& c : scripts.empty() ? std::deque<std::pair<std::string, std::int64_t>>{}
                                         : scripts.front().cps) {
      hours.push_back(c.second);
    }
    auto device_of = [&](const std::string& site) -> const registry::Device* {
      for (const auto& a : reg->assignments()) {
        if (a.site == site && a.from_ms <= now && now < a.until_ms) return reg->find_device(a.mn);
      }
      return nullptr;
    };
    auto dt_text = [](std::int64_t ms) {
      const core::CivilTime t = core::civil_from_unix_ms(ms, core::kChinaUtcOffsetSeconds);
      char dt[24];
      std::snprintf(dt, sizeof dt, "%04d%02u%02u%02u%02u%02u", t.year, t.month, t.day, t.hour,
                    t.minute, t.second);
      return std::string(dt);
    };
    std::mt19937 rng(2020);
    // Air sites without data in the replay: values generated like an air station's.
    for (const auto& site : reg->sites()) {
      if (site.kind != "ambient_air" || by_site.count(site.code)) continue;
      const registry::Device* d = device_of(site.code);
      if (!d) continue;
      Script s;
      s.mn = d->mn;
      s.st = d->st;
      for (std::int64_t h : hours) s.cps.emplace_back(generated_cp(h, 6, rng), h);
      scripts.push_back(std::move(s));
    }
    // Outlets of key polluters (the demo's fictional enterprise): hourly flue-gas or wastewater
    // data with the fields a real logger sends — measured and converted means, O2, the flow's
    // volume and each pollutant's emission amount (Cou, kg) for the hour — below the demo permits.
    for (const auto& site : reg->sites()) {
      const bool gas = site.kind == "polluter_waste_gas";
      if (!gas && site.kind != "polluter_wastewater") continue;
      const registry::Device* d = device_of(site.code);
      if (!d) continue;
      Script s;
      s.mn = d->mn;
      s.st = d->st;
      std::normal_distribution<double> wobble(1.0, 0.08);
      for (std::int64_t h : hours) {
        std::string cp = "DataTime=" + dt_text(h);
        char b[200];
        if (gas) {
          const double flow_m3 = 1.2e6 * wobble(rng);  // standard dry flue gas in the hour
          const double o2 = 8.0 * wobble(rng);
          std::snprintf(b, sizeof b, ";a00000-Cou=%.0f,a00000-Flag=N;a19001-Avg=%.2f,a19001-Flag=N",
                        flow_m3, o2);
          cp += b;
          for (const auto& [factor, mean] :
               {std::pair<const char*, double>{"a21026", 45}, {"a21002", 60}, {"a34013", 8}}) {
            const double c = mean * wobble(rng);
            // The converted value to 6 % O2 (GB 13223-2011 §5.2) and the hour's mass in kg.
            std::snprintf(b, sizeof b, ";%s-Avg=%.2f,%s-ZsAvg=%.2f,%s-Cou=%.3f,%s-Flag=N", factor,
                          c, factor, c * 15.0 / (21.0 - o2), factor, c * flow_m3 * 1e-6, factor);
            cp += b;
          }
        } else {
          const double flow_m3 = 60.0 * wobble(rng);
          std::snprintf(b, sizeof b, ";w00000-Cou=%.2f,w00000-Flag=N", flow_m3);
          cp += b;
          for (const auto& [factor, mean] :
               {std::pair<const char*, double>{"w01018", 40}, {"w21003", 3}}) {
            const double c = mean * wobble(rng);
            std::snprintf(b, sizeof b, ";%s-Avg=%.2f,%s-Cou=%.4f,%s-Flag=N", factor, c, factor,
                          c * flow_m3 * 1e-3, factor);
            cp += b;
          }
        }
        s.cps.emplace_back(cp, h);
      }
      scripts.push_back(std::move(s));
    }
    // Water sections: hourly values around the real snapshot.
    if (!o.snapshot_csv.empty()) {
      std::ifstream snap(o.snapshot_csv);
      auto sh = read_csv_record(snap);
      static const std::pair<const char*, const char*> kWater[] = {
          {"water_temp_c", "w01010"},  {"ph", "w01001"},
          {"do_mgl", "w01009"},        {"conductivity_uscm", "w01014"},
          {"turbidity_ntu", "w01003"}, {"codmn_mgl", "w01019"},
          {"nh3n_mgl", "w21003"},      {"tp_mgl", "w21011"},
          {"tn_mgl", "w21001"}};
      std::size_t sl = 1;
      while (sh && *sh) {
        auto rec = read_csv_record(snap);
        if (!rec || !*rec) break;
        ++sl;
        CsvRow row(**sh, **rec, sl);
        const auto name = row.get("section_name");
        if (!name) continue;
        const registry::Site* site = nullptr;
        for (const auto& x : reg->sites()) {
          if ((x.kind == "surface_water" || x.kind == "drinking_water_source") &&
              (x.name == *name || x.name.find(std::string(*name)) != std::string::npos)) {
            site = &x;
          }
        }
        const registry::Device* d = site ? device_of(site->code) : nullptr;
        if (!d) continue;
        Script s;
        s.mn = d->mn;
        s.st = d->st;
        std::normal_distribution<double> wobble(1.0, 0.03);
        for (std::int64_t h : hours) {
          std::string cp = "DataTime=" + dt_text(h);
          for (const auto& [col, factor] : kWater) {
            const auto v = row.get(col);
            if (!v) continue;
            char b[96];
            std::snprintf(b, sizeof b, ";%s-Avg=%.3f,%s-Flag=N", factor,
                          std::max(0.0, std::atof(std::string(*v).c_str()) * wobble(rng)), factor);
            cp += b;
          }
          s.cps.emplace_back(cp, h);
        }
        scripts.push_back(std::move(s));
      }
    }
    std::fprintf(stderr,
                 "ecomon simulate: replaying %zu sites from %s, generating %zu more (air sites "
                 "without data, water sections around %s)\n",
                 replayed, o.replay_csv.c_str(), scripts.size() - replayed,
                 o.snapshot_csv.empty() ? "-" : o.snapshot_csv.c_str());
  } else {
    std::mt19937 rng(2026);
    const std::int64_t hour0 = (now_ms() / 3600000) * 3600000;
    for (int d = 0; d < o.devices; ++d) {
      char mn[32];
      std::snprintf(mn, sizeof mn, "%s%06d", o.mn_prefix.c_str(), d + 1);
      Script s;
      s.mn = mn;
      s.st = "22";
      s.cn = 2061;
      const int n = o.frames > 0 ? o.frames : 1000000;
      for (int i = 0; i < n; ++i) {
        const std::int64_t start = hour0 - static_cast<std::int64_t>(n - i) * 3600000;
        s.cps.emplace_back(generated_cp(start, o.values, rng), start);
      }
      scripts.push_back(std::move(s));
    }
  }

  Stats stats;
  std::vector<std::shared_ptr<Device>> devices;
  for (auto& s : scripts) {
    if (o.loop) {
      for (const auto& cp : s.cps) s.loop_values.push_back(without_data_time(cp.first));
    }
    for (const auto& cp : s.cps) {
      // Count values: entries with "-Avg=" per frame.
      std::size_t n = 0, pos = 0;
      while ((pos = cp.first.find("-Avg=", pos)) != std::string::npos) {
        ++n;
        ++pos;
      }
      stats.values += n;
    }
    devices.push_back(std::make_shared<Device>(io, o, ep, std::move(s), stats));
  }
  const auto t0 = Clock::now();
  for (auto& d : devices) d->start();
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& e, int) {
    if (!e) io.stop();
  });
  // Stop when every device is done.
  asio::steady_timer check(io);
  std::function<void()> watch = [&] {
    check.expires_after(std::chrono::milliseconds(50));
    check.async_wait([&](const boost::system::error_code& e) {
      if (e) return;
      if (std::all_of(devices.begin(), devices.end(), [](auto& d) { return d->done(); })) {
        io.stop();
        return;
      }
      watch();
    });
  };
  watch();
  io.run();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  auto pct = [&](double p) {
    if (stats.latency_ms.empty()) return 0.0;
    std::sort(stats.latency_ms.begin(), stats.latency_ms.end());
    return stats
        .latency_ms[static_cast<std::size_t>(p * static_cast<double>(stats.latency_ms.size() - 1))];
  };
  const double vps = secs > 0
                         ? static_cast<double>(stats.values) * static_cast<double>(stats.acked) /
                               std::max<double>(1, static_cast<double>(stats.sent)) / secs
                         : 0;
  std::printf(
      "simulate: %zu devices, %llu frames sent, %llu acknowledged, %llu resent, %llu reconnects, "
      "%.2f s, %.0f frames/s, %.0f values/s, ack latency p50 %.2f ms p99 %.2f ms\n",
      devices.size(), static_cast<unsigned long long>(stats.sent),
      static_cast<unsigned long long>(stats.acked), static_cast<unsigned long long>(stats.resent),
      static_cast<unsigned long long>(stats.reconnects), secs,
      secs > 0 ? static_cast<double>(stats.acked) / secs : 0.0, vps, pct(0.5), pct(0.99));
  std::fflush(stdout);
  return stats.acked == stats.sent ? 0 : 1;
}

}  // namespace ecomon::app
