// The query API over HTTP/JSON (Boost.Beast): sites, devices, records, series, latest values,
// /healthz and /metrics.
//
//   GET /healthz
//   GET /metrics                               Prometheus text
//   GET /api/v1/sites                          the registry's sites
//   GET /api/v1/sites/{code}
//   GET /api/v1/sites/{code}/latest            latest value of each factor, by measurement time
//   GET /api/v1/devices                        MN, site, online, last seen, counters
//   GET /api/v1/devices/{mn}/records?from=&to=&kind=&limit=
//   GET /api/v1/series?site=&factor=&kind=&from=&to=&interval=raw|hour|day
//   PUT /api/v1/sites/{code}        JSON body: the site's fields (a partial update of a known site)
//   PUT /api/v1/devices/{mn}        JSON body: st, password, version, crc, interval_s, ...
//   POST /api/v1/assignments        JSON body: {"mn","site","from","until"}
// Edits are refused with the registry's reason (400) or swapped in and saved (save_registry).
//
// Times in and out are ISO 8601 with offset (out: +08:00). Errors: {"error":{"code","message"}}
// with a stable code (bad_request, not_found, range_too_large, method_not_allowed, too_large,
// internal). Limits: request header 8 KiB, body 64 KiB, 30 s to receive a request, at most
// max_connections connections. Runs on the caller's io_context thread. A handler may answer with
// a stream (Response::stream: Server-sent events), which keeps its connection until the client
// goes, a write stalls for request_timeout_ms, or the server stops.
//
// HTTPS: with a certificate chain and a private key (HttpOptions), every connection is TLS
// (OpenSSL 3, TLS 1.2 minimum, no compression, no renegotiation, forward-secret AEAD ciphers):
// the handshake must finish within tls_handshake_timeout_ms, a failed one is counted
// (tls_handshake_failures) and closes the connection, answers carry Strict-Transport-Security
// and the handlers see Request::tls. Plain HTTP is never served on the same port.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/rate_limit.h"
#include "auth/service.h"
#include "core/clock.h"
#include "core/result.h"
#include "registry/holder.h"
#include "storage/store.h"

namespace boost::asio {
class io_context;
}
namespace ecomon::alarm {
class AlarmService;
class IncidentService;
struct Incident;
class EvidenceService;
}  // namespace ecomon::alarm
namespace ecomon::derive {
class BackfillService;
class DerivedService;
class ReviewService;
class ScreeningService;
}  // namespace ecomon::derive
namespace ecomon::analytics::screening {
struct ScreeningConfig;
}

namespace ecomon::api {

// What the API shows of a device's connection (filled by the gateway through the app).
struct DeviceInfo {
  std::string mn;
  bool online = false;
  std::int64_t last_seen_ms = 0;
  std::string peer;
  std::uint64_t frames = 0;
  std::uint64_t rejected = 0;
};

// What became of a command sent to one device (the app fills it from the gateway's answer).
struct DeviceCommandOutcome {
  std::string mn;
  std::string outcome;  // executed, refused, failed, timeout, offline, stopped, not_found
  std::string detail;
};

// The ledger query of GET /api/v1/forward/{name}/ledger (the app hands it to forward/).
struct ForwardLedgerQuery {
  std::string mn;                    // ours or the upstream's; empty: all
  std::int64_t from_ms = INT64_MIN;  // data time, inclusive
  std::int64_t to_ms = INT64_MAX;    // exclusive
  std::size_t limit = 100;
};

struct ApiSources {
  registry::RegistryHolder* registry = nullptr;
  const storage::Store* store = nullptr;
  const core::Clock* clock = nullptr;
  std::function<std::vector<DeviceInfo>()> devices;  // may be empty
  std::function<std::string()> metrics;              // Prometheus text of the other parts
  // Persists an edited registry; the edit is refused (500) when this fails. May be empty.
  std::function<core::Result<void>(const registry::Registry&)> save_registry;
  // Rotates an HJ 212-2025 device's SM4 key (CN 1014); blocks until the device answered. Returns
  // the new key's SKCreateTime. May be empty (the route then answers 503).
  std::function<core::Result<std::string>(const std::string& mn)> rotate_key;
  // Users, sessions, API keys, audit trail. Without it every protected route answers 401.
  auth::AuthService* auth = nullptr;
  // Per-client request budgets of the public API and of the login (rate_limit.h); may be null.
  RateLimiter* public_limiter = nullptr;
  RateLimiter* login_limiter = nullptr;
  // Alarm rules, alarms and tasks (alarm_routes.cpp); without it those routes answer 503.
  alarm::AlarmService* alarms = nullptr;
  // Emergency monitoring incidents (incident_routes.cpp); without it those routes answer 503.
  alarm::IncidentService* incidents = nullptr;
  // Evidence files of alarms (alarm/evidence.h); without it those routes answer 503.
  alarm::EvidenceService* evidence = nullptr;
  // Data review actions (review_routes.cpp); without it the review routes answer 503 and series
  // and AQI show the raw values.
  derive::ReviewService* reviews = nullptr;
  // Stored hourly and daily means and their revisions (derived_routes.cpp); without it those
  // routes answer 503.
  derive::DerivedService* derived = nullptr;
  // Asks devices to send real-time data every `seconds` (HJ 212 CN 1062), all at once; blocks
  // until each answered 9011 + 9012 or timed out. One outcome per MN, in order. May be empty
  // (an incident then records the outcome "unavailable").
  std::function<std::vector<DeviceCommandOutcome>(const std::vector<std::string>& mns, int seconds)>
      set_rtd_interval;
  // Automatic backfill requests (backfill_routes.cpp); without it GET /api/v1/backfill answers 503.
  derive::BackfillService* backfill = nullptr;
  // Stored screening findings (screening_marks_routes.cpp) and the `screened` level of the values
  // it has screened; without it the marks routes answer 503 and no value is `screened`.
  derive::ScreeningService* screening_marks = nullptr;
  // Delivery to upstream platforms (forward/service.h; `api` may not include it, so the app
  // supplies the JSON): GET /api/v1/forward and GET /api/v1/forward/{name}/ledger. Empty: 503.
  // The ledger answers not_found for an unknown upstream.
  std::function<std::string()> forward_status;
  std::function<core::Result<std::string>(const std::string& name, const ForwardLedgerQuery& q)>
      forward_ledger;
  // Quality screening thresholds (`[screening]` of the config file); null: the defaults.
  const analytics::screening::ScreeningConfig* screening = nullptr;
  // The built web front-end (web/dist: the portal at /, the dashboard at /console/); empty: not
  // installed (static_files.h).
  std::string web_root;
};

struct HttpOptions {
  std::size_t max_connections = 1024;
  std::int64_t request_timeout_ms = 30000;
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
  // The body limit of evidence uploads (POST /api/v1/alarms/{id}/evidence) from a request that
  // carries a credential (Authorization or Cookie); every other request keeps max_body_bytes.
  // Slightly above EvidenceOptions::max_bytes so the service, not the parser, names the limit.
  std::size_t max_upload_bytes = 10 * 1024 * 1024 + 1;
  // Upload bodies read at once (each is held in memory); one more is answered 503 busy with
  // Retry-After.
  std::size_t max_concurrent_uploads = 4;
  // PEM files; both empty = plain HTTP, both set = HTTPS only (listen() loads and checks them).
  std::string tls_cert_file;  // the server's certificate, then any intermediates
  std::string tls_key_file;   // its private key (unencrypted)
  std::int64_t tls_handshake_timeout_ms = 10000;
  // Streaming answers (Server-sent events, GET /api/v1/events).
  std::size_t max_streams = 256;
  std::int64_t stream_poll_ms = 500;
  std::int64_t stream_heartbeat_ms = 15000;
};

// One HTTP request as the handlers see it (http_server.cpp fills it from the wire).
struct Request {
  std::string method;
  std::string target;
  std::string body;
  std::string authorization;    // the Authorization header
  std::string cookie;           // the Cookie header
  std::string origin;           // the Origin header (browsers send it with POST/PUT/DELETE)
  std::string host;             // the Host header
  std::string client;           // the peer's IP address
  std::string last_event_id;    // the Last-Event-ID header (an event stream's resumption point)
  std::string accept_encoding;  // the Accept-Encoding header (the web pages' gzip copies)
  std::string content_type;     // the Content-Type header (evidence uploads)
  bool tls = false;
};

// The producer of a streaming answer: called on a worker thread every
// HttpOptions::stream_poll_ms, never twice at once; returns the bytes to send now (empty:
// nothing new). An error ends the stream (the connection closes).
using StreamProducer = std::function<core::Result<std::string>()>;

struct Response {
  Response(int status_ = 200, std::string content_type_ = "application/json",
           std::string body_ = {}, std::vector<std::pair<std::string, std::string>> headers_ = {})
      : status(status_),
        content_type(std::move(content_type_)),
        body(std::move(body_)),
        headers(std::move(headers_)) {}
  int status;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Set-Cookie, Retry-After, ...
  // Set: a stream (text/event-stream) instead of a body. The server sends the header (no length;
  // the connection closes when the stream ends), then what the producer returns, and a comment
  // line when nothing was sent for stream_heartbeat_ms. Beyond max_streams open streams the answer
  // is 503 instead; server stop closes every stream.
  StreamProducer stream;
};

// Handles one request: authentication first, then routing (routes.h lists every route).
// Public for tests.
Response handle_request(const ApiSources& sources, const Request& request);

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ApiSources sources, HttpOptions options);
  ~HttpServer();
  // Loads the TLS certificate and key first when HttpOptions names them: a file that cannot be
  // read, is not PEM, or a key that does not match the certificate fails with reason `tls_config`
  // and a detail naming the file; nothing is bound then. Returns the bound port.
  core::Result<std::uint16_t> listen(const std::string& address, std::uint16_t port);
  // Stops accepting, lets requests under way finish, drops queued ones, closes every event
  // stream. Call it on the io_context's thread (or once the loop has stopped); idempotent.
  void stop();
  std::uint64_t requests_served() const;
  // TLS handshakes that failed or timed out (plain HTTP to the HTTPS port, scanners, old clients).
  std::uint64_t tls_handshake_failures() const;
  // Event streams open now, and those refused because max_streams were open.
  std::size_t open_streams() const;
  std::uint64_t streams_refused() const;

  class Impl;  // defined in http_server.cpp

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ecomon::api
