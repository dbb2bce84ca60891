// Shared pieces of the API's request handlers (routes.cpp, router.cpp, registry_edits.cpp,
// public_api.cpp). Internal.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_api.h"
#include "auth/service.h"
#include "core/json_writer.h"
#include "derive/review.h"

namespace ecomon::api {

namespace detail {

struct Target {
  std::vector<std::string> segments;  // path split on '/'
  std::map<std::string, std::string> query;
};
Target parse_target(const std::string& target);

// What a handler gets: the request, its parsed target, the caller and the path parameters.
struct Ctx {
  const ApiSources& s;
  const Request& req;
  const Target& t;
  const auth::Principal* who;       // null on public routes
  std::vector<std::string> params;  // the {…} segments of the route, in order
};

// {"error":{"code","message"}} with a status.
Response error(int status, std::string_view code, std::string_view message);
Response from_error(const core::Error& e);
// The peer address of a request as the audit trail and the rate limits name it.
std::string client_of(const Request& r);
// Appends an audit entry for the caller (detail cut to 4,000 bytes). A failure is logged on
// stderr as AUDIT FAILURE: the change it describes has been made already.
void record_audit(const Ctx& c, const std::string& action, const std::string& target,
                  const std::string& detail);
// A site as the API shows it.
std::string site_json(const registry::Site& site);
void write_site(core::JsonWriter& w, const registry::Site& s);
// With `review`: "value" is the shown value (the corrected one, the raw one in "raw"), and
// "valid", "review" (invalidated | corrected | null) and "level" (raw | screened | audited |
// final) are added.
void write_value(core::JsonWriter& w, const storage::Value& v, const registry::Registry* reg,
                 const derive::ReviewState* review = nullptr);
std::string iso(std::int64_t ms);
core::Result<std::optional<std::int64_t>> time_param(const Target& t, const std::string& name);
struct Range {
  std::int64_t from_ms;
  std::int64_t to_ms;
};
// from/to of the query: `to` defaults to now + 1 day, `from` to `to - default_span`; from < to,
// at most 10 years (errors bad_request, range_too_large).
core::Result<Range> range_params(const Target& t, std::int64_t now_ms, std::int64_t default_span);
// The `kind` query parameter (rtd, minute, hour, day); nullopt when absent.
core::Result<std::optional<storage::DataKind>> kind_param(const Target& t);

bool in_scope(const Ctx& c, const registry::Registry& reg, const registry::Site& site);
// nullopt when the caller may see the site; otherwise 403 (or 404 for an unrestricted caller).
std::optional<Response> site_denied(const Ctx& c, const registry::Registry& reg,
                                    const registry::Site* site, const std::string& code);
bool device_in_scope(const Ctx& c, const registry::Registry& reg, const std::string& mn,
                     std::int64_t now_ms);

// The required `site` and `factor` parameters of a per-series route, the site checked with
// site_denied(). Fills `site` and `factor`, or returns the answer to give (400, 403, 404).
std::optional<Response> series_subject(const Ctx& c, std::string& site, std::string& factor);
// The optional `site`, `factor`, `from`, `to` filter of a listing (the site, when given, checked
// with site_denied()); fields not given are left as they are. Or the answer to give.
std::optional<Response> listing_filter(const Ctx& c, std::string& site, std::string& factor,
                                       std::int64_t& from_ms, std::int64_t& to_ms);
// The period of minute, hour and day data in ms; nullopt for other kinds.
std::optional<std::int64_t> period_ms_of(storage::DataKind k);

// Data routes (routes.cpp).
Response sites(const Ctx& c);
Response site(const Ctx& c);
Response latest(const Ctx& c);
Response devices(const Ctx& c);
Response records(const Ctx& c);
Response device_frame(const Ctx& c);
Response series(const Ctx& c);
Response gaps(const Ctx& c);
// Quality screening findings of a site's factor (screening_routes.cpp).
Response screening(const Ctx& c);
// Stored screening findings and their review (screening_marks_routes.cpp).
Response screening_marks(const Ctx& c);
Response screening_mark(const Ctx& c);
Response review_screening_mark(const Ctx& c);
// Stored hourly and daily means and their revisions (derived_routes.cpp).
Response aggregates(const Ctx& c);
Response revisions(const Ctx& c);
Response water_class(const Ctx& c);
// Key polluters: enterprises, outlets, permits, emissions (enterprise_routes.cpp).
Response enterprises(const Ctx& c);
Response enterprise(const Ctx& c);
Response enterprise_emissions(const Ctx& c);
// Delivery to upstream platforms: status and ledger (forward_routes.cpp).
Response forward_status(const Ctx& c);
Response forward_ledger(const Ctx& c);
// Automatic backfill requests (backfill_routes.cpp).
Response backfill(const Ctx& c);
// The public API (public_api.cpp).
Response public_sites(const Ctx& c);
Response public_site(const Ctx& c);
Response public_aqi(const Ctx& c);
Response public_water(const Ctx& c);
// AQI over a range (aqi_routes.cpp).
Response aqi_history(const Ctx& c);
Response public_aqi_history(const Ctx& c);
Response public_aqi_daily(const Ctx& c);
// Alarms, rules, tasks (alarm_routes.cpp).
Response rules(const Ctx& c);
Response create_rule(const Ctx& c);
Response disable_rule(const Ctx& c);
Response alarms(const Ctx& c);
Response alarm(const Ctx& c);
Response alarm_ack(const Ctx& c);
Response alarm_dispatch(const Ctx& c);
Response alarm_handle(const Ctx& c);
Response alarm_close(const Ctx& c);
// Evidence files of an alarm (alarm_routes.cpp, alarm/evidence.h).
Response upload_evidence(const Ctx& c);
Response list_evidence(const Ctx& c);
Response download_evidence(const Ctx& c);
Response tasks(const Ctx& c);
// Server-sent events of alarm changes (a streaming Response).
Response events(const Ctx& c);
// Emergency monitoring incidents (incident_routes.cpp).
Response incidents(const Ctx& c);
Response create_incident(const Ctx& c);
Response incident(const Ctx& c);
Response incident_action(const Ctx& c);
Response incident_report(const Ctx& c);
// The report of an incident the caller may see (incident_report.cpp).
Response incident_report(const Ctx& c, const alarm::Incident& incident);
Response close_incident(const Ctx& c);
// Data review (review_routes.cpp).
Response post_review_action(const Ctx& c);
Response review_actions(const Ctx& c);
// Dust-storm days (沙尘) of a site or city, from the dust_storm review marks (review_routes.cpp).
Response dust_storm_days(const Ctx& c);
// A stored value with what the review actions say about it.
struct ReviewedValue {
  storage::Value value;
  derive::ReviewState review;
  // Valid: device flag N (or none) and not invalidated. Shown: the corrected value, else the raw.
  bool valid() const { return !review.invalid && (value.flag.empty() || value.flag == "N"); }
  std::optional<double> shown() const { return review.corrected ? review.corrected : value.number; }
};
// The values of a series query with the review actions applied (s.reviews may be null: none);
// a value the screening service has screened (s.screening_marks, derive::is_screened) is at
// level screened unless an action made it audited or final (not with as_of).
// With as_of_ms: only value versions received and actions written by then (the versions come from
// Store::records of the devices assigned to the site in the range and of those in the series;
// error range_too_large when a device has more than q.limit versions of any factor in the range).
// `screened_level` false: levels from the actions only, and no screening catch-up (for callers
// that need no level below final, e.g. the AQI history, public ones included).
core::Result<std::vector<ReviewedValue>> reviewed_series(const ApiSources& s,
                                                         const storage::SeriesQuery& q,
                                                         std::optional<std::int64_t> as_of_ms,
                                                         bool screened_level = true);
// The dust-storm days (沙尘, review verbs dust_storm / dust_storm_clear) of [from_ms, to_ms) for
// `subjects` (a site's code and its city code, or a city code), as known at `as_of_ms`; empty
// when there is no review service. One reader for /api/v1/dust-storm-days and the daily AQI.
core::Result<std::vector<derive::DustStormDay>> dust_storm_days_of(
    const ApiSources& s, const std::vector<std::string>& subjects, std::int64_t from_ms,
    std::int64_t to_ms, std::optional<std::int64_t> as_of_ms = std::nullopt);
// The session token or API key a request carries (router.cpp), if any.
std::optional<std::string> credential_token(const Request& r);
// What the public may see: a registered, non-provisional site; a value neither quarantined,
// pending nor clock-suspect whose device flag is N (or absent).
bool published_site(const registry::Registry& reg, const registry::Site& site);
bool published_value(const storage::Value& v);
// True when the site's registry setting `release` = `final` is in force at that time: only final
// (终审) values are released publicly (issue #5 §5).
bool final_release_only(const registry::Registry& reg, const std::string& site,
                        std::int64_t measured_ms);
}  // namespace detail

Response put_site(const ApiSources& s, const std::string& code, const std::string& body);
Response put_device(const ApiSources& s, const std::string& mn, const std::string& body);
Response post_assignment(const ApiSources& s, const std::string& body);
Response put_enterprise(const ApiSources& s, const std::string& code, const std::string& body);
Response post_outlet(const ApiSources& s, const std::string& body);
Response post_permit(const ApiSources& s, const std::string& body);

}  // namespace ecomon::api
