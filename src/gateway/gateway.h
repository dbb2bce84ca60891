// The device gateway: HJ 212 data loggers connect over TCP, send frames, and get their replies
// (9014 after the commit that holds the data, 9013 to notices) in order.
//
// One Boost.Asio event loop for thousands of connections. Every limit has a name, a counter and a
// test: max_connections, idle_timeout_ms, max_buffered_bytes (bytes waiting for the rest of a
// frame), max_pending_replies (frames in flight per connection; reading pauses beyond it),
// max_segment. Every frame is archived with its peer, receive time and outcome.
//
// Thread-safety: all methods run on the io_context's thread, except counters() and devices(),
// which any thread may call.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "ingest/ingestor.h"
#include "ingest/values.h"
#include "registry/holder.h"

namespace boost::asio {
class io_context;
}

namespace ecomon::gateway {

enum class UnknownDevicePolicy : std::uint8_t {
  kReject,      // not stored, no reply (default)
  kQuarantine,  // stored apart (quality bit), never published, acknowledged
  kAccept,      // registered as a pending device under a provisional site; stored, not published
};
std::optional<UnknownDevicePolicy> parse_unknown_device_policy(std::string_view text);

struct GatewayOptions {
  std::size_t max_connections = 10000;
  std::int64_t idle_timeout_ms = 15 * 60 * 1000;
  std::size_t max_buffered_bytes = 64 * 1024;
  std::size_t max_pending_replies = 64;
  std::uint32_t max_segment = 9999;
  UnknownDevicePolicy unknown_devices = UnknownDevicePolicy::kReject;
  // Called on the loop after the 9013 to a registered HJ 212-2025 device's own 1014 (a request
  // for a new SM4 key) is queued. Must not block (hand the work to another thread). May be empty.
  std::function<void(const std::string& mn)> on_key_request;
  ingest::ValueOptions values;
};

// Counters for /metrics. Frames by outcome: "stored" and the rejection reasons.
struct GatewayCounters {
  std::uint64_t connections_open = 0;
  std::uint64_t connections_total = 0;
  std::uint64_t connections_refused_limit = 0;
  std::uint64_t idle_timeouts = 0;
  std::uint64_t buffer_overflows = 0;
  std::uint64_t replies_sent = 0;
  std::uint64_t acks_withheld = 0;  // commit failed or queue full: no 9014, the device re-sends
  std::map<std::string, std::uint64_t> frames_by_outcome;
};

struct DeviceStatus {
  std::string mn;
  bool online = false;
  std::int64_t last_seen_ms = 0;
  std::string peer;
  std::uint64_t frames = 0;
  std::uint64_t rejected = 0;
};

// What became of a command sent to a device (send_command).
struct CommandResult {
  // executed (9011 QnRtn=1 then 9012 ExeRtn=1), refused (9011 QnRtn≠1), failed (9012 ExeRtn≠1),
  // timeout (no 9012 in time), offline (no open connection of the device), stopped.
  std::string outcome;
  int qn_rtn = 0;
  int exe_rtn = 0;
};

class Gateway {
 public:
  Gateway(boost::asio::io_context& io, ingest::Ingestor& ingestor,
          registry::RegistryHolder& registry, const core::Clock& clock, GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Starts listening (SO_REUSEADDR). Port 0 picks a free port; the bound port is returned.
  core::Result<std::uint16_t> listen(const std::string& address, std::uint16_t port);
  // Stops accepting and closes every connection.
  void stop();

  GatewayCounters counters() const;
  std::vector<DeviceStatus> devices() const;

  // Sends a framed command (QN `qn`) on the connection device `mn` last sent from and calls
  // `done` once, on the gateway's loop thread, when the device's 9012 arrives, when its 9011
  // refuses, after `timeout_ms`, or at once when the device has no open connection. The device's
  // answers are still archived as frames. Thread-safe.
  void send_command(const std::string& mn, const std::string& qn, std::string frame,
                    std::int64_t timeout_ms, std::function<void(CommandResult)> done);

 private:
  class Impl;
  friend class Connection;  // one device connection (gateway.cpp)
  std::shared_ptr<Impl> impl_;
};

}  // namespace ecomon::gateway
