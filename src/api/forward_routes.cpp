// Delivery to upstream platforms (数据转发, forward/service.h). Both need metrics.read (admin and
// operator: an operations view, like /metrics).
//
// GET /api/v1/forward — per upstream: connected, cursor, feed_end, backlog (changes after the
//   cursor), frames_pending, last_ack_at, last_error, frames sent/acked/retried, ack timeouts,
//   bad replies: {"upstreams":[...]} ([] when no [[forward]] is configured).
// GET /api/v1/forward/{name}/ledger?mn=&from=&to=&limit= — the frames sent to one upstream, newest
//   data time first: QN, MN sent and ours, CN, data_time, change-feed range, values, reason (live,
//   late, new_version), first/last sent, attempts, acked_at (null until the 9014 came). `mn` is
//   ours or the upstream's; from/to bound the data time; limit 1..1000 (100). Unknown name: 404.
#include <charconv>

#include "api/routes_internal.h"

namespace ecomon::api::detail {

Response forward_status(const Ctx& c) {
  if (!c.s.forward_status) return error(503, "unavailable", "forwarding is not wired");
  return Response{200, "application/json", c.s.forward_status(), {}};
}

Response forward_ledger(const Ctx& c) {
  if (!c.s.forward_ledger) return error(503, "unavailable", "forwarding is not wired");
  ForwardLedgerQuery q;
  if (const auto it = c.t.query.find("mn"); it != c.t.query.end()) q.mn = it->second;
  if (const auto it = c.t.query.find("limit"); it != c.t.query.end()) {
    const auto& text = it->second;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), q.limit);
    if (ec != std::errc() || end != text.data() + text.size() || q.limit < 1 || q.limit > 1000) {
      return error(400, "bad_request", "limit must be 1..1000");
    }
  }
  auto from = time_param(c.t, "from");
  if (!from) return from_error(from.error());
  auto to = time_param(c.t, "to");
  if (!to) return from_error(to.error());
  if (*from) q.from_ms = **from;
  if (*to) q.to_ms = **to;
  auto body = c.s.forward_ledger(c.params.at(0), q);
  if (!body) {
    if (body.error().reason == "not_found") return error(404, "not_found", body.error().detail);
    return from_error(body.error());
  }
  return Response{200, "application/json", std::move(*body), {}};
}

}  // namespace ecomon::api::detail
