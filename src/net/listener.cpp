#include "net/listener.h"

#include <boost/asio.hpp>

namespace ecomon::net {

namespace asio = boost::asio;

core::Result<std::uint16_t> listen_on(asio::ip::tcp::acceptor& acceptor, const std::string& address,
                                      std::uint16_t port) {
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(address, ec);
  if (ec) return core::fail(core::Error{"bad_address", "'" + address + "': " + ec.message()});
  const asio::ip::tcp::endpoint ep(addr, port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::fail(
        core::Error{"listen_failed", address + ":" + std::to_string(port) + ": " + ec.message()});
  }
  const auto bound = acceptor.local_endpoint(ec);
  if (ec) return core::fail(core::Error{"listen_failed", ec.message()});
  return bound.port();
}

}  // namespace ecomon::net
