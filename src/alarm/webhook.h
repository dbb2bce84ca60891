// Webhook delivery: an HTTP/1.1 POST of a JSON body, signed with HMAC-SHA256.
//
// The signature header is `X-Ecomon-Signature: sha256=<hex>` where <hex> is the lower-case hex
// HMAC-SHA256 of the exact body bytes under the configured secret (any length, as RFC 2104 and
// Python's hmac.new(secret, body, "sha256") take it). Only http:// URLs for now; https:// is
// refused with reason `unsupported`.
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
  std::string host;
  std::string port = "80";
  std::string target = "/";
};
// Parses http://host[:port][/path?query]. Errors: bad_url, unsupported (https).
core::Result<HttpUrl> parse_http_url(const std::string& url);

// POSTs `body` (application/json) with the extra headers; the HTTP status on an answer.
// Errors: bad_url, unsupported, unreachable (resolve/connect/IO failure or timeout).
core::Result<int> post_json(const std::string& url, const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            std::int64_t timeout_ms);

}  // namespace ecomon::alarm
