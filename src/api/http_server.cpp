#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <type_traits>

#include "api/http_api.h"
#include "net/listener.h"

namespace ecomon::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// TLS 1.2 suites: forward secrecy and AEAD only (Mozilla's "intermediate" list without DHE, which
// would need parameters). TLS 1.3 keeps OpenSSL's defaults, which are all of that kind.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The first queued OpenSSL error of this thread as text ("no start line"); clears the queue.
std::string openssl_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  const char* reason = ERR_reason_error_string(e);
  return reason != nullptr ? reason : "OpenSSL error " + std::to_string(e);
}

// An encrypted key would make OpenSSL prompt on the terminal; a server has nobody to ask.
int no_password(char*, int, int, void*) { return 0; }

core::Unexpected<core::Error> tls_error(std::string detail) {
  return core::fail(core::Error{"tls_config", std::move(detail)});
}

// The server's TLS context from PEM files; every failure names the file and says what is wrong.
core::Result<std::unique_ptr<ssl::context>> make_tls_context(const std::string& cert_file,
                                                             const std::string& key_file) {
  if (cert_file.empty() || key_file.empty()) {
    return tls_error("HTTPS needs both a certificate chain file and a private key file");
  }
  for (const auto& [file, what] : {std::pair{cert_file, "certificate"}, {key_file, "key"}}) {
    std::FILE* f = std::fopen(file.c_str(), "rb");
    if (f == nullptr) {
      return tls_error(std::string("TLS ") + what + " " + file + ": " + std::strerror(errno));
    }
    std::fclose(f);
  }
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::no_compression);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_default_passwd_cb(native, no_password);
  ERR_clear_error();
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return tls_error("TLS cipher list: " + openssl_reason());
  }
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) {
    return tls_error("TLS certificate " + cert_file + ": not a PEM certificate chain (" +
                     openssl_reason() + ")");
  }
  BIO* bio = BIO_new_file(key_file.c_str(), "r");
  EVP_PKEY* key =
      bio != nullptr ? PEM_read_bio_PrivateKey(bio, nullptr, no_password, nullptr) : nullptr;
  BIO_free(bio);
  if (key == nullptr) {
    // OpenSSL's own reasons here ("unsupported", "bad decrypt") would mislead more than help.
    ERR_clear_error();
    return tls_error("TLS key " + key_file +
                     ": not a PEM private key, or an encrypted one (a server cannot ask for the "
                     "password: `openssl pkey -in KEY -out PLAIN_KEY` decrypts it)");
  }
  // Checked here rather than left to SSL_CTX_use_PrivateKey so that the message can say so.
  const bool matches = X509_check_private_key(SSL_CTX_get0_certificate(native), key) == 1;
  const bool used =
      matches && SSL_CTX_use_PrivateKey(native, key) == 1 && SSL_CTX_check_private_key(native) == 1;
  EVP_PKEY_free(key);
  if (!matches) {
    ERR_clear_error();
    return tls_error("TLS key " + key_file + " does not match the certificate " + cert_file);
  }
  if (!used) return tls_error("TLS key " + key_file + ": " + openssl_reason());
  return ctx;
}

}  // namespace

class HttpServer::Impl : public std::enable_shared_from_this<HttpServer::Impl> {
 public:
  Impl(asio::io_context& io, ApiSources sources, HttpOptions options)
      : io_(io), acceptor_(io), sources_(std::move(sources)), options_(options) {}

  core::Result<std::uint16_t> listen(const std::string& address, std::uint16_t port) {
    if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
      auto ctx = make_tls_context(options_.tls_cert_file, options_.tls_key_file);
      if (!ctx) return core::fail(ctx.error());
      tls_ = std::move(*ctx);
    }
    auto bound = net::listen_on(acceptor_, address, port);
    if (bound) accept();
    return bound;
  }

  void accept();
  // On the loop's thread (or after the loop stopped): sessions check stopped_ there before they
  // post work to the pool.
  void stop() {
    if (stopped_.exchange(true)) return;
    // Requests under way finish; none start; nothing posts to the loop after this returns.
    pool_->stop();
    pool_->join();
    // Work that never ran holds its session, and the session this server: destroy it now, or
    // the cycle would outlive the process (a leak the sanitizer build reports at exit).
    pool_.reset();
    boost::system::error_code ec;
    acceptor_.close(ec);
    // Event streams end now: their clients see the connection close (and reconnect elsewhere).
    std::map<std::uint64_t, std::function<void()>> streams;
    {
      std::lock_guard lock(streams_mu_);
      streams.swap(streams_);
    }
    for (auto& [id, close] : streams) close();
  }

  // Registers an open stream and its closer; false when max_streams are open (or stopping).
  bool add_stream(std::uint64_t id, std::function<void()> close) {
    std::lock_guard lock(streams_mu_);
    if (stopped_ || streams_.size() >= options_.max_streams) {
      ++streams_refused_;
      return false;
    }
    streams_.emplace(id, std::move(close));
    return true;
  }
  void remove_stream(std::uint64_t id) {
    std::lock_guard lock(streams_mu_);
    streams_.erase(id);
  }

  // Counts a failed TLS handshake; logs at most one line per 10 s (scanners retry fast).
  void handshake_failed(const std::string& peer, const beast::error_code& ec) {
    const std::uint64_t n = ++tls_handshake_failures_;
    const std::int64_t now = sources_.clock != nullptr ? sources_.clock->now_ms() : 0;
    if (n > 1 && now - last_failure_log_ms_ < 10000) return;
    last_failure_log_ms_ = now;
    std::fprintf(stderr, "http: TLS handshake with %s failed: %s (failures so far: %llu)\n",
                 peer.c_str(), ec.message().c_str(), static_cast<unsigned long long>(n));
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  ApiSources sources_;
  HttpOptions options_;
  std::unique_ptr<ssl::context> tls_;  // set by listen() when HTTPS is configured
  std::size_t open_ = 0;
  std::size_t uploads_reading_ = 0;  // evidence bodies being read (the loop thread only)
  std::atomic<std::uint64_t> served_{0};
  std::atomic<std::uint64_t> tls_handshake_failures_{0};
  std::int64_t last_failure_log_ms_ = 0;  // the loop thread only
  std::atomic<bool> stopped_{false};
  std::mutex streams_mu_;
  std::map<std::uint64_t, std::function<void()>> streams_;  // open event streams → their closer
  std::atomic<std::uint64_t> streams_refused_{0};
  std::uint64_t next_stream_id_ = 0;  // the loop thread only
  // Request handling off the event loop; null once stopped.
  std::unique_ptr<asio::thread_pool> pool_ = std::make_unique<asio::thread_pool>(2);
};

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection: read a request, handle it on the pool, write the answer, again while the client
// keeps the connection alive. Stream is beast::tcp_stream (plain HTTP) or TlsStream (HTTPS: a
// handshake first, a close_notify last); everything in between is the same code.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  // `tls` is the server's ssl::context for TlsStream, nothing for beast::tcp_stream.
  template <class... Tls>
  Session(std::shared_ptr<HttpServer::Impl> server, tcp::socket socket, Tls&... tls)
      : server_(std::move(server)), stream_(std::move(socket), tls...) {}
  ~Session() {
    if (stream_id_ != 0) server_->remove_stream(stream_id_);
    --server_->open_;
  }

  void start() {
    if constexpr (kTls) {
      lowest().expires_after(std::chrono::milliseconds(server_->options_.tls_handshake_timeout_ms));
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  // Plain HTTP, garbage, an old protocol, a timeout: no answer;
                                  // the socket closes with the session.
                                  self->server_->handshake_failed(self->peer(), ec);
                                  return;
                                }
                                self->read();
                              });
    } else {
      read();
    }
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  std::string peer() {
    beast::error_code ec;
    const auto ep = lowest().socket().remote_endpoint(ec);
    return ec ? std::string() : ep.address().to_string();
  }

  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options_.max_header_bytes));
    // Beast checks a Content-Length against the body limit while it reads the header, so the
    // header is read under the larger limit and the limit is lowered once the route is known.
    parser_->body_limit(
        std::max(server_->options_.max_body_bytes, server_->options_.max_upload_bytes));
    lowest().expires_after(std::chrono::milliseconds(server_->options_.request_timeout_ms));
    // The header first: an evidence upload from a request with a credential may carry a larger
    // body (HttpOptions::max_upload_bytes); everything else keeps max_body_bytes.
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
          if (ec) {
            self->on_read(ec);
            return;
          }
          const bool upload = self->is_upload(self->parser_->get());
          if (upload &&
              self->server_->uploads_reading_ >= self->server_->options_.max_concurrent_uploads) {
            // Each large body is held in memory: a bounded number at once.
            self->busy_ = true;
            self->on_read(http::error::body_limit);
            return;
          }
          if (upload) {
            ++self->server_->uploads_reading_;
            self->upload_slot_ = true;
          } else {
            const std::size_t limit = self->server_->options_.max_body_bytes;
            const auto length = self->parser_->content_length();
            if (length && *length > limit) {
              self->on_read(http::error::body_limit);
              return;
            }
            self->parser_->body_limit(limit);
          }
          http::async_read(self->stream_, self->buffer_, *self->parser_,
                           [self](beast::error_code ec2, std::size_t) { self->on_read(ec2); });
        });
  }

  // POST /api/v1/alarms/{id}/evidence[?…] with an Authorization or Cookie header.
  template <class Header>
  static bool is_upload(const Header& req) {
    if (req.method() != http::verb::post) return false;
    if (req[http::field::authorization].empty() && req[http::field::cookie].empty()) return false;
    std::string_view target(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    constexpr std::string_view kPrefix = "/api/v1/alarms/";
    constexpr std::string_view kSuffix = "/evidence";
    if (target.size() <= kPrefix.size() + kSuffix.size() ||
        target.substr(0, kPrefix.size()) != kPrefix ||
        target.substr(target.size() - kSuffix.size()) != kSuffix) {
      return false;
    }
    const std::string_view id =
        target.substr(kPrefix.size(), target.size() - kPrefix.size() - kSuffix.size());
    return id.size() <= 18 && id.find_first_not_of("0123456789") == std::string_view::npos;
  }

  void on_read(beast::error_code ec) {
    if (upload_slot_) {
      --server_->uploads_reading_;
      upload_slot_ = false;
    }
    // Only a request the parser refused gets an answer; a closed, reset or timed-out connection
    // (or a TLS one cut without close_notify) is just closed.
    const bool parse_error =
        ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream;
    if (ec && !parse_error) {
      close();
      return;
    }
    if (ec) {
      // Oversized or malformed requests get an answer with a reason, then the connection closes.
      const bool too_large = ec == http::error::header_limit || ec == http::error::body_limit;
      Response r;
      if (busy_) {
        r.status = 503;
        r.headers.emplace_back("Retry-After", "5");
        r.body = "{\"error\":{\"code\":\"busy\",\"message\":\"too many uploads at once; retry\"}}";
        send(r, false, http::verb::get);
        return;
      }
      r.status = too_large ? 413 : 400;
      r.body = std::string("{\"error\":{\"code\":\"") + (too_large ? "too_large" : "bad_request") +
               "\",\"message\":\"" + (too_large ? "request too large" : "malformed request") +
               "\"}}";
      send(r, false, http::verb::get);
      return;
    }
    const auto& req = parser_->get();
    Request request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.body = req.body();
    request.authorization = std::string(req[http::field::authorization]);
    request.cookie = std::string(req[http::field::cookie]);
    request.origin = std::string(req[http::field::origin]);
    request.host = std::string(req[http::field::host]);
    request.last_event_id = std::string(req["Last-Event-ID"]);
    request.accept_encoding = std::string(req[http::field::accept_encoding]);
    request.content_type = std::string(req[http::field::content_type]);
    request.client = peer();
    request.tls = kTls;
    // Store reads and registry saves run on the API's worker threads, never on the event loop the
    // device gateway shares: a 100,000-row query must not delay any device's acknowledgement.
    auto work = [self = this->shared_from_this(), request = std::move(request),
                 keep_alive = req.keep_alive(), verb = req.method()] {
      Response r;
      try {
        r = handle_request(self->server_->sources_, request);
      } catch (const std::exception&) {
        // No request may take the process (and the device gateway with it) down.
        r = Response{500,
                     "application/json",
                     std::string("{\"error\":{\"code\":\"internal\",\"message\":\"") +
                         "unexpected failure\"}}",
                     {}};
      }
      ++self->server_->served_;
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(r), keep_alive, verb] { self->send(r, keep_alive, verb); });
    };
    if (server_->stopped_) {
      close();
      return;
    }
    asio::post(*server_->pool_, std::move(work));
  }

  template <class Message>
  static void set_headers(Message& res, const Response& r) {
    res.version(11);
    res.result(static_cast<http::status>(r.status));
    res.set(http::field::server, "ecomon");
    res.set(http::field::content_type, r.content_type);
    // Security headers on every answer; no CORS header: other origins may not read the API.
    res.set("X-Content-Type-Options", "nosniff");
    res.set("X-Frame-Options", "DENY");
    res.set("Referrer-Policy", "no-referrer");
    res.set("Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'none'");
    res.set(http::field::cache_control, "no-store");
    if constexpr (kTls) res.set(http::field::strict_transport_security, "max-age=31536000");
    for (const auto& [name, value] : r.headers) res.set(name, value);
  }

  void send(const Response& r, bool keep_alive, http::verb method) {
    if (r.stream && method != http::verb::head) {
      start_stream(r);
      return;
    }
    auto res = std::make_shared<http::response<http::string_body>>();
    set_headers(*res, r);
    res->keep_alive(keep_alive);
    if (method != http::verb::head) res->body() = r.body;
    res->prepare_payload();
    http::async_write(
        stream_, *res,
        [self = this->shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
          if (ec || !keep_alive) {
            self->close();
            return;
          }
          self->read();
        });
  }

  // --- event streams: header, then the producer's output, polled on a timer ---

  void start_stream(const Response& r) {
    const std::uint64_t id = ++server_->next_stream_id_;
    std::weak_ptr<Session> weak = this->shared_from_this();
    auto closer = [weak] {
      if (auto self = weak.lock()) {
        beast::error_code ignored;
        self->timer_.cancel();
        self->lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
        self->lowest().socket().close(ignored);
      }
    };
    if (!server_->add_stream(id, closer)) {
      send(Response{503,
                    "application/json",
                    "{\"error\":{\"code\":\"unavailable\",\"message\":\"too many event "
                    "streams open; try again later\"}}",
                    {{"Retry-After", "5"}}},
           false, http::verb::get);
      return;
    }
    stream_id_ = id;
    producer_ = r.stream;
    // The client sends nothing more; readability means it went (EOF, reset): free the slot now
    // rather than at the next failing write.
    lowest().socket().async_wait(
        tcp::socket::wait_read,
        [self = this->shared_from_this()](beast::error_code) { self->end_stream(); });
    http::response<http::empty_body> res;
    set_headers(res, r);
    // No length: the stream ends when the connection closes.
    res.keep_alive(false);
    std::ostringstream header;
    header << res.base();
    // A first comment flushes the header through proxies and tells the client it is connected.
    write_stream(header.str() + ": connected\n\n");
  }

  void write_stream(std::string text) {
    out_ = std::move(text);
    // A client that stops reading cannot hold the connection (and a stream slot) for ever.
    lowest().expires_after(std::chrono::milliseconds(server_->options_.request_timeout_ms));
    asio::async_write(stream_, asio::buffer(out_),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec || self->server_->stopped_) {
                          self->end_stream();
                          return;
                        }
                        self->lowest().expires_never();
                        self->last_write_ = std::chrono::steady_clock::now();
                        self->wait_stream();
                      });
  }

  void wait_stream() {
    timer_.expires_after(std::chrono::milliseconds(server_->options_.stream_poll_ms));
    timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->server_->stopped_) {
        self->end_stream();
        return;
      }
      // Store reads run on the worker pool, as requests do.
      asio::post(*self->server_->pool_, [self] {
        core::Result<std::string> text = std::string();
        try {
          text = self->producer_();
        } catch (const std::exception& e) {
          text = core::fail(core::Error{"internal", e.what()});
        }
        asio::post(self->stream_.get_executor(),
                   [self, text = std::move(text)]() mutable { self->on_polled(std::move(text)); });
      });
    });
  }

  void on_polled(core::Result<std::string> text) {
    if (!text || server_->stopped_) {
      end_stream();
      return;
    }
    std::string out = std::move(*text);
    if (out.empty() && std::chrono::steady_clock::now() - last_write_ >=
                           std::chrono::milliseconds(server_->options_.stream_heartbeat_ms)) {
      out = ": heartbeat\n\n";
    }
    if (out.empty()) {
      wait_stream();
      return;
    }
    write_stream(std::move(out));
  }

  void end_stream() {
    if (stream_id_ != 0) server_->remove_stream(stream_id_);
    stream_id_ = 0;
    timer_.cancel();
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().socket().close(ignored);
  }

  void close() {
    if constexpr (kTls) {
      // close_notify, then wait (bounded) for the client's; the socket closes with the session.
      lowest().expires_after(std::chrono::milliseconds(server_->options_.tls_handshake_timeout_ms));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        self->lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      });
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  std::shared_ptr<HttpServer::Impl> server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool upload_slot_ = false;  // this request holds one of max_concurrent_uploads
  bool busy_ = false;         // an upload refused for want of a slot (answered 503)
  // Event stream state (start_stream); the loop thread only, but producer_ runs on the pool.
  std::uint64_t stream_id_ = 0;
  StreamProducer producer_;
  std::string out_;
  asio::steady_timer timer_{stream_.get_executor()};
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor_.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->stopped_) return;
    if (ec) {
      // Out of file descriptors (EMFILE) and the like: retry later instead of spinning.
      auto timer = std::make_shared<asio::steady_timer>(self->io_, std::chrono::milliseconds(100));
      timer->async_wait([self, timer](beast::error_code) {
        if (!self->stopped_) self->accept();
      });
      return;
    }
    {
      if (self->open_ >= self->options_.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        ++self->open_;
        if (self->tls_) {
          std::make_shared<Session<TlsStream>>(self, std::move(socket), *self->tls_)->start();
        } else {
          std::make_shared<Session<beast::tcp_stream>>(self, std::move(socket))->start();
        }
      }
    }
    self->accept();
  });
}

HttpServer::HttpServer(asio::io_context& io, ApiSources sources, HttpOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(sources), options)) {}
HttpServer::~HttpServer() = default;
core::Result<std::uint16_t> HttpServer::listen(const std::string& address, std::uint16_t port) {
  return impl_->listen(address, port);
}
void HttpServer::stop() { impl_->stop(); }
std::uint64_t HttpServer::requests_served() const { return impl_->served_; }
std::uint64_t HttpServer::tls_handshake_failures() const { return impl_->tls_handshake_failures_; }
std::size_t HttpServer::open_streams() const {
  std::lock_guard lock(impl_->streams_mu_);
  return impl_->streams_.size();
}
std::uint64_t HttpServer::streams_refused() const { return impl_->streams_refused_; }

}  // namespace ecomon::api
