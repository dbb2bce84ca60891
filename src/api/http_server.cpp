#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <set>

#include "api/http_api.h"
#include "net/listener.h"

namespace ecomon::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class HttpServer::Impl : public std::enable_shared_from_this<HttpServer::Impl> {
 public:
  Impl(asio::io_context& io, ApiSources sources, HttpOptions options)
      : io_(io), acceptor_(io), sources_(std::move(sources)), options_(options) {}

  core::Result<std::uint16_t> listen(const std::string& address, std::uint16_t port) {
    auto bound = net::listen_on(acceptor_, address, port);
    if (bound) accept();
    return bound;
  }

  void accept();
  void stop() {
    stopped_ = true;
    // Requests under way finish; none start; nothing posts to the loop after this returns.
    pool_.stop();
    pool_.join();
    boost::system::error_code ec;
    acceptor_.close(ec);
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  ApiSources sources_;
  HttpOptions options_;
  std::size_t open_ = 0;
  std::atomic<std::uint64_t> served_{0};
  bool stopped_ = false;
  asio::thread_pool pool_{2};  // request handling off the event loop
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<HttpServer::Impl> server, tcp::socket socket)
      : server_(std::move(server)), stream_(std::move(socket)) {}
  ~Session() { --server_->open_; }

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options_.max_header_bytes));
    parser_->body_limit(server_->options_.max_body_bytes);
    stream_.expires_after(std::chrono::milliseconds(server_->options_.request_timeout_ms));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted) {
      close();
      return;
    }
    if (ec) {
      // Oversized or malformed requests get an answer with a reason, then the connection closes.
      const bool too_large = ec == http::error::header_limit || ec == http::error::body_limit;
      Response r;
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
    {
      beast::error_code ep_ec;
      const auto ep = stream_.socket().remote_endpoint(ep_ec);
      if (!ep_ec) request.client = ep.address().to_string();
    }
    // Store reads and registry saves run on the API's worker threads, never on the event loop the
    // device gateway shares: a 100,000-row query must not delay any device's acknowledgement.
    auto work = [self = shared_from_this(), request = std::move(request),
                 keep_alive = req.keep_alive(), verb = req.method()] {
      Response r;
      try {
        r = handle_request(self->server_->sources_, request);
      } catch (const std::exception&) {
        // No request may take the process (and the device gateway with it) down.
        r = Response{500, "application/json",
                     std::string("{\"error\":{\"code\":\"internal\",\"message\":\"") +
                         "unexpected failure\"}}",
                     {}};
      }
      ++self->server_->served_;
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(r), keep_alive, verb] { self->send(r, keep_alive, verb); });
    };
    asio::post(server_->pool_, std::move(work));
  }

  void send(const Response& r, bool keep_alive, http::verb method) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(11);
    res->result(static_cast<http::status>(r.status));
    res->set(http::field::server, "ecomon");
    res->set(http::field::content_type, r.content_type);
    // Security headers on every answer; no CORS header: other origins may not read the API.
    res->set("X-Content-Type-Options", "nosniff");
    res->set("X-Frame-Options", "DENY");
    res->set("Referrer-Policy", "no-referrer");
    res->set("Content-Security-Policy",
             "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
             "frame-ancestors 'none'");
    res->set(http::field::cache_control, "no-store");
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    if (method != http::verb::head) res->body() = r.body;
    res->prepare_payload();
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
          if (ec || !keep_alive) {
            self->close();
            return;
          }
          self->read();
        });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  std::shared_ptr<HttpServer::Impl> server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
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
        std::make_shared<Session>(self, std::move(socket))->start();
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

}  // namespace ecomon::api
