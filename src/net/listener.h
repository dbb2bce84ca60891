// Opening a TCP listening socket the way every ecomon server does: SO_REUSEADDR (a restart right
// after a crash binds the same port), port 0 = any free port, errors with the address in them.
// Include only from .cpp files that already use Boost.Asio.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

#include "core/result.h"

namespace ecomon::net {

// Opens, binds and listens `acceptor` on address:port; returns the bound port.
core::Result<std::uint16_t> listen_on(boost::asio::ip::tcp::acceptor& acceptor,
                                      const std::string& address, std::uint16_t port);

}  // namespace ecomon::net
