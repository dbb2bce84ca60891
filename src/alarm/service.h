// Alarms (issue #6): rules as data → one alarm per episode → lifecycle → notifications.
//
// Tables, in the store's SQLite file through this service's own connection (WAL, busy timeout,
// synchronous=FULL, prepared statements only), as auth/service.h does:
//   alarm_rules    the rules (rule.h); never deleted, disabled instead
//   alarms         one row per episode of (rule, subject); a UNIQUE partial index on
//                  (rule_id, subject) WHERE cleared_ms IS NULL: at most one uncleared episode
//   alarm_events   every transition: who, when, from, to, note (the engine's "system" ones too);
//                  its ids order the live event stream (changes_after)
//   alarm_outbox   notifications waiting for delivery, delivered ones marked
//   alarm_cursor   the change-feed position the engine has evaluated up to
//
// Feeding: the engine tails storage::Store::changes() from the persisted cursor. Each batch of
// changes is evaluated and its effects (alarms opened, updated and cleared, events, outbox rows)
// are committed in ONE transaction together with the new cursor, so after a crash the batch is
// evaluated again from the old cursor and nothing is counted twice or lost. process_changes() and
// tick() are the engine's two entry points; start() runs them on a thread, woken by notify()
// (the app calls it after each ingest commit) or every poll_ms.
//
// Key polluter rules (permit, emission_total; rule.h) are touched the same way; the permit terms
// come from set_permits(), and emission totals from alarm/emissions.h over the store.
//
// Derived value rules (aqi_level, water_class; rule.h): a matching value only marks its (rule,
// site, data kind, measured time) as touched; after the batch's values, each touched hour or
// sample is computed once from the store (Store::series of each item at that time) and judged in
// measured-time order like a threshold value, inside the same transaction.
//
// Subjects: a value rule's subject is the value's site ("site:2526A"); an offline or
// factor_missing rule's the device ("device:MN"). Times: opened_ms and cleared_ms are data times
// (the measured time of the first exceeding / first good value; for offline: last seen + interval ×
// tolerance, and the time it was heard again); raised_ms and updated_ms are the platform's clock.
//
// Late data: a value measured before the newest value already evaluated for that (rule, subject)
// — or one the device marks as re-sent — is late. A late exceeding value of a threshold rule with
// no open episode opens an alarm that is cleared at once at the newest value's time (known good);
// both carry retroactive = true. A late exceeding value inside an open episode is counted in it.
//
// Hold-off: an exceeding value within hold_off_s (data time) of the clearing of the subject's
// last episode resumes that episode (same alarm, cleared_ms reset; event "resumed") unless it has
// been closed; only later does a new alarm open.
//
// Lifecycle (transition()):
//   open → acknowledged (ack) → dispatched (dispatch: department, assignee, due) → handled
//   (handle: disposal notes) → closed (close). Also: dispatch from open, handle from acknowledged,
//   close from acknowledged (a false alarm). An alarm whose condition still holds cannot be
//   closed (`still_active`); disable its rule or wait for it to clear. Anything else: `illegal`.
//   A dispatched alarm whose due time passes is marked escalated (tick()).
//
// Notifications: for "opened", "cleared", "escalated" and "renotify" (every renotify_s while
// open and unacknowledged) an outbox row per recipient, written in the same transaction as the
// change; the notifier thread POSTs them (webhook.h, signed when a secret is set), retrying with
// exponential backoff from backoff_first_ms doubling to backoff_max_ms, never giving up.
//
// Thread-safety: every public method may be called from any thread; one mutex guards the
// connection. Errors (core::Error::reason): cannot_open, db_error, busy, bad_rule, not_found,
// illegal, still_active, bad_request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "alarm/rule.h"
#include "core/clock.h"
#include "core/json_writer.h"
#include "core/result.h"
#include "storage/store.h"

namespace ecomon::alarm {

enum class State : std::uint8_t { kOpen, kAcknowledged, kDispatched, kHandled, kClosed };
std::string_view state_name(State s);  // open, acknowledged, dispatched, handled, closed
std::optional<State> parse_state(std::string_view s);

struct Alarm {
  std::int64_t id = 0;
  std::int64_t rule_id = 0;
  std::string rule_name;
  RuleKind kind = RuleKind::kThreshold;
  std::string subject;  // site:CODE or device:MN
  std::string site;
  std::string mn;  // the device of the last value (offline: the device)
  std::string factor;
  std::string field;
  std::string data_kind;
  Severity severity = Severity::kMajor;
  State state = State::kOpen;
  bool active = true;                      // the condition holds (cleared_ms absent)
  std::int64_t opened_ms = 0;              // data time the condition began
  std::int64_t raised_ms = 0;              // platform time the alarm was created
  std::int64_t updated_ms = 0;             // platform time of the last change
  std::optional<std::int64_t> cleared_ms;  // data time the condition ended
  std::optional<double> value;             // last exceeding value (offline: seconds silent)
  std::optional<double> max_value;         // the worst (largest for > rules, smallest for <)
  std::int64_t count = 0;                  // exceeding values in the episode
  std::int64_t last_ms = 0;                // measured time of the last exceeding value
  double limit = 0;
  std::string op;
  bool retroactive = false;
  bool escalated = false;
  // raised_ms − receive time of the opening value: arrival → the engine's decision (the ingest
  // commit before it included; the alarm's own commit follows). 0 for offline alarms.
  std::int64_t latency_ms = 0;
  std::string department;
  std::string assignee;
  std::optional<std::int64_t> due_ms;
  std::string notes;  // disposal notes (handle)
  std::optional<std::int64_t> closed_ms;
};

struct AlarmEvent {
  std::int64_t id = 0;
  std::int64_t alarm_id = 0;
  std::int64_t at_ms = 0;
  std::string actor;  // user, apikey:<id>, or "system"
  std::string
      action;        // opened, updated?, cleared, resumed, escalated, ack, dispatch, handle, close
  std::string from;  // state before ("" when opened)
  std::string to;    // state after
  std::string note;
};

// One change of an alarm for live views: the alarm_events row's id (increasing; the SSE event id)
// and action, with the alarm as it is when read (not as it was at that event).
struct AlarmChange {
  std::int64_t event_id = 0;
  std::string action;
  Alarm alarm;
};

struct AlarmQuery {
  std::optional<State> state;
  std::optional<bool> active;
  std::string site;
  std::optional<std::int64_t> rule_id;
  std::int64_t from_ms = INT64_MIN;  // opened_ms >= from
  std::int64_t to_ms = INT64_MAX;    // opened_ms < to
  bool tasks_only = false;           // dispatched or handled, with a department
  std::size_t limit = 1000;
  // Only alarms of these sites or devices (an enterprise's outlets and devices); unset: any.
  struct Subjects {
    std::vector<std::string> sites;
    std::vector<std::string> mns;
  };
  std::optional<Subjects> subjects;
};

struct Transition {
  std::string action;  // ack | dispatch | handle | close
  std::string actor;
  std::string note;
  std::string department;              // dispatch: required
  std::string assignee;                // dispatch
  std::optional<std::int64_t> due_ms;  // dispatch
};

// What the offline check knows of a device (the app fills it from the gateway and registry).
struct DeviceSeen {
  std::string mn;
  std::string site;               // its site now ("" when none)
  std::int64_t interval_s = 0;    // registered reporting interval
  std::int64_t last_seen_ms = 0;  // 0: not heard since the service started
};

// What aqi_level and water_class rules need to know of a site (the app fills it from the
// registry; tests from a table). nullopt: the registry does not know the site.
struct SiteFacts {
  std::string kind;                // registry site kind: ambient_air, surface_water, ...
  std::string waterbody;           // river, lake, reservoir ("" = river)
  std::optional<int> water_class;  // designated class at the time asked: 1..6 (I..V, 劣V)
  // radiation_dose rules: the site's dose-rate baseline at the time asked (registry settings
  // radiation_mean_ngy_h, radiation_sd_ngy_h, radiation_background_upper_ngy_h).
  std::optional<double> radiation_mean_ngy_h = {};
  std::optional<double> radiation_sd_ngy_h = {};
  std::optional<double> radiation_background_upper_ngy_h = {};
};
using SiteLookup =
    std::function<std::optional<SiteFacts>(const std::string& site, std::int64_t measured_ms)>;
// What permit and emission_total rules and screening's flag_cover need: the permit of (outlet
// site, factor) in force at a measured time (the app fills it from the registry's permits.csv;
// tests from a table). nullopt: no permit (the site is no outlet, or the factor is not permitted).
using PermitLookup = std::function<std::optional<PermitTerms>(
    const std::string& site, const std::string& factor, std::int64_t measured_ms)>;

// Data review (数据审核) for the stored means derived rules read: given a site's items of one
// measured time, removes the invalidated ones and replaces the numbers of corrected ones (the app
// wires it to derive::ReviewService; `alarm` may not include `derive`). Called on the engine
// thread with the engine's lock held: it must not call back into this service.
using ReviewApplier = std::function<void(std::vector<storage::Value>& values)>;

// A change of reviewed data (a review action of derive/review.h: invalidate, correct, restore) as
// the engine needs it to tell the alarms it concerns. The app wires it to derive::ReviewService
// (`alarm` may not include `derive`).
struct DataRevision {
  std::int64_t id = 0;  // the review action's id: increasing, the engine's cursor
  std::string site;
  std::string factor;  // "" = every factor of the site
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::string action;  // invalidate, correct, restore, approve, … (only the first three count)
  std::optional<double> value;  // correct: the value
  std::string reason;
  std::string actor;
};
// The revisions with id > after_id, oldest first, at most `limit`. Called on the engine thread
// with the engine's lock held: it must not call back into this service.
using RevisionFeed = std::function<core::Result<std::vector<DataRevision>>(std::int64_t after_id,
                                                                           std::size_t limit)>;

using Headers = std::vector<std::pair<std::string, std::string>>;
// Delivers one notification: the HTTP status, or an error (unreachable, ...).
using Poster = std::function<core::Result<int>(const std::string& url, const std::string& body,
                                               const Headers& headers)>;

struct AlarmOptions {
  std::string webhook_secret;  // HMAC-SHA256 key of X-Ecomon-Signature; empty: unsigned
  int busy_timeout_ms = 10000;
  std::size_t batch_limit = 5000;  // changes per transaction
  std::int64_t poll_ms = 200;      // the engine's fallback wake-up
  std::int64_t backoff_first_ms = 1000;
  std::int64_t backoff_max_ms = 5 * 60 * 1000;
  std::int64_t http_timeout_ms = 5000;
  // https:// recipients: a PEM file of CAs trusted besides the system's (webhook.h WebhookTls).
  std::string webhook_ca_file;
};

struct AlarmCounters {
  std::uint64_t values_evaluated = 0;  // since start
  std::uint64_t alarms_open = 0;       // episodes whose condition holds (cleared_ms absent)
  std::uint64_t notifications_pending = 0;
  std::uint64_t notifications_delivered = 0;  // rows marked delivered (all time)
  std::uint64_t notification_failures = 0;    // failed delivery attempts since start
  std::uint64_t cursor = 0;
  // permit values not judged (no O2, O2 ≥ 20.9 %, …) and emission totals not judged (more than
  // 400,000 values in the year), since start
  std::uint64_t permit_unjudged = 0;
  std::uint64_t revision_cursor = 0;  // the review action id the engine has read up to
  std::uint64_t revisions_noted = 0;  // data_revised events written since start
};

// One alarm as a flat JSON object (the API's and the webhook's form; times ISO 8601, +08:00):
// id, rule_id, rule_name, kind, state, active, subject, site, mn, factor, field, data_kind,
// severity, opened_at, raised_at, updated_at, cleared_at, value, max_value, count,
// last_measured_at, op, limit, retroactive, escalated, latency_ms, department, assignee, due_at,
// notes, closed_at.
void write_alarm(core::JsonWriter& w, const Alarm& a);
// The same members without the enclosing braces (to add more members to the object).
void write_alarm_fields(core::JsonWriter& w, const Alarm& a);

class AlarmService {
 public:
  // Opens (and creates the tables in) the SQLite database at `path` (the store's file). The first
  // open on a store that already holds values starts the cursor at its end: rules judge data
  // that arrives after them. Errors: cannot_open, db_error, busy.
  static core::Result<std::unique_ptr<AlarmService>> open(const std::string& path,
                                                          const storage::Store& store,
                                                          const core::Clock& clock,
                                                          AlarmOptions options = {});
  ~AlarmService();  // stop()
  AlarmService(const AlarmService&) = delete;
  AlarmService& operator=(const AlarmService&) = delete;

  // Wiring, before start(): where devices' last-seen times come from (offline rules) and how a
  // notification is delivered (default: webhook.h post_json).
  void set_devices(std::function<std::vector<DeviceSeen>()> devices);
  void set_poster(Poster poster);
  // Where aqi_level and water_class rules learn a site's kind, water body and designated class
  // (unset: every site counts as unknown). Called on the engine thread with the engine's lock
  // held: it must not call back into this service.
  void set_sites(SiteLookup sites);
  // Where permit and emission_total rules and screening's flag_cover learn an outlet's permit
  // (unset: no site has one). Same calling rules as set_sites.
  void set_permits(PermitLookup permits);
  // Review actions applied to the items of aqi_level, water_class and water_deteriorating rules
  // (unset: the stored values as they are).
  void set_review(ReviewApplier review);
  // Where the engine learns of review actions (unset: none). Each invalidate, correct or restore
  // whose site and range overlap an episode — [opened, cleared), or [opened, ∞) while it holds —
  // and whose factor is the alarm's (any factor for aqi_level / water_class /
  // water_deteriorating alarms, which are computed from several; an action without a factor
  // concerns every one) adds the event `data_revised` (state unchanged, actor "system", the note
  // naming the action, its verb, range, reason and reviewer) to that alarm: whoever enforces it
  // sees that the data behind it changed. Offline and factor_missing alarms are never concerned.
  // The feed is read by its own cursor (alarm_cursor row "review", from 0: every action once),
  // moved in the transaction that writes the events. The episodes are not re-judged here.
  void set_revisions(RevisionFeed feed);

  // Starts the engine thread and the notifier thread; stop() ends both (idempotent).
  void start();
  void stop();
  // New changes are in the store: wake the engine.
  void notify();

  // The engine's steps, for tests and benchmarks (no threads needed):
  // evaluates the feed from the cursor until caught up; returns the number of changes read.
  core::Result<std::size_t> process_changes();
  // Offline detection, escalation of overdue tasks, re-notification, at time now_ms.
  core::Result<void> tick(std::int64_t now_ms);
  // One delivery pass over the outbox rows due at now_ms; returns how many were delivered.
  core::Result<std::size_t> deliver_due(std::int64_t now_ms);

  // Rules. create_rule() checks (normalise_rule → bad_rule) and stores; the stored rule is
  // returned with its id. disable_rule() disables and clears the rule's open episodes.
  core::Result<Rule> create_rule(Rule rule, const std::string& actor);
  core::Result<std::vector<Rule>> rules();
  core::Result<Rule> disable_rule(std::int64_t id, const std::string& actor);

  // Rules from the config file ([[rules]] of `ecomon serve --config`), idempotent by name among
  // the rules whose source is "config": a new name is created (source config), a changed one
  // updated in place (same id; its open episodes are cleared with the note "rule changed" and its
  // evaluation state forgotten, as the old condition no longer applies), a disabled one enabled
  // again, an unchanged one left alone; config rules whose name is no longer in the file are
  // disabled. The rules must have passed normalise_rule (bad_rule otherwise, nothing changed) and
  // have distinct names (bad_rule). One transaction. Returns what was done, in file order, then
  // the disabled ones.
  struct ConfigChange {
    std::string action;  // created, updated, unchanged, disabled
    Rule rule;           // as stored now
  };
  core::Result<std::vector<ConfigChange>> sync_config_rules(std::vector<Rule> rules,
                                                            const std::string& actor);

  core::Result<std::vector<Alarm>> alarms(const AlarmQuery& query);
  core::Result<std::optional<Alarm>> alarm(std::int64_t id);
  core::Result<std::vector<AlarmEvent>> events(std::int64_t alarm_id);
  // Live views (GET /api/v1/events): the changes after event id `after_event_id`, oldest first,
  // at most `limit`; and the newest event id (0 when none), where a new stream starts.
  core::Result<std::vector<AlarmChange>> changes_after(std::int64_t after_event_id,
                                                       std::size_t limit);
  core::Result<std::int64_t> last_change_id();
  // Errors: not_found, illegal, still_active, bad_request (dispatch without a department).
  core::Result<Alarm> transition(std::int64_t id, const Transition& t);

  AlarmCounters counters();

  class Impl;

 private:
  explicit AlarmService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecomon::alarm
