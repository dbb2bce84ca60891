// libFuzzer target: arbitrary bytes through the whole HJ 212 receive path — the streaming framer
// (fed in two pieces), the decoder in every CRC mode and with an SM4 key, the reassembler, and the
// encoders on whatever decoded. Any crash, sanitizer report or broken invariant is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/hj212/decoder.h"
#include "protocol/hj212/encoder.h"
#include "protocol/hj212/frame.h"
#include "protocol/hj212/reassembler.h"

namespace hj = ecomon::protocol::hj212;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  hj::Framer framer(hj::Framer::Limits{size % 2 ? 1200u : hj::kDefaultMaxSegment});
  hj::Reassembler reassembler;
  hj::DecodeOptions options[3];
  options[1].crc_mode = hj::CrcMode::kModbus;
  options[1].accept_length_mismatch = true;
  options[2].sm4_key = hj::parse_sm4_key("30303030303030303030303030303030");
  hj::Message m;
  const std::size_t cut = size / 3;
  int turn = 0;
  auto drain = [&] {
    while (auto r = framer.next()) {
      if (r->status != hj::ScanStatus::kFrame) continue;
      if (r->frame.length_matches && r->frame.segment.size() != r->frame.declared_length)
        std::abort();
      const auto& o = options[turn++ % 3];
      if (!hj::decode_into(r->frame, o, m)) continue;
      (void)hj::data_ack_segment(m);
      (void)hj::notice_ack_segment(m);
      if (m.pnum && m.pno) (void)reassembler.add(m, turn);
    }
  };
  framer.feed(input.substr(0, cut));
  drain();
  framer.feed(input.substr(cut));
  framer.finish();
  drain();
  (void)reassembler.expire(1 << 30);
  if (framer.buffered() > 9999 + 12) std::abort();

  // The same bytes as one line of `hj212 parse`.
  hj::ScanOptions line;
  line.at_end = true;
  line.line_mode = true;
  if (size >= 2 && input[0] == '#' && input[1] == '#') {
    const auto r = hj::scan_frame(input, line);
    if (r.consumed > size) std::abort();
    if (r.status == hj::ScanStatus::kFrame) (void)hj::decode_into(r.frame, options[0], m);
  }
  (void)hj::decode_segment(input, m);
  return 0;
}
