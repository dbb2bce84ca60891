// Reassembly of split uploads (Flag bit 1, PNUM/PNO): the parts of one record share MN, CN and
// DataTime, each part has its own QN (HJ 212-2017 appendix C.47–C.50).
//
// Bounded in memory (groups, parts per group, bytes) and in time (a group not complete within
// `timeout_ms` of its first part expires and is handed back, parts and all, so nothing that
// arrived is lost). Pure: the caller passes the time. Not thread-safe: one per gateway thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/result.h"
#include "protocol/hj212/error.h"
#include "protocol/hj212/message.h"

namespace ecomon::protocol::hj212 {

// A record rebuilt from its parts: one Message with the items of all parts in PNO order, decoded
// from a synthetic segment (the first part's header without PNUM/PNO and the split bit, and the
// CP entries of all parts) that this object owns.
struct Assembled {
  std::unique_ptr<std::string> segment;  // owns the bytes `message` views
  Message message;
  std::uint32_t parts_expected = 0;
  std::uint32_t parts_received = 0;
  bool complete = false;
};

class Reassembler {
 public:
  struct Limits {
    std::size_t max_groups = 4096;      // groups in progress
    std::uint32_t max_parts = 256;      // PNUM above this is rejected
    std::size_t max_bytes = 16u << 20;  // segment bytes held in all groups
    std::int64_t timeout_ms = 10 * 60 * 1000;
  };

  struct Counters {
    std::uint64_t completed = 0;
    std::uint64_t expired = 0;
    std::uint64_t evicted = 0;     // dropped early (handed back) because a limit was reached
    std::uint64_t duplicates = 0;  // a PNO received twice (the first is kept)
    std::uint64_t rejected = 0;    // PNUM/PNO out of range or inconsistent
  };

  explicit Reassembler(Limits limits) : limits_(limits) {}
  Reassembler() : Reassembler(Limits{}) {}

  // Adds one part (message.pnum and message.pno set). Returns the assembled record when this part
  // completes it, nullopt while parts are missing, or an error for an inconsistent part.
  core::Result<std::optional<Assembled>, Error> add(const Message& part, std::int64_t now_ms);

  // Hands back (incomplete) the groups older than the timeout, and those evicted to stay within
  // the limits since the last call.
  std::vector<Assembled> expire(std::int64_t now_ms);

  std::size_t groups() const { return groups_.size(); }
  std::size_t bytes() const { return bytes_; }
  const Counters& counters() const { return counters_; }

 private:
  using Key = std::tuple<std::string, std::string, std::string>;  // MN, CN, DataTime
  struct Group {
    std::int64_t first_ms = 0;
    std::uint32_t pnum = 0;
    std::map<std::uint32_t, std::string> parts;  // PNO → segment
  };

  static Assembled assemble(const Group& g);
  void drop(std::map<Key, Group>::iterator it);

  Limits limits_;
  std::map<Key, Group> groups_;
  std::vector<Assembled> evicted_;
  std::size_t bytes_ = 0;
  Counters counters_;
};

}  // namespace ecomon::protocol::hj212
