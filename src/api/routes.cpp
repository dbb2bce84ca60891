// Request handling of the query API (no sockets here: http_server.cpp does the I/O).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "api/http_api.h"
#include "api/routes_internal.h"
#include "core/civil_time.h"
#include "core/json_writer.h"
#include "standards/aggregation.h"

namespace ecomon::api {
namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
constexpr std::int64_t kMaxSpanMs = 3653 * kDayMs;  // 10 years
constexpr std::size_t kDefaultLimit = 10000;
constexpr std::size_t kMaxLimit = 100000;

using detail::error;

}  // namespace

Response detail::error(int status, std::string_view code, std::string_view message) {
  core::JsonWriter w;
  w.begin_object().key("error").begin_object();
  w.key("code").value(code).key("message").value(message);
  w.end_object().end_object();
  return Response{status, "application/json", w.take(), {}};
}

namespace detail {

std::string iso(std::int64_t ms) { return core::format_beijing(ms); }

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      const auto r = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (r.ec == std::errc() && r.ptr == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
      } else {
        out += s[i];
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

Target parse_target(const std::string& target) {
  Target t;
  const std::size_t q = target.find('?');
  const std::string_view path = std::string_view(target).substr(0, q);
  std::size_t pos = 0;
  while (pos < path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    if (next > pos) t.segments.push_back(url_decode(path.substr(pos, next - pos)));
    pos = next + 1;
  }
  if (q != std::string::npos) {
    std::string_view qs = std::string_view(target).substr(q + 1);
    while (!qs.empty()) {
      const std::size_t amp = qs.find('&');
      const std::string_view pair = qs.substr(0, amp);
      const std::size_t eq = pair.find('=');
      t.query[url_decode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
      qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
    }
  }
  return t;
}

// A query time parameter: ISO 8601 (without offset = Beijing time).
core::Result<std::optional<std::int64_t>> time_param(const Target& t, const std::string& name) {
  const auto it = t.query.find(name);
  if (it == t.query.end() || it->second.empty()) return std::optional<std::int64_t>();
  const auto p = core::parse_iso8601(it->second);
  if (!p) {
    return core::fail(
        core::Error{"bad_request", name + " '" + it->second + "' is not an ISO 8601 time"});
  }
  return std::optional<std::int64_t>(
      core::to_unix_ms(p->civil, p->offset_seconds.value_or(core::kChinaUtcOffsetSeconds)));
}

core::Result<Range> range_params(const Target& t, std::int64_t now_ms, std::int64_t default_span) {
  auto from = time_param(t, "from");
  if (!from) return core::fail(from.error());
  auto to = time_param(t, "to");
  if (!to) return core::fail(to.error());
  Range r;
  r.to_ms = to->value_or(now_ms + kDayMs);
  r.from_ms = from->value_or(r.to_ms - default_span);
  if (r.from_ms >= r.to_ms) return core::fail(core::Error{"bad_request", "from must be before to"});
  if (r.to_ms - r.from_ms > kMaxSpanMs) {
    return core::fail(core::Error{"range_too_large", "from..to spans more than 10 years"});
  }
  return r;
}

Response from_error(const core::Error& e) {
  if (e.reason == "range_too_large") return error(400, e.reason, e.detail);
  if (e.reason == "bad_request") return error(400, e.reason, e.detail);
  return error(500, "internal", e.detail);
}

void write_site(core::JsonWriter& w, const registry::Site& s) {
  w.begin_object();
  w.key("code").value(s.code).key("name").value(s.name).key("kind").value(s.kind);
  w.key("level").value(s.level).key("air_role").value(s.air_role);
  w.key("waterbody").value(s.waterbody).key("river").value(s.river);
  w.key("place").begin_object();
  w.key("province").value(s.place.province).key("province_code").value(s.place.province_code);
  w.key("city").value(s.place.city).key("city_code").value(s.place.city_code);
  w.key("county").value(s.place.county).key("county_code").value(s.place.county_code);
  w.end_object();
  w.key("lon");
  s.lon ? w.value(*s.lon) : w.null();
  w.key("lat");
  s.lat ? w.value(*s.lat) : w.null();
  w.key("department").value(s.department).key("provisional").value(s.provisional);
  w.end_object();
}

void write_value(core::JsonWriter& w, const storage::Value& v, const registry::Registry* reg,
                 const derive::ReviewState* review) {
  w.begin_object();
  w.key("factor").value(v.factor);
  if (reg) {
    if (const registry::Factor* f = reg->find_factor(v.factor)) {
      const registry::Site* site = reg->find_site(v.site);
      w.key("name").value(f->name_zh).key("name_en").value(f->name_en);
      w.key("unit").value(f->unit_at(site ? std::string_view(site->kind) : std::string_view()));
    }
  }
  w.key("field").value(v.field).key("kind").value(storage::kind_name(v.kind));
  w.key("time").value(iso(v.measured_ms)).key("received_at").value(iso(v.received_ms));
  w.key("value");
  if (review && review->corrected) {
    w.value(*review->corrected);
    w.key("raw");
  }
  if (v.number) {
    w.value(*v.number);
  } else {
    w.value(v.text);
  }
  if (review) {
    w.key("valid").value(!review->invalid && (v.flag.empty() || v.flag == "N"));
    w.key("review");
    review->review().empty() ? w.null() : w.value(review->review());
    w.key("level").value(derive::level_name(review->level));
  }
  w.key("flag");
  v.flag.empty() ? w.null() : w.value(v.flag);
  w.key("version").value(static_cast<std::int64_t>(v.version));
  if (v.frame_id) w.key("frame").value(static_cast<std::int64_t>(v.frame_id));
  if (v.quality & storage::kQualityClockSuspect) w.key("clock_suspect").value(true);
  if (v.quality & storage::kQualityBelowDetection) {
    w.key("below_detection_limit").value(true);
    w.key("detection_limit");
    const auto dl = storage::detection_limit_of(v.text);
    dl ? w.value(*dl) : w.null();
  }
  w.end_object();
}

bool in_scope(const Ctx& c, const registry::Registry& reg, const registry::Site& site) {
  return c.who && auth::site_in_scope(c.who->scopes, reg, site);
}

std::optional<Response> site_denied(const Ctx& c, const registry::Registry& reg,
                                    const registry::Site* site, const std::string& code) {
  // Restricted users learn nothing about sites outside their scope, not even whether they exist.
  if (site && in_scope(c, reg, *site)) return std::nullopt;
  if (!site && c.who && auth::unrestricted(c.who->scopes)) {
    return error(404, "not_found", "no site '" + code + "'");
  }
  return error(403, "forbidden", "site '" + code + "' is outside your scope");
}

std::optional<Response> series_subject(const Ctx& c, std::string& site, std::string& factor) {
  const auto s = c.t.query.find("site");
  const auto f = c.t.query.find("factor");
  if (s == c.t.query.end() || f == c.t.query.end() || s->second.empty() || f->second.empty()) {
    return error(400, "bad_request", "site and factor are required");
  }
  auto reg = c.s.registry->get();
  if (auto denied = site_denied(c, *reg, reg->find_site(s->second), s->second)) return denied;
  site = s->second;
  factor = f->second;
  return std::nullopt;
}

std::optional<Response> listing_filter(const Ctx& c, std::string& site, std::string& factor,
                                       std::int64_t& from_ms, std::int64_t& to_ms) {
  if (auto it = c.t.query.find("site"); it != c.t.query.end()) site = it->second;
  if (auto it = c.t.query.find("factor"); it != c.t.query.end()) factor = it->second;
  if (!site.empty()) {
    auto reg = c.s.registry->get();
    if (auto denied = site_denied(c, *reg, reg->find_site(site), site)) return denied;
  }
  for (auto [name, out] : {std::pair{"from", &from_ms}, std::pair{"to", &to_ms}}) {
    auto t = time_param(c.t, name);
    if (!t) return from_error(t.error());
    if (*t) *out = **t;
  }
  return std::nullopt;
}

std::optional<std::int64_t> period_ms_of(storage::DataKind k) {
  switch (k) {
    case storage::DataKind::kMinute:
      return 60000;
    case storage::DataKind::kHour:
      return 3600000;
    case storage::DataKind::kDay:
      return kDayMs;
    default:
      return std::nullopt;
  }
}

bool device_in_scope(const Ctx& c, const registry::Registry& reg, const std::string& mn,
                     std::int64_t now_ms) {
  if (!c.who) return false;
  if (auth::unrestricted(c.who->scopes)) return true;
  if (const registry::Site* site = reg.site_of(mn, now_ms); site && in_scope(c, reg, *site)) {
    return true;
  }
  // A device that has left the scope's sites: its history there is still the scope's.
  for (const auto& a : reg.assignments()) {
    if (a.mn != mn) continue;
    const registry::Site* site = reg.find_site(a.site);
    if (site && in_scope(c, reg, *site)) return true;
  }
  return false;
}

Response sites(const Ctx& c) {
  const ApiSources& s = c.s;
  auto reg = s.registry->get();
  core::JsonWriter w;
  w.begin_object().key("sites").begin_array();
  for (const auto& site : reg->sites()) {
    if (in_scope(c, *reg, site)) write_site(w, site);
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response site(const Ctx& c) {
  auto reg = c.s.registry->get();
  const std::string& code = c.params.at(0);
  const registry::Site* site = reg->find_site(code);
  if (auto denied = site_denied(c, *reg, site, code)) return *denied;
  return Response{200, "application/json", detail::site_json(*site), {}};
}

Response latest(const Ctx& c) {
  const ApiSources& s = c.s;
  auto reg = s.registry->get();
  const std::string& code = c.params.at(0);
  if (auto denied = site_denied(c, *reg, reg->find_site(code), code)) return *denied;
  auto values = s.store->latest(code);
  if (!values) return from_error(values.error());
  core::JsonWriter w;
  w.begin_object().key("site").value(code).key("values").begin_array();
  for (const auto& v : *values) write_value(w, v, reg.get());
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response devices(const Ctx& c) {
  const ApiSources& s = c.s;
  auto reg = s.registry->get();
  const bool everything = auth::unrestricted(c.who->scopes);
  std::map<std::string, DeviceInfo> status;
  if (s.devices) {
    for (auto& d : s.devices()) status[d.mn] = d;
  }
  const std::int64_t now = s.clock->now_ms();
  core::JsonWriter w;
  w.begin_object().key("devices").begin_array();
  auto write = [&](const std::string& mn, const registry::Device* d) {
    const registry::Site* site = reg->site_of(mn, now);
    if (!everything && !device_in_scope(c, *reg, mn, now)) return;
    const auto it = status.find(mn);
    w.begin_object();
    w.key("mn").value(mn);
    w.key("st").value(d ? d->st : "");
    w.key("site");
    site ? w.value(site->code) : w.null();
    w.key("registered").value(d != nullptr).key("pending").value(d && d->pending);
    w.key("online").value(it != status.end() && it->second.online);
    w.key("last_seen");
    it != status.end() && it->second.last_seen_ms ? w.value(iso(it->second.last_seen_ms))
                                                  : w.null();
    w.key("peer").value(it != status.end() ? it->second.peer : "");
    w.key("frames").value(static_cast<std::int64_t>(it != status.end() ? it->second.frames : 0));
    w.key("rejected")
        .value(static_cast<std::int64_t>(it != status.end() ? it->second.rejected : 0));
    w.key("interval_s").value(static_cast<std::int64_t>(d ? d->interval_s : 0));
    w.end_object();
  };
  for (const auto& d : reg->devices()) write(d.mn, &d);
  for (const auto& [mn, info] : status) {
    if (!reg->find_device(mn)) write(mn, nullptr);  // unknown devices that tried to connect
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

core::Result<std::optional<storage::DataKind>> kind_param(const Target& t) {
  const auto it = t.query.find("kind");
  if (it == t.query.end() || it->second.empty()) return std::optional<storage::DataKind>();
  const auto k = storage::parse_kind(it->second);
  if (!k) {
    return core::fail(core::Error{
        "bad_request", "kind must be rtd, minute, hour or day, not '" + it->second + "'"});
  }
  return std::optional<storage::DataKind>(*k);
}

std::size_t limit_param(const Target& t) {
  const auto it = t.query.find("limit");
  if (it == t.query.end()) return kDefaultLimit;
  std::size_t v = 0;
  const auto r = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (r.ec != std::errc() || v == 0) return kDefaultLimit;
  return std::min(v, kMaxLimit);  // clamped, never refused
}

Response records(const Ctx& c) {
  const ApiSources& s = c.s;
  const Target& t = c.t;
  const std::string& mn = c.params.at(0);
  {
    auto reg = s.registry->get();
    if (!device_in_scope(c, *reg, mn, s.clock->now_ms())) {
      return error(403, "forbidden", "device '" + mn + "' is outside your scope");
    }
  }
  auto kind = kind_param(t);
  if (!kind) return from_error(kind.error());
  auto range = range_params(t, s.clock->now_ms(), 30 * kDayMs);
  if (!range) return from_error(range.error());
  storage::RecordQuery q;
  q.mn = mn;
  q.kind = *kind;
  q.from_ms = range->from_ms;
  q.to_ms = range->to_ms;
  q.limit = limit_param(t);
  auto values = s.store->records(q);
  if (!values) return from_error(values.error());
  core::JsonWriter w;
  w.begin_object()
      .key("mn")
      .value(mn)
      .key("from")
      .value(iso(q.from_ms))
      .key("to")
      .value(iso(q.to_ms));
  w.key("limit").value(static_cast<std::int64_t>(q.limit)).key("records").begin_array();
  for (const auto& v : *values) write_value(w, v, nullptr);
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

// GET /api/v1/devices/{mn}/frames/{id} — one stored frame of the device exactly as it arrived
// (the `frame` of its values): bytes, peer, receive time, outcome. A frame of another device is
// 404, so a caller scoped to one device cannot read others' frames by number.
Response device_frame(const Ctx& c) {
  const std::string& mn = c.params.at(0);
  {
    auto reg = c.s.registry->get();
    if (!device_in_scope(c, *reg, mn, c.s.clock->now_ms())) {
      return error(403, "forbidden", "device '" + mn + "' is outside your scope");
    }
  }
  std::uint64_t id = 0;
  const std::string& text = c.params.at(1);
  const auto r = std::from_chars(text.data(), text.data() + text.size(), id);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size() || id == 0) {
    return error(400, "bad_request", "a frame id is a positive number");
  }
  auto frame = c.s.store->frame(id);
  if (!frame) return from_error(frame.error());
  if (!*frame || (*frame)->mn != mn) {
    return error(404, "not_found", "device '" + mn + "' has no frame " + text);
  }
  const storage::Frame& f = **frame;
  core::JsonWriter w;
  w.begin_object().key("id").value(static_cast<std::int64_t>(f.id)).key("mn").value(f.mn);
  w.key("cn").value(f.cn).key("peer").value(f.peer).key("received_at").value(iso(f.received_ms));
  w.key("outcome").value(f.outcome).key("bytes").value(f.bytes).end_object();
  return Response{200, "application/json", w.take(), {}};
}

Response series(const Ctx& c) {
  const ApiSources& s = c.s;
  const Target& t = c.t;
  const auto site = t.query.find("site");
  const auto factor = t.query.find("factor");
  if (site == t.query.end() || factor == t.query.end() || site->second.empty() ||
      factor->second.empty()) {
    return error(400, "bad_request", "site and factor are required");
  }
  {
    auto reg = s.registry->get();
    if (auto denied = site_denied(c, *reg, reg->find_site(site->second), site->second)) {
      // A series of a site no longer (or not yet) in the registry: unrestricted users only.
      if (!(auth::unrestricted(c.who->scopes) && denied->status == 404)) return *denied;
    }
  }
  auto kind = kind_param(t);
  if (!kind) return from_error(kind.error());
  auto range = range_params(t, s.clock->now_ms(), 7 * kDayMs);
  if (!range) return from_error(range.error());
  const auto interval_it = t.query.find("interval");
  const std::string interval = interval_it == t.query.end() ? "raw" : interval_it->second;
  if (interval != "raw" && interval != "hour" && interval != "day") {
    return error(400, "bad_request", "interval must be raw, hour or day");
  }
  if (interval != "raw" && !*kind) {
    // Means over mixed kinds (30-second values with hourly means) would be wrong.
    return error(400, "bad_request", "kind is required for hour and day means");
  }
  auto as_of = time_param(t, "as_of");
  if (!as_of) return from_error(as_of.error());
  storage::SeriesQuery q;
  q.site = site->second;
  q.factor = factor->second;
  q.kind = *kind;
  q.from_ms = range->from_ms;
  q.to_ms = range->to_ms;
  q.limit = kMaxLimit;
  auto values = reviewed_series(s, q, *as_of);
  if (!values) return from_error(values.error());
  const auto field_it = t.query.find("field");
  core::JsonWriter w;
  w.begin_object().key("site").value(q.site).key("factor").value(q.factor);
  // The store returns at most q.limit values, earliest first: say when the range was cut.
  w.key("truncated").value(values->size() >= q.limit);
  if (*as_of) w.key("as_of").value(iso(**as_of));
  w.key("interval").value(interval).key("series").begin_array();
  auto wanted_field = [&](const storage::Value& v) {
    if (field_it != t.query.end() && !field_it->second.empty()) return v.field == field_it->second;
    return v.field == (v.kind == storage::DataKind::kRealtime ? "Rtd" : "Avg");
  };
  if (interval == "raw") {
    for (const auto& rv : *values) {
      if (wanted_field(rv.value)) write_value(w, rv.value, nullptr, &rv.review);
    }
  } else {
    // Hourly or daily means with their validity (standards/aggregation.h, GB 3095-2012 表4):
    // an hour from minute/real-time values needs 45 valid minutes, a day 20 valid hours. Valid
    // samples: device flag N (or none) and not invalidated by a reviewer; a corrected value is
    // used instead of the raw one. Hours are labelled by their END (national release convention:
    // "14:00" = 13:00–14:00), days by the date; `start` is the period's start. `level` is the
    // lowest review level of the period's values.
    std::vector<standards::aggregation::Sample> samples;
    const std::int64_t period = interval == "hour" ? 3600000 : kDayMs;
    std::map<std::int64_t, derive::ReviewLevel> levels;
    for (const auto& rv : *values) {
      const auto shown = rv.shown();
      if (!wanted_field(rv.value) || !shown) continue;
      samples.push_back({rv.value.measured_ms, *shown, rv.valid()});
      const std::int64_t start =
          standards::aggregation::beijing_period_start(rv.value.measured_ms, period);
      auto [it, fresh] = levels.emplace(start, rv.review.level);
      if (!fresh) it->second = std::min(it->second, rv.review.level);
    }
    namespace agg = standards::aggregation;
    const bool subhourly =
        *kind == storage::DataKind::kRealtime || *kind == storage::DataKind::kMinute;
    std::vector<agg::Bucket> buckets;
    if (interval == "hour") {
      buckets = subhourly ? agg::hours_from_subhourly(samples)
                          : agg::periods_as_received(samples, 3600000);
    } else if (*kind == storage::DataKind::kDay) {
      buckets = agg::periods_as_received(samples, kDayMs);
    } else {
      buckets = agg::days_from_hours(subhourly ? agg::hours_from_subhourly(samples)
                                               : agg::periods_as_received(samples, 3600000));
    }
    for (const auto& b : buckets) {
      w.begin_object();
      w.key("time").value(iso(interval == "hour" ? b.start_ms + 3600000 : b.start_ms));
      w.key("start").value(iso(b.start_ms));
      w.key("value");
      b.mean ? w.value(*b.mean) : w.null();
      w.key("valid").value(b.is_valid);
      w.key("coverage").begin_object();
      w.key("expected").value(static_cast<std::int64_t>(b.expected));
      w.key("received").value(static_cast<std::int64_t>(b.received));
      w.key("valid").value(static_cast<std::int64_t>(b.valid));
      w.end_object();
      const auto level = levels.find(b.start_ms);
      w.key("level").value(
          derive::level_name(level == levels.end() ? derive::ReviewLevel::kRaw : level->second));
      w.end_object();
    }
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

// GET /api/v1/gaps?site=&factor=&kind=minute|hour|day&from=&to=&field= — the periods in which
// the site should have had a value of the factor (a device was assigned to it) but none arrived,
// merged into ranges. Each gap says why, as far as the store knows: `factor_missing` when the
// assigned device sent other data during the gap (online, this factor absent), `no_data` when it
// sent nothing (offline or not reporting). Periods are Beijing minutes, hours or days.
Response gaps(const Ctx& c) {
  const ApiSources& s = c.s;
  const Target& t = c.t;
  std::string code;
  std::string factor;
  if (auto answer = series_subject(c, code, factor)) return *answer;
  auto reg = s.registry->get();
  const registry::Site* site = reg->find_site(code);
  if (!site) return error(404, "not_found", "no site '" + code + "'");
  auto kind = kind_param(t);
  if (!kind) return from_error(kind.error());
  const auto period = *kind ? period_ms_of(**kind) : std::nullopt;
  if (!period) return error(400, "bad_request", "kind must be minute, hour or day");
  const std::int64_t step = *period;
  auto range = range_params(t, s.clock->now_ms(), 7 * kDayMs);
  if (!range) return from_error(range.error());
  // Whole periods only, and never beyond now: the current period is not late yet.
  const std::int64_t first =
      standards::aggregation::beijing_period_start(range->from_ms + step - 1, step);
  const std::int64_t end =
      standards::aggregation::beijing_period_start(std::min(range->to_ms, s.clock->now_ms()), step);
  if (end > first && (end - first) / step > 200000) {
    return error(400, "range_too_large", "more than 200,000 periods; narrow from..to");
  }
  storage::SeriesQuery q;
  q.site = site->code;
  q.factor = factor;
  q.kind = *kind;
  q.from_ms = first;
  q.to_ms = end;
  q.limit = kMaxLimit;
  auto values = s.store->series(q);
  if (!values) return from_error(values.error());
  std::set<std::int64_t> received;
  for (const auto& v : *values) {
    received.insert(standards::aggregation::beijing_period_start(v.measured_ms, step));
  }
  // The device assigned to the site at a time (empty: none, nothing expected).
  auto device_at = [&](std::int64_t at) -> std::string {
    for (const auto& a : reg->assignments()) {
      if (a.site == site->code && a.from_ms <= at && at < a.until_ms) return a.mn;
    }
    return {};
  };
  struct Gap {
    std::int64_t from, to;
    std::string mn;
  };
  std::vector<Gap> found;
  std::int64_t expected = 0;
  for (std::int64_t p = first; p < end; p += step) {
    const std::string mn = device_at(p);
    if (mn.empty()) continue;
    ++expected;
    if (received.contains(p)) continue;
    if (!found.empty() && found.back().to == p && found.back().mn == mn) {
      found.back().to = p + step;
    } else {
      found.push_back(Gap{p, p + step, mn});
    }
  }
  core::JsonWriter w;
  w.begin_object().key("site").value(site->code).key("factor").value(q.factor);
  w.key("kind").value(storage::kind_name(**kind)).key("from").value(iso(first));
  w.key("to").value(iso(std::max(first, end)));
  w.key("expected").value(expected);
  w.key("received").value(static_cast<std::int64_t>(received.size()));
  w.key("gaps").begin_array();
  for (const auto& g : found) {
    storage::RecordQuery rq;
    rq.mn = g.mn;
    rq.from_ms = g.from;
    rq.to_ms = g.to;
    rq.limit = 1;
    auto other = s.store->records(rq);
    const bool online = other && !other->empty();
    w.begin_object().key("from").value(iso(g.from)).key("to").value(iso(g.to));
    w.key("missing").value((g.to - g.from) / step).key("device").value(g.mn);
    w.key("reason").value(online ? "factor_missing" : "no_data");
    w.end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

}  // namespace detail

std::string detail::site_json(const registry::Site& site) {
  core::JsonWriter w;
  write_site(w, site);
  return w.take();
}

}  // namespace ecomon::api
