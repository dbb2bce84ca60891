#include "alarm/webhook.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <optional>

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
  HttpUrl u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    u.port = "443";
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return core::fail(core::Error{"bad_url", "not an http:// or https:// URL: " + url});
  }
  const std::size_t slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
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

namespace {

// One POST over `stream` (a beast::tcp_stream or an ssl_stream over one): resolve, connect,
// (handshake), write, read — each phase with its own timeout, on the caller's private io_context.
template <class Stream>
core::Result<int> exchange(boost::asio::io_context& io, Stream& stream, const std::string& url,
                           const HttpUrl& u, http::request<http::string_body>& req,
                           std::int64_t timeout_ms) {
  constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  auto& lowest = beast::get_lowest_layer(stream);
  tcp::resolver resolver(io);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  beast::error_code failure;
  const auto timeout = std::chrono::milliseconds(timeout_ms);
  auto write_and_read = [&] {
    lowest.expires_after(timeout);
    http::async_write(stream, req, [&](beast::error_code ec3, std::size_t) {
      if (ec3) {
        failure = ec3;
        return;
      }
      lowest.expires_after(timeout);
      http::async_read(stream, buffer, parser, [&](beast::error_code ec4, std::size_t) {
        if (ec4) failure = ec4;
      });
    });
  };
  // Asynchronous operations on a private io_context: the only way Beast gives every phase a
  // timeout (tcp_stream::expires_after).
  resolver.async_resolve(u.host, u.port, [&](beast::error_code ec, tcp::resolver::results_type r) {
    if (ec) {
      failure = ec;
      return;
    }
    lowest.expires_after(timeout);
    lowest.async_connect(r, [&](beast::error_code ec2, const tcp::endpoint&) {
      if (ec2) {
        failure = ec2;
        return;
      }
      if constexpr (kTls) {
        lowest.expires_after(timeout);
        stream.async_handshake(boost::asio::ssl::stream_base::client, [&](beast::error_code ec5) {
          if (ec5) {
            failure = ec5;
            return;
          }
          write_and_read();
        });
      } else {
        write_and_read();
      }
    });
  });
  io.run_for(timeout * 5);
  if (!io.stopped()) {
    io.stop();
    return core::fail(core::Error{"unreachable", url + ": timed out"});
  }
  beast::error_code ignored;
  lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (failure) return core::fail(core::Error{"unreachable", url + ": " + failure.message()});
  if (!parser.is_header_done()) return core::fail(core::Error{"unreachable", url + ": no answer"});
  return static_cast<int>(parser.get().result_int());
}

}  // namespace

core::Result<int> post_json(const std::string& url, const std::string& body,
                            const std::vector<std::pair<std::string, std::string>>& headers,
                            std::int64_t timeout_ms, const WebhookTls& tls) {
  auto u = parse_http_url(url);
  if (!u) return core::fail(u.error());
  boost::asio::io_context io;
  http::request<http::string_body> req{http::verb::post, u->target, 11};
  const std::string default_port = u->tls ? "443" : "80";
  req.set(http::field::host, u->host + (u->port == default_port ? "" : ":" + u->port));
  req.set(http::field::user_agent, "ecomon-alarm");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  if (!u->tls) {
    beast::tcp_stream stream(io);
    return exchange(io, stream, url, *u, req, timeout_ms);
  }
  namespace ssl = boost::asio::ssl;
  ssl::context ctx(ssl::context::tls_client);
  beast::error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.set_default_verify_paths(ec);
  if (!tls.ca_file.empty()) {
    ctx.load_verify_file(tls.ca_file, ec);
    if (ec) {
      return core::fail(
          core::Error{"unreachable", url + ": CA file " + tls.ca_file + ": " + ec.message()});
    }
  }
  ctx.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  SSL* native = stream.native_handle();
  // The name the certificate must carry: the URL's host name, or its IP address.
  boost::system::error_code not_ip;
  boost::asio::ip::make_address(u->host, not_ip);
  if (not_ip) {
    if (SSL_set_tlsext_host_name(native, u->host.c_str()) != 1 ||
        SSL_set1_host(native, u->host.c_str()) != 1) {
      return core::fail(core::Error{"unreachable", url + ": cannot set the TLS host name"});
    }
  } else if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), u->host.c_str()) != 1) {
    return core::fail(core::Error{"unreachable", url + ": cannot set the TLS peer address"});
  }
  return exchange(io, stream, url, *u, req, timeout_ms);
}

}  // namespace ecomon::alarm
