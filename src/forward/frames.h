// Change-feed values → HJ 212 data uploads for an upstream platform (数据转发). No I/O: the
// service (service.h) reads the feed, this turns one batch of it into frames, the service sends
// them.
//
// Grouping: one frame per (device, CN, DataTime) in the order of the batch's first change of
// each; a frame is closed and a new one opened for the same key when a factor-field repeats (a
// new version of a value committed in the same batch is sent after the one it replaces, not
// merged into it) or when the CP would exceed HJ 212-2017's 950 characters (table 2).
// CN by kind: rtd 2011, minute 2051, hour 2061, day 2031; other kinds are never forwarded, nor
// are quarantined or pending values (unknown or commissioning devices, never published).
//
// Re-send (补传): a frame is a re-send when one of its values is a new version (version > 1), was
// marked re-sent by the logger (RF=1 / history upload), or is older than the newest data time
// already forwarded for its device and kind. It is written with RF=1 on HJ 212-2025 and as a
// plain upload on HJ 212-2017, which has no resend mark (encoder.h, upload_segment).
//
// Not thread-safe; a FrameBuilder belongs to one service.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "protocol/hj212/encoder.h"
#include "storage/store.h"

namespace ecomon::forward {

struct Selection {
  // Kinds forwarded (rtd, minute, hour, day); empty: all four.
  std::set<storage::DataKind> kinds;
  // When either is non-empty a value is forwarded only if its site is in `sites` or its device
  // in `devices`; both empty: every device.
  std::set<std::string> sites;
  std::set<std::string> devices;
  // Our MN → the MN the upstream assigned; a device without an entry keeps its own MN.
  std::map<std::string, std::string> mn_map;

  bool takes(const storage::Value& v) const;
  const std::string& upstream_mn(const std::string& local_mn) const;
};

// Why a frame is sent: live (first time, in order), late (older than what the upstream already
// has, or marked re-sent by the logger), new_version (a value the store replaced).
enum class Reason : std::uint8_t { kLive, kLate, kNewVersion };
std::string_view reason_name(Reason r);

struct OutFactor {
  std::string code;
  std::vector<std::pair<std::string, std::string>> fields;  // (name, text)
  std::string flag;
};

struct OutFrame {
  std::string local_mn;  // the device as registered here
  std::string mn;        // the MN sent (after Selection::mn_map)
  std::string st;        // the system code (ST) of the frame the values came in
  int cn = 0;
  std::int64_t data_ms = 0;  // DataTime as a UTC instant
  std::uint64_t seq_from = 0;
  std::uint64_t seq_to = 0;
  std::size_t values = 0;
  Reason reason = Reason::kLive;
  std::vector<OutFactor> factors;

  bool resend() const { return reason != Reason::kLive; }
  // The upload's data segment with this QN and PW (encoder.h, upload_segment; the ack bit set).
  std::string segment(std::string_view qn, std::string_view pw,
                      protocol::hj212::Version version) const;
};

int cn_of(storage::DataKind k);  // 2011, 2051, 2061, 2031; 0 for kOther

class FrameBuilder {
 public:
  // `st_of` gives the ST of a stored frame's device (the service reads it from the archived
  // frame); called once per value of a device it has not seen yet.
  FrameBuilder(Selection selection, std::function<std::string(const storage::Value&)> st_of);

  // Frames for one batch of the change feed (oldest first), in sending order. Updates the newest
  // data time per (device, kind) that decides lateness.
  std::vector<OutFrame> build(const std::vector<storage::Change>& batch);

  // What the upstream already has: the newest data time forwarded per device and CN (the service
  // seeds it from its ledger at start).
  void seen(const std::string& local_mn, int cn, std::int64_t data_ms);

 private:
  Selection selection_;
  std::function<std::string(const storage::Value&)> st_of_;
  std::map<std::pair<std::string, int>, std::int64_t> newest_;
};

}  // namespace ecomon::forward
