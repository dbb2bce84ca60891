#include "protocol/hj212/reassembler.h"

#include "protocol/hj212/decoder.h"
#include "protocol/hj212/encoder.h"

namespace ecomon::protocol::hj212 {
namespace {

// The CP entries of a part, without its DataTime (the record keeps the first part's).
std::string_view cp_of(std::string_view segment) {
  const std::size_t open = segment.find("CP=&&");
  if (open == std::string_view::npos || segment.size() < open + 7) return {};
  return segment.substr(open + 5, segment.size() - 2 - (open + 5));
}

void append_entries(std::string& out, std::string_view cp, bool keep_data_time) {
  std::size_t pos = 0;
  while (pos <= cp.size()) {
    std::size_t end = cp.find(';', pos);
    if (end == std::string_view::npos) end = cp.size();
    const std::string_view entry = cp.substr(pos, end - pos);
    pos = end + 1;
    if (entry.empty()) continue;
    if (!keep_data_time && entry.substr(0, 9) == "DataTime=") continue;
    if (!out.empty() && out.back() != '&') out += ';';
    out += entry;
  }
}

}  // namespace

Assembled Reassembler::assemble(const Group& g) {
  Assembled a;
  a.parts_expected = g.pnum;
  a.parts_received = static_cast<std::uint32_t>(g.parts.size());
  a.complete = a.parts_received == g.pnum;
  Message first;
  const std::string& first_segment = g.parts.begin()->second;
  // Every stored part decoded before, so this cannot fail.
  (void)decode_segment(first_segment, first);
  std::string s;
  if (first.qn) s += "QN=" + std::string(*first.qn) + ";";
  s += "ST=" + std::string(first.st) + ";CN=" + std::string(first.cn) +
       ";PW=" + std::string(first.pw) + ";MN=" + std::string(first.mn) + ";";
  if (first.flag) s += "Flag=" + std::to_string(*first.flag & ~2) + ";";
  if (first.rf) s += "RF=" + std::string(*first.rf) + ";";
  s += "CP=&&";
  bool first_part = true;
  for (const auto& [pno, segment] : g.parts) {
    append_entries(s, cp_of(segment), first_part);
    first_part = false;
  }
  s += "&&";
  a.segment = std::make_unique<std::string>(std::move(s));
  (void)decode_segment(*a.segment, a.message);
  return a;
}

void Reassembler::drop(std::map<Key, Group>::iterator it) {
  for (const auto& [pno, segment] : it->second.parts) bytes_ -= segment.size();
  groups_.erase(it);
}

core::Result<std::optional<Assembled>, Error> Reassembler::add(const Message& part,
                                                               std::int64_t now_ms) {
  if (!part.pnum || !part.pno) {
    ++counters_.rejected;
    return core::fail(Error{Reason::kBadHeader, "split part without PNUM/PNO"});
  }
  const std::uint32_t pnum = *part.pnum;
  const std::uint32_t pno = *part.pno;
  if (pnum == 0 || pnum > limits_.max_parts || pno == 0 || pno > pnum) {
    ++counters_.rejected;
    return core::fail(Error{Reason::kBadHeader, "PNO " + std::to_string(pno) + " of PNUM " +
                                                    std::to_string(pnum) + " is out of range"});
  }
  const std::string data_time = part.data_time ? format_hj212_time(*part.data_time) +
                                                     std::to_string(part.data_time->millisecond)
                                               : std::string();
  Key key{std::string(part.mn), std::string(part.cn), data_time};
  auto it = groups_.find(key);
  if (it == groups_.end()) {
    while (!groups_.empty() && (groups_.size() >= limits_.max_groups ||
                                bytes_ + part.segment.size() > limits_.max_bytes)) {
      // Evict the oldest group; the caller still gets its parts from expire().
      auto oldest = groups_.begin();
      for (auto g = groups_.begin(); g != groups_.end(); ++g) {
        if (g->second.first_ms < oldest->second.first_ms) oldest = g;
      }
      evicted_.push_back(assemble(oldest->second));
      ++counters_.evicted;
      drop(oldest);
    }
    Group g;
    g.first_ms = now_ms;
    g.pnum = pnum;
    it = groups_.emplace(std::move(key), std::move(g)).first;
  } else if (it->second.pnum != pnum) {
    ++counters_.rejected;
    return core::fail(Error{Reason::kBadHeader, "PNUM " + std::to_string(pnum) +
                                                    " differs from the group's PNUM " +
                                                    std::to_string(it->second.pnum)});
  }
  Group& g = it->second;
  if (!g.parts.emplace(pno, std::string(part.segment)).second) {
    ++counters_.duplicates;
    return std::optional<Assembled>{};
  }
  bytes_ += part.segment.size();
  if (g.parts.size() < g.pnum) return std::optional<Assembled>{};
  Assembled a = assemble(g);
  ++counters_.completed;
  drop(it);
  return std::optional<Assembled>{std::move(a)};
}

std::vector<Assembled> Reassembler::expire(std::int64_t now_ms) {
  std::vector<Assembled> out = std::move(evicted_);
  evicted_.clear();
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (now_ms - it->second.first_ms >= limits_.timeout_ms) {
      out.push_back(assemble(it->second));
      ++counters_.expired;
      auto dead = it++;
      drop(dead);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace ecomon::protocol::hj212
