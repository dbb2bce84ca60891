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
// max_connections connections. Runs on the caller's io_context thread.
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

struct ApiSources {
  registry::RegistryHolder* registry = nullptr;
  const storage::Store* store = nullptr;
  const core::Clock* clock = nullptr;
  std::function<std::vector<DeviceInfo>()> devices;  // may be empty
  std::function<std::string()> metrics;              // Prometheus text of the other parts
  // Persists an edited registry; the edit is refused (500) when this fails. May be empty.
  std::function<core::Result<void>(const registry::Registry&)> save_registry;
  // Users, sessions, API keys, audit trail. Without it every protected route answers 401.
  auth::AuthService* auth = nullptr;
  // Per-client request budgets of the public API and of the login (rate_limit.h); may be null.
  RateLimiter* public_limiter = nullptr;
  RateLimiter* login_limiter = nullptr;
};

struct HttpOptions {
  std::size_t max_connections = 1024;
  std::int64_t request_timeout_ms = 30000;
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
};

// One HTTP request as the handlers see it (http_server.cpp fills it from the wire).
struct Request {
  std::string method;
  std::string target;
  std::string body;
  std::string authorization;  // the Authorization header
  std::string cookie;         // the Cookie header
  std::string origin;         // the Origin header (browsers send it with POST/PUT/DELETE)
  std::string host;           // the Host header
  std::string client;         // the peer's IP address
  bool tls = false;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Set-Cookie, Retry-After, ...
};

// Handles one request: authentication first, then routing (routes.h lists every route).
// Public for tests.
Response handle_request(const ApiSources& sources, const Request& request);

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ApiSources sources, HttpOptions options);
  ~HttpServer();
  core::Result<std::uint16_t> listen(const std::string& address, std::uint16_t port);
  void stop();
  std::uint64_t requests_served() const;

  class Impl;  // defined in http_server.cpp

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace ecomon::api
