#include "protocol/hj212/frame.h"

#include <cstring>

#include "protocol/hj212/crc.h"

namespace ecomon::protocol::hj212 {
namespace {

constexpr std::size_t kPrefix = 6;  // "##" + 4 length digits
constexpr std::size_t kCrc = 4;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::optional<std::uint32_t> parse_length_field(std::string_view four) {
  std::uint32_t n = 0;
  for (char c : four) {
    if (!is_digit(c)) return std::nullopt;
    n = n * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return n;
}

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// Length of the line end at `pos` ("\r\n" or "\n"), 0 if none.
std::size_t line_end_at(std::string_view s, std::size_t pos) {
  if (pos < s.size() && s[pos] == '\n') return 1;
  if (pos + 1 < s.size() && s[pos] == '\r' && s[pos + 1] == '\n') return 2;
  return 0;
}

ScanResult error(Reason reason, std::string detail, std::size_t consumed) {
  ScanResult r;
  r.status = ScanStatus::kError;
  r.reason = reason;
  r.detail = std::move(detail);
  r.consumed = consumed;
  return r;
}

// Where a frame whose length cannot be trusted ends: the first line end after the header, or
// (stream mode only) the next "##". Returns {text_end, consumed}, or nullopt if more bytes are
// needed.
struct Extent {
  std::size_t text_end;  // end of the frame text, line end excluded
  std::size_t consumed;  // end including the line end
};
std::optional<Extent> fallback_extent(std::string_view in, const ScanOptions& o) {
  const std::size_t from = 2;
  const void* nl = std::memchr(in.data() + from, '\n', in.size() - from);
  std::size_t nl_pos = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - in.data())
                          : std::string_view::npos;
  if (!o.line_mode) {
    const std::size_t next = in.find("##", from);
    if (next != std::string_view::npos && next < nl_pos) return Extent{next, next};
  }
  if (nl_pos != std::string_view::npos) {
    std::size_t text_end = nl_pos;
    if (text_end > 0 && in[text_end - 1] == '\r') --text_end;
    return Extent{text_end, nl_pos + 1};
  }
  if (o.at_end) {
    std::size_t text_end = in.size();
    if (text_end > 0 && in[text_end - 1] == '\r') --text_end;
    return Extent{text_end, in.size()};
  }
  return std::nullopt;
}

}  // namespace

ScanResult scan_frame(std::string_view in, const ScanOptions& o) {
  if (in.size() < kPrefix) {
    if (!o.at_end) return ScanResult{};
    return error(Reason::kBadFrame, "frame ends after " + std::to_string(in.size()) + " bytes",
                 in.size());
  }
  if (in[0] != '#' || in[1] != '#') {
    const auto e = fallback_extent(in, o);
    return error(Reason::kBadFrame, "frame does not start with ##", e ? e->consumed : in.size());
  }

  const auto declared = parse_length_field(in.substr(2, 4));
  const std::size_t max_wire = kPrefix + o.max_segment + kCrc + 2;
  if (!declared || *declared > o.max_segment) {
    const auto e = fallback_extent(in, o);
    if (!e && in.size() <= max_wire) return ScanResult{};
    const std::size_t consumed = e ? e->consumed : in.size();
    if (!declared) {
      return error(Reason::kBadLength,
                   "length field '" + printable(in.substr(2, 4)) + "' is not 4 digits", consumed);
    }
    return error(Reason::kTooLong,
                 "declared length " + std::to_string(*declared) + " is above the maximum " +
                     std::to_string(o.max_segment),
                 consumed);
  }

  // The declared length, when the bytes after it are "CRC + line end", delimits the frame; it is
  // the only way to delimit SM4 ciphertext, which may contain any byte.
  const std::size_t seg_end = kPrefix + *declared;
  if (in.size() >= seg_end + kCrc) {
    const std::string_view crc = in.substr(seg_end, kCrc);
    const std::size_t after = seg_end + kCrc;
    std::size_t term = line_end_at(in, after);
    bool complete = term > 0;
    if (!complete && after == in.size() && o.at_end) complete = true;
    if (!complete && !o.line_mode && in.size() >= after + 2 && in[after] == '#' &&
        in[after + 1] == '#') {
      complete = true;  // no CR LF, the next frame follows at once
    }
    const bool maybe_crlf_split =
        !o.at_end && (after == in.size() || (after + 1 == in.size() && in[after] == '\r'));
    if (complete && parse_crc_field(crc)) {
      ScanResult r;
      r.status = ScanStatus::kFrame;
      r.frame.segment = in.substr(kPrefix, *declared);
      r.frame.crc_text = crc;
      r.frame.declared_length = *declared;
      r.frame.length_matches = true;
      r.consumed = after + term;
      return r;
    }
    if (maybe_crlf_split && parse_crc_field(crc)) return ScanResult{};
  } else if (!o.at_end) {
    // Not enough bytes for the declared length. A garbled frame whose declared length is too large
    // would otherwise wait for later frames: stop at "CRC CR LF ##", which ciphertext will not
    // plausibly contain.
    std::size_t p = in.find("\r\n##", kPrefix);
    bool early = false;
    if (p != std::string_view::npos && p >= kPrefix + kCrc &&
        parse_crc_field(in.substr(p - kCrc, kCrc))) {
      early = true;
    }
    if (!early) return ScanResult{};
  }

  // Fallback: the frame ends at the first line end (or the next "##" in stream mode).
  const auto e = fallback_extent(in, o);
  if (!e) {
    if (in.size() > max_wire) {
      return error(Reason::kTooLong, "no frame end within " + std::to_string(max_wire) + " bytes",
                   in.size());
    }
    return ScanResult{};
  }
  const std::string_view text = in.substr(0, e->text_end);
  if (text.size() < kPrefix + kCrc) {
    return error(Reason::kBadFrame,
                 "frame too short for a CRC field (" + std::to_string(text.size()) + " bytes)",
                 e->consumed);
  }
  const std::string_view crc = text.substr(text.size() - kCrc);
  if (!parse_crc_field(crc)) {
    return error(Reason::kBadFrame,
                 "frame does not end with 4 hex CRC digits: '" + printable(crc) + "'", e->consumed);
  }
  ScanResult r;
  r.status = ScanStatus::kFrame;
  r.frame.segment = text.substr(kPrefix, text.size() - kPrefix - kCrc);
  r.frame.crc_text = crc;
  r.frame.declared_length = *declared;
  r.frame.length_matches = r.frame.segment.size() == *declared;
  r.consumed = e->consumed;
  return r;
}

void Framer::feed(std::string_view bytes) {
  if (start_ > 0 && (start_ >= buffer_.size() / 2 || buffer_.size() - start_ == 0)) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  buffer_.append(bytes);
}

std::optional<ScanResult> Framer::next() {
  std::string_view in(buffer_);
  in.remove_prefix(start_);
  // Resynchronise: everything before the next "##" is garbage.
  std::size_t hash = in.find("##");
  // In a run of '#', the header is the last two.
  while (hash != std::string_view::npos && hash + 2 < in.size() && in[hash + 2] == '#') ++hash;
  if (hash == std::string_view::npos) {
    // Keep a trailing '#' that may start the next header.
    const std::size_t keep = (!in.empty() && in.back() == '#') ? 1 : 0;
    skipped_bytes_ += in.size() - keep;
    start_ += in.size() - keep;
    return std::nullopt;
  }
  skipped_bytes_ += hash;
  start_ += hash;
  in.remove_prefix(hash);

  ScanOptions options;
  options.max_segment = limits_.max_segment;
  options.at_end = finished_;
  ScanResult r = scan_frame(in, options);
  if (r.status == ScanStatus::kNeedMore) return std::nullopt;
  if (r.consumed == 0) r.consumed = 2;  // never loop on the same bytes
  r.raw = in.substr(0, r.consumed);
  start_ += r.consumed;
  return r;
}

}  // namespace ecomon::protocol::hj212
