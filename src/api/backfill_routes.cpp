// GET /api/v1/backfill?mn=&limit= — the automatic backfill requests (derive/backfill.h, issue #5
// §3), newest first: what the platform asked each logger for and what came back:
//   {"enabled":true,"requests":[{"id","mn","kind","cn","from","to","requested_at","outcome",
//     "answered_at","missing_before","missing_after","fulfilled"}]}
// `from`/`to` are the requested periods [from, to) (HJ 212 BeginTime = from, EndTime = the last
// period's start); answered_at, missing_after and fulfilled are null until known. Needs
// data.read; a device outside the caller's scopes is 403, and without `mn` only devices in scope
// are listed. Without the backfill service: 503. `limit` 1..1000, default 100.
#include <charconv>

#include "api/routes_internal.h"
#include "derive/backfill.h"

namespace ecomon::api::detail {

Response backfill(const Ctx& c) {
  if (!c.s.backfill) return error(503, "unavailable", "backfill is not configured");
  const Target& t = c.t;
  std::string mn;
  if (const auto it = t.query.find("mn"); it != t.query.end()) mn = it->second;
  std::size_t limit = 100;
  if (const auto it = t.query.find("limit"); it != t.query.end()) {
    const auto& text = it->second;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || end != text.data() + text.size() || limit < 1 || limit > 1000) {
      return error(400, "bad_request", "limit must be 1..1000");
    }
  }
  auto reg = c.s.registry->get();
  const std::int64_t now = c.s.clock->now_ms();
  if (!mn.empty() && !device_in_scope(c, *reg, mn, now)) {
    return error(403, "forbidden", "device '" + mn + "' is outside your scope");
  }
  auto rows = c.s.backfill->requests(mn, mn.empty() ? 1000 : limit);
  if (!rows) return from_error(rows.error());
  core::JsonWriter w;
  w.begin_object().key("enabled").value(c.s.backfill->options().enabled);
  w.key("requests").begin_array();
  std::size_t shown = 0;
  for (const auto& r : *rows) {
    if (shown == limit) break;
    if (mn.empty() && !device_in_scope(c, *reg, r.mn, now)) continue;
    ++shown;
    w.begin_object();
    w.key("id").value(r.id).key("mn").value(r.mn).key("kind").value(storage::kind_name(r.kind));
    w.key("cn").value(static_cast<std::int64_t>(r.cn));
    w.key("from").value(iso(r.from_ms)).key("to").value(iso(r.to_ms));
    w.key("requested_at").value(iso(r.requested_ms)).key("outcome").value(r.outcome);
    w.key("answered_at");
    if (r.answered_ms) {
      w.value(iso(*r.answered_ms));
    } else {
      w.null();
    }
    w.key("missing_before").value(r.missing_before).key("missing_after");
    if (r.missing_after) {
      w.value(*r.missing_after);
    } else {
      w.null();
    }
    w.key("fulfilled");
    if (r.fulfilled) {
      w.value(*r.fulfilled);
    } else {
      w.null();
    }
    w.end_object();
  }
  w.end_array().end_object();
  return Response{200, "application/json", w.take(), {}};
}

}  // namespace ecomon::api::detail
