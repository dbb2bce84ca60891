// Frame building for upstream platforms (forward/frames.h): what is encoded is decoded again by
// the platform's own HJ 212 decoder (protocol/hj212/decoder.h) and compared with the values.
#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "core/civil_time.h"
#include "forward/frames.h"
#include "forward/service.h"
#include "protocol/hj212/decoder.h"
#include "protocol/hj212/encoder.h"
#include "protocol/hj212/frame.h"
#include "storage/memory/memory_store.h"
#include "test_util.h"

namespace ecomon::forward {
namespace {

namespace hj = protocol::hj212;
using storage::DataKind;

// 2026-11-30 10:00 Beijing time.
const std::int64_t kTen =
    core::to_unix_ms({2026, 11, 30, 10, 0, 0, 0}, core::kChinaUtcOffsetSeconds);
constexpr std::int64_t kHour = 3'600'000;

storage::Change change(std::uint64_t seq, const std::string& mn, DataKind kind, std::int64_t ms,
                       const std::string& factor, const std::string& text,
                       std::uint32_t version = 1, const std::string& field = "Avg",
                       const std::string& flag = "N", const std::string& site = "S1") {
  storage::Change c;
  c.sequence = seq;
  c.value.site = site;
  c.value.mn = mn;
  c.value.factor = factor;
  c.value.field = kind == DataKind::kRealtime && field == "Avg" ? "Rtd" : field;
  c.value.kind = kind;
  c.value.measured_ms = ms;
  c.value.text = text;
  c.value.flag = flag;
  c.value.version = version;
  c.value.sequence = seq;
  return c;
}

FrameBuilder builder(Selection s = {}) {
  return FrameBuilder(std::move(s), [](const storage::Value&) { return std::string("22"); });
}

// Encodes and frames `f`, then decodes the frame as the gateway would (length and CRC checked).
hj::Message decode_frame(const OutFrame& f, hj::Version version = hj::Version::k2017,
                         const std::string& qn = "20261130100000123") {
  static std::deque<std::string> wire;  // the message views these bytes
  const std::string& bytes = wire.emplace_back(hj::encode_frame(f.segment(qn, "123456", version)));
  hj::Framer framer;
  framer.feed(bytes);
  auto scanned = framer.next();
  EXPECT_TRUE(scanned && scanned->status == hj::ScanStatus::kFrame) << bytes;
  // Views of the framer's buffer: decode a copy of the segment with its length and CRC.
  static std::deque<std::string> segments;
  const std::string& seg = segments.emplace_back(scanned->frame.segment);
  const std::string crc(scanned->frame.crc_text);
  hj::RawFrame raw{seg, crc, static_cast<std::uint32_t>(seg.size()), true};
  static std::deque<std::string> crcs;
  raw.crc_text = crcs.emplace_back(crc);
  auto m = hj::decode(raw, {});
  EXPECT_TRUE(m.ok()) << bytes << (m.ok() ? "" : m.error().detail);
  return m.ok() ? std::move(*m) : hj::Message{};
}

// factor-field → (text, flag) of a decoded message.
std::map<std::string, std::pair<std::string, std::string>> items(const hj::Message& m) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  for (const auto& i : m.items) {
    out[std::string(i.factor) + "-" + std::string(i.field)] = {std::string(i.text),
                                                               std::string(i.flag.value_or(""))};
  }
  return out;
}

TEST(ForwardFrames, GroupsByDeviceCnAndDataTimeAndDecodesToTheSameValues) {
  auto b = builder();
  const std::vector<storage::Change> batch{
      change(1, "MN1", DataKind::kHour, kTen, "a34004", "35"),
      change(2, "MN2", DataKind::kHour, kTen, "a34004", "41.50"),
      change(3, "MN1", DataKind::kHour, kTen, "a21026", "7"),
      change(4, "MN1", DataKind::kMinute, kTen, "a34004", "33"),
      change(5, "MN1", DataKind::kHour, kTen + kHour, "a34004", "36"),
      change(6, "MN1", DataKind::kRealtime, kTen + kHour, "a34004", "<2"),
      change(7, "MN1", DataKind::kDay, kTen - 10 * kHour, "a34004", "30.1", 1, "Avg", "N"),
  };
  const auto frames = b.build(batch);
  ASSERT_EQ(frames.size(), 6u);  // MN1 hour 10, MN2 hour 10, MN1 minute, MN1 hour 11, rtd, day
  EXPECT_EQ(frames[0].local_mn, "MN1");
  EXPECT_EQ(frames[0].values, 2u);
  EXPECT_EQ(frames[0].seq_from, 1u);
  EXPECT_EQ(frames[0].seq_to, 3u);

  const hj::Message m = decode_frame(frames[0]);
  EXPECT_EQ(m.cn, "2061");
  EXPECT_EQ(m.mn, "MN1");
  EXPECT_EQ(m.pw, "123456");
  EXPECT_EQ(m.st, "22");
  EXPECT_EQ(m.version, hj::Version::k2017);
  EXPECT_TRUE(m.ack_requested);  // Flag=5: the upstream must answer 9014
  EXPECT_EQ(m.flag, 5);
  EXPECT_EQ(m.qn, std::optional<std::string_view>("20261130100000123"));
  ASSERT_TRUE(m.data_time);
  EXPECT_EQ(core::to_unix_ms(*m.data_time, core::kChinaUtcOffsetSeconds), kTen);
  const auto got = items(m);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(got.at("a34004-Avg"), std::make_pair(std::string("35"), std::string("N")));
  EXPECT_EQ(got.at("a21026-Avg"), std::make_pair(std::string("7"), std::string("N")));

  EXPECT_EQ(items(decode_frame(frames[1])).at("a34004-Avg").first, "41.50");  // text as sent
  EXPECT_EQ(decode_frame(frames[2]).cn, "2051");
  EXPECT_EQ(decode_frame(frames[4]).cn, "2011");
  EXPECT_EQ(items(decode_frame(frames[4])).at("a34004-Rtd").first, "<2");
  EXPECT_EQ(decode_frame(frames[5]).cn, "2031");
  EXPECT_FALSE(frames[0].resend());
}

TEST(ForwardFrames, LateValueIsAResendMarkedRfOnlyIn2025) {
  auto b = builder();
  ASSERT_EQ(b.build({change(1, "MN1", DataKind::kHour, kTen, "a34004", "35")}).size(), 1u);
  // Hour 08 arrives after hour 10 was forwarded: 补传.
  const auto late = b.build({change(2, "MN1", DataKind::kHour, kTen - 2 * kHour, "a34004", "20")});
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].reason, Reason::kLate);
  const hj::Message m25 = decode_frame(late[0], hj::Version::k2025);
  EXPECT_EQ(m25.version, hj::Version::k2025);
  EXPECT_EQ(m25.flag, 9);        // HJ 212-2025 upload with ack (appendix C: Flag=9)
  EXPECT_TRUE(m25.is_resend());  // RF=1 (HJ 212-2025 table 3)
  // HJ 212-2017 has no resend field: the same frame goes as a plain upload.
  const hj::Message m17 = decode_frame(late[0], hj::Version::k2017);
  EXPECT_FALSE(m17.rf.has_value());
  EXPECT_EQ(items(m17).at("a34004-Avg").first, "20");

  // A newer hour is live again; the logger's own re-send mark makes a value late too.
  const auto next = b.build({change(3, "MN1", DataKind::kHour, kTen + kHour, "a34004", "36")});
  EXPECT_EQ(next.at(0).reason, Reason::kLive);
  EXPECT_FALSE(decode_frame(next[0], hj::Version::k2025).rf.has_value());
  auto marked = change(4, "MN1", DataKind::kHour, kTen + 2 * kHour, "a34004", "37");
  marked.value.quality = storage::kQualityResend;
  EXPECT_EQ(b.build({marked}).at(0).reason, Reason::kLate);
  // Lateness is per device and kind: another device's older hour is live.
  EXPECT_EQ(
      b.build({change(5, "MN2", DataKind::kHour, kTen - 5 * kHour, "a34004", "1")}).at(0).reason,
      Reason::kLive);
}

TEST(ForwardFrames, SeenSeedsLatenessFromTheLedger) {
  auto b = builder();
  b.seen("MN1", 2061, kTen);
  EXPECT_EQ(b.build({change(1, "MN1", DataKind::kHour, kTen - kHour, "a34004", "1")}).at(0).reason,
            Reason::kLate);
}

TEST(ForwardFrames, NewVersionIsSentAgainAfterTheOneItReplaces) {
  auto b = builder();
  // Version 1 and its replacement in one batch: two frames in commit order, not one merged.
  const auto frames = b.build({change(1, "MN1", DataKind::kHour, kTen, "a34004", "35"),
                               change(2, "MN1", DataKind::kHour, kTen, "a21026", "7"),
                               change(3, "MN1", DataKind::kHour, kTen, "a34004", "38", 2)});
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(items(decode_frame(frames[0])).at("a34004-Avg").first, "35");
  EXPECT_EQ(frames[0].reason, Reason::kLive);
  EXPECT_EQ(items(decode_frame(frames[1])).at("a34004-Avg").first, "38");
  EXPECT_EQ(frames[1].reason, Reason::kNewVersion);
  EXPECT_TRUE(decode_frame(frames[1], hj::Version::k2025).is_resend());
  // A new version in a later batch is sent again on its own.
  const auto later = b.build({change(4, "MN1", DataKind::kHour, kTen, "a34004", "39", 3)});
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].reason, Reason::kNewVersion);
  EXPECT_EQ(items(decode_frame(later[0])).at("a34004-Avg").first, "39");
}

TEST(ForwardFrames, MnMappingSendsTheUpstreamsMn) {
  Selection s;
  s.mn_map["MN1"] = "51010000000000000000AB01";
  auto b = builder(s);
  const auto frames = b.build({change(1, "MN1", DataKind::kHour, kTen, "a34004", "35"),
                               change(2, "MN2", DataKind::kHour, kTen, "a34004", "36")});
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(decode_frame(frames[0]).mn, "51010000000000000000AB01");
  EXPECT_EQ(frames[0].local_mn, "MN1");
  EXPECT_EQ(decode_frame(frames[1]).mn, "MN2");  // unmapped: its own MN
}

TEST(ForwardFrames, KindsSitesAndDevicesFilterAndUnpublishedValuesStayHome) {
  Selection s;
  s.kinds = {DataKind::kHour, DataKind::kDay};
  s.sites = {"S1"};
  s.devices = {"MN9"};
  auto b = builder(s);
  auto quarantined = change(5, "MN1", DataKind::kHour, kTen, "a21026", "1");
  quarantined.value.quality = storage::kQualityQuarantined;
  auto pending = change(6, "MN1", DataKind::kHour, kTen, "a21004", "1");
  pending.value.quality = storage::kQualityPending;
  auto other = change(7, "MN1", DataKind::kOther, kTen, "a21005", "1");
  const auto frames =
      b.build({change(1, "MN1", DataKind::kRealtime, kTen, "a34004", "1"),
               change(2, "MN1", DataKind::kMinute, kTen, "a34004", "2"),
               change(3, "MN1", DataKind::kHour, kTen, "a34004", "3"),
               change(4, "MN2", DataKind::kHour, kTen, "a34004", "4", 1, "Avg", "N", "S2"),
               change(8, "MN9", DataKind::kHour, kTen, "a34004", "9", 1, "Avg", "N", "S2"),
               quarantined, pending, other});
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].local_mn, "MN1");
  EXPECT_EQ(frames[0].values, 1u);  // only the hour of S1
  EXPECT_EQ(items(decode_frame(frames[0])).at("a34004-Avg").first, "3");
  EXPECT_EQ(frames[1].local_mn, "MN9");  // S2, but the device is named
}

TEST(ForwardFrames, ALongRecordIsSplitWithinTheCpLimit) {
  auto b = builder();
  std::vector<storage::Change> batch;
  for (int i = 0; i < 80; ++i) {
    char code[8];
    std::snprintf(code, sizeof code, "a%05d", 10000 + i);
    batch.push_back(change(static_cast<std::uint64_t>(i + 1), "MN1", DataKind::kHour, kTen, code,
                           std::to_string(1000.125 + i)));
  }
  const auto frames = b.build(batch);
  ASSERT_GT(frames.size(), 1u);
  std::map<std::string, std::pair<std::string, std::string>> all;
  for (const auto& f : frames) {
    const hj::Message m = decode_frame(f);
    EXPECT_LE(m.cp.size(), 950u);  // HJ 212-2017 table 2
    for (const auto& [k, v] : items(m)) all[k] = v;
  }
  ASSERT_EQ(all.size(), 80u);
  EXPECT_EQ(all.at("a10079-Avg").first, std::to_string(1000.125 + 79));
}

TEST(ForwardFrames, FieldsWithTheirOwnFlagKeepIt) {
  auto b = builder();
  const auto frames =
      b.build({change(1, "MN1", DataKind::kHour, kTen, "a21002", "50", 1, "Avg", "N"),
               change(2, "MN1", DataKind::kHour, kTen, "a21002", "60", 1, "ZsAvg", "T"),
               change(3, "MN1", DataKind::kHour, kTen, "a21002", "70", 1, "Max", "N")});
  ASSERT_EQ(frames.size(), 1u);
  const auto got = items(decode_frame(frames[0]));
  EXPECT_EQ(got.at("a21002-Avg"), std::make_pair(std::string("50"), std::string("N")));
  EXPECT_EQ(got.at("a21002-ZsAvg"), std::make_pair(std::string("60"), std::string("T")));
  EXPECT_EQ(got.at("a21002-Max"), std::make_pair(std::string("70"), std::string("N")));
}

TEST(ForwardFeed, FeedEndIsTheNewestSequence) {
  auto store = storage::make_memory_store();
  EXPECT_EQ(test::ok(feed_end(*store)), 0u);
  for (int n = 1; n <= 37; ++n) {
    std::vector<storage::FrameWrite> batch(1);
    batch[0].frame.mn = "MN1";
    batch[0].frame.cn = "2061";
    batch[0].frame.outcome = "stored";
    batch[0].values.push_back(
        change(0, "MN1", DataKind::kHour, kTen + n * kHour, "a34004", "1").value);
    const auto w = test::ok(store->write(batch));
    EXPECT_EQ(test::ok(feed_end(*store)), w.last_sequence) << n;
  }
}

}  // namespace
}  // namespace ecomon::forward
