// The real-message corpus (testdata/hj212/corpus, copied from shared/reference/hj212/corpus):
// every valid frame decodes, every other frame is rejected with the reason in rejections.tsv, and
// the segments printed in HJ 212-2017 appendix C decode and re-encode to the same bytes.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "hj212_test_util.h"
#include "protocol/hj212/decoder.h"
#include "protocol/hj212/encoder.h"

namespace ecomon::protocol::hj212 {
namespace {

using testing::read_lines;
using testing::testdata;

// Decodes one corpus line the way `ecomon hj212 parse` does.
core::Result<Message, Error> decode_line(const std::string& line,
                                         const DecodeOptions& options = {}) {
  ScanOptions scan;
  scan.at_end = true;
  scan.line_mode = true;
  const ScanResult r = scan_frame(line, scan);
  if (r.status != ScanStatus::kFrame) return core::fail(Error{r.reason, r.detail});
  return decode(r.frame, options);
}

void expect_all_valid(const std::string& file, int at_least = 20) {
  int n = 0;
  for (const std::string& line : read_lines(testdata("hj212/" + file))) {
    if (line.empty()) continue;
    ++n;
    auto r = decode_line(line);
    EXPECT_TRUE(r.ok()) << file << ": " << (r.ok() ? "" : r.error().detail) << "\n" << line;
  }
  EXPECT_GE(n, at_least) << "the corpus file went missing or empty";
}

TEST(Hj212Corpus, EveryValid2017FrameDecodes) { expect_all_valid("corpus/valid-2017.txt"); }
TEST(Hj212Corpus, EveryValid2005FrameDecodes) { expect_all_valid("corpus/valid-2005.txt"); }
TEST(Hj212Corpus, EveryValid2025FrameDecodes) {
  // HJ212-2025.md E1, E2, E4 (appendix A) and E6 (appendix-C-style commands).
  expect_all_valid("corpus-2025/valid-2025.txt", 13);
  for (const std::string& line : read_lines(testdata("hj212/corpus-2025/valid-2025.txt"))) {
    auto r = decode_line(line);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->version, Version::k2025) << line;
  }
}

TEST(Hj212Corpus, EveryBadFrameIsRejectedWithItsReason) {
  std::map<std::string, std::vector<std::string>> files;
  int checked = 0;
  for (const std::string& row : read_lines(testdata("hj212/rejections.tsv"))) {
    if (row.empty() || row[0] == '#') continue;
    std::istringstream in(row);
    std::string file, reason;
    std::size_t line_no = 0;
    in >> file >> line_no >> reason;
    auto& lines = files[file];
    if (lines.empty()) lines = read_lines(testdata("hj212/corpus/" + file));
    ASSERT_LE(line_no, lines.size()) << row;
    const std::string& line = lines[line_no - 1];
    auto r = decode_line(line);
    ASSERT_FALSE(r.ok()) << file << ":" << line_no << " was accepted";
    EXPECT_EQ(reason_code(r.error().reason), reason)
        << file << ":" << line_no << " — " << r.error().detail;
    EXPECT_FALSE(r.error().detail.empty());
    ++checked;
  }
  EXPECT_EQ(checked, 47);
}

TEST(Hj212Corpus, EveryFrameOfTheRejectFilesIsListed) {
  // A frame added to crc-mismatch.txt or invalid.txt must get an expected reason too.
  std::size_t frames = 0, listed = 0;
  for (const char* f : {"crc-mismatch.txt", "invalid.txt"}) {
    for (const std::string& l : read_lines(testdata(std::string("hj212/corpus/") + f))) {
      if (l.rfind("##", 0) == 0) ++frames;
    }
  }
  for (const std::string& row : read_lines(testdata("hj212/rejections.tsv"))) {
    if (!row.empty() && row[0] != '#') ++listed;
  }
  EXPECT_EQ(frames, listed);
}

TEST(Hj212Corpus, ModbusFramesPassWithTheModbusCrcMode) {
  // crc-mismatch.txt lines 2 and 4: "the field equals CRC-16/MODBUS-BYTESWAPPED of the segment".
  const auto lines = read_lines(testdata("hj212/corpus/crc-mismatch.txt"));
  DecodeOptions modbus;
  modbus.crc_mode = CrcMode::kModbus;
  for (int line_no : {2, 4}) {
    auto strict = decode_line(lines[line_no - 1]);
    ASSERT_FALSE(strict.ok());
    EXPECT_EQ(strict.error().reason, Reason::kBadCrc);
    auto r = decode_line(lines[line_no - 1], modbus);
    ASSERT_TRUE(r.ok()) << r.error().detail;
    EXPECT_EQ(r->mn, "88888880000001");
    EXPECT_GT(r->items.size(), 30u);
  }
}

struct AppendixSegment {
  std::string title;
  std::size_t len = 0;
  std::uint16_t crc = 0;
  bool stray_space = false;
  std::string segment;
};

std::vector<AppendixSegment> appendix_c() {
  std::vector<AppendixSegment> out;
  // Comment lines read "# C.14 title | len=221 crc=A501 | notes".
  AppendixSegment pending;
  bool have_meta = false;
  for (const std::string& line :
       read_lines(testdata("hj212/corpus/segments-hj212-2017-appendixC.txt"))) {
    const std::size_t len_at = line.find("| len=");
    const std::size_t crc_at = line.find(" crc=");
    if (line.rfind("# C.", 0) == 0 && len_at != std::string::npos && crc_at != std::string::npos) {
      pending = AppendixSegment{};
      pending.title = line.substr(2, len_at - 2);
      pending.len = std::stoul(line.substr(len_at + 6));
      pending.crc = static_cast<std::uint16_t>(std::stoul(line.substr(crc_at + 5, 4), nullptr, 16));
      pending.stray_space = line.find("stray space") != std::string::npos;
      have_meta = true;
    } else if (!line.empty() && line[0] != '#' && have_meta) {
      pending.segment = line;
      out.push_back(pending);
      have_meta = false;
    }
  }
  return out;
}

TEST(Hj212Corpus, AppendixCSegmentsDecodeWithTheirPrintedLengthAndCrc) {
  const auto segments = appendix_c();
  ASSERT_EQ(segments.size(), 133u);
  for (const auto& s : segments) {
    EXPECT_EQ(s.segment.size(), s.len) << s.title;
    EXPECT_EQ(crc_hj212(s.segment), s.crc) << s.title;
    Message m;
    auto r = decode_segment(s.segment, m);
    EXPECT_TRUE(r.ok()) << s.title << ": " << (r.ok() ? "" : r.error().detail) << "\n" << s.segment;
  }
}

// Re-encodes a segment the platform writes (replies and commands) from what it decoded.
std::optional<std::string> reencode(const Message& m, const Message* previous) {
  Target t{m.qn.value_or(""), m.st, m.pw, m.mn, m.version};
  auto time_param = [&](std::string_view key) {
    return parse_hj212_time(m.param(key).value_or(""));
  };
  switch (m.cn_code) {
    case 9014:
      if (previous) return data_ack_segment(*previous);
      break;
    case 9013:
      if (previous) return notice_ack_segment(*previous);
      break;
    case 1000:
      return set_timeout_segment(t, std::stoi(std::string(*m.param("OverTime"))),
                                 std::stoi(std::string(*m.param("ReCount"))));
    case 1011:
      if (m.ack_requested) return get_time_segment(t, m.param("PolId"));
      break;
    case 1012:
      return set_time_segment(t, *time_param("SystemTime"), m.param("PolId"));
    case 1062:
      return set_rtd_interval_segment(t, std::stoi(std::string(*m.param("RtdInterval"))));
    case 2031:
    case 2041:
    case 2051:
    case 2061:
      if (m.param("BeginTime")) {
        return history_request_segment(t, m.cn_code, *time_param("BeginTime"),
                                       *time_param("EndTime"));
      }
      break;
    default:
      break;
  }
  return std::nullopt;
}

TEST(Hj212Corpus, AppendixCSegmentsThePlatformWritesReencodeToTheSameBytes) {
  const auto segments = appendix_c();
  int reencoded = 0;
  Message previous;
  bool have_previous = false;
  for (const auto& s : segments) {
    Message m;
    ASSERT_TRUE(decode_segment(s.segment, m).ok()) << s.title;
    // C.21 prints "BeginTime=…,EndTime=…" where every other request has ';'; the encoder writes
    // ';'.
    const bool comma_variant = s.segment.find(",EndTime=") != std::string::npos;
    if (!s.stray_space && !comma_variant) {
      if (auto again = reencode(m, have_previous ? &previous : nullptr)) {
        EXPECT_EQ(*again, s.segment) << s.title;
        ++reencoded;
      }
    }
    previous = std::move(m);
    have_previous = true;
  }
  EXPECT_GE(reencoded, 24);  // the 9013/9014 replies and the platform's commands
}

TEST(Hj212Corpus, TheStandardsCommandFrameReencodesToTheWireBytes) {
  // valid-2017.txt line 4, HJ 212-2017 appendix A.
  const std::string wire =
      "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&"
      "RtdInterval=30&&1C80\r\n";
  Target t{"20160801085857223", "32", "100000", "010000A8900016F000169DC0", Version::k2017};
  EXPECT_EQ(encode_frame(set_rtd_interval_segment(t, 30)), wire);
}

}  // namespace
}  // namespace ecomon::protocol::hj212
