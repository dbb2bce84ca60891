#include "app/serve.h"

#include <toml++/toml.h>

#include <boost/asio.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "alarm/evidence.h"
#include "alarm/incident.h"
#include "alarm/service.h"
#include "api/http_api.h"
#include "api/rule_json.h"
#include "app/config_sections.h"
#include "app/data_lock.h"
#include "app/device_commands.h"
#include "app/key_rotation.h"
#include "auth/secret_box.h"
#include "auth/service.h"
#include "core/clock.h"
#include "derive/aggregates.h"
#include "derive/review.h"
#include "gateway/gateway.h"
#include "ingest/ingestor.h"
#include "registry/holder.h"
#include "standards/water.h"
#include "storage/sqlite/sqlite_store.h"

namespace ecomon::app {
namespace {

bool split_endpoint(const std::string& text, std::string& host, std::uint16_t& port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  try {
    const int p = std::stoi(text.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<std::uint16_t>(p);
  } catch (...) {
    return false;
  }
  return true;
}

// 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) and localhost: traffic that never leaves the host.
bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  if (ec) return false;
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6()).is_loopback();
  }
  return addr.is_loopback();
}

// The top-level keys of `serve --config` and the type each must have; anything else stops the
// start with the line (a misspelt key silently ignored would leave a deployment on a default).
std::optional<std::string> unknown_or_mistyped_key(const toml::table& t) {
  enum class Kind { kString, kBool, kInteger, kNumber, kTable, kArray };
  static const std::map<std::string_view, Kind> kKeys = {
      {"data", Kind::kString},
      {"registry", Kind::kString},
      {"hj212_listen", Kind::kString},
      {"http_listen", Kind::kString},
      {"tls_cert", Kind::kString},
      {"tls_key", Kind::kString},
      {"allow_plain_http", Kind::kBool},
      {"unknown_devices", Kind::kString},
      {"webhook_secret", Kind::kString},
      {"webhook_ca_file", Kind::kString},
      {"web_root", Kind::kString},
      {"public_rate_per_s", Kind::kNumber},
      {"public_burst", Kind::kNumber},
      {"login_rate_per_s", Kind::kNumber},
      {"login_burst", Kind::kNumber},
      {"idle_timeout_s", Kind::kInteger},
      {"max_connections", Kind::kInteger},
      {"max_buffered_bytes", Kind::kInteger},
      {"future_tolerance_s", Kind::kInteger},
      {"rules", Kind::kArray},
      {"screening", Kind::kTable},
      {"backfill", Kind::kTable},
      {"forward", Kind::kArray},
  };
  for (const auto& [key, node] : t) {
    const std::string line = "line " + std::to_string(node.source().begin.line) + ": ";
    const auto it = kKeys.find(key.str());
    if (it == kKeys.end()) return line + "unknown key " + std::string(key.str());
    bool ok = false;
    const char* want = "";
    switch (it->second) {
      case Kind::kString:
        ok = node.is_string(), want = "a string";
        break;
      case Kind::kBool:
        ok = node.is_boolean(), want = "true or false";
        break;
      case Kind::kInteger:
        ok = node.is_integer(), want = "an integer";
        break;
      case Kind::kNumber:
        ok = node.is_number(), want = "a number";
        break;
      case Kind::kTable:
        ok = node.is_table(), want = "a table";
        break;
      case Kind::kArray:
        ok = node.is_array();
        break;
    }
    if (!ok && it->second == Kind::kArray) {
      return line + std::string(key.str()) + " must be [[" + std::string(key.str()) + "]] tables";
    }
    if (!ok) return line + std::string(key.str()) + " must be " + want;
  }
  return std::nullopt;
}

}  // namespace

bool apply_serve_config(ServeOptions& o, const std::string& path) {
  try {
    const toml::table t = toml::parse_file(path);
    if (auto problem = unknown_or_mistyped_key(t)) {
      std::fprintf(stderr, "ecomon serve: %s %s\n", path.c_str(), problem->c_str());
      return false;
    }
    auto str = [&](const char* key, std::string& target) {
      if (auto v = t[key].value<std::string>()) target = *v;
    };
    auto num = [&](const char* key, std::int64_t& target) {
      if (auto v = t[key].value<std::int64_t>()) target = *v;
    };
    str("data", o.data_dir);
    str("registry", o.registry_dir);
    str("hj212_listen", o.hj212_listen);
    str("http_listen", o.http_listen);
    str("tls_cert", o.tls_cert);
    str("tls_key", o.tls_key);
    if (auto v = t["allow_plain_http"].value<bool>()) o.allow_plain_http = *v;
    str("unknown_devices", o.unknown_devices);
    str("webhook_secret", o.webhook_secret);
    str("webhook_ca_file", o.webhook_ca_file);
    str("web_root", o.web_root);
    auto real = [&](const char* key, double& target) {
      if (auto v = t[key].value<double>()) target = *v;
    };
    real("public_rate_per_s", o.public_rate_per_s);
    real("public_burst", o.public_burst);
    real("login_rate_per_s", o.login_rate_per_s);
    real("login_burst", o.login_burst);
    num("idle_timeout_s", o.idle_timeout_s);
    num("max_connections", o.max_connections);
    num("max_buffered_bytes", o.max_buffered_bytes);
    num("future_tolerance_s", o.future_tolerance_s);
    o.config_path = path;
    o.config_rules_given = true;
    o.config_rules.clear();
    if (const toml::node* rules = t.get("rules")) {
      const toml::array* list = rules->as_array();
      if (!list || !list->is_array_of_tables()) {
        std::fprintf(stderr, "ecomon serve: %s line %u: rules must be [[rules]] tables\n",
                     path.c_str(), static_cast<unsigned>(rules->source().begin.line));
        return false;
      }
      for (const toml::node& n : *list) {
        std::ostringstream json;
        json << toml::json_formatter{*n.as_table()};
        o.config_rules.push_back(
            ServeOptions::ConfigRule{json.str(), static_cast<unsigned>(n.source().begin.line)});
      }
    }
    auto section = [&](const char* name, auto apply) {
      const toml::node* node = t.get(name);
      if (!node) return true;
      const toml::table* table = node->as_table();
      auto applied =
          table ? apply(*table)
                : core::Result<void>(core::fail(core::Error{
                      "bad_config", "line " + std::to_string(node->source().begin.line) + ": " +
                                        name + " must be a table ([" + name + "])"}));
      if (!applied) {
        std::fprintf(stderr, "ecomon serve: %s %s\n", path.c_str(), applied.error().detail.c_str());
      }
      return static_cast<bool>(applied);
    };
    if (!section("screening",
                 [&](const toml::table& s) {
                   return apply_screening_section(s, o.screening, o.screening_marks);
                 }) ||
        !section("backfill",
                 [&](const toml::table& s) { return apply_backfill_section(s, o.backfill); })) {
      return false;
    }
    o.forward.clear();
    if (const toml::node* fw = t.get("forward")) {
      const toml::array* list = fw->as_array();
      auto applied = list ? apply_forward_sections(*list, o.forward)
                          : core::Result<void>(core::fail(core::Error{
                                "bad_config", "line " + std::to_string(fw->source().begin.line) +
                                                  ": forward must be [[forward]] tables"}));
      if (!applied) {
        std::fprintf(stderr, "ecomon serve: %s %s\n", path.c_str(), applied.error().detail.c_str());
        return false;
      }
    }
  } catch (const toml::parse_error& e) {
    std::fprintf(stderr, "ecomon serve: %s line %u: %s\n", path.c_str(),
                 static_cast<unsigned>(e.source().begin.line), e.what());
    return false;
  }
  return true;
}

namespace {

// The config file's [[rules]] → the stored config rules (alarm/service.h sync_config_rules). Every
// entry is checked first (the API's parser and checks, and that its site and device exist); a bad
// one stops the start with the file, the line and the reason. Each change is audited as an API
// change is, with the actor "config".
bool sync_config_rules(const ServeOptions& o, alarm::AlarmService& alarms, auth::AuthService& auth,
                       const registry::RegistryHolder& registry) {
  std::vector<alarm::Rule> rules;
  const auto reg = registry.get();
  for (const auto& entry : o.config_rules) {
    auto refuse = [&](const std::string& why) {
      std::fprintf(stderr, "ecomon serve: %s line %u: rule refused: %s\n", o.config_path.c_str(),
                   entry.line, why.c_str());
      return false;
    };
    auto rule = api::rule_from_json_text(entry.json);
    if (!rule) return refuse(rule.error().detail);
    if (auto problem = alarm::normalise_rule(*rule)) return refuse(*problem);
    if (!rule->site.empty() && !reg->find_site(rule->site)) {
      return refuse("no site '" + rule->site + "' in the registry");
    }
    if (!rule->device.empty() && !reg->find_device(rule->device)) {
      return refuse("no device '" + rule->device + "' in the registry");
    }
    for (const auto& earlier : rules) {
      if (earlier.name == rule->name) return refuse("a second rule named '" + rule->name + "'");
    }
    rules.push_back(std::move(*rule));
  }
  auto changes = alarms.sync_config_rules(std::move(rules), "config");
  if (!changes) {
    std::fprintf(stderr, "ecomon serve: %s: rules: %s\n", o.config_path.c_str(),
                 changes.error().detail.c_str());
    return false;
  }
  std::size_t changed = 0;
  for (const auto& c : *changes) {
    if (c.action == "unchanged") continue;
    ++changed;
    const std::string action = c.action == "created"   ? "rule.create"
                               : c.action == "updated" ? "rule.update"
                                                       : "rule.disable";
    (void)auth.audit("config", action, std::to_string(c.rule.id),
                     "from " + o.config_path + ": " + c.rule.name, "config");
  }
  std::fprintf(stderr, "ecomon serve: %zu rule(s) from %s, %zu changed\n", o.config_rules.size(),
               o.config_path.c_str(), changed);
  return true;
}

std::string metrics_text(const gateway::GatewayCounters& g, const ingest::Ingestor::Counters& i,
                         std::uint64_t values, std::uint64_t frames, std::uint64_t http_requests,
                         std::uint64_t tls_handshake_failures) {
  std::ostringstream m;
  auto line = [&](const char* name, const char* help, const char* type, std::uint64_t v) {
    m << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
      << name << ' ' << v << '\n';
  };
  line("ecomon_connections_open", "Device connections open.", "gauge", g.connections_open);
  line("ecomon_connections_total", "Device connections accepted.", "counter", g.connections_total);
  line("ecomon_connections_refused_total", "Connections refused by max_connections.", "counter",
       g.connections_refused_limit);
  line("ecomon_idle_timeouts_total", "Connections closed by idle_timeout.", "counter",
       g.idle_timeouts);
  line("ecomon_buffer_overflows_total", "Connections closed by max_buffered_bytes.", "counter",
       g.buffer_overflows);
  line("ecomon_replies_sent_total", "HJ 212 replies sent (9013/9014).", "counter", g.replies_sent);
  line("ecomon_acks_withheld_total", "Acknowledgements withheld (commit failed or queue full).",
       "counter", g.acks_withheld);
  m << "# HELP ecomon_frames_total HJ 212 frames by outcome (stored or the rejection reason).\n"
       "# TYPE ecomon_frames_total counter\n";
  for (const auto& [outcome, n] : g.frames_by_outcome) {
    m << "ecomon_frames_total{outcome=\"" << outcome << "\"} " << n << '\n';
  }
  line("ecomon_values_stored_total", "Values stored (new keys).", "counter", i.values_stored);
  line("ecomon_value_versions_total", "New versions of known keys.", "counter", i.new_versions);
  line("ecomon_value_duplicates_total", "Values received again unchanged.", "counter",
       i.duplicates);
  line("ecomon_commits_total", "Store commits (group commits).", "counter", i.commits);
  line("ecomon_commit_failures_total", "Store commits that failed.", "counter", i.commit_failures);
  line("ecomon_ingest_queue_depth", "Frames waiting for a commit.", "gauge", i.queue_depth);
  line("ecomon_ingest_refused_total", "Frames refused because the queue was full.", "counter",
       i.refused_queue_full);
  line("ecomon_values", "Value versions in the store.", "gauge", values);
  line("ecomon_frames_archived", "Frames in the archive.", "gauge", frames);
  line("ecomon_http_requests_total", "HTTP requests served.", "counter", http_requests);
  line("ecomon_tls_handshake_failures_total",
       "TLS handshakes of the HTTP API that failed or timed out (plain HTTP, old clients).",
       "counter", tls_handshake_failures);
  m << "# HELP ecomon_commit_latency_ms Commit latency.\n# TYPE ecomon_commit_latency_ms "
       "histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < i.commit_latency.size(); ++b) {
    cumulative += i.commit_latency[b];
    const double bound = ingest::Ingestor::kLatencyBoundsMs[b];
    m << "ecomon_commit_latency_ms_bucket{le=\"" << (bound > 1e100 ? std::string("+Inf") : ([&] {
      std::ostringstream s;
      s << bound;
      return s.str();
    })())
      << "\"} " << cumulative << '\n';
  }
  m << "ecomon_commit_latency_ms_sum " << i.commit_seconds_sum * 1000 << '\n';
  m << "ecomon_commit_latency_ms_count " << cumulative << '\n';
  return m.str();
}

std::string alarm_metrics(const alarm::AlarmCounters& a) {
  std::ostringstream m;
  auto line = [&](const char* name, const char* help, const char* type, std::uint64_t v) {
    m << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
      << name << ' ' << v << '\n';
  };
  line("ecomon_alarms_open", "Alarm episodes whose condition holds.", "gauge", a.alarms_open);
  line("ecomon_alarm_values_evaluated_total", "Change-feed entries the alarm engine evaluated.",
       "counter", a.values_evaluated);
  line("ecomon_alarm_notifications_pending", "Webhook notifications waiting in the outbox.",
       "gauge", a.notifications_pending);
  line("ecomon_alarm_notifications_delivered_total", "Webhook notifications delivered.", "counter",
       a.notifications_delivered);
  line("ecomon_alarm_notification_failures_total", "Webhook delivery attempts that failed.",
       "counter", a.notification_failures);
  line("ecomon_alarm_permit_unjudged_total",
       "Outlet values a permit rule could not judge (no O2 to convert, O2 >= 20.9 %, ...).",
       "counter", a.permit_unjudged);
  line("ecomon_alarm_review_cursor", "The review action id the alarm engine has read up to.",
       "gauge", a.revision_cursor);
  line("ecomon_alarm_data_revised_total",
       "data_revised events written on alarms whose data a review action changed (since start).",
       "counter", a.revisions_noted);
  return m.str();
}

std::string derived_metrics(const derive::DerivedCounters& d) {
  std::ostringstream m;
  auto line = [&](const char* name, const char* help, const char* type, std::uint64_t v) {
    m << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
      << name << ' ' << v << '\n';
  };
  line("ecomon_derived_cursor", "Change-feed sequence the stored means are computed up to.",
       "gauge", d.cursor);
  line("ecomon_derived_rows_written_total",
       "Stored hours, days and indices inserted or changed (stations and cities).", "counter",
       d.rows_written);
  line("ecomon_derived_revisions_total",
       "Revisions of stored rows by late or re-sent data and review actions.", "counter",
       d.revisions_added);
  line("ecomon_derived_review_cursor", "Review action id the stored means are revised up to.",
       "gauge", d.review_cursor);
  line("ecomon_derived_review_actions_total", "Review actions read by the derived service.",
       "counter", d.actions_read);
  line("ecomon_derived_hour_mismatches_total",
       "Device hours stored differing from the platform's mean of their minutes beyond the "
       "[screening] hour tolerance.",
       "counter", d.hour_mismatches);
  return m.str();
}

std::string screening_metrics(const derive::ScreeningCounters& c) {
  std::ostringstream m;
  auto line = [&](const char* name, const char* help, const char* type, std::uint64_t v) {
    m << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
      << name << ' ' << v << '\n';
  };
  line("ecomon_screening_cursor", "Change-feed sequence the screening marks are screened up to.",
       "gauge", c.cursor);
  line("ecomon_screening_batches_total", "Batches of changes screened into marks.", "counter",
       c.batches);
  line("ecomon_screening_windows_total", "Series windows screened for marks.", "counter",
       c.windows_screened);
  line("ecomon_screening_marks_found_total", "Screening marks created.", "counter", c.marks_found);
  line("ecomon_screening_marks_updated_total",
       "Screening marks whose range, count or evidence a re-screen changed.", "counter",
       c.marks_updated);
  line("ecomon_screening_marks_withdrawn_total", "Screening marks a re-screen no longer found.",
       "counter", c.marks_withdrawn);
  line("ecomon_screening_errors_total", "Screening batches that failed (retried).", "counter",
       c.errors);
  return m.str();
}

std::string backfill_metrics(const derive::BackfillCounters& b) {
  std::ostringstream m;
  auto line = [&](const char* name, const char* help, const char* type, std::uint64_t v) {
    m << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
      << name << ' ' << v << '\n';
  };
  line("ecomon_backfill_requests_total", "History requests sent to loggers for missing data.",
       "counter", b.requests_sent);
  m << "# HELP ecomon_backfill_answers_total Backfill requests by the device's answer.\n"
       "# TYPE ecomon_backfill_answers_total counter\n";
  for (const auto& [outcome, n] : b.outcomes) {
    m << "ecomon_backfill_answers_total{outcome=\"" << outcome << "\"} " << n << '\n';
  }
  line("ecomon_backfill_fulfilled_total", "Backfill requests whose whole range arrived.", "counter",
       b.fulfilled);
  line("ecomon_backfill_periods_recovered_total", "Missing periods filled after a request.",
       "counter", b.periods_recovered);
  line("ecomon_backfill_in_flight", "Backfill requests waiting for the device.", "gauge",
       b.in_flight);
  line("ecomon_backfill_skipped_recent_total", "Gaps not requested: asked for recently.", "counter",
       b.skipped_recent);
  line("ecomon_backfill_skipped_rate_limited_total",
       "Gaps not requested now: per-device or total request budget spent.", "counter",
       b.skipped_rate_limited);
  line("ecomon_backfill_scan_errors_total", "Backfill scans that failed (store errors).", "counter",
       b.scan_errors);
  return m.str();
}

// GET /api/v1/events: the streams open and those refused at the limit (HttpOptions).
// Per upstream (label `upstream`): the delivery counters of forward/service.h.
std::string forward_metrics(const std::vector<std::unique_ptr<forward::ForwardService>>& all) {
  if (all.empty()) return {};
  std::vector<forward::ForwardStatus> st;
  for (const auto& f : all) st.push_back(f->status());
  std::ostringstream m;
  auto family = [&](const char* name, const char* help, const char* type, auto get) {
    m << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
    for (const auto& s : st) {
      m << name << "{upstream=\"" << s.name << "\"} " << static_cast<std::uint64_t>(get(s)) << '\n';
    }
  };
  using S = forward::ForwardStatus;
  family("ecomon_forward_connected", "1 while connected to the upstream platform.", "gauge",
         [](const S& s) { return s.connected ? 1 : 0; });
  family("ecomon_forward_cursor", "Change-feed sequence delivered (acknowledged) up to.", "gauge",
         [](const S& s) { return s.cursor; });
  family("ecomon_forward_backlog", "Change-feed entries after the cursor.", "gauge",
         [](const S& s) { return s.backlog; });
  family("ecomon_forward_frames_sent_total", "HJ 212 frames sent upstream (first sendings).",
         "counter", [](const S& s) { return s.frames_sent; });
  family("ecomon_forward_frames_acked_total", "Frames the upstream acknowledged (9014).", "counter",
         [](const S& s) { return s.frames_acked; });
  family("ecomon_forward_frames_retried_total", "Frames sent again after a timeout or a reconnect.",
         "counter", [](const S& s) { return s.frames_retried; });
  family("ecomon_forward_ack_timeouts_total", "Frames whose 9014 did not come in time.", "counter",
         [](const S& s) { return s.ack_timeouts; });
  family("ecomon_forward_bad_replies_total",
         "Bytes or frames from the upstream that did not decode (connection reset).", "counter",
         [](const S& s) { return s.bad_replies; });
  family("ecomon_forward_connect_failures_total", "Failed connection attempts to the upstream.",
         "counter", [](const S& s) { return s.connect_failures; });
  return m.str();
}

std::string evidence_metrics(const std::map<std::string, std::uint64_t>& refused) {
  std::ostringstream m;
  m << "# HELP ecomon_evidence_refused_total Evidence uploads refused, by reason.\n"
       "# TYPE ecomon_evidence_refused_total counter\n";
  for (const char* reason : {"too_large", "empty", "bad_type", "type_mismatch", "too_many"}) {
    const auto it = refused.find(reason);
    m << "ecomon_evidence_refused_total{reason=\"" << reason << "\"} "
      << (it == refused.end() ? 0 : it->second) << '\n';
  }
  return m.str();
}

std::string stream_metrics(std::size_t open, std::uint64_t refused) {
  std::ostringstream m;
  m << "# HELP ecomon_event_streams_open Server-sent event streams open.\n"
    << "# TYPE ecomon_event_streams_open gauge\necomon_event_streams_open " << open << '\n'
    << "# HELP ecomon_event_streams_refused_total Event streams refused (503): too many open.\n"
    << "# TYPE ecomon_event_streams_refused_total counter\necomon_event_streams_refused_total "
    << refused << '\n';
  return m.str();
}

}  // namespace

std::string default_web_root() {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> candidates;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path().parent_path() / "share" / "ecomon" / "web");
#ifdef ECOMON_SOURCE_WEB_DIST
  candidates.emplace_back(ECOMON_SOURCE_WEB_DIST);
#endif
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c / "index.html", ec)) return c.string();
  }
  return {};
}

int run_serve(ServeOptions o) {
  if (o.idle_timeout_s < 1 || o.max_connections < 1 || o.max_connections > 1000000 ||
      o.max_buffered_bytes < 1024 || o.max_buffered_bytes > (64 << 20) ||
      o.future_tolerance_s < 0) {
    std::fprintf(stderr,
                 "ecomon serve: limits out of range: idle timeout >= 1 s, 1 <= max connections <= "
                 "1000000, 1024 <= max buffered bytes <= 64 MiB, future tolerance >= 0\n");
    return 2;
  }
  if (!(o.public_rate_per_s > 0) || !(o.login_rate_per_s > 0) || !(o.public_burst >= 1) ||
      !(o.login_burst >= 1)) {
    std::fprintf(stderr, "ecomon serve: request budgets out of range: rates > 0, bursts >= 1\n");
    return 2;
  }
  const auto policy = gateway::parse_unknown_device_policy(o.unknown_devices);
  if (!policy) {
    std::fprintf(stderr, "ecomon serve: --unknown-devices must be reject, quarantine or accept\n");
    return 2;
  }
  std::string hj_host, http_host;
  std::uint16_t hj_port = 0, http_port = 0;
  if (!split_endpoint(o.hj212_listen, hj_host, hj_port) ||
      !split_endpoint(o.http_listen, http_host, http_port)) {
    std::fprintf(stderr, "ecomon serve: listen addresses are ADDR:PORT\n");
    return 2;
  }
  const bool tls = !o.tls_cert.empty() || !o.tls_key.empty();
  if (tls && (o.tls_cert.empty() || o.tls_key.empty())) {
    std::fprintf(stderr, "ecomon serve: HTTPS needs both --tls-cert FILE and --tls-key FILE\n");
    return 2;
  }
  // Passwords, session cookies and API keys must not cross a network in clear text.
  if (!tls && !o.allow_plain_http && !is_loopback(http_host)) {
    std::fprintf(stderr,
                 "ecomon serve: refusing plain HTTP on %s (not a loopback address): give "
                 "--tls-cert FILE --tls-key FILE for HTTPS, listen on 127.0.0.1, or pass "
                 "--allow-plain-http when a TLS proxy in front of ecomon encrypts the traffic\n",
                 o.http_listen.c_str());
    return 2;
  }

  // Edits made through the API are saved in the data directory and win over the shipped files.
  const std::string edited_registry = o.data_dir + "/registry";
  std::error_code fs_ec;
  const bool has_edits = std::filesystem::exists(edited_registry + "/sites.csv", fs_ec);
  const std::string registry_dir = has_edits ? edited_registry : o.registry_dir;
  // SM4 device keys are sealed in the saved registry with the data directory's master key.
  std::filesystem::create_directories(o.data_dir, fs_ec);
  auto secret_box = auth::SecretBox::open_or_create(o.data_dir + "/secret.key");
  if (!secret_box) {
    std::fprintf(stderr, "ecomon serve: %s\n", secret_box.error().detail.c_str());
    return 2;
  }
  const registry::SecretCodec secrets{
      [box = *secret_box](std::string_view plain) { return box.seal(plain); },
      [box = *secret_box](std::string_view sealed) { return box.open(sealed); },
      [](std::string_view text) { return auth::SecretBox::is_sealed(text); }};
  auto reg = registry::load_registry(registry_dir, secrets);
  if (!reg) {
    std::fprintf(stderr, "ecomon serve: registry %s: %s\n", registry_dir.c_str(),
                 reg.error().detail.c_str());
    return 2;
  }
  if (has_edits) {
    std::fprintf(stderr, "ecomon serve: registry from %s (edited through the API)\n",
                 registry_dir.c_str());
  }
  std::filesystem::create_directories(o.data_dir, fs_ec);
  auto data_lock = lock_data_dir(o.data_dir);  // held until we return (app/data_lock.h)
  if (!data_lock) {
    std::fprintf(stderr, "ecomon serve: %s\n", data_lock.error().detail.c_str());
    return 2;
  }
  const std::string db = o.data_dir + "/ecomon.db";
  auto store = storage::open_sqlite_store(db);
  if (!store) {
    std::fprintf(stderr, "ecomon serve: store %s: %s\n", db.c_str(), store.error().detail.c_str());
    return 2;
  }
  registry::RegistryHolder registry(std::move(*reg));
  core::SystemClock clock;
  auto auth_service = auth::AuthService::open(db, clock);
  if (!auth_service) {
    std::fprintf(stderr, "ecomon serve: %s: %s\n", db.c_str(), auth_service.error().detail.c_str());
    return 2;
  }
  if (auto users = (*auth_service)->users(); users && users->empty()) {
    std::fprintf(stderr,
                 "ecomon serve: no users yet: add one with `ecomon user add --data %s --name NAME "
                 "--role admin`\n",
                 o.data_dir.c_str());
  }
  // Public API: 20 requests/s per client, bursts of 60; login: 5/s, bursts of 30 by default (the
  // account lockout limits guessing per account, this limits it per address).
  api::RateLimiter public_limiter(o.public_rate_per_s, o.public_burst);
  api::RateLimiter login_limiter(o.login_rate_per_s, o.login_burst);
  // Alarms tail the change feed; each ingest commit wakes them (alarm/service.h).
  alarm::AlarmOptions alarm_options;
  alarm_options.webhook_secret = o.webhook_secret;
  if (!o.webhook_ca_file.empty()) {
    std::FILE* ca = std::fopen(o.webhook_ca_file.c_str(), "rb");
    if (!ca) {
      std::fprintf(stderr, "ecomon serve: webhook CA file %s cannot be read\n",
                   o.webhook_ca_file.c_str());
      return 2;
    }
    std::fclose(ca);
    alarm_options.webhook_ca_file = o.webhook_ca_file;
  }
  auto alarms = alarm::AlarmService::open(db, **store, clock, alarm_options);
  if (!alarms) {
    std::fprintf(stderr, "ecomon serve: alarms %s: %s\n", db.c_str(),
                 alarms.error().detail.c_str());
    return 2;
  }
  if (o.config_rules_given && !sync_config_rules(o, **alarms, **auth_service, registry)) return 2;
  // Emergency monitoring incidents (alarm/incident.h), in the same file.
  auto incidents = alarm::IncidentService::open(db, clock);
  if (!incidents) {
    std::fprintf(stderr, "ecomon serve: incidents %s: %s\n", db.c_str(),
                 incidents.error().detail.c_str());
    return 2;
  }
  // Evidence files of alarm handling (alarm/evidence.h): rows in the same file, bytes under
  // DIR/evidence by SHA-256.
  auto evidence = alarm::EvidenceService::open(db, o.data_dir + "/evidence", clock);
  if (!evidence) {
    std::fprintf(stderr, "ecomon serve: evidence %s: %s\n", o.data_dir.c_str(),
                 evidence.error().detail.c_str());
    return 2;
  }
  // Data review actions (derive/review.h), in the same file.
  auto reviews = derive::ReviewService::open(db, clock);
  if (!reviews) {
    std::fprintf(stderr, "ecomon serve: reviews %s: %s\n", db.c_str(),
                 reviews.error().detail.c_str());
    return 2;
  }
  // Stored hourly and daily means and their revisions (derive/aggregates.h) tail the change feed
  // like the alarms, on their own thread, woken by the same commits.
  derive::DerivedOptions derived_options;
  derived_options.registry = &registry;     // the cities' urban points
  derived_options.screening = o.screening;  // hour_mismatch of a device hour against the minutes
  auto derived = derive::DerivedService::open(db, **store, clock, derived_options);
  if (!derived) {
    std::fprintf(stderr, "ecomon serve: derived data %s: %s\n", db.c_str(),
                 derived.error().detail.c_str());
    return 2;
  }
  // Automatic backfill requests (derive/backfill.h), in the same file; sends through the gateway.
  auto backfill = derive::BackfillService::open(db, **store, clock, o.backfill);
  if (!backfill) {
    std::fprintf(stderr, "ecomon serve: backfill %s: %s\n", db.c_str(),
                 backfill.error().detail.c_str());
    return 2;
  }
  // Screening marks (derive/screening_service.h), in the same file, tail the feed like the others;
  // not opened with [screening] stored = false.
  std::unique_ptr<derive::ScreeningService> screening_marks;
  if (o.screening_marks.stored) {
    auto opened =
        derive::ScreeningService::open(db, **store, clock, o.screening, o.screening_marks);
    if (!opened) {
      std::fprintf(stderr, "ecomon serve: screening marks %s: %s\n", db.c_str(),
                   opened.error().detail.c_str());
      return 2;
    }
    screening_marks = std::move(*opened);
  }
  // Delivery to upstream platforms (forward/service.h): one service per [[forward]] table, each
  // with its own cursor and ledger rows in the same file, woken by the same commits.
  std::vector<std::unique_ptr<forward::ForwardService>> forwarders;
  for (const auto& fo : o.forward) {
    auto f = forward::ForwardService::open(db, **store, clock, fo);
    if (!f) {
      std::fprintf(stderr, "ecomon serve: forward %s: %s\n", fo.name.c_str(),
                   f.error().detail.c_str());
      return 2;
    }
    forwarders.push_back(std::move(*f));
  }
  ingest::Ingestor::Options ingest_options;
  ingest_options.after_commit = [a = alarms->get(), d = derived->get(), m = screening_marks.get(),
                                 &forwarders](const storage::WriteResult&) {
    a->notify();
    d->notify();
    if (m) m->notify();
    for (auto& f : forwarders) f->notify();
  };
  ingest::Ingestor ingestor(**store, ingest_options);

  boost::asio::io_context io;
  gateway::GatewayOptions gopt;
  gopt.unknown_devices = *policy;
  gopt.idle_timeout_ms = o.idle_timeout_s * 1000;
  gopt.max_connections = static_cast<std::size_t>(o.max_connections);
  gopt.max_buffered_bytes = static_cast<std::size_t>(o.max_buffered_bytes);
  gopt.values.future_tolerance_ms = o.future_tolerance_s * 1000;
  // A device's own request for a new SM4 key (its 1014) is answered by a rotation, set below
  // once the gateway exists.
  std::function<void(const std::string&)> on_key_request;
  gopt.on_key_request = [&on_key_request](const std::string& mn) {
    if (on_key_request) on_key_request(mn);
  };
  gateway::Gateway gw(io, ingestor, registry, clock, gopt);

  api::HttpServer* http_ptr = nullptr;
  api::ApiSources sources;
  sources.registry = &registry;
  sources.store = store->get();
  sources.clock = &clock;
  sources.auth = auth_service->get();
  sources.public_limiter = &public_limiter;
  sources.login_limiter = &login_limiter;
  sources.alarms = alarms->get();
  sources.incidents = incidents->get();
  sources.evidence = evidence->get();
  sources.reviews = reviews->get();
  sources.derived = derived->get();
  sources.screening = &o.screening;
  sources.screening_marks = screening_marks.get();
  sources.backfill = backfill->get();
  sources.forward_status = [&forwarders] {
    std::vector<forward::ForwardStatus> all;
    for (const auto& f : forwarders) all.push_back(f->status());
    return forward::status_json(all);
  };
  sources.forward_ledger = [&forwarders](
                               const std::string& name,
                               const api::ForwardLedgerQuery& q) -> core::Result<std::string> {
    for (const auto& f : forwarders) {
      if (f->options().name != name) continue;
      auto rows = f->ledger(forward::LedgerQuery{q.mn, q.from_ms, q.to_ms, q.limit});
      if (!rows) return core::fail(rows.error());
      return forward::ledger_json(name, *rows);
    }
    return core::fail(core::Error{"not_found", "no forward upstream named '" + name + "'"});
  };
  sources.web_root = o.web_root.empty() ? default_web_root() : o.web_root;
  std::fprintf(stderr, "ecomon: web front-end %s\n",
               sources.web_root.empty() ? "not built (make web)" : sources.web_root.c_str());
  (*alarms)->set_devices([&gw, &registry, &clock] {
    std::map<std::string, std::int64_t> seen;
    for (const auto& d : gw.devices()) seen[d.mn] = d.last_seen_ms;
    const auto current = registry.get();
    std::vector<alarm::DeviceSeen> out;
    for (const auto& d : current->devices()) {
      const registry::Site* site = current->site_of(d.mn, clock.now_ms());
      const auto it = seen.find(d.mn);
      out.push_back(alarm::DeviceSeen{d.mn, site ? site->code : std::string(), d.interval_s,
                                      it == seen.end() ? 0 : it->second});
    }
    return out;
  });
  // aqi_level and water_class rules: a site's kind, water body and designated class (GB 3838
  // class name "I".."劣V" in the water_class setting) at the data's time.
  (*alarms)->set_sites([&registry](const std::string& code,
                                   std::int64_t measured_ms) -> std::optional<alarm::SiteFacts> {
    const auto current = registry.get();
    const registry::Site* site = current->find_site(code);
    if (!site) return std::nullopt;
    alarm::SiteFacts f{site->kind, site->waterbody, std::nullopt};
    if (const auto cls = current->setting(code, "water_class", measured_ms)) {
      for (int k = 1; k <= 6; ++k) {
        if (standards::water::class_name(static_cast<standards::water::Class>(k)) == *cls) {
          f.water_class = k;
        }
      }
    }
    // radiation_dose rules: the site's dose-rate baseline (nGy/h), when registered.
    auto number = [&](const char* key) -> std::optional<double> {
      const auto text = current->setting(code, key, measured_ms);
      if (!text) return std::nullopt;
      double x = 0;
      const char* end = text->data() + text->size();
      const auto [p, ec] = std::from_chars(text->data(), end, x);
      if (ec != std::errc() || p != end || !std::isfinite(x) || x < 0) return std::nullopt;
      return x;
    };
    f.radiation_mean_ngy_h = number("radiation_mean_ngy_h");
    f.radiation_sd_ngy_h = number("radiation_sd_ngy_h");
    f.radiation_background_upper_ngy_h = number("radiation_background_upper_ngy_h");
    return f;
  });
  // permit and emission_total rules, screening's flag_cover: the outlet's permit of a factor in
  // force at the data's time (registry permits.csv).
  (*alarms)->set_permits(
      [&registry](const std::string& site, const std::string& factor,
                  std::int64_t measured_ms) -> std::optional<alarm::PermitTerms> {
        const auto current = registry.get();
        const registry::Permit* p = current->permit(site, factor, measured_ms);
        if (!p) return std::nullopt;
        return alarm::PermitTerms{
            p->limit, p->unit, p->standard, p->converted, p->reference_o2_pct, p->annual_total_t};
      });
  // The hourly AQI and the section classes the alarm engine computes apply data review actions:
  // an invalidated mean is left out, a corrected one counts with its corrected value.
  (*alarms)->set_review([r = reviews->get()](std::vector<storage::Value>& values) {
    if (values.empty()) return;
    derive::ReviewQuery q;
    q.site = values.front().site;
    q.from_ms = INT64_MAX;
    q.to_ms = INT64_MIN;
    for (const auto& v : values) {
      q.from_ms = std::min(q.from_ms, v.measured_ms);
      q.to_ms = std::max(q.to_ms, v.measured_ms + 1);
    }
    auto actions = r->covering(q);
    if (!actions) {
      // Judging the stored values is better than judging nothing; the failure is visible.
      std::fprintf(stderr, "ecomon serve: review actions for alarms: %s\n",
                   actions.error().detail.c_str());
      return;
    }
    if (actions->empty()) return;
    std::vector<storage::Value> kept;
    for (auto& v : values) {
      std::vector<derive::ReviewAction> mine;
      for (const auto& a : *actions) {
        if (a.factor == v.factor && a.site == v.site) mine.push_back(a);
      }
      const auto st =
          derive::review_state(mine, storage::kind_name(v.kind), v.field, v.measured_ms);
      if (st.invalid) continue;
      if (st.corrected) v.number = st.corrected;
      kept.push_back(std::move(v));
    }
    values = std::move(kept);
  });
  // Review actions reach the alarms whose data they changed (a data_revised event on each).
  (*alarms)->set_revisions(
      [r = reviews->get()](std::int64_t after,
                           std::size_t limit) -> core::Result<std::vector<alarm::DataRevision>> {
        auto actions = r->after(after, limit);
        if (!actions) return core::fail(actions.error());
        std::vector<alarm::DataRevision> out;
        out.reserve(actions->size());
        for (const auto& a : *actions) {
          out.push_back(alarm::DataRevision{a.id, a.site, a.factor, a.from_ms, a.to_ms,
                                            std::string(derive::verb_name(a.verb)), a.value,
                                            a.reason, a.actor});
        }
        return out;
      });
  sources.devices = [&gw] {
    std::vector<api::DeviceInfo> out;
    for (const auto& d : gw.devices()) {
      out.push_back(api::DeviceInfo{d.mn, d.online, d.last_seen_ms, d.peer, d.frames, d.rejected});
    }
    return out;
  };
  sources.save_registry = [edited_registry, secrets](const registry::Registry& r) {
    return registry::save_registry(r, edited_registry, secrets);
  };
  const KeyRotationContext key_rotation{&gw, &registry, &clock, sources.save_registry, 30000};
  sources.rotate_key = [&key_rotation](const std::string& mn) {
    return rotate_sm4_key(key_rotation, mn);
  };
  // Rotations a device asked for run on their own thread (they wait for the device), at most one
  // per device per minute; each is audited with the device as the actor.
  boost::asio::thread_pool key_pool(1);
  std::mutex key_mu;
  std::map<std::string, std::int64_t> key_last_ms;
  on_key_request = [&](const std::string& mn) {
    {
      std::lock_guard lock(key_mu);
      const std::int64_t now = clock.now_ms();
      auto [it, fresh] = key_last_ms.try_emplace(mn, now);
      if (!fresh && now - it->second < 60000) return;
      it->second = now;
    }
    boost::asio::post(key_pool, [&, mn] {
      auto r = rotate_sm4_key(key_rotation, mn);
      (void)(*auth_service)
          ->audit("device:" + mn, "device.key_rotate", mn,
                  r ? "requested by the device (1014); SKCreateTime=" + *r
                    : "requested by the device (1014); outcome=" + r.error().reason + ": " +
                          r.error().detail,
                  "hj212");
    });
  };
  const DeviceCommandContext device_commands{&gw, &registry, &clock, 30000};
  sources.set_rtd_interval = [&device_commands](const std::vector<std::string>& mns, int seconds) {
    return set_rtd_interval(device_commands, mns, seconds);
  };
  (*backfill)->set_sender([&device_commands](const std::string& mn, int cn, std::int64_t begin_ms,
                                             std::int64_t end_ms, std::int64_t timeout_ms,
                                             std::function<void(std::string)> done) {
    send_history_request(device_commands, mn, cn, begin_ms, end_ms, timeout_ms, std::move(done));
  });
  (*backfill)->set_online_devices([&gw] {
    std::vector<std::string> out;
    for (const auto& d : gw.devices()) {
      if (d.online) out.push_back(d.mn);
    }
    return out;
  });
  sources.metrics = [&] {
    const auto values = (*store)->value_count();
    const auto frames = (*store)->frame_count();
    return metrics_text(gw.counters(), ingestor.counters(), values ? *values : 0,
                        frames ? *frames : 0, http_ptr ? http_ptr->requests_served() : 0,
                        http_ptr ? http_ptr->tls_handshake_failures() : 0) +
           alarm_metrics((*alarms)->counters()) + derived_metrics((*derived)->counters()) +
           (screening_marks ? screening_metrics(screening_marks->counters()) : "") +
           evidence_metrics((*evidence)->refused()) + backfill_metrics((*backfill)->counters()) +
           forward_metrics(forwarders) +
           stream_metrics(http_ptr ? http_ptr->open_streams() : 0,
                          http_ptr ? http_ptr->streams_refused() : 0);
  };
  api::HttpOptions http_options;
  http_options.tls_cert_file = o.tls_cert;
  http_options.tls_key_file = o.tls_key;
  api::HttpServer http(io, sources, http_options);
  http_ptr = &http;

  auto hj = gw.listen(hj_host, hj_port);
  if (!hj) {
    std::fprintf(stderr, "ecomon serve: HJ 212: %s\n", hj.error().detail.c_str());
    return 2;
  }
  auto web = http.listen(http_host, http_port);
  if (!web) {
    std::fprintf(stderr, "ecomon serve: HTTP: %s\n", web.error().detail.c_str());
    return 2;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    std::fprintf(stderr, "ecomon serve: signal %d, stopping\n", sig);
    gw.stop();
    http.stop();
    io.stop();
  });
  std::fprintf(stderr,
               "ecomon serve: HJ 212 on %s:%u, HTTP on %s://%s:%u/ (store %s, %zu sites, %zu "
               "devices, unknown devices: %s)\n",
               hj_host.c_str(), *hj, tls ? "https" : "http", http_host.c_str(), *web, db.c_str(),
               registry.get()->sites().size(), registry.get()->devices().size(),
               o.unknown_devices.c_str());
  std::fflush(stderr);

  (*alarms)->start();
  (*derived)->start();
  if (screening_marks) screening_marks->start();
  (*backfill)->start();  // only when [backfill] enabled = true
  for (auto& f : forwarders) {
    const auto& fo = f->options();
    std::fprintf(stderr,
                 "ecomon serve: forwarding to %s at %s:%u (HJ 212-%d, from sequence %llu)\n",
                 fo.name.c_str(), fo.host.c_str(), static_cast<unsigned>(fo.port),
                 protocol::hj212::version_year(fo.version),
                 static_cast<unsigned long long>(f->status().cursor));
    f->start();
  }
  io.run();
  // Commit what is queued; the posted acknowledgements are dropped with the loop (the devices
  // re-send what they did not see acknowledged).
  ingestor.stop();
  (*alarms)->stop();    // before the gateway it reads device times from goes away
  (*backfill)->stop();  // before the gateway its requests go through
  (*derived)->stop();
  if (screening_marks) screening_marks->stop();
  for (auto& f : forwarders) f->stop();
  on_key_request = nullptr;
  key_pool.join();  // a rotation under way ends: the stopped gateway answered it "stopped"
  std::fprintf(stderr, "ecomon serve: stopped\n");
  return 0;
}

}  // namespace ecomon::app
