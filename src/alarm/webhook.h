// Webhook delivery: an HTTP/1.1 POST of a JSON body, signed with HMAC-SHA256.
//
// The signature header is `X-Ecomon-Signature: sha256=<hex>` where <hex> is the lower-case hex
// HMAC-SHA256 of the exact body bytes under the configured secret (any length, as RFC 2104 and
// Python's hmac.new(secret, body, "sha256") take it).
//
// https:// recipients go through Boost.Beast's ssl_stream (OpenSSL 3): TLS 1.2 or later, SNI,
// the certificate chain verified against the system's CAs (OpenSSL's default paths) plus
// `WebhookTls::ca_file` when set (e.g. a bureau's own CA, or a test's self-signed receiver), and
// the host name (or IP address) of the URL verified against the certificate. A failed handshake
// or verification is an `unreachable` delivery, retried like any other.
//
// Thread-safety: the functions are reentrant; post_json blocks the calling thread (at most
// about timeout_ms per phase: resolve + connect, write, read).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ecomon::alarm {

// Lower-case hex HMAC-SHA256 of `body` (libsodium). An empty secret gives "".
std::string hmac_sha256_hex(const std::string& secret, const std::string& body);

struct HttpUrl {
  bool tls = false;  // https://
  std::string host;
  std::string port = "80";  // 443 for https://
  std::string target = "/";
};
// Parses http(s)://host[:port][/path?query]. Errors: bad_url.
core::Result<HttpUrl> parse_http_url(const std::string& url);

struct WebhookTls {
  std::string ca_file;  // PEM: trusted in addition to the system's CAs; empty: system CAs only
};

// POSTs `body` (application/json) with the extra headers; the HTTP status on an answer.
// Errors: bad_url, unreachable (resolve/connect/handshake/verification/IO failure or timeout).
core::Result<int> post_json(const std::string& url, const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            std::int64_t timeout_ms, const WebhookTls& tls = {});

}  // namespace ecomon::alarm
