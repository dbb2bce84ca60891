// HJ 212 framing: "##" + 4-digit length + data segment + 4 hex CRC + CR LF, found in a byte stream.
//
// Works across split and merged TCP reads, resynchronises on the next "##" after garbage, accepts
// declared lengths above the standard's 1024 up to a configurable maximum, and never treats bytes
// as C strings (frames may contain NUL). The framer only finds frame boundaries; checking the
// length against the segment, the CRC and the content is the decoder's job (decoder.h), because
// those checks depend on the device (CRC mode, leniency, SM4 key).
//
// Not thread-safe: one Framer per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/hj212/error.h"

namespace ecomon::protocol::hj212 {

inline constexpr std::uint32_t kStandardMaxSegment = 1024;  // HJ 212-2017 table 2
inline constexpr std::uint32_t kDefaultMaxSegment = 9999;   // the largest 4-digit length

// One frame as found on the wire. Views point into the buffer given to scan_frame / the Framer.
struct RawFrame {
  std::string_view segment;   // the data segment bytes, as sent
  std::string_view crc_text;  // the 4 characters of the CRC field
  std::uint32_t declared_length = 0;
  bool length_matches = true;  // declared_length == segment.size()
};

enum class ScanStatus : std::uint8_t { kFrame, kError, kNeedMore };

struct ScanResult {
  ScanStatus status = ScanStatus::kNeedMore;
  RawFrame frame;            // when kFrame
  Reason reason{};           // when kError
  std::string detail;        // when kError
  std::size_t consumed = 0;  // bytes of the input that this frame or error used up
  std::string_view raw;      // those bytes: the frame as received (Framer::next only)
};

struct ScanOptions {
  std::uint32_t max_segment = kDefaultMaxSegment;
  // True when the input ends where the frame ends (the last bytes of a stream, or one line of
  // `hj212 parse`): a frame may then end without CR LF.
  bool at_end = false;
  // Line mode: a frame ends at a line end or at the end of input, never at a following "##".
  bool line_mode = false;
};

// Scans one frame at the start of `input`, which must begin with "##".
// Uses the declared length first; if the bytes there are not "CRC + line end", falls back to the
// first line end (so a frame with a wrong length is still delimited and reported, not lost in
// the next one). Returns kNeedMore when the frame may still be incomplete.
ScanResult scan_frame(std::string_view input, const ScanOptions& options);

// Streaming framer for one connection.
class Framer {
 public:
  struct Limits {
    std::uint32_t max_segment = kDefaultMaxSegment;
  };

  explicit Framer(Limits limits) : limits_(limits) {}
  Framer() : Framer(Limits{}) {}

  // Appends bytes received from the connection.
  void feed(std::string_view bytes);
  // Marks the end of the stream: a last frame without CR LF is then complete.
  void finish() { finished_ = true; }

  // The next frame or framing error, or nullopt when more bytes are needed. Views in the result
  // stay valid until the next call to feed() or next().
  std::optional<ScanResult> next();

  // Bytes held waiting for the rest of a frame (bounded by about max_segment + 12).
  std::size_t buffered() const { return buffer_.size() - start_; }
  // Bytes skipped because they were not inside any frame (garbage before a "##").
  std::uint64_t skipped_bytes() const { return skipped_bytes_; }

 private:
  Limits limits_;
  std::string buffer_;
  std::size_t start_ = 0;
  bool finished_ = false;
  std::uint64_t skipped_bytes_ = 0;
};

}  // namespace ecomon::protocol::hj212
