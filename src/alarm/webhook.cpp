#include "alarm/webhook.h"

#include <sodium.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace ecomon::alarm {

namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string hmac_sha256_hex(const std::string& secret, const std::string& body) {
  if (secret.empty()) return {};
  crypto_auth_hmacsha256_state st;
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(body.data()),
                                body.size());
  crypto_auth_hmacsha256_final(&st, mac.data());
  std::string out(mac.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), mac.data(), mac.size());
  out.pop_back();
  return out;
}

core::Result<HttpUrl> parse_http_url(const std::string& url) {
  if (url.rfind("https://", 0) == 0) {
    return core::fail(
        core::Error{"unsupported", "https:// webhooks are not supported yet: " + url});
  }
  if (url.rfind("http://", 0) != 0) {
    return core::fail(core::Error{"bad_url", "not an http:// URL: " + url});
  }
  const std::string rest = url.substr(7);
  const std::size_t slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  HttpUrl u;
  if (slash != std::string::npos) u.target = rest.substr(slash);
  if (u.target.front() == '?') u.target = "/" + u.target;
  if (authority.find('@') != std::string::npos) {
    return core::fail(core::Error{"bad_url", "credentials in a webhook URL are not supported"});
  }
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string::npos)
      return core::fail(core::Error{"bad_url", "bad IPv6 host: " + url});
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      u.port = authority.substr(close + 2);
  } else {
    const std::size_t colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) u.port = authority.substr(colon + 1);
  }
  if (u.host.empty() || u.port.empty() ||
      u.port.find_first_not_of("0123456789") != std::string::npos || u.port.size() > 5) {
    return core::fail(core::Error{"bad_url", "no host or a bad port: " + url});
  }
  return u;
}

core::Result<int> post_json(const std::string& url, const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            std::int64_t timeout_ms) {
  auto u = parse_http_url(url);
  if (!u) return core::fail(u.error());
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  tcp::resolver resolver(io);
  http::request<http::string_body> req{http::verb::post, u->target, 11};
  req.set(http::field::host, u->host + (u->port == "80" ? "" : ":" + u->port));
  req.set(http::field::user_agent, "ecomon-alarm");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  beast::error_code failure;
  const auto timeout = std::chrono::milliseconds(timeout_ms);
  // Asynchronous operations on a private io_context: the only way Beast gives every phase a
  // timeout (tcp_stream::expires_after).
  resolver.async_resolve(
      u->host, u->port, [&](beast::error_code ec, tcp::resolver::results_type r) {
        if (ec) {
          failure = ec;
          return;
        }
        stream.expires_after(timeout);
        stream.async_connect(r, [&](beast::error_code ec2, const tcp::endpoint&) {
          if (ec2) {
            failure = ec2;
            return;
          }
          stream.expires_after(timeout);
          http::async_write(stream, req, [&](beast::error_code ec3, std::size_t) {
            if (ec3) {
              failure = ec3;
              return;
            }
            stream.expires_after(timeout);
            http::async_read(stream, buffer, parser, [&](beast::error_code ec4, std::size_t) {
              if (ec4) failure = ec4;
            });
          });
        });
      });
  io.run_for(timeout * 4);
  if (!io.stopped()) {
    io.stop();
    return core::fail(core::Error{"unreachable", url + ": timed out"});
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (failure) return core::fail(core::Error{"unreachable", url + ": " + failure.message()});
  if (!parser.is_header_done()) return core::fail(core::Error{"unreachable", url + ": no answer"});
  return static_cast<int>(parser.get().result_int());
}

}  // namespace ecomon::alarm
