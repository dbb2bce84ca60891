// The incident report (应急监测报告, issue #6 §5): GET /api/v1/incidents/{id}/report — a printable
// HTML document with Chinese headings (Content-Disposition: attachment), or ?format=json with the
// same content: the incident (location, pollutant, period), the affected sites (temporary
// stations are not modelled separately yet: a temporary station is a site of the incident like
// any other), the devices asked for a higher reporting frequency and their outcomes, the timeline
// of actions, commands and alarms, and the measurements at the affected sites during the
// incident: per site and factor the count, mean, minimum and maximum (with their times) and the
// hourly means, and the exceedances (the alarms of the sites raised during the incident, with
// their worst values and limits).
//
// Measurements: the values stored for the site in the incident's period (opening to closing, or
// to now while open), capped at kMaxReportDays from the opening; per factor the finest data kind
// the site has is used for the hourly means — hourly values when there are any, else minute
// values, else real-time values — so kinds are never mixed. Values that never count for alarms
// (device flag other than N, quarantined, pending, clock-suspect: alarm::value_counts) are left
// out, as are values without a number. Hours are Beijing hours labelled by their start.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "alarm/incident.h"
#include "alarm/service.h"
#include "api/http_api.h"
#include "api/routes_internal.h"

namespace ecomon::api::detail {
namespace {

constexpr std::int64_t kHourMs = 3600 * 1000;
constexpr std::int64_t kMaxReportDays = 31;

struct HourMean {
  std::int64_t hour_ms = 0;
  double mean = 0;
  std::size_t count = 0;
};

struct Measurement {
  std::string site, factor, name, unit, kind, field;
  std::size_t count = 0;
  double mean = 0, min = 0, max = 0;
  std::int64_t min_ms = 0, max_ms = 0;
  std::vector<HourMean> hourly;
};

struct Report {
  alarm::Incident incident;
  std::int64_t from_ms = 0, to_ms = 0;
  bool truncated = false;
  std::vector<const registry::Site*> sites;
  std::vector<std::string> unknown_sites;
  std::vector<alarm::TimelineEntry> timeline;
  std::vector<alarm::Alarm> alarms;
  std::vector<Measurement> measurements;
  std::int64_t generated_ms = 0;
};

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

int kind_rank(storage::DataKind k) {
  switch (k) {
    case storage::DataKind::kHour:
      return 3;
    case storage::DataKind::kMinute:
      return 2;
    case storage::DataKind::kRealtime:
      return 1;
    default:
      return 0;
  }
}

core::Result<std::vector<Measurement>> measure(const ApiSources& s, const registry::Registry& reg,
                                               const std::string& site, std::int64_t from_ms,
                                               std::int64_t to_ms) {
  auto latest = s.store->latest(site);
  if (!latest) return core::fail(latest.error());
  std::vector<std::string> factors;
  for (const auto& v : *latest) {
    if (std::find(factors.begin(), factors.end(), v.factor) == factors.end()) {
      factors.push_back(v.factor);
    }
  }
  std::vector<Measurement> out;
  for (const auto& factor : factors) {
    storage::SeriesQuery q;
    q.site = site;
    q.factor = factor;
    q.from_ms = from_ms;
    q.to_ms = to_ms;
    auto values = s.store->series(q);
    if (!values) return core::fail(values.error());
    int best = 0;
    for (const auto& v : *values) {
      if (v.number && alarm::value_counts(v)) best = std::max(best, kind_rank(v.kind));
    }
    if (best == 0) continue;
    Measurement m;
    m.site = site;
    m.factor = factor;
    if (const registry::Factor* f = reg.find_factor(factor)) {
      m.name = f->name_zh;
      const registry::Site* at = reg.find_site(site);
      m.unit = f->unit_at(at ? std::string_view(at->kind) : std::string_view());
    }
    std::map<std::int64_t, std::pair<double, std::size_t>> hours;
    double sum = 0;
    for (const auto& v : *values) {
      if (!v.number || !alarm::value_counts(v) || kind_rank(v.kind) != best) continue;
      // Hourly and minute means are the Avg field; real-time values Rtd.
      if (v.field != (v.kind == storage::DataKind::kRealtime ? "Rtd" : "Avg")) continue;
      const double x = *v.number;
      if (m.count == 0 || x < m.min) m.min = x, m.min_ms = v.measured_ms;
      if (m.count == 0 || x > m.max) m.max = x, m.max_ms = v.measured_ms;
      ++m.count;
      sum += x;
      m.kind = std::string(storage::kind_name(v.kind));
      m.field = v.field;
      // Beijing hours start on whole UTC hours (UTC+8, no DST).
      auto& h = hours[v.measured_ms - ((v.measured_ms % kHourMs) + kHourMs) % kHourMs];
      h.first += x;
      ++h.second;
    }
    if (m.count == 0) continue;
    m.mean = sum / static_cast<double>(m.count);
    for (const auto& [hour, acc] : hours) {
      m.hourly.push_back(HourMean{hour, acc.first / static_cast<double>(acc.second), acc.second});
    }
    out.push_back(std::move(m));
  }
  return out;
}

core::Result<Report> build(const Ctx& c, const alarm::Incident& incident) {
  Report r;
  r.incident = incident;
  r.generated_ms = c.s.clock ? c.s.clock->now_ms() : 0;
  r.from_ms = incident.opened_ms;
  r.to_ms = incident.closed_ms ? *incident.closed_ms : r.generated_ms;
  if (r.to_ms - r.from_ms > kMaxReportDays * 24 * kHourMs) {
    r.to_ms = r.from_ms + kMaxReportDays * 24 * kHourMs;
    r.truncated = true;
  }
  auto timeline = c.s.incidents->timeline(incident.id);
  if (!timeline) return core::fail(timeline.error());
  r.timeline = std::move(*timeline);
  auto reg = c.s.registry->get();
  for (const auto& code : incident.sites) {
    if (const registry::Site* site = reg->find_site(code)) {
      r.sites.push_back(site);
    } else {
      r.unknown_sites.push_back(code);
    }
    if (c.s.alarms) {
      alarm::AlarmQuery q;
      q.site = code;
      q.limit = 1000;
      auto found = c.s.alarms->alarms(q);
      if (!found) return core::fail(found.error());
      for (auto& a : *found) {
        if (a.raised_ms >= incident.opened_ms && a.raised_ms <= r.to_ms) {
          r.alarms.push_back(std::move(a));
        }
      }
    }
    if (c.s.store) {
      auto m = measure(c.s, *reg, code, r.from_ms, r.to_ms);
      if (!m) return core::fail(m.error());
      for (auto& x : *m) r.measurements.push_back(std::move(x));
    }
  }
  std::sort(r.alarms.begin(), r.alarms.end(),
            [](const auto& a, const auto& b) { return a.raised_ms < b.raised_ms; });
  return r;
}

// One timeline in time order: the incident's entries and the alarms raised during it.
struct Line {
  std::int64_t at_ms;
  std::string kind, actor, text;
};
std::vector<Line> lines_of(const Report& r) {
  std::vector<Line> out;
  for (const auto& e : r.timeline) {
    std::string text = e.text;
    if (e.kind == "command") text += " [" + e.mn + ": " + e.outcome + "]";
    out.push_back(Line{e.at_ms, e.kind, e.actor, text});
  }
  for (const auto& a : r.alarms) {
    out.push_back(Line{a.raised_ms, "alarm", "system",
                       a.rule_name + " @ " + a.site + (a.factor.empty() ? "" : " " + a.factor)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Line& a, const Line& b) { return a.at_ms < b.at_ms; });
  return out;
}

std::string kind_zh(const std::string& kind) {
  if (kind == "opened") return "启动";
  if (kind == "action") return "处置";
  if (kind == "command") return "加密监测指令";
  if (kind == "closed") return "结束";
  if (kind == "alarm") return "预警";
  return kind;
}

std::string render_html(const Report& r) {
  const auto& i = r.incident;
  std::string h;
  auto cell = [&](std::string_view s) { h += "<td>" + html_escape(s) + "</td>"; };
  h += "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>应急监测报告 — ";
  h += html_escape(i.title) +
       "</title><style>body{font-family:sans-serif;margin:2em}"
       "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #999;"
       "padding:.2em .5em;text-align:left}h1{font-size:1.5em}h2{font-size:1.2em}"
       "@media print{h2{page-break-after:avoid}}</style></head><body>\n";
  h += "<h1>应急监测报告</h1>\n<h2>一、事件基本情况</h2>\n<table>";
  auto row = [&](std::string_view k, std::string_view v) {
    h += "<tr><th>" + html_escape(k) + "</th>";
    cell(v);
    h += "</tr>";
  };
  row("事件编号", std::to_string(i.id));
  row("事件名称", i.title);
  row("地点", i.location);
  row("特征污染物", i.pollutant);
  row("开始时间", iso(i.opened_ms));
  row("结束时间", i.closed_ms ? iso(*i.closed_ms) : "进行中");
  row("状态", i.state == "closed" ? "已结束" : "进行中");
  row("启动人", i.opened_by);
  row("报告统计时段",
      iso(r.from_ms) + " — " + iso(r.to_ms) + (r.truncated ? "（仅统计前31天）" : ""));
  h += "</table>\n<h2>二、受影响点位</h2>\n<table><tr><th>点位编码</th><th>名称</th><th>类型</th>"
       "<th>所属</th></tr>";
  for (const auto* s : r.sites) {
    h += "<tr>";
    cell(s->code);
    cell(s->name);
    cell(s->kind);
    cell(s->place.county);
    h += "</tr>";
  }
  for (const auto& code : r.unknown_sites) {
    h += "<tr>";
    cell(code);
    cell("（未登记）");
    cell("");
    cell("");
    h += "</tr>";
  }
  h += "</table>\n<h2>三、加密监测设备</h2>\n";
  h += "<p>实时数据上报间隔：" +
       (i.rtd_interval_s > 0 ? std::to_string(i.rtd_interval_s) + " 秒" : std::string("未调整")) +
       "</p><table><tr><th>时间</th><th>设备 (MN)</th><th>结果</th><th>说明</th></tr>";
  for (const auto& e : r.timeline) {
    if (e.kind != "command") continue;
    h += "<tr>";
    cell(iso(e.at_ms));
    cell(e.mn);
    cell(e.outcome);
    cell(e.text);
    h += "</tr>";
  }
  h += "</table>\n<h2>四、处置过程</h2>\n<table><tr><th>时间</th><th>类型</th><th>人员</th>"
       "<th>内容</th></tr>";
  for (const auto& l : lines_of(r)) {
    h += "<tr>";
    cell(iso(l.at_ms));
    cell(kind_zh(l.kind));
    cell(l.actor);
    cell(l.text);
    h += "</tr>";
  }
  h += "</table>\n<h2>五、监测数据</h2>\n<table><tr><th>点位</th><th>因子</th><th>数据类型</th>"
       "<th>样本数</th><th>均值</th><th>最小值</th><th>最小值时间</th><th>最大值</th>"
       "<th>最大值时间</th><th>单位</th></tr>";
  for (const auto& m : r.measurements) {
    h += "<tr>";
    cell(m.site);
    cell(m.name.empty() ? m.factor : m.name + " (" + m.factor + ")");
    cell(m.kind);
    cell(std::to_string(m.count));
    cell(number(m.mean));
    cell(number(m.min));
    cell(iso(m.min_ms));
    cell(number(m.max));
    cell(iso(m.max_ms));
    cell(m.unit);
    h += "</tr>";
  }
  h += "</table>\n<h3>小时均值</h3>\n";
  for (const auto& m : r.measurements) {
    h += "<p>" + html_escape(m.site) + " · " + html_escape(m.name.empty() ? m.factor : m.name) +
         "</p><table><tr><th>小时（起）</th><th>均值</th><th>样本数</th></tr>";
    for (const auto& hm : m.hourly) {
      h += "<tr>";
      cell(iso(hm.hour_ms));
      cell(number(hm.mean));
      cell(std::to_string(hm.count));
      h += "</tr>";
    }
    h += "</table>\n";
  }
  h += "<h2>六、超标及预警情况</h2>\n<table><tr><th>预警编号</th><th>规则</th><th>点位</th>"
       "<th>因子</th><th>开始</th><th>结束</th><th>最大值</th><th>限值</th><th>状态</th></tr>";
  for (const auto& a : r.alarms) {
    h += "<tr>";
    cell(std::to_string(a.id));
    cell(a.rule_name);
    cell(a.site);
    cell(a.factor);
    cell(iso(a.opened_ms));
    cell(a.cleared_ms ? iso(*a.cleared_ms) : "持续中");
    cell(a.max_value ? number(*a.max_value) : "");
    cell(a.op + " " + number(a.limit));
    cell(std::string(alarm::state_name(a.state)));
    h += "</tr>";
  }
  if (r.alarms.empty()) h += "<tr><td colspan=\"9\">期间无预警</td></tr>";
  h += "</table>\n<p>报告生成时间：" + html_escape(iso(r.generated_ms)) +
       "（ecomon；实时数据未经审核）</p>\n</body></html>\n";
  return h;
}

std::string render_json(const Report& r) {
  const auto& i = r.incident;
  core::JsonWriter w;
  w.begin_object().key("incident").begin_object();
  w.key("id").value(i.id).key("title").value(i.title).key("location").value(i.location);
  w.key("pollutant").value(i.pollutant).key("state").value(i.state);
  w.key("opened_at").value(iso(i.opened_ms)).key("closed_at");
  i.closed_ms ? w.value(iso(*i.closed_ms)) : w.null();
  w.key("opened_by").value(i.opened_by).key("rtd_interval_s").value(i.rtd_interval_s);
  w.end_object();
  w.key("period").begin_object().key("from").value(iso(r.from_ms)).key("to").value(iso(r.to_ms));
  w.key("truncated").value(r.truncated).end_object();
  w.key("sites").begin_array();
  for (const auto* s : r.sites) {
    w.begin_object().key("code").value(s->code).key("name").value(s->name);
    w.key("kind").value(s->kind).key("registered").value(true).end_object();
  }
  for (const auto& code : r.unknown_sites) {
    w.begin_object().key("code").value(code).key("name").value("").key("kind").value("");
    w.key("registered").value(false).end_object();
  }
  w.end_array().key("devices").begin_array();
  for (const auto& e : r.timeline) {
    if (e.kind != "command") continue;
    w.begin_object().key("time").value(iso(e.at_ms)).key("mn").value(e.mn);
    w.key("outcome").value(e.outcome).key("text").value(e.text).end_object();
  }
  w.end_array().key("timeline").begin_array();
  for (const auto& l : lines_of(r)) {
    w.begin_object().key("time").value(iso(l.at_ms)).key("kind").value(l.kind);
    w.key("actor").value(l.actor).key("text").value(l.text).end_object();
  }
  w.end_array().key("measurements").begin_array();
  for (const auto& m : r.measurements) {
    w.begin_object().key("site").value(m.site).key("factor").value(m.factor);
    w.key("name").value(m.name).key("unit").value(m.unit).key("data_kind").value(m.kind);
    w.key("field").value(m.field).key("count").value(static_cast<std::int64_t>(m.count));
    w.key("mean").value(m.mean).key("min").value(m.min).key("min_at").value(iso(m.min_ms));
    w.key("max").value(m.max).key("max_at").value(iso(m.max_ms));
    w.key("hourly").begin_array();
    for (const auto& hm : m.hourly) {
      w.begin_object().key("hour").value(iso(hm.hour_ms)).key("mean").value(hm.mean);
      w.key("count").value(static_cast<std::int64_t>(hm.count)).end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().key("exceedances").begin_array();
  for (const auto& a : r.alarms) alarm::write_alarm(w, a);
  w.end_array().key("generated_at").value(iso(r.generated_ms)).end_object();
  return w.take();
}

}  // namespace

Response incident_report(const Ctx& c, const alarm::Incident& incident) {
  std::string format = "html";
  if (auto it = c.t.query.find("format"); it != c.t.query.end() && !it->second.empty()) {
    format = it->second;
  }
  if (format != "html" && format != "json") {
    return error(400, "bad_request", "format: html or json");
  }
  auto r = build(c, incident);
  if (!r) return error(500, "internal", r.error().detail);
  if (format == "json") return Response{200, "application/json", render_json(*r), {}};
  Response out{200, "text/html; charset=utf-8", render_html(*r), {}};
  out.headers.emplace_back(
      "Content-Disposition",
      "attachment; filename=\"incident-" + std::to_string(incident.id) + "-report.html\"");
  return out;
}

}  // namespace ecomon::api::detail
