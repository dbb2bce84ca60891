// `ecomon serve`: the platform in one process — device gateway, durable store, query API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analytics/screening.h"
#include "derive/backfill.h"
#include "derive/screening_service.h"
#include "forward/service.h"

namespace ecomon::app {

struct ServeOptions {
  std::string data_dir = "var";  // the SQLite database lives here
  std::string registry_dir = "config/registry";
  std::string hj212_listen = "127.0.0.1:9212";  // port 0 picks a free port
  std::string http_listen = "127.0.0.1:8080";
  // HTTPS: PEM certificate chain and private key; both or neither. Without them the API is plain
  // HTTP, which is refused on any address but loopback unless allow_plain_http (e.g. behind a
  // TLS-terminating proxy on the same machine or network).
  std::string tls_cert;
  std::string tls_key;
  bool allow_plain_http = false;
  std::string unknown_devices = "reject";  // reject | quarantine | accept
  std::int64_t idle_timeout_s = 900;
  std::int64_t max_connections = 10000;
  std::int64_t max_buffered_bytes = 65536;
  std::int64_t future_tolerance_s = 600;
  // HMAC-SHA256 key of the alarm webhooks' X-Ecomon-Signature header; empty: unsigned.
  std::string webhook_secret;
  // https:// webhooks: a PEM file of CAs trusted besides the system's (config key
  // webhook_ca_file); checked readable at start.
  std::string webhook_ca_file;
  // The built web front-end (web/dist). Empty: the first of `<binary>/../share/ecomon/web` and
  // the source tree's web/dist that holds an index.html (default_web_root()).
  std::string web_root;
  // Request budgets per client address (token buckets, api/rate_limit.h): the public API and
  // POST /api/auth/login. Config-file keys public_rate_per_s, public_burst, login_rate_per_s,
  // login_burst.
  double public_rate_per_s = 20;
  double public_burst = 60;
  double login_rate_per_s = 5;
  double login_burst = 30;
  // Quality screening thresholds: the `[screening]` section of the config file
  // (app/config_sections.h); GET /api/v1/screening uses them.
  analytics::screening::ScreeningConfig screening;
  // The screening marks service (derive/screening_service.h): `stored`, batch bounds.
  derive::ScreeningOptions screening_marks;
  // Automatic backfill requests: the `[backfill]` section (off unless enabled = true).
  derive::BackfillOptions backfill;
  // Upstream platforms to forward to: the `[[forward]]` tables (none: no forwarding).
  std::vector<forward::ForwardOptions> forward;
  // Alarm rules of the config file's [[rules]] tables, each as JSON (the members of
  // POST /api/v1/rules) with the line its table begins on; synchronised with the stored config
  // rules at start (alarm::AlarmService::sync_config_rules) when config_rules_given — i.e. a
  // config file was read, even one without [[rules]] (its config rules are then disabled).
  struct ConfigRule {
    std::string json;
    unsigned line = 0;
  };
  std::vector<ConfigRule> config_rules;
  bool config_rules_given = false;
  std::string config_path;
};

// Where `serve` looks for the web front-end when --web-root is not given ("" if nowhere).
std::string default_web_root();

// Applies a TOML config file (keys: data, registry, hj212_listen, http_listen, tls_cert, tls_key,
// allow_plain_http, unknown_devices, webhook_secret, web_root, public_rate_per_s, public_burst,
// login_rate_per_s, login_burst, idle_timeout_s, max_connections, max_buffered_bytes,
// future_tolerance_s; the [screening] and [backfill] sections and [[forward]] tables,
// app/config_sections.h). False (with
// a message on stderr naming the line and the reason) if the file cannot be read or parsed, or a
// [screening] value is refused.
// allow_plain_http, unknown_devices, webhook_secret, webhook_ca_file, web_root, public_rate_per_s,
// public_burst, login_rate_per_s, login_burst, idle_timeout_s, max_connections, max_buffered_bytes,
// future_tolerance_s, and [[rules]] tables: alarm rules with the members of POST /api/v1/rules).
// False (with a message on stderr naming the line) if the file cannot be read or parsed, or
// `rules` is not an array of tables.
bool apply_serve_config(ServeOptions& options, const std::string& path);

// Runs until SIGTERM/SIGINT; returns the exit status.
int run_serve(ServeOptions options);

}  // namespace ecomon::app
