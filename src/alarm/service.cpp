#include "alarm/service.h"

#include <sodium.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "alarm/emissions.h"
#include "alarm/webhook.h"
#include "core/civil_time.h"
#include "core/json_writer.h"
#include "standards/aqi.h"
#include "standards/water.h"
#include "storage/sqlite/sql.h"

namespace ecomon::alarm {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS alarm_rules(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  site TEXT NOT NULL,
  device TEXT NOT NULL,
  factor TEXT NOT NULL,
  field TEXT NOT NULL,
  data_kind TEXT NOT NULL,
  op TEXT NOT NULL,
  limit_value REAL NOT NULL,
  count INTEGER NOT NULL,
  interval_s INTEGER NOT NULL,
  tolerance REAL NOT NULL,
  severity TEXT NOT NULL,
  hold_off_s INTEGER NOT NULL,
  renotify_s INTEGER NOT NULL,
  recipients TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS alarms(
  id INTEGER PRIMARY KEY,
  rule_id INTEGER NOT NULL REFERENCES alarm_rules(id),
  subject TEXT NOT NULL,
  site TEXT NOT NULL,
  mn TEXT NOT NULL,
  factor TEXT NOT NULL,
  field TEXT NOT NULL,
  data_kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  state TEXT NOT NULL,
  opened_ms INTEGER NOT NULL,
  raised_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  cleared_ms INTEGER,
  value REAL,
  max_value REAL,
  count INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  limit_value REAL NOT NULL,
  op TEXT NOT NULL,
  retroactive INTEGER NOT NULL,
  escalated INTEGER NOT NULL DEFAULT 0,
  latency_ms INTEGER NOT NULL,
  department TEXT NOT NULL DEFAULT '',
  assignee TEXT NOT NULL DEFAULT '',
  due_ms INTEGER,
  notes TEXT NOT NULL DEFAULT '',
  closed_ms INTEGER,
  last_notified_ms INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS alarms_one_open_episode ON alarms(rule_id, subject)
  WHERE cleared_ms IS NULL;
CREATE INDEX IF NOT EXISTS alarms_by_subject ON alarms(rule_id, subject, id);
CREATE INDEX IF NOT EXISTS alarms_by_state ON alarms(state, id);
CREATE TABLE IF NOT EXISTS alarm_events(
  id INTEGER PRIMARY KEY,
  alarm_id INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  note TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alarm_events_by_alarm ON alarm_events(alarm_id, id);
CREATE TABLE IF NOT EXISTS alarm_outbox(
  id INTEGER PRIMARY KEY,
  alarm_id INTEGER NOT NULL,
  event TEXT NOT NULL,
  url TEXT NOT NULL,
  body TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  delivered_ms INTEGER,
  last_status INTEGER,
  last_error TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS alarm_outbox_pending ON alarm_outbox(url, id) WHERE delivered_ms IS NULL;
CREATE TABLE IF NOT EXISTS alarm_cursor(
  name TEXT PRIMARY KEY,
  sequence INTEGER NOT NULL) WITHOUT ROWID;
)sql";

constexpr std::string_view kStates[] = {"open", "acknowledged", "dispatched", "handled", "closed"};
constexpr std::string_view kCursorName = "engine";
constexpr std::string_view kReviewCursorName = "review";  // set_revisions(): review action ids
constexpr std::string_view kOxygen = "a19001";  // O2 of flue gas, % (HJ 212-2017 table B.2)

using Stmt = storage::sql::Prepared;
using Query = storage::sql::Statement;  // borrows a cached statement: reset when it ends
using storage::sql::exec;

core::Error db_error(sqlite3* db, std::string_view what) { return storage::sql::error(db, what); }

std::string iso(std::int64_t ms) { return core::format_beijing(ms); }

std::string join_lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += '\n';
    out += s;
  }
  return out;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    if (nl > pos) out.push_back(s.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::string rule_key(std::int64_t rule_id, const std::string& subject) {
  std::string k = std::to_string(rule_id);
  k += '\n';
  k += subject;
  return k;
}

std::string index_key(std::string_view site, std::string_view factor, storage::DataKind kind,
                      std::string_view field) {
  std::string k;
  k.reserve(site.size() + factor.size() + field.size() + 4);
  k.append(site).push_back('\x1f');
  k.append(factor).push_back('\x1f');
  k.push_back(static_cast<char>('0' + static_cast<int>(kind)));
  k.append(field);
  return k;
}

// The worse of two values for a rule: the larger for > rules, the smaller for < rules.
double worse(Op op, double a, double b) {
  return (op == Op::kLess || op == Op::kLessEqual) ? std::min(a, b) : std::max(a, b);
}

constexpr const char* kAlarmColumns =
    "SELECT a.id, a.rule_id, r.name, r.kind, a.subject, a.site, a.mn, a.factor, a.field, "
    "a.data_kind, a.severity, a.state, a.opened_ms, a.raised_ms, a.updated_ms, a.cleared_ms, "
    "a.value, a.max_value, a.count, a.last_ms, a.limit_value, a.op, a.retroactive, a.escalated, "
    "a.latency_ms, a.department, a.assignee, a.due_ms, a.notes, a.closed_ms FROM alarms a JOIN "
    "alarm_rules r ON r.id = a.rule_id ";

Alarm read_alarm(const Query& q) {
  Alarm a;
  a.id = q.integer(0);
  a.rule_id = q.integer(1);
  a.rule_name = q.text(2);
  a.kind = parse_rule_kind(q.text(3)).value_or(RuleKind::kThreshold);
  a.subject = q.text(4);
  a.site = q.text(5);
  a.mn = q.text(6);
  a.factor = q.text(7);
  a.field = q.text(8);
  a.data_kind = q.text(9);
  a.severity = parse_severity(q.text(10)).value_or(Severity::kMajor);
  a.state = parse_state(q.text(11)).value_or(State::kOpen);
  a.opened_ms = q.integer(12);
  a.raised_ms = q.integer(13);
  a.updated_ms = q.integer(14);
  a.cleared_ms = q.opt_integer(15);
  a.active = !a.cleared_ms;
  a.value = q.opt_real(16);
  a.max_value = q.opt_real(17);
  a.count = q.integer(18);
  a.last_ms = q.integer(19);
  a.limit = q.real(20);
  a.op = q.text(21);
  a.retroactive = q.integer(22) != 0;
  a.escalated = q.integer(23) != 0;
  a.latency_ms = q.integer(24);
  a.department = q.text(25);
  a.assignee = q.text(26);
  a.due_ms = q.opt_integer(27);
  a.notes = q.text(28);
  a.closed_ms = q.opt_integer(29);
  return a;
}

constexpr const char* kRuleColumns =
    "SELECT id, name, kind, site, device, factor, field, data_kind, op, limit_value, count, "
    "interval_s, tolerance, severity, hold_off_s, renotify_s, recipients, enabled, created_ms, "
    "created_by, updated_ms, source FROM alarm_rules ";

Rule read_rule(const Query& q) {
  Rule r;
  r.id = q.integer(0);
  r.name = q.text(1);
  r.kind = parse_rule_kind(q.text(2)).value_or(RuleKind::kThreshold);
  r.site = q.text(3);
  r.device = q.text(4);
  r.factor = q.text(5);
  r.field = q.text(6);
  r.data_kind = storage::parse_kind(q.text(7)).value_or(storage::DataKind::kHour);
  r.op = parse_op(q.text(8)).value_or(Op::kGreater);
  r.limit = q.real(9);
  r.count = q.integer(10);
  r.interval_s = q.integer(11);
  r.tolerance = q.real(12);
  r.severity = parse_severity(q.text(13)).value_or(Severity::kMajor);
  r.hold_off_s = q.integer(14);
  r.renotify_s = q.integer(15);
  r.recipients = split_lines(q.text(16));
  r.enabled = q.integer(17) != 0;
  r.created_ms = q.integer(18);
  r.created_by = q.text(19);
  r.updated_ms = q.integer(20);
  r.source = q.text(21);
  return r;
}

}  // namespace

std::string_view state_name(State s) { return kStates[static_cast<int>(s)]; }
std::optional<State> parse_state(std::string_view s) {
  for (std::size_t i = 0; i < std::size(kStates); ++i) {
    if (kStates[i] == s) return static_cast<State>(i);
  }
  return std::nullopt;
}

void write_alarm(core::JsonWriter& w, const Alarm& a) {
  w.begin_object();
  write_alarm_fields(w, a);
  w.end_object();
}

void write_alarm_fields(core::JsonWriter& w, const Alarm& a) {
  auto opt_time = [&](const char* key, const std::optional<std::int64_t>& ms) {
    w.key(key);
    ms ? w.value(iso(*ms)) : w.null();
  };
  auto opt_num = [&](const char* key, const std::optional<double>& v) {
    w.key(key);
    v ? w.value(*v) : w.null();
  };
  w.key("id").value(a.id).key("rule_id").value(a.rule_id).key("rule_name").value(a.rule_name);
  w.key("kind").value(kind_name(a.kind)).key("state").value(state_name(a.state));
  w.key("active").value(a.active).key("subject").value(a.subject).key("site").value(a.site);
  w.key("mn").value(a.mn).key("factor").value(a.factor).key("field").value(a.field);
  w.key("data_kind").value(a.data_kind).key("severity").value(severity_name(a.severity));
  w.key("opened_at").value(iso(a.opened_ms)).key("raised_at").value(iso(a.raised_ms));
  w.key("updated_at").value(iso(a.updated_ms));
  opt_time("cleared_at", a.cleared_ms);
  opt_num("value", a.value);
  opt_num("max_value", a.max_value);
  w.key("count").value(a.count);
  w.key("last_measured_at").value(iso(a.last_ms));
  w.key("op").value(a.op).key("limit").value(a.limit);
  w.key("retroactive").value(a.retroactive).key("escalated").value(a.escalated);
  w.key("latency_ms").value(a.latency_ms);
  w.key("department").value(a.department).key("assignee").value(a.assignee);
  opt_time("due_at", a.due_ms);
  w.key("notes").value(a.notes);
  opt_time("closed_at", a.closed_ms);
}

class AlarmService::Impl {
 public:
  struct TouchKey {
    std::int64_t rule_id = 0;
    std::string site;
    std::int64_t measured_ms = 0;
    storage::DataKind kind = storage::DataKind::kHour;
    auto operator<=>(const TouchKey&) const = default;
  };
  struct Touched {
    std::string mn;                // the device of the last value that touched it
    std::int64_t received_ms = 0;  // its receive time (the alarm's latency)
    std::uint32_t quality = 0;     // kQualityResend when any of them was re-sent
  };
  Impl(const storage::Store& store, const core::Clock& clock, AlarmOptions options)
      : store_(store), clock_(clock), options_(std::move(options)) {}

  ~Impl() { stop(); }

  // --- opening ---

  core::Result<void> open(const std::string& path) {
    // Alarms, their transitions and the outbox are fsynced like acknowledged values: an alarm
    // raised (and a notification queued) is never lost.
    auto db = storage::sql::open_service_connection(path, options_.busy_timeout_ms);
    if (!db) return core::fail(db.error());
    db_ = std::move(*db);
    const std::string schema(kSchema);
    if (!exec(db_.get(), schema.c_str())) return core::fail(db_error(db_.get(), path + ": schema"));
    // Added after the first release: where a rule comes from (api | config).
    if (!has_column("alarm_rules", "source") &&
        !exec(db_.get(), "ALTER TABLE alarm_rules ADD COLUMN source TEXT NOT NULL DEFAULT 'api'")) {
      return core::fail(db_error(db_.get(), path + ": schema (alarm_rules.source)"));
    }
    started_ms_ = clock_.now_ms();
    std::lock_guard lock(mu_);
    return load();
  }

  bool has_column(const char* table, std::string_view column) {
    Query q(stmt(std::string("SELECT name FROM pragma_table_info('") + table + "')"));
    while (q.step() == SQLITE_ROW) {
      if (q.text(0) == column) return true;
    }
    return false;
  }

  // Rules, open episodes, the cursor and the delivered count from the database. Caller holds mu_.
  core::Result<void> load() {
    all_rules_.clear();
    {
      Query q(stmt(std::string(kRuleColumns) + "ORDER BY id"));
      int rc;
      while ((rc = q.step()) == SQLITE_ROW) {
        Rule r = read_rule(q);
        all_rules_[r.id] = std::move(r);
      }
      if (rc != SQLITE_DONE) return core::fail(db_error(db_.get(), "rules"));
    }
    rebuild_index();
    episodes_.clear();
    series_.clear();
    cleared_.clear();
    touched_.clear();
    {
      Query q(stmt(std::string(kAlarmColumns) + "WHERE a.cleared_ms IS NULL"));
      int rc;
      while ((rc = q.step()) == SQLITE_ROW) {
        Alarm a = read_alarm(q);
        const std::string key = rule_key(a.rule_id, a.subject);
        // The evaluation state an open episode implies: its last exceeding value is the newest.
        SeriesState& st = series_[key];
        st.seen = true;
        st.last_ms = a.last_ms;
        if (auto r = all_rules_.find(a.rule_id); r != all_rules_.end()) {
          st.streak = std::max<std::int64_t>(r->second.count, a.count);
          st.streak_start_ms = a.opened_ms;
        }
        episodes_[key] = Episode{std::move(a), false};
      }
      if (rc != SQLITE_DONE) return core::fail(db_error(db_.get(), "alarms"));
    }
    {
      Query q(stmt("SELECT sequence FROM alarm_cursor WHERE name=?"));
      q.bind(kCursorName);
      const int rc = q.step();
      if (rc == SQLITE_ROW) {
        cursor_ = static_cast<std::uint64_t>(q.integer(0));
      } else if (rc == SQLITE_DONE) {
        // First open: rules judge what arrives after them, not the store's whole history.
        auto n = store_.value_count();
        cursor_ = n ? *n : 0;
        Query ins(stmt("INSERT INTO alarm_cursor(name, sequence) VALUES(?,?)"));
        ins.bind(kCursorName).bind(static_cast<std::int64_t>(cursor_));
        if (ins.step() != SQLITE_DONE) return core::fail(db_error(db_.get(), "cursor"));
      } else {
        return core::fail(db_error(db_.get(), "cursor"));
      }
    }
    {
      Query q(stmt("SELECT sequence FROM alarm_cursor WHERE name=?"));
      q.bind(kReviewCursorName);
      review_cursor_ = q.step() == SQLITE_ROW ? q.integer(0) : 0;
    }
    {
      Query q(stmt("SELECT count(*) FROM alarm_outbox WHERE delivered_ms IS NOT NULL"));
      if (q.step() == SQLITE_ROW) delivered_ = static_cast<std::uint64_t>(q.integer(0));
    }
    return {};
  }

  void rebuild_index() {
    index_.clear();
    offline_.clear();
    missing_.clear();
    watched_.clear();
    screening_rules_ = 0;
    for (const auto& [id, r] : all_rules_) {
      if (!r.enabled) continue;
      if (r.kind == RuleKind::kScreening) ++screening_rules_;
      if (r.kind == RuleKind::kOffline) {
        offline_.push_back(id);
        continue;
      }
      if (r.kind == RuleKind::kFactorMissing) {
        missing_.push_back(id);
        watched_.insert(index_key("", r.factor, r.data_kind, ""));
        continue;
      }
      if (r.kind == RuleKind::kAqiLevel) {
        for (const auto& [code, p] : standards::aqi::kHourlyHj212Codes) {
          index_[index_key(r.site, code, storage::DataKind::kHour, "Avg")].push_back(id);
        }
        continue;
      }
      if (r.kind == RuleKind::kDrinkingWater) {
        for (const auto& [code, item] : standards::water::kHj212SupplementaryItems) {
          if (!r.factor.empty() && r.factor != code) continue;
          index_[index_key(r.site, code, r.data_kind, r.field)].push_back(id);
        }
        continue;
      }
      if (is_water_class(r.kind)) {
        for (const auto& [code, item] : standards::water::kHj212WaterItems) {
          for (const auto kind : {storage::DataKind::kHour, storage::DataKind::kDay}) {
            index_[index_key(r.site, code, kind, "Avg")].push_back(id);
          }
        }
        continue;
      }
      if (r.kind == RuleKind::kPermit || r.kind == RuleKind::kEmissionTotal) {
        index_polluter_rule(r);
        continue;
      }
      index_[index_key(r.site, r.factor, r.data_kind, r.field)].push_back(id);
    }
  }

  // --- key polluter supervision: permit, emission_total ---

  // A permit rule is touched by the factor's measured and converted fields and by the O2 of the
  // same data kind; an emission_total rule by the factor's Cou and Avg and the flow's Cou.
  void index_polluter_rule(const Rule& r) {
    const bool rtd = r.data_kind == storage::DataKind::kRealtime;
    std::vector<std::pair<std::string, std::string>> keys;
    if (r.kind == RuleKind::kPermit) {
      keys = {{r.factor, rtd ? "Rtd" : "Avg"},
              {r.factor, rtd ? "ZsRtd" : "ZsAvg"},
              {std::string(kOxygen), rtd ? "Rtd" : "Avg"}};
    } else {
      keys = {{r.factor, "Cou"},
              {r.factor, "Avg"},
              {std::string(emissions::flow_factor(emissions::medium_of_factor(r.factor))), "Cou"}};
    }
    for (const auto& [factor, field] : keys) {
      auto& ids = index_[index_key(r.site, factor, r.data_kind, field)];
      if (std::find(ids.begin(), ids.end(), r.id) == ids.end()) ids.push_back(r.id);
    }
  }

  // The newest counting version of (site, factor, kind, field) at exactly t, if any; with
  // `any_flag`, flagged values count too (quarantined and pending ones never).
  core::Result<std::optional<storage::Value>> field_at(const std::string& site,
                                                       const std::string& factor,
                                                       storage::DataKind kind,
                                                       const std::string& field, std::int64_t t,
                                                       bool any_flag = false) {
    storage::SeriesQuery q;
    q.site = site;
    q.factor = factor;
    q.kind = kind;
    q.from_ms = t;
    q.to_ms = t + 1;
    auto values = store_.series(q);
    if (!values) return core::fail(values.error());
    std::optional<storage::Value> found;
    for (auto& v : *values) {
      if (v.field != field || v.measured_ms != t || !v.number) continue;
      const bool ok = any_flag
                          ? !(v.quality & (storage::kQualityQuarantined | storage::kQualityPending))
                          : value_counts(v);
      if (ok) found = std::move(v);
    }
    return found;
  }

  // The permit judgement of (site, factor, kind, t) from the store: measured, converted, O2.
  core::Result<PermitReading> permit_reading_at(const std::string& site, const std::string& factor,
                                                storage::DataKind kind, std::int64_t t,
                                                const PermitTerms& terms, bool any_flag) {
    const bool rtd = kind == storage::DataKind::kRealtime;
    OutletSample sample;
    auto measured = field_at(site, factor, kind, rtd ? "Rtd" : "Avg", t, any_flag);
    if (!measured) return core::fail(measured.error());
    if (*measured) sample.measured = (*measured)->number;
    if (terms.converted) {
      auto converted = field_at(site, factor, kind, rtd ? "ZsRtd" : "ZsAvg", t, any_flag);
      if (!converted) return core::fail(converted.error());
      if (*converted) sample.converted = (*converted)->number;
      if (!sample.converted) {
        auto o2 = field_at(site, std::string(kOxygen), kind, rtd ? "Rtd" : "Avg", t, any_flag);
        if (!o2) return core::fail(o2.error());
        if (*o2) sample.o2_pct = (*o2)->number;
      }
    }
    return permit_reading(terms, sample);
  }

  // flag_cover for a flagged value at an outlet (rule.h, screening): the finding, or "".
  core::Result<std::string> cover_finding(const storage::Value& v) {
    if (!permits_fn_ || value_counts(v) || !v.number) return std::string();
    const auto terms = permits_fn_(v.site, v.factor, v.measured_ms);
    if (!terms || !terms->limit) return std::string();
    PermitReading reading;
    const bool zs = v.field.rfind("Zs", 0) == 0;
    if (!terms->converted || zs) {
      // The value itself, when it is what the permit judges.
      if (terms->converted == zs) reading.value = v.number;
      reading.from_converted = zs;
    } else {
      OutletSample sample;
      sample.measured = v.number;
      auto o2 =
          field_at(v.site, std::string(kOxygen), v.kind,
                   v.kind == storage::DataKind::kRealtime ? "Rtd" : "Avg", v.measured_ms, true);
      if (!o2) return core::fail(o2.error());
      if (*o2) sample.o2_pct = (*o2)->number;
      reading = permit_reading(*terms, sample);
    }
    std::int64_t open_id = 0;
    for (const auto& [key, e] : episodes_) {
      if (e.alarm.kind == RuleKind::kPermit && e.alarm.site == v.site &&
          e.alarm.factor == v.factor) {
        open_id = e.alarm.id;
      }
    }
    return flag_cover_finding(v, *terms, reading, open_id).value_or(std::string());
  }

  // Judges a touched (permit or emission_total rule, site, kind, time); false when not judged.
  core::Result<void> evaluate_polluter(Rule rule, const TouchKey& k, const Touched& t,
                                       std::int64_t now,
                                       std::map<std::string, emissions::Total>& totals) {
    if (!permits_fn_) return {};
    const auto terms = permits_fn_(k.site, rule.factor, k.measured_ms);
    if (!terms) return {};
    storage::Value v;
    v.site = k.site;
    v.mn = t.mn;
    v.factor = rule.factor;
    v.kind = k.kind;
    v.received_ms = t.received_ms;
    v.flag = "N";
    v.quality = t.quality;
    std::string note;
    char b[400];
    if (rule.kind == RuleKind::kPermit) {
      if (!terms->limit) return {};
      auto reading = permit_reading_at(k.site, rule.factor, k.kind, k.measured_ms, *terms, false);
      if (!reading) return core::fail(reading.error());
      if (!reading->value) {
        ++permit_unjudged_;
        return {};
      }
      const bool rtd = k.kind == storage::DataKind::kRealtime;
      rule.field = reading->from_converted || reading->converted_here ? (rtd ? "ZsRtd" : "ZsAvg")
                                                                      : (rtd ? "Rtd" : "Avg");
      rule.limit = *terms->limit * rule.limit;
      v.field = rule.field;
      v.number = reading->value;
      v.measured_ms = k.measured_ms;
      std::snprintf(
          b, sizeof b, "%s %s %g %s above the permitted %g %s (%s)%s", rule.factor.c_str(),
          rule.field.c_str(), *reading->value, terms->unit.c_str(), rule.limit, terms->unit.c_str(),
          terms->standard.c_str(),
          reading->converted_here ? ", converted to reference O2 from the measured value" : "");
      note = b;
    } else {
      if (!terms->annual_total_t) return {};
      const int year = emissions::beijing_year_of(k.measured_ms);
      const std::string key = k.site + '\x1f' + rule.factor + '\x1f' + std::to_string(year) +
                              '\x1f' + std::to_string(static_cast<int>(k.kind));
      auto it = totals.find(key);
      if (it == totals.end()) {
        auto total = emissions::read_total(
            store_, k.site, rule.factor, k.kind, emissions::beijing_year_start_ms(year),
            emissions::beijing_year_start_ms(year + 1), std::max(now, k.measured_ms));
        if (!total) {
          // Too many values to sum is this rule's problem, not the batch's: not judged, counted
          // (failing would stop the engine on this batch for ever).
          if (total.error().reason == "range_too_large") {
            ++permit_unjudged_;
            return {};
          }
          return core::fail(total.error());
        }
        it = totals.emplace(key, *total).first;
      }
      if (!it->second.last_ms) return {};
      const double total_t = it->second.total_kg / 1000.0;
      rule.limit = *terms->annual_total_t * rule.limit;
      rule.field = "Cou";
      v.field = "Cou";
      v.number = total_t;
      // The year's total as of its newest period: late periods judge the same (newest) time.
      v.measured_ms = *it->second.last_ms;
      std::snprintf(b, sizeof b,
                    "%s cumulative %d emission %g t reached %g t (%g of the permitted %g t/a)",
                    rule.factor.c_str(), year, total_t, rule.limit,
                    rule.limit / *terms->annual_total_t, *terms->annual_total_t);
      note = b;
    }
    return on_value(rule, v, now, nullptr, note);
  }

  sqlite3_stmt* stmt(const std::string& sql) {
    auto it = stmts_.find(sql);
    if (it != stmts_.end()) return it->second.get();
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "ecomon alarm: cannot prepare %s: %s\n", sql.c_str(),
                   sqlite3_errmsg(db_.get()));
      return nullptr;
    }
    stmts_.emplace(sql, Stmt(s));
    return s;
  }

  // --- transactions (the caller holds mu_) ---

  core::Result<void> begin() {
    if (!exec(db_.get(), "BEGIN IMMEDIATE")) return core::fail(db_error(db_.get(), "begin"));
    in_tx_ = true;
    return {};
  }
  core::Result<void> commit() {
    in_tx_ = false;
    if (!exec(db_.get(), "COMMIT")) {
      auto e = db_error(db_.get(), "commit");
      exec(db_.get(), "ROLLBACK");
      return core::fail(e);
    }
    return {};
  }
  void rollback() {
    in_tx_ = false;
    exec(db_.get(), "ROLLBACK");
  }

  // --- the engine (the caller holds engine_mu_ and mu_, inside a transaction) ---

  struct Episode {
    Alarm alarm;
    bool dirty = false;
  };
  struct Cleared {
    std::int64_t id = 0;
    std::int64_t cleared_ms = 0;  // 0: no cleared episode known
  };

  core::Result<void> add_event(std::int64_t alarm_id, std::string_view actor,
                               std::string_view action, std::string_view from, std::string_view to,
                               std::string_view note, std::int64_t now) {
    Query q(
        stmt("INSERT INTO alarm_events(alarm_id, at_ms, actor, action, from_state, to_state, note) "
             "VALUES(?,?,?,?,?,?,?)"));
    q.bind(alarm_id).bind(now).bind(actor).bind(action).bind(from).bind(to).bind(note);
    if (q.step() != SQLITE_DONE) return core::fail(db_error(db_.get(), "alarm event"));
    return {};
  }

  core::Result<void> enqueue(const Alarm& a, std::string_view event, std::int64_t now) {
    const auto r = all_rules_.find(a.rule_id);
    if (r == all_rules_.end() || r->second.recipients.empty()) return {};
    core::JsonWriter w;
    w.begin_object().key("event").value(event).key("sent_for").value(iso(now)).key("alarm");
    write_alarm(w, a);
    w.end_object();
    const std::string body = w.take();
    for (const auto& url : r->second.recipients) {
      Query q(
          stmt("INSERT INTO alarm_outbox(alarm_id, event, url, body, created_ms, next_attempt_ms) "
               "VALUES(?,?,?,?,?,?)"));
      q.bind(a.id).bind(event).bind(url).bind(body).bind(now).bind(now);
      if (q.step() != SQLITE_DONE) return core::fail(db_error(db_.get(), "outbox"));
      outbox_added_ = true;
    }
    Query up(stmt("UPDATE alarms SET last_notified_ms=? WHERE id=?"));
    up.bind(now).bind(a.id);
    if (up.step() != SQLITE_DONE) return core::fail(db_error(db_.get(), "outbox"));
    return {};
  }

  core::Result<void> flush(Episode& e) {
    const Alarm& a = e.alarm;
    Query q(
        stmt("UPDATE alarms SET mn=?, value=?, max_value=?, count=?, last_ms=?, updated_ms=?, "
             "cleared_ms=?, retroactive=? WHERE id=?"));
    q.bind(a.mn).bind(a.value).bind(a.max_value).bind(a.count).bind(a.last_ms).bind(a.updated_ms);
    q.bind(a.cleared_ms).bind(std::int64_t{a.retroactive ? 1 : 0}).bind(a.id);
    if (q.step() != SQLITE_DONE) return core::fail(db_error(db_.get(), "alarm update"));
    e.dirty = false;
    return {};
  }

  core::Result<void> flush_dirty() {
    for (auto& [key, e] : episodes_) {
      if (!e.dirty) continue;
      if (auto r = flush(e); !r) return r;
    }
    return {};
  }

  // Inserts a new episode; adopts the existing one if the unique index says there is one.
  core::Result<Episode*> insert_episode(const std::string& key, Alarm a, std::string_view note,
                                        std::int64_t now) {
    Query q(stmt(
        "INSERT INTO alarms(rule_id, subject, site, mn, factor, field, data_kind, severity, state, "
        "opened_ms, raised_ms, updated_ms, cleared_ms, value, max_value, count, last_ms, "
        "limit_value, op, retroactive, latency_ms, last_notified_ms) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,NULL,?,?,?,?,?,?,?,?,?)"));
    q.bind(a.rule_id).bind(a.subject).bind(a.site).bind(a.mn).bind(a.factor).bind(a.field);
    q.bind(a.data_kind).bind(severity_name(a.severity)).bind(state_name(a.state));
    q.bind(a.opened_ms).bind(a.raised_ms).bind(a.updated_ms).bind(a.value).bind(a.max_value);
    q.bind(a.count).bind(a.last_ms).bind(a.limit).bind(a.op);
    q.bind(std::int64_t{a.retroactive ? 1 : 0}).bind(a.latency_ms).bind(now);
    const int rc = q.step();
    if (rc == SQLITE_CONSTRAINT_UNIQUE) {
      // Someone else opened this episode (another process on the same file): join it.
      Query ex(stmt(std::string(kAlarmColumns) +
                    "WHERE a.rule_id=? AND a.subject=? AND a.cleared_ms IS NULL"));
      ex.bind(a.rule_id).bind(a.subject);
      if (ex.step() != SQLITE_ROW) return core::fail(db_error(db_.get(), "alarm adopt"));
      Episode& e = episodes_[key];
      e = Episode{read_alarm(ex), false};
      return &e;
    }
    if (rc != SQLITE_DONE) return core::fail(db_error(db_.get(), "alarm insert"));
    a.id = sqlite3_last_insert_rowid(db_.get());
    if (auto r = add_event(a.id, "system", "opened", "", "open", note, now); !r) {
      return core::fail(r.error());
    }
    if (auto r = enqueue(a, "opened", now); !r) return core::fail(r.error());
    Episode& e = episodes_[key];
    e = Episode{std::move(a), false};
    return &e;
  }

  core::Result<void> clear_episode(const std::string& key, std::int64_t cleared_ms,
                                   std::string_view note, std::int64_t now) {
    auto it = episodes_.find(key);
    if (it == episodes_.end()) return {};
    Episode& e = it->second;
    e.alarm.cleared_ms = cleared_ms;
    e.alarm.active = false;
    e.alarm.updated_ms = now;
    if (auto r = flush(e); !r) return r;
    const std::string state(state_name(e.alarm.state));
    if (auto r = add_event(e.alarm.id, "system", "cleared", state, state, note, now); !r) return r;
    if (auto r = enqueue(e.alarm, "cleared", now); !r) return r;
    cleared_[key] = Cleared{e.alarm.id, cleared_ms};
    episodes_.erase(it);
    return {};
  }

  // The subject's last cleared episode, if it may resume at data time t (hold-off).
  core::Result<std::optional<Alarm>> resumable(const Rule& rule, const std::string& key,
                                               const std::string& subject, std::int64_t t) {
    if (rule.hold_off_s <= 0) return std::optional<Alarm>();
    auto c = cleared_.find(key);
    if (c == cleared_.end()) {
      Query q(
          stmt("SELECT id, cleared_ms FROM alarms WHERE rule_id=? AND subject=? AND cleared_ms "
               "IS NOT NULL ORDER BY id DESC LIMIT 1"));
      q.bind(rule.id).bind(subject);
      Cleared found;
      const int rc = q.step();
      if (rc == SQLITE_ROW)
        found = Cleared{q.integer(0), q.integer(1)};
      else if (rc != SQLITE_DONE)
        return core::fail(db_error(db_.get(), "hold-off"));
      c = cleared_.emplace(key, found).first;
    }
    if (c->second.id == 0 || t < c->second.cleared_ms ||
        t - c->second.cleared_ms >= rule.hold_off_s * 1000) {
      return std::optional<Alarm>();
    }
    Query q(stmt(std::string(kAlarmColumns) + "WHERE a.id=?"));
    q.bind(c->second.id);
    if (q.step() != SQLITE_ROW) return std::optional<Alarm>();
    Alarm a = read_alarm(q);
    if (a.state == State::kClosed) return std::optional<Alarm>();
    return std::optional<Alarm>(std::move(a));
  }

  Alarm new_alarm(const Rule& rule, const std::string& subject, std::int64_t now) {
    Alarm a;
    a.rule_id = rule.id;
    a.rule_name = rule.name;
    a.kind = rule.kind;
    a.subject = subject;
    a.factor = rule.factor;
    a.field = rule.field;
    a.data_kind =
        rule.kind == RuleKind::kOffline ? "" : std::string(storage::kind_name(rule.data_kind));
    const bool clock_driven =
        rule.kind == RuleKind::kOffline || rule.kind == RuleKind::kFactorMissing;
    a.severity = rule.severity;
    a.state = State::kOpen;
    a.raised_ms = now;
    a.updated_ms = now;
    a.limit = rule.limit;
    a.op = clock_driven ? std::string(">=") : std::string(op_name(rule.op));
    return a;
  }

  // A value as the device wrote it (612, 0.35), not std::to_string's "612.000000".
  static std::string shortest(double x) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, x);
    return std::string(buf, r.ptr);
  }

  std::string describe(const Rule& rule, double x) {
    char buf[160];
    if (rule.kind == RuleKind::kWaterDeteriorating) {
      std::snprintf(buf, sizeof buf,
                    "water class %g (%s) worse by at least %g than the previous sample's", x,
                    std::string(standards::water::class_name(
                                    static_cast<standards::water::Class>(static_cast<int>(x))))
                        .c_str(),
                    rule.limit);
      return buf;
    }
    if (is_derived(rule.kind)) {
      std::snprintf(buf, sizeof buf, "%s %s %g (value %g)",
                    rule.kind == RuleKind::kAqiLevel ? "AQI" : "water class",
                    std::string(op_name(rule.op)).c_str(), rule.limit, x);
      return buf;
    }
    std::snprintf(buf, sizeof buf, "%s %s %s %g", rule.factor.c_str(), rule.field.c_str(),
                  std::string(op_name(rule.op)).c_str(), rule.limit);
    return std::string(buf) + " (value " + shortest(x) + ")";
  }

  // `cover`: a screening rule's flag_cover finding for a flagged value; `note`: the opening
  // event's note when the caller knows better than describe() (permit, emission_total);
  // `baseline`: radiation_dose rules only (the site's, from the registry).
  core::Result<void> on_value(const Rule& rule, const storage::Value& v, std::int64_t now,
                              const std::string* cover = nullptr, const std::string& note = {},
                              const RadiationBaseline* baseline = nullptr) {
    // drinking_water: each 表2 item of the site is its own episode.
    const std::string subject = rule.kind == RuleKind::kDrinkingWater
                                    ? "site:" + v.site + "/" + v.factor
                                    : "site:" + v.site;
    const std::string key = rule_key(rule.id, subject);
    SeriesState& st = series_[key];
    const Evaluation ev =
        baseline ? evaluate_dose_rate(rule, v, st, *baseline) : evaluate(rule, v, st, now, cover);
    if (ev.verdict == Verdict::kIgnored) return {};
    const bool retro = ev.late || (v.quality & storage::kQualityResend);
    auto it = episodes_.find(key);
    if (ev.verdict == Verdict::kGood) {
      if (it != episodes_.end() && !ev.late) {
        return clear_episode(key, v.measured_ms, "value " + shortest(ev.observed), now);
      }
      return {};
    }
    // Exceeds.
    if (it != episodes_.end()) {
      Alarm& a = it->second.alarm;
      // A derived rule judges an hour again when any of its items arrives or is corrected: that
      // is the same value, not one more.
      if (!is_touched_kind(rule.kind) || v.measured_ms != a.last_ms) ++a.count;
      a.max_value = a.max_value ? worse(rule.op, *a.max_value, ev.observed) : ev.observed;
      if (!ev.late) {
        a.value = ev.observed;
        a.last_ms = v.measured_ms;
        a.mn = v.mn;
      }
      a.updated_ms = now;
      it->second.dirty = true;
      return {};
    }
    auto resume = resumable(rule, key, subject, v.measured_ms);
    if (!resume) return core::fail(resume.error());
    if (*resume) {
      Alarm a = std::move(**resume);
      a.cleared_ms.reset();
      a.active = true;
      ++a.count;
      a.value = ev.observed;
      a.max_value = a.max_value ? worse(rule.op, *a.max_value, ev.observed) : ev.observed;
      a.last_ms = std::max(a.last_ms, v.measured_ms);
      a.mn = v.mn;
      a.updated_ms = now;
      const std::string state(state_name(a.state));
      Episode& e = episodes_[key];
      e = Episode{std::move(a), false};
      if (auto r = flush(e); !r) return r;
      cleared_.erase(key);
      return add_event(e.alarm.id, "system", "resumed", state, state,
                       "within hold-off of its clearing", now);
    }
    Alarm a = new_alarm(rule, subject, now);
    a.site = v.site;
    a.mn = v.mn;
    if (a.factor.empty() && !is_derived(rule.kind)) a.factor = v.factor;
    if (ev.limit) a.limit = *ev.limit;
    a.opened_ms = ev.since_ms;
    a.value = ev.observed;
    a.max_value = ev.observed;
    a.count = rule.kind == RuleKind::kSustained ? st.streak : 1;
    a.last_ms = v.measured_ms;
    a.retroactive = retro;
    a.latency_ms = std::max<std::int64_t>(0, now - v.received_ms);
    std::string opening = !ev.finding.empty() ? ev.finding : note;
    if (opening.empty() && rule.kind == RuleKind::kDrinkingWater) {
      const auto* item = standards::water::supplementary_by_hj212(v.factor);
      opening = v.factor + " " + (item ? std::string(item->name_zh) : std::string()) + " " +
                shortest(ev.observed) + " mg/L > " + shortest(ev.limit.value_or(0)) + " mg/L (" +
                (item ? std::string(item->clause) : std::string()) + ")";
    }
    if (opening.empty()) opening = describe(rule, ev.observed);
    auto e = insert_episode(key, std::move(a), opening, now);
    if (!e) return core::fail(e.error());
    if (ev.late && st.seen) {
      // Newer values of this subject were judged good already: the episode ended at the newest.
      return clear_episode(key, st.last_ms, "retroactive: newer values were good", now);
    }
    return {};
  }

  core::Result<void> on_change(const storage::Change& c, std::int64_t now) {
    const storage::Value& v = c.value;
    // factor_missing: that the device sent the factor at all counts (any flag, any quality).
    if (!watched_.empty() && watched_.count(index_key("", v.factor, v.kind, ""))) {
      std::int64_t& seen = factor_seen_[v.mn + '\x1f' + index_key("", v.factor, v.kind, "")];
      seen = std::max(seen, v.received_ms);
    }
    if (v.site.empty()) return {};
    // Clock-suspect values reach screening rules only (their future_time finding); so do flagged
    // values at outlets (flag_cover).
    const bool counts = value_counts(v);
    const bool flagged_only = !counts && (v.quality & storage::kQualityNotLatest) == 0;
    if (!counts && !(screening_rules_ > 0 &&
                     ((v.quality & storage::kQualityNotLatest) == storage::kQualityClockSuspect ||
                      flagged_only))) {
      return {};
    }
    for (const std::string_view site : {std::string_view(v.site), std::string_view()}) {
      const auto it = index_.find(index_key(site, v.factor, v.kind, v.field));
      if (it == index_.end()) continue;
      for (const std::int64_t id : it->second) {
        const Rule& rule = all_rules_.at(id);
        if (!counts && rule.kind != RuleKind::kScreening) continue;
        if (flagged_only) {
          // flag_cover: only a flagged value at an outlet that the permit would judge.
          auto cover = cover_finding(v);
          if (!cover) return core::fail(cover.error());
          if (cover->empty()) continue;
          if (auto r = on_value(rule, v, now, &*cover); !r) return r;
          continue;
        }
        if (rule.kind == RuleKind::kDrinkingWater && rule.site.empty() && sites_fn_) {
          const auto facts = sites_fn_(v.site, v.measured_ms);
          if (facts && facts->kind != "drinking_water_source") continue;
        }
        if (rule.kind == RuleKind::kRadiationDose) {
          // Judged only against a registered baseline.
          const auto facts = sites_fn_ ? sites_fn_(v.site, v.measured_ms) : std::nullopt;
          if (!facts || !facts->radiation_mean_ngy_h || !facts->radiation_sd_ngy_h) continue;
          const RadiationBaseline b{*facts->radiation_mean_ngy_h, *facts->radiation_sd_ngy_h,
                                    facts->radiation_background_upper_ngy_h};
          if (auto r = on_value(rule, v, now, nullptr, {}, &b); !r) return r;
          continue;
        }
        if (is_touched_kind(rule.kind)) {
          Touched& t = touched_[TouchKey{id, v.site, v.measured_ms, v.kind}];
          t.mn = v.mn;
          t.received_ms = v.received_ms;
          t.quality |= v.quality & storage::kQualityResend;
          continue;
        }
        if (auto r = on_value(rule, v, now); !r) return r;
      }
    }
    return {};
  }

  // --- derived rules: aqi_level, water_class ---

  // The items of one site at one measured time and data kind, as stored now: the latest version
  // of each (factor, Avg) that counts (value_counts), the last device's when several sent it.
  core::Result<std::vector<storage::Value>> items_at(const std::string& site,
                                                     std::span<const std::string_view> codes,
                                                     storage::DataKind kind, std::int64_t t) {
    std::vector<storage::Value> out;
    for (const std::string_view code : codes) {
      storage::SeriesQuery q;
      q.site = site;
      q.factor = std::string(code);
      q.kind = kind;
      q.from_ms = t;
      q.to_ms = t + 1;
      auto values = store_.series(q);
      if (!values) return core::fail(values.error());
      const storage::Value* found = nullptr;
      for (const auto& v : *values) {
        if (v.field == "Avg" && v.measured_ms == t && value_counts(v)) found = &v;
      }
      if (found) out.push_back(*found);
    }
    // Review actions: an invalidated mean is left out, a corrected one counts with its value.
    if (review_fn_ && !out.empty()) review_fn_(out);
    return out;
  }

  // The station's hourly AQI (HJ 633, edition by the hour's date); nullopt when NA.
  core::Result<std::optional<double>> hourly_aqi(const std::string& site, std::int64_t t) {
    static const auto kCodes = [] {
      std::array<std::string_view, standards::aqi::kHourlyHj212Codes.size()> c{};
      for (std::size_t i = 0; i < c.size(); ++i) c[i] = standards::aqi::kHourlyHj212Codes[i].first;
      return c;
    }();
    auto items = items_at(site, kCodes, storage::DataKind::kHour, t);
    if (!items) return core::fail(items.error());
    standards::aqi::Concentrations c;
    for (const auto& v : *items) {
      const auto p = standards::aqi::hourly_pollutant_of_hj212(v.factor);
      if (p && v.number) c[*p] = standards::Decimal::from_double(*v.number, 3);
    }
    const auto r = standards::aqi::evaluate_china_at(c, standards::aqi::Report::kHourly, t);
    if (!r.aqi) return std::optional<double>();
    return std::optional<double>(static_cast<double>(*r.aqi));
  }

  // The section class (1..6) of the site's sample at t; nullopt when no item has a class.
  core::Result<std::optional<double>> section_class(const std::string& site, storage::DataKind kind,
                                                    std::int64_t t,
                                                    const std::optional<SiteFacts>& facts) {
    static const auto kCodes = [] {
      std::array<std::string_view, standards::water::kHj212WaterItems.size()> c{};
      for (std::size_t i = 0; i < c.size(); ++i) c[i] = standards::water::kHj212WaterItems[i].first;
      return c;
    }();
    auto items = items_at(site, kCodes, kind, t);
    if (!items) return core::fail(items.error());
    standards::water::Sample sample;
    for (const auto& v : *items) {
      const auto item = standards::water::item_by_hj212(v.factor);
      if (!item) continue;
      if (v.number) {
        sample[*item] = standards::Reading::measured(*v.number);
      } else if (v.quality & storage::kQualityBelowDetection) {
        sample[*item] =
            standards::Reading::below_detection(storage::detection_limit_of(v.text).value_or(0));
      }
    }
    const bool lake = facts && (facts->waterbody == "lake" || facts->waterbody == "reservoir");
    const auto r = standards::water::evaluate_section(
        sample, lake ? standards::water::WaterBody::kLake : standards::water::WaterBody::kRiver);
    // An item the standard refuses (a negative concentration) leaves the sample unjudged.
    if (!r || !r->section_class) return std::optional<double>();
    return std::optional<double>(static_cast<double>(*r->section_class));
  }

  // Judges every (rule, site, kind, time) the batch touched, in measured-time order per subject.
  core::Result<void> evaluate_touched(std::int64_t now) {
    std::map<std::pair<std::string, std::int64_t>, std::optional<double>> aqi_cache;
    std::map<std::string, emissions::Total> totals;  // emission_total: one read per batch
    for (const auto& [k, t] : touched_) {
      const auto rule_it = all_rules_.find(k.rule_id);
      if (rule_it == all_rules_.end()) continue;
      Rule rule = rule_it->second;
      if (rule.kind == RuleKind::kPermit || rule.kind == RuleKind::kEmissionTotal) {
        if (auto r = evaluate_polluter(rule, k, t, now, totals); !r) return r;
        continue;
      }
      const std::optional<SiteFacts> facts =
          sites_fn_ ? sites_fn_(k.site, k.measured_ms) : std::nullopt;
      std::optional<double> x;
      if (rule.kind == RuleKind::kAqiLevel) {
        if (rule.site.empty() && facts && facts->kind != "ambient_air") continue;
        const auto key = std::make_pair(k.site, k.measured_ms);
        auto cached = aqi_cache.find(key);
        if (cached == aqi_cache.end()) {
          auto a = hourly_aqi(k.site, k.measured_ms);
          if (!a) return core::fail(a.error());
          cached = aqi_cache.emplace(key, *a).first;
        }
        x = cached->second;
      } else {
        if (rule.site.empty() && facts && facts->kind != "surface_water" &&
            facts->kind != "drinking_water_source") {
          continue;
        }
        if (rule.kind == RuleKind::kWaterClass && rule.limit == 0) {
          if (!facts || !facts->water_class) continue;  // no designated class: not judged
          rule.limit = *facts->water_class;
        }
        auto c = section_class(k.site, k.kind, k.measured_ms, facts);
        if (!c) return core::fail(c.error());
        x = *c;
      }
      if (!x) continue;  // NA / no classified item: neither opens nor clears
      storage::Value v;
      v.site = k.site;
      v.mn = t.mn;
      v.factor = rule.kind == RuleKind::kAqiLevel ? "AQI" : "water_class";
      v.field = "Avg";
      v.kind = k.kind;
      v.measured_ms = k.measured_ms;
      v.received_ms = t.received_ms;
      v.number = x;
      v.flag = "N";
      v.quality = t.quality;
      if (auto r = on_value(rule, v, now); !r) return r;
    }
    touched_.clear();
    return {};
  }

  core::Result<std::size_t> process_changes() {
    std::lock_guard engine(engine_mu_);
    std::size_t total = 0;
    while (true) {
      auto changes = store_.changes(cursor_, options_.batch_limit);
      if (!changes) return core::fail(changes.error());
      if (changes->empty()) break;
      std::lock_guard lock(mu_);
      const std::int64_t now = clock_.now_ms();
      if (auto r = begin(); !r) return core::fail(r.error());
      auto fail = [&](const core::Error& e) -> core::Result<std::size_t> {
        rollback();
        // The in-memory state went ahead of the database: take it back from there.
        (void)load();
        return core::fail(e);
      };
      for (const auto& c : *changes) {
        if (auto r = on_change(c, now); !r) return fail(r.error());
      }
      if (auto r = evaluate_touched(now); !r) return fail(r.error());
      if (auto r = flush_dirty(); !r) return fail(r.error());
      const std::uint64_t next = changes->back().sequence;
      Query q(stmt("UPDATE alarm_cursor SET sequence=? WHERE name=?"));
      q.bind(static_cast<std::int64_t>(next)).bind(kCursorName);
      if (q.step() != SQLITE_DONE) return fail(db_error(db_.get(), "cursor"));
      if (auto r = commit(); !r) {
        (void)load();
        return core::fail(r.error());
      }
      cursor_ = next;
      values_evaluated_ += changes->size();
      total += changes->size();
      wake_notifier();
    }
    if (auto r = process_revisions(); !r) return core::fail(r.error());
    return total;
  }

  // Review actions → `data_revised` events on the alarms whose data they changed
  // (AlarmService::set_revisions). The caller holds engine_mu_ (not mu_).
  core::Result<void> process_revisions() {
    RevisionFeed feed;
    {
      std::lock_guard lock(mu_);
      feed = revisions_fn_;
    }
    if (!feed) return {};
    while (true) {
      std::int64_t after = 0;
      {
        std::lock_guard lock(mu_);
        after = review_cursor_;
      }
      auto revisions = feed(after, options_.batch_limit);
      if (!revisions) return core::fail(revisions.error());
      if (revisions->empty()) return {};
      std::lock_guard lock(mu_);
      const std::int64_t now = clock_.now_ms();
      if (auto r = begin(); !r) return core::fail(r.error());
      auto fail = [&](const core::Error& e) -> core::Result<void> {
        rollback();
        return core::fail(e);
      };
      std::uint64_t noted = 0;
      for (const DataRevision& rev : *revisions) {
        if (rev.action != "invalidate" && rev.action != "correct" && rev.action != "restore") {
          continue;
        }
        std::vector<Alarm> concerned;
        {
          Query q(stmt(std::string(kAlarmColumns) +
                       "WHERE a.site=? AND a.opened_ms < ? AND (a.cleared_ms IS NULL OR "
                       "a.cleared_ms > ?) ORDER BY a.id"));
          q.bind(rev.site).bind(rev.to_ms).bind(rev.from_ms);
          int rc;
          while ((rc = q.step()) == SQLITE_ROW) concerned.push_back(read_alarm(q));
          if (rc != SQLITE_DONE) return fail(db_error(db_.get(), "alarms"));
        }
        for (const Alarm& a : concerned) {
          if (a.kind == RuleKind::kOffline || a.kind == RuleKind::kFactorMissing) continue;
          if (!is_derived(a.kind) && !rev.factor.empty() && a.factor != rev.factor) continue;
          std::string note = "review action #" + std::to_string(rev.id) + ": " + rev.action;
          if (!rev.factor.empty()) note += " " + rev.factor;
          if (rev.value) note += " → " + shortest(*rev.value);
          note += " [" + iso(rev.from_ms) + ", " + iso(rev.to_ms) + ")";
          if (!rev.reason.empty()) note += " — " + rev.reason;
          if (!rev.actor.empty()) note += " (" + rev.actor + ")";
          const std::string state(state_name(a.state));
          if (auto r = add_event(a.id, "system", "data_revised", state, state, note, now); !r) {
            return fail(r.error());
          }
          ++noted;
        }
      }
      Query q(
          stmt("INSERT INTO alarm_cursor(name, sequence) VALUES(?,?) "
               "ON CONFLICT(name) DO UPDATE SET sequence=excluded.sequence"));
      q.bind(kReviewCursorName).bind(revisions->back().id);
      if (q.step() != SQLITE_DONE) return fail(db_error(db_.get(), "review cursor"));
      if (auto r = commit(); !r) return core::fail(r.error());
      review_cursor_ = revisions->back().id;
      revisions_noted_ += noted;
    }
  }

  // --- tick: offline, escalation, re-notification ---

  core::Result<void> tick(std::int64_t now) {
    std::lock_guard engine(engine_mu_);
    std::vector<DeviceSeen> devices;
    std::function<std::vector<DeviceSeen>()> devices_fn;
    {
      std::lock_guard lock(mu_);
      devices_fn = devices_fn_;
    }
    if (devices_fn) devices = devices_fn();
    std::lock_guard lock(mu_);
    auto fail = [&](const core::Error& e) -> core::Result<void> {
      if (in_tx_) rollback();
      (void)load();
      return core::fail(e);
    };
    auto tx = [&]() -> core::Result<void> { return in_tx_ ? core::Result<void>() : begin(); };
    for (const std::int64_t id : offline_) {
      const Rule& rule = all_rules_.at(id);
      for (const auto& d : devices) {
        if (!rule.device.empty() && rule.device != d.mn) continue;
        if (!rule.site.empty() && rule.site != d.site) continue;
        const std::int64_t interval_s = rule.interval_s > 0 ? rule.interval_s : d.interval_s;
        if (interval_s <= 0) continue;
        const auto limit_ms = static_cast<std::int64_t>(
            std::llround(static_cast<double>(interval_s) * 1000.0 * rule.tolerance));
        const std::int64_t last = d.last_seen_ms > 0 ? d.last_seen_ms : started_ms_;
        const std::string subject = "device:" + d.mn;
        const std::string key = rule_key(id, subject);
        const bool open = episodes_.count(key) != 0;
        if (now - last >= limit_ms) {
          if (open) continue;
          if (auto r = tx(); !r) return fail(r.error());
          Alarm a = new_alarm(rule, subject, now);
          a.site = d.site;
          a.mn = d.mn;
          a.opened_ms = last + limit_ms;
          a.value = static_cast<double>(now - last) / 1000.0;
          a.max_value = a.value;
          a.count = 1;
          a.last_ms = last;
          a.limit = static_cast<double>(limit_ms) / 1000.0;
          char note[160];
          std::snprintf(note, sizeof note, "silent for %.0f s (limit %lld s = %lld s x %g)",
                        *a.value, static_cast<long long>(limit_ms / 1000),
                        static_cast<long long>(interval_s), rule.tolerance);
          auto e = insert_episode(key, std::move(a), note, now);
          if (!e) return fail(e.error());
        } else if (open && d.last_seen_ms > 0) {
          if (auto r = tx(); !r) return fail(r.error());
          if (auto r = clear_episode(key, d.last_seen_ms, "heard again", now); !r) {
            return fail(r.error());
          }
        }
      }
    }
    for (const std::int64_t id : missing_) {
      if (auto r = tick_missing(all_rules_.at(id), devices, now, tx); !r) return fail(r.error());
    }
    // Escalation: dispatched tasks whose due time has passed.
    std::vector<std::int64_t> overdue;
    {
      Query q(
          stmt("SELECT id FROM alarms WHERE state='dispatched' AND escalated=0 AND due_ms IS "
               "NOT NULL AND due_ms<=?"));
      q.bind(now);
      while (q.step() == SQLITE_ROW) overdue.push_back(q.integer(0));
    }
    for (const std::int64_t id : overdue) {
      if (auto r = tx(); !r) return fail(r.error());
      Query up(stmt("UPDATE alarms SET escalated=1, updated_ms=? WHERE id=?"));
      up.bind(now).bind(id);
      if (up.step() != SQLITE_DONE) return fail(db_error(db_.get(), "escalate"));
      if (auto r = add_event(id, "system", "escalated", "dispatched", "dispatched",
                             "due time passed", now);
          !r) {
        return fail(r.error());
      }
      auto a = load_alarm(id);
      if (!a) return fail(a.error());
      if (*a) {
        sync_episode(**a);
        if (auto r = enqueue(**a, "escalated", now); !r) return fail(r.error());
      }
    }
    // Re-notification of open, unacknowledged alarms.
    std::vector<std::int64_t> due;
    {
      Query q(stmt(
          "SELECT a.id FROM alarms a JOIN alarm_rules r ON r.id = a.rule_id WHERE "
          "a.cleared_ms IS NULL AND a.state='open' AND r.renotify_s>0 AND r.recipients<>'' AND "
          "a.last_notified_ms + r.renotify_s*1000 <= ?"));
      q.bind(now);
      while (q.step() == SQLITE_ROW) due.push_back(q.integer(0));
    }
    for (const std::int64_t id : due) {
      if (auto r = tx(); !r) return fail(r.error());
      auto a = load_alarm(id);
      if (!a) return fail(a.error());
      if (*a) {
        if (auto r = enqueue(**a, "renotify", now); !r) return fail(r.error());
      }
    }
    if (in_tx_) {
      if (auto r = flush_dirty(); !r) return fail(r.error());
      if (auto r = commit(); !r) {
        (void)load();
        return core::fail(r.error());
      }
      wake_notifier();
    }
    return {};
  }

  // factor_missing for one rule at `now`: opens an episode for an online device that has not sent
  // the factor for interval × count; clears it once the factor has come back.
  template <class Tx>
  core::Result<void> tick_missing(const Rule& rule, const std::vector<DeviceSeen>& devices,
                                  std::int64_t now, Tx& tx) {
    const std::string watched = index_key("", rule.factor, rule.data_kind, "");
    for (const auto& d : devices) {
      if (!rule.device.empty() && rule.device != d.mn) continue;
      if (!rule.site.empty() && rule.site != d.site) continue;
      const std::int64_t interval_s = rule.interval_s > 0 ? rule.interval_s : d.interval_s;
      if (interval_s <= 0) continue;
      const std::int64_t limit_ms = interval_s * rule.count * 1000;
      const auto seen_it = factor_seen_.find(d.mn + '\x1f' + watched);
      const std::int64_t seen = seen_it != factor_seen_.end() ? seen_it->second : 0;
      const std::string subject = "device:" + d.mn;
      const std::string key = rule_key(rule.id, subject);
      const auto open = episodes_.find(key);
      if (open != episodes_.end()) {
        // The episode's last_ms is when the factor was last heard of before it opened.
        if (seen > open->second.alarm.last_ms) {
          if (auto r = tx(); !r) return r;
          if (auto r = clear_episode(key, seen, "factor sent again", now); !r) return r;
        }
        continue;
      }
      const bool online = d.last_seen_ms > 0 && now - d.last_seen_ms < limit_ms;
      const std::int64_t last = std::max(seen, started_ms_);
      if (!online || now - last < limit_ms) continue;
      if (auto r = tx(); !r) return r;
      Alarm a = new_alarm(rule, subject, now);
      a.site = d.site;
      a.mn = d.mn;
      a.field = "";
      a.opened_ms = last + limit_ms;
      a.value = static_cast<double>(now - last) / 1000.0;
      a.max_value = a.value;
      a.count = 1;
      a.last_ms = last;
      a.limit = static_cast<double>(limit_ms) / 1000.0;
      char note[200];
      std::snprintf(note, sizeof note, "%s missing for %.0f s (limit %lld s = %lld s x %lld)",
                    rule.factor.c_str(), *a.value, static_cast<long long>(limit_ms / 1000),
                    static_cast<long long>(interval_s), static_cast<long long>(rule.count));
      auto e = insert_episode(key, std::move(a), note, now);
      if (!e) return core::fail(e.error());
    }
    return {};
  }

  core::Result<std::optional<Alarm>> load_alarm(std::int64_t id) {
    Query q(stmt(std::string(kAlarmColumns) + "WHERE a.id=?"));
    q.bind(id);
    const int rc = q.step();
    if (rc == SQLITE_DONE) return std::optional<Alarm>();
    if (rc != SQLITE_ROW) return core::fail(db_error(db_.get(), "alarm"));
    return std::optional<Alarm>(read_alarm(q));
  }

  // Keeps the engine's copy of an open episode in step with a change made outside it.
  void sync_episode(const Alarm& a) {
    auto it = episodes_.find(rule_key(a.rule_id, a.subject));
    if (it == episodes_.end() || it->second.alarm.id != a.id) return;
    Alarm& e = it->second.alarm;
    e.state = a.state;
    e.department = a.department;
    e.assignee = a.assignee;
    e.due_ms = a.due_ms;
    e.notes = a.notes;
    e.escalated = a.escalated;
    e.closed_ms = a.closed_ms;
  }

  // --- the notifier ---

  core::Result<std::size_t> deliver_due(std::int64_t now) {
    struct Row {
      std::int64_t id;
      std::string url, body;
      std::int64_t attempts;
    };
    std::vector<Row> rows;
    Poster poster;
    {
      std::lock_guard lock(mu_);
      poster = poster_;
      // Oldest first per recipient: a row waits while an older one to the same URL backs off.
      Query q(
          stmt("SELECT o.id, o.url, o.body, o.attempts FROM alarm_outbox o WHERE "
               "o.delivered_ms IS NULL AND o.next_attempt_ms<=?1 AND NOT EXISTS (SELECT 1 "
               "FROM alarm_outbox p WHERE p.url=o.url AND p.delivered_ms IS NULL AND p.id<o.id "
               "AND p.next_attempt_ms>?1) ORDER BY o.id LIMIT 100"));
      q.bind(now);
      int rc;
      while ((rc = q.step()) == SQLITE_ROW) {
        rows.push_back(Row{q.integer(0), q.text(1), q.text(2), q.integer(3)});
      }
      if (rc != SQLITE_DONE) return core::fail(db_error(db_.get(), "outbox"));
    }
    if (rows.empty()) return std::size_t{0};
    struct Outcome {
      std::int64_t id;
      bool ok;
      std::optional<std::int64_t> status;
      std::string error;
      std::int64_t attempts;
    };
    std::vector<Outcome> outcomes;
    std::set<std::string> failed_urls;
    for (const auto& row : rows) {
      if (failed_urls.count(row.url)) continue;  // keep its order: retry it with the first
      Headers headers;
      if (!options_.webhook_secret.empty()) {
        headers.emplace_back("X-Ecomon-Signature",
                             "sha256=" + hmac_sha256_hex(options_.webhook_secret, row.body));
      }
      headers.emplace_back("X-Ecomon-Delivery", std::to_string(row.id));
      auto r = poster ? poster(row.url, row.body, headers)
                      : post_json(row.url, row.body, headers, options_.http_timeout_ms,
                                  WebhookTls{options_.webhook_ca_file});
      Outcome o{row.id, false, std::nullopt, "", row.attempts + 1};
      if (r) {
        o.status = *r;
        o.ok = *r >= 200 && *r < 300;
        if (!o.ok) o.error = "HTTP " + std::to_string(*r);
      } else {
        o.error = r.error().detail;
      }
      if (!o.ok) failed_urls.insert(row.url);
      outcomes.push_back(std::move(o));
    }
    std::lock_guard lock(mu_);
    const std::int64_t done_ms = clock_.now_ms();
    if (auto r = begin(); !r) return core::fail(r.error());
    std::size_t delivered = 0;
    for (const auto& o : outcomes) {
      if (o.ok) {
        Query q(
            stmt("UPDATE alarm_outbox SET delivered_ms=?, attempts=?, last_status=?, "
                 "last_error='' WHERE id=?"));
        q.bind(done_ms).bind(o.attempts).bind(o.status).bind(o.id);
        if (q.step() != SQLITE_DONE) {
          rollback();
          return core::fail(db_error(db_.get(), "outbox"));
        }
        ++delivered;
      } else {
        const int shift = static_cast<int>(std::min<std::int64_t>(o.attempts - 1, 30));
        const std::int64_t wait =
            std::min(options_.backoff_first_ms << shift, options_.backoff_max_ms);
        Query q(
            stmt("UPDATE alarm_outbox SET attempts=?, next_attempt_ms=?, last_status=?, "
                 "last_error=? WHERE id=?"));
        q.bind(o.attempts).bind(now + wait).bind(o.status).bind(o.error.substr(0, 500)).bind(o.id);
        if (q.step() != SQLITE_DONE) {
          rollback();
          return core::fail(db_error(db_.get(), "outbox"));
        }
        ++failures_;
      }
    }
    if (auto r = commit(); !r) return core::fail(r.error());
    delivered_ += delivered;
    return delivered;
  }

  std::optional<std::int64_t> next_due() {
    std::lock_guard lock(mu_);
    Query q(stmt("SELECT min(next_attempt_ms) FROM alarm_outbox WHERE delivered_ms IS NULL"));
    if (q.step() != SQLITE_ROW || q.is_null(0)) return std::nullopt;
    return q.integer(0);
  }

  // --- threads ---

  void start() {
    std::lock_guard lock(thread_mu_);
    if (running_) return;
    running_ = true;
    stopping_ = false;
    engine_ = std::thread([this] { engine_loop(); });
    notifier_ = std::thread([this] { notifier_loop(); });
  }

  void stop() {
    {
      std::lock_guard lock(thread_mu_);
      if (!running_) return;
      stopping_ = true;
    }
    engine_cv_.notify_all();
    notifier_cv_.notify_all();
    if (engine_.joinable()) engine_.join();
    if (notifier_.joinable()) notifier_.join();
    std::lock_guard lock(thread_mu_);
    running_ = false;
  }

  void notify() {
    {
      std::lock_guard lock(thread_mu_);
      engine_wake_ = true;
    }
    engine_cv_.notify_one();
  }

  void wake_notifier() {
    if (!outbox_added_) return;
    outbox_added_ = false;
    {
      std::lock_guard lock(thread_mu_);
      notifier_wake_ = true;
    }
    notifier_cv_.notify_one();
  }

  void engine_loop() {
    std::int64_t last_tick = 0;
    std::int64_t last_error_log = 0;
    while (true) {
      {
        std::unique_lock lock(thread_mu_);
        engine_cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                            [&] { return stopping_ || engine_wake_; });
        if (stopping_) return;
        engine_wake_ = false;
      }
      auto log = [&](const core::Error& e) {
        const std::int64_t t = clock_.now_ms();
        if (t - last_error_log < 10000) return;  // one line per 10 s at most
        last_error_log = t;
        std::fprintf(stderr, "ecomon alarm: %s: %s\n", e.reason.c_str(), e.detail.c_str());
      };
      if (auto r = process_changes(); !r) log(r.error());
      const std::int64_t now = clock_.now_ms();
      if (now - last_tick >= 1000) {
        last_tick = now;
        if (auto r = tick(now); !r) log(r.error());
      }
    }
  }

  void notifier_loop() {
    std::int64_t last_error_log = 0;
    while (true) {
      const std::int64_t now = clock_.now_ms();
      auto delivered = deliver_due(now);
      if (!delivered && clock_.now_ms() - last_error_log >= 10000) {
        last_error_log = clock_.now_ms();
        std::fprintf(stderr, "ecomon alarm: notifier: %s\n", delivered.error().detail.c_str());
      }
      std::int64_t wait_ms = 1000;
      if (delivered && *delivered > 0) {
        wait_ms = 0;  // more may be due right away
      } else if (auto due = next_due()) {
        wait_ms = std::clamp<std::int64_t>(*due - clock_.now_ms(), 0, 1000);
      }
      std::unique_lock lock(thread_mu_);
      if (wait_ms > 0) {
        notifier_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                              [&] { return stopping_ || notifier_wake_; });
      }
      if (stopping_) return;
      notifier_wake_ = false;
    }
  }

  // --- members ---

  const storage::Store& store_;
  const core::Clock& clock_;
  AlarmOptions options_;
  storage::sql::Connection db_;
  std::int64_t started_ms_ = 0;

  std::mutex engine_mu_;  // one engine step at a time (process_changes, tick)
  std::mutex mu_;         // the connection and everything below
  std::map<std::string, Stmt> stmts_;
  bool in_tx_ = false;
  std::map<std::int64_t, Rule> all_rules_;
  std::unordered_map<std::string, std::vector<std::int64_t>> index_;  // value rules by key
  std::vector<std::int64_t> offline_;
  std::vector<std::int64_t> missing_;        // factor_missing rules
  std::unordered_set<std::string> watched_;  // index_key("", factor, kind, "") they watch
  // factor_missing: MN \x1f watched key → receive time of the newest such value (since start)
  std::unordered_map<std::string, std::int64_t> factor_seen_;
  std::unordered_map<std::string, SeriesState> series_;
  std::unordered_map<std::string, Episode> episodes_;  // uncleared, by rule_key
  std::unordered_map<std::string, Cleared> cleared_;   // hold-off: the last cleared episode
  // Derived rules: what the current batch touched, ordered by rule, site, then measured time.
  std::map<TouchKey, Touched> touched_;
  std::size_t screening_rules_ = 0;  // enabled screening rules (they see clock-suspect values)
  SiteLookup sites_fn_;
  PermitLookup permits_fn_;            // permit, emission_total, flag_cover
  std::uint64_t permit_unjudged_ = 0;  // permit values not judged (no O2, O2 ≥ 20.9 %, …)
  ReviewApplier review_fn_;
  RevisionFeed revisions_fn_;
  std::int64_t review_cursor_ = 0;     // alarm_cursor "review": the last review action read
  std::uint64_t revisions_noted_ = 0;  // data_revised events since start
  std::uint64_t cursor_ = 0;
  bool outbox_added_ = false;
  std::function<std::vector<DeviceSeen>()> devices_fn_;
  Poster poster_;
  std::uint64_t values_evaluated_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t failures_ = 0;

  std::mutex thread_mu_;
  std::condition_variable engine_cv_, notifier_cv_;
  bool running_ = false, stopping_ = false, engine_wake_ = false, notifier_wake_ = false;
  std::thread engine_, notifier_;
};

AlarmService::AlarmService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AlarmService::~AlarmService() { impl_->stop(); }

core::Result<std::unique_ptr<AlarmService>> AlarmService::open(const std::string& path,
                                                               const storage::Store& store,
                                                               const core::Clock& clock,
                                                               AlarmOptions options) {
  if (sodium_init() < 0) {
    return core::fail(core::Error{"crypto_unavailable", "libsodium could not be initialised"});
  }
  auto impl = std::make_unique<Impl>(store, clock, std::move(options));
  if (auto r = impl->open(path); !r.ok()) return core::fail(r.error());
  return std::unique_ptr<AlarmService>(new AlarmService(std::move(impl)));
}

void AlarmService::set_devices(std::function<std::vector<DeviceSeen>()> devices) {
  std::lock_guard lock(impl_->mu_);
  impl_->devices_fn_ = std::move(devices);
}

void AlarmService::set_poster(Poster poster) {
  std::lock_guard lock(impl_->mu_);
  impl_->poster_ = std::move(poster);
}

void AlarmService::set_sites(SiteLookup sites) {
  std::lock_guard lock(impl_->mu_);
  impl_->sites_fn_ = std::move(sites);
}

void AlarmService::set_permits(PermitLookup permits) {
  std::lock_guard lock(impl_->mu_);
  impl_->permits_fn_ = std::move(permits);
}

void AlarmService::set_review(ReviewApplier review) {
  std::lock_guard lock(impl_->mu_);
  impl_->review_fn_ = std::move(review);
}

void AlarmService::set_revisions(RevisionFeed feed) {
  std::lock_guard lock(impl_->mu_);
  impl_->revisions_fn_ = std::move(feed);
}

void AlarmService::start() { impl_->start(); }
void AlarmService::stop() { impl_->stop(); }
void AlarmService::notify() { impl_->notify(); }
core::Result<std::size_t> AlarmService::process_changes() { return impl_->process_changes(); }
core::Result<void> AlarmService::tick(std::int64_t now_ms) { return impl_->tick(now_ms); }
core::Result<std::size_t> AlarmService::deliver_due(std::int64_t now_ms) {
  return impl_->deliver_due(now_ms);
}

core::Result<Rule> AlarmService::create_rule(Rule rule, const std::string& actor) {
  if (auto problem = normalise_rule(rule)) return core::fail(core::Error{"bad_rule", *problem});
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  const std::int64_t now = I.clock_.now_ms();
  rule.id = 0;
  rule.enabled = true;
  rule.created_ms = now;
  rule.updated_ms = now;
  rule.created_by = actor;
  Query q(I.stmt(
      "INSERT INTO alarm_rules(name, kind, site, device, factor, field, data_kind, op, "
      "limit_value, count, interval_s, tolerance, severity, hold_off_s, renotify_s, recipients, "
      "enabled, created_ms, created_by, updated_ms, source) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?,?,?)"));
  q.bind(rule.name).bind(kind_name(rule.kind)).bind(rule.site).bind(rule.device).bind(rule.factor);
  q.bind(rule.field).bind(storage::kind_name(rule.data_kind)).bind(op_name(rule.op));
  q.bind(rule.limit).bind(rule.count).bind(rule.interval_s).bind(rule.tolerance);
  q.bind(severity_name(rule.severity)).bind(rule.hold_off_s).bind(rule.renotify_s);
  q.bind(join_lines(rule.recipients)).bind(now).bind(actor).bind(now);
  if (rule.source != "config") rule.source = "api";
  q.bind(rule.source);
  if (q.step() != SQLITE_DONE) return core::fail(db_error(I.db_.get(), "rule"));
  rule.id = sqlite3_last_insert_rowid(I.db_.get());
  I.all_rules_[rule.id] = rule;
  I.rebuild_index();
  return rule;
}

core::Result<std::vector<Rule>> AlarmService::rules() {
  std::lock_guard lock(impl_->mu_);
  std::vector<Rule> out;
  for (const auto& [id, r] : impl_->all_rules_) out.push_back(r);
  return out;
}

core::Result<Rule> AlarmService::disable_rule(std::int64_t id, const std::string& actor) {
  auto& I = *impl_;
  std::lock_guard engine(I.engine_mu_);
  std::lock_guard lock(I.mu_);
  auto it = I.all_rules_.find(id);
  if (it == I.all_rules_.end()) {
    return core::fail(core::Error{"not_found", "no rule " + std::to_string(id)});
  }
  const std::int64_t now = I.clock_.now_ms();
  if (auto r = I.begin(); !r) return core::fail(r.error());
  Query q(I.stmt("UPDATE alarm_rules SET enabled=0, updated_ms=? WHERE id=?"));
  q.bind(now).bind(id);
  if (q.step() != SQLITE_DONE) {
    auto e = db_error(I.db_.get(), "rule");
    I.rollback();
    return core::fail(e);
  }
  std::vector<std::string> keys;
  for (const auto& [key, e] : I.episodes_) {
    if (e.alarm.rule_id == id) keys.push_back(key);
  }
  for (const auto& key : keys) {
    if (auto r = I.clear_episode(key, now, "rule disabled by " + actor, now); !r) {
      I.rollback();
      (void)I.load();
      return core::fail(r.error());
    }
  }
  if (auto r = I.commit(); !r) {
    (void)I.load();
    return core::fail(r.error());
  }
  it->second.enabled = false;
  it->second.updated_ms = now;
  I.rebuild_index();
  I.wake_notifier();
  return it->second;
}

core::Result<std::vector<AlarmService::ConfigChange>> AlarmService::sync_config_rules(
    std::vector<Rule> rules, const std::string& actor) {
  std::set<std::string> names;
  for (auto& r : rules) {
    if (auto problem = normalise_rule(r)) {
      return core::fail(core::Error{"bad_rule", r.name + ": " + *problem});
    }
    if (!names.insert(r.name).second) {
      return core::fail(core::Error{"bad_rule", "two rules named '" + r.name + "'"});
    }
  }
  auto& I = *impl_;
  std::lock_guard engine(I.engine_mu_);
  std::lock_guard lock(I.mu_);
  std::map<std::string, std::int64_t> existing;  // config rules by name
  for (const auto& [id, r] : I.all_rules_) {
    if (r.source == "config") existing[r.name] = id;
  }
  const std::int64_t now = I.clock_.now_ms();
  std::vector<ConfigChange> changes;
  std::vector<std::int64_t> changed_ids;  // updated or disabled: their episodes end
  if (auto r = I.begin(); !r) return core::fail(r.error());
  auto fail = [&](const core::Error& e) -> core::Result<std::vector<ConfigChange>> {
    I.rollback();
    (void)I.load();
    return core::fail(e);
  };
  auto write_fields = [&](Query& q, const Rule& rule) {
    q.bind(rule.name).bind(kind_name(rule.kind)).bind(rule.site).bind(rule.device);
    q.bind(rule.factor).bind(rule.field).bind(storage::kind_name(rule.data_kind));
    q.bind(op_name(rule.op)).bind(rule.limit).bind(rule.count).bind(rule.interval_s);
    q.bind(rule.tolerance).bind(severity_name(rule.severity)).bind(rule.hold_off_s);
    q.bind(rule.renotify_s).bind(join_lines(rule.recipients));
  };
  for (auto& rule : rules) {
    rule.source = "config";
    rule.enabled = true;
    rule.updated_ms = now;
    const auto found = existing.find(rule.name);
    if (found == existing.end()) {
      rule.created_ms = now;
      rule.created_by = actor;
      Query q(
          I.stmt("INSERT INTO alarm_rules(name, kind, site, device, factor, field, data_kind, op, "
                 "limit_value, count, interval_s, tolerance, severity, hold_off_s, renotify_s, "
                 "recipients, enabled, created_ms, created_by, updated_ms, source) "
                 "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,?,?,?,'config')"));
      write_fields(q, rule);
      q.bind(now).bind(actor).bind(now);
      if (q.step() != SQLITE_DONE) return fail(db_error(I.db_.get(), "config rule"));
      rule.id = sqlite3_last_insert_rowid(I.db_.get());
      changes.push_back(ConfigChange{"created", rule});
      continue;
    }
    const Rule& old = I.all_rules_.at(found->second);
    existing.erase(found);
    if (same_definition(old, rule) && old.enabled) {
      changes.push_back(ConfigChange{"unchanged", old});
      continue;
    }
    rule.id = old.id;
    rule.created_ms = old.created_ms;
    rule.created_by = old.created_by;
    Query q(
        I.stmt("UPDATE alarm_rules SET name=?, kind=?, site=?, device=?, factor=?, field=?, "
               "data_kind=?, op=?, limit_value=?, count=?, interval_s=?, tolerance=?, "
               "severity=?, hold_off_s=?, renotify_s=?, recipients=?, enabled=1, updated_ms=? "
               "WHERE id=?"));
    write_fields(q, rule);
    q.bind(now).bind(rule.id);
    if (q.step() != SQLITE_DONE) return fail(db_error(I.db_.get(), "config rule"));
    changed_ids.push_back(rule.id);
    changes.push_back(ConfigChange{"updated", rule});
  }
  for (const auto& [name, id] : existing) {
    Rule gone = I.all_rules_.at(id);
    if (!gone.enabled) continue;
    Query q(I.stmt("UPDATE alarm_rules SET enabled=0, updated_ms=? WHERE id=?"));
    q.bind(now).bind(id);
    if (q.step() != SQLITE_DONE) return fail(db_error(I.db_.get(), "config rule"));
    gone.enabled = false;
    gone.updated_ms = now;
    changed_ids.push_back(id);
    changes.push_back(ConfigChange{"disabled", gone});
  }
  for (const std::int64_t id : changed_ids) {
    std::vector<std::string> keys;
    for (const auto& [key, e] : I.episodes_) {
      if (e.alarm.rule_id == id) keys.push_back(key);
    }
    for (const auto& key : keys) {
      if (auto r = I.clear_episode(key, now, "rule changed in the config file", now); !r) {
        return fail(r.error());
      }
    }
  }
  if (auto r = I.commit(); !r) {
    (void)I.load();
    return core::fail(r.error());
  }
  for (const auto& c : changes) I.all_rules_[c.rule.id] = c.rule;
  // A changed rule's evaluation state (streaks, previous values) belongs to the old condition.
  for (const std::int64_t id : changed_ids) {
    const std::string prefix = std::to_string(id) + '\n';
    std::erase_if(I.series_, [&](const auto& kv) { return kv.first.rfind(prefix, 0) == 0; });
    std::erase_if(I.cleared_, [&](const auto& kv) { return kv.first.rfind(prefix, 0) == 0; });
  }
  I.rebuild_index();
  I.wake_notifier();
  return changes;
}

core::Result<std::vector<Alarm>> AlarmService::alarms(const AlarmQuery& query) {
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  // One statement shape per combination would multiply cached statements; optional filters are
  // written as (?=-1 OR col=?) instead, so this is one prepared statement.
  Query q(I.stmt(std::string(kAlarmColumns) +
                 "WHERE (?1='' OR a.state=?1) AND (?2=-1 OR (a.cleared_ms IS NULL)=?2) AND "
                 "(?3='' OR a.site=?3) AND (?4=-1 OR a.rule_id=?4) AND a.opened_ms>=?5 AND "
                 "a.opened_ms<?6 AND (?7=0 OR a.state IN ('dispatched','handled')) AND (?9=0 OR "
                 "a.site IN (SELECT value FROM json_each(?10)) OR a.mn IN (SELECT value FROM "
                 "json_each(?11))) ORDER BY a.id DESC LIMIT ?8"));
  q.bind(query.state ? state_name(*query.state) : std::string_view());
  q.bind(std::int64_t{query.active ? (*query.active ? 1 : 0) : -1});
  q.bind(query.site);
  q.bind(query.rule_id.value_or(-1));
  q.bind(query.from_ms).bind(query.to_ms);
  q.bind(std::int64_t{query.tasks_only ? 1 : 0});
  q.bind(static_cast<std::int64_t>(query.limit));
  // Of a set of sites or devices (an enterprise's): JSON arrays read by json_each.
  auto json_array = [](const std::vector<std::string>& items) {
    core::JsonWriter w;
    w.begin_array();
    for (const auto& i : items) w.value(i);
    w.end_array();
    return w.take();
  };
  q.bind(std::int64_t{query.subjects ? 1 : 0});
  q.bind(json_array(query.subjects ? query.subjects->sites : std::vector<std::string>{}));
  q.bind(json_array(query.subjects ? query.subjects->mns : std::vector<std::string>{}));
  std::vector<Alarm> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(read_alarm(q));
  if (rc != SQLITE_DONE) return core::fail(db_error(I.db_.get(), "alarms"));
  return out;
}

core::Result<std::optional<Alarm>> AlarmService::alarm(std::int64_t id) {
  std::lock_guard lock(impl_->mu_);
  return impl_->load_alarm(id);
}

core::Result<std::vector<AlarmEvent>> AlarmService::events(std::int64_t alarm_id) {
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  Query q(
      I.stmt("SELECT id, alarm_id, at_ms, actor, action, from_state, to_state, note FROM "
             "alarm_events WHERE alarm_id=? ORDER BY id"));
  q.bind(alarm_id);
  std::vector<AlarmEvent> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back(AlarmEvent{q.integer(0), q.integer(1), q.integer(2), q.text(3), q.text(4),
                             q.text(5), q.text(6), q.text(7)});
  }
  if (rc != SQLITE_DONE) return core::fail(db_error(I.db_.get(), "events"));
  return out;
}

core::Result<std::vector<AlarmChange>> AlarmService::changes_after(std::int64_t after_event_id,
                                                                   std::size_t limit) {
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  std::string sql(kAlarmColumns);
  // The event's id and action after the alarm's columns (read_alarm reads 0..29).
  sql.replace(sql.find(" FROM alarms a"), 14,
              ", e.id, e.action FROM alarm_events e JOIN alarms a ON a.id = e.alarm_id");
  Query q(I.stmt(sql + "WHERE e.id > ? ORDER BY e.id LIMIT ?"));
  q.bind(after_event_id).bind(static_cast<std::int64_t>(limit));
  std::vector<AlarmChange> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    AlarmChange c;
    c.alarm = read_alarm(q);
    c.event_id = q.integer(30);
    c.action = q.text(31);
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) return core::fail(db_error(I.db_.get(), "alarm changes"));
  return out;
}

core::Result<std::int64_t> AlarmService::last_change_id() {
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  Query q(I.stmt("SELECT coalesce(max(id), 0) FROM alarm_events"));
  if (q.step() != SQLITE_ROW) return core::fail(db_error(I.db_.get(), "alarm changes"));
  return q.integer(0);
}

core::Result<Alarm> AlarmService::transition(std::int64_t id, const Transition& t) {
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  auto loaded = I.load_alarm(id);
  if (!loaded) return core::fail(loaded.error());
  if (!*loaded) return core::fail(core::Error{"not_found", "no alarm " + std::to_string(id)});
  Alarm a = std::move(**loaded);
  const State from = a.state;
  State to;
  auto illegal = [&] {
    return core::fail(core::Error{"illegal", "an alarm that is " + std::string(state_name(from)) +
                                                 " cannot be " + t.action +
                                                 (t.action == "ack" ? "ed" : "d")});
  };
  if (t.note.size() > 4000)
    return core::fail(core::Error{"bad_request", "note: at most 4000 bytes"});
  if (t.action == "ack") {
    if (from != State::kOpen) return illegal();
    to = State::kAcknowledged;
  } else if (t.action == "dispatch") {
    if (from != State::kOpen && from != State::kAcknowledged) return illegal();
    if (t.department.empty() || t.department.size() > 200) {
      return core::fail(
          core::Error{"bad_request", "dispatch needs a department (at most 200 bytes)"});
    }
    if (t.assignee.size() > 200)
      return core::fail(core::Error{"bad_request", "assignee: at most 200 bytes"});
    to = State::kDispatched;
    a.department = t.department;
    a.assignee = t.assignee;
    a.due_ms = t.due_ms;
    a.escalated = false;
  } else if (t.action == "handle") {
    if (from != State::kAcknowledged && from != State::kDispatched) return illegal();
    if (t.note.empty())
      return core::fail(core::Error{"bad_request", "handle needs a note (the disposal)"});
    to = State::kHandled;
    a.notes = t.note;
  } else if (t.action == "close") {
    if (from != State::kAcknowledged && from != State::kHandled) return illegal();
    if (a.active) {
      return core::fail(core::Error{"still_active",
                                    "the alarm's condition still holds; it can be closed once it "
                                    "has cleared (or its rule is disabled)"});
    }
    to = State::kClosed;
  } else {
    return core::fail(core::Error{"bad_request", "unknown transition '" + t.action + "'"});
  }
  const std::int64_t now = I.clock_.now_ms();
  a.state = to;
  a.updated_ms = now;
  if (to == State::kClosed) a.closed_ms = now;
  if (auto r = I.begin(); !r) return core::fail(r.error());
  Query q(
      I.stmt("UPDATE alarms SET state=?, updated_ms=?, department=?, assignee=?, due_ms=?, "
             "notes=?, escalated=?, closed_ms=? WHERE id=? AND state=?"));
  q.bind(state_name(to)).bind(now).bind(a.department).bind(a.assignee).bind(a.due_ms);
  q.bind(a.notes).bind(std::int64_t{a.escalated ? 1 : 0}).bind(a.closed_ms).bind(id);
  q.bind(state_name(from));
  if (q.step() != SQLITE_DONE) {
    auto e = db_error(I.db_.get(), "transition");
    I.rollback();
    return core::fail(e);
  }
  std::string note = t.note;
  if (t.action == "dispatch") {
    note = "department=" + t.department + (t.assignee.empty() ? "" : " assignee=" + t.assignee) +
           (t.due_ms ? " due=" + iso(*t.due_ms) : "") + (t.note.empty() ? "" : ": " + t.note);
  }
  if (auto r = I.add_event(id, t.actor, t.action, state_name(from), state_name(to), note, now);
      !r) {
    I.rollback();
    return core::fail(r.error());
  }
  if (auto r = I.commit(); !r) return core::fail(r.error());
  I.sync_episode(a);
  return a;
}

AlarmCounters AlarmService::counters() {
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  AlarmCounters c;
  c.values_evaluated = I.values_evaluated_;
  c.alarms_open = I.episodes_.size();
  c.notifications_delivered = I.delivered_;
  c.notification_failures = I.failures_;
  c.cursor = I.cursor_;
  c.permit_unjudged = I.permit_unjudged_;
  c.revision_cursor = static_cast<std::uint64_t>(I.review_cursor_);
  c.revisions_noted = I.revisions_noted_;
  Query q(I.stmt("SELECT count(*) FROM alarm_outbox WHERE delivered_ms IS NULL"));
  if (q.step() == SQLITE_ROW) c.notifications_pending = static_cast<std::uint64_t>(q.integer(0));
  return c;
}

}  // namespace ecomon::alarm
