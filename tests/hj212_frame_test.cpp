#include <gtest/gtest.h>

#include "hj212_test_util.h"
#include "protocol/hj212/frame.h"

namespace ecomon::protocol::hj212 {
namespace {

using testing::frame_of;

const std::string kSeg1 =
    "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&"
    "RtdInterval=30&&";
const std::string kSeg2 =
    "ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817000;B01-Rtd=36.91;"
    "011-Rtd=231.0,011-Flag=N;060-Rtd=1.803,060-Flag=N&&";

// Everything the framer yields for `chunks` fed one after another, then finish().
struct Yield {
  std::vector<std::string> segments;
  std::vector<Reason> errors;
};
Yield run(Framer& f, const std::vector<std::string>& chunks, bool finish = true) {
  Yield y;
  auto drain = [&] {
    while (auto r = f.next()) {
      if (r->status == ScanStatus::kFrame) {
        EXPECT_TRUE(r->frame.length_matches);
        y.segments.emplace_back(r->frame.segment);
      } else {
        y.errors.push_back(r->reason);
      }
    }
  };
  for (const auto& c : chunks) {
    f.feed(c);
    drain();
  }
  if (finish) {
    f.finish();
    drain();
  }
  return y;
}

TEST(Hj212Framer, OneFrame) {
  Framer f;
  const Yield y = run(f, {frame_of(kSeg1)});
  ASSERT_EQ(y.segments.size(), 1u);
  EXPECT_EQ(y.segments[0], kSeg1);
  EXPECT_TRUE(y.errors.empty());
}

TEST(Hj212Framer, SplitAcrossReadsAtEveryByte) {
  const std::string wire = frame_of(kSeg1) + frame_of(kSeg2);
  for (std::size_t cut = 1; cut < wire.size(); ++cut) {
    Framer f;
    const Yield y = run(f, {wire.substr(0, cut), wire.substr(cut)});
    ASSERT_EQ(y.segments.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(y.segments[0], kSeg1);
    EXPECT_EQ(y.segments[1], kSeg2);
    EXPECT_TRUE(y.errors.empty()) << "cut at " << cut;
  }
}

TEST(Hj212Framer, OneByteAtATime) {
  const std::string wire = frame_of(kSeg2) + frame_of(kSeg1) + frame_of(kSeg2);
  std::vector<std::string> chunks;
  for (char c : wire) chunks.emplace_back(1, c);
  Framer f;
  const Yield y = run(f, chunks, /*finish=*/false);
  ASSERT_EQ(y.segments.size(), 3u);
  EXPECT_EQ(y.segments[1], kSeg1);
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(Hj212Framer, MergedReadsAndGarbageBetweenFrames) {
  Framer f;
  const Yield y = run(f, {"\x01\x02garbage#" + frame_of(kSeg1) + "noise\r\n" + frame_of(kSeg2)});
  ASSERT_EQ(y.segments.size(), 2u);
  EXPECT_TRUE(y.errors.empty());
  EXPECT_EQ(f.skipped_bytes(), 10u + 7u);
}

TEST(Hj212Framer, FrameWithNulBytesIsNotCut) {
  std::string seg = kSeg2;
  seg[3] = '\0';
  seg[4] = '\0';  // "ST=\0\0" as in the 2016 capture
  Framer f;
  const Yield y = run(f, {frame_of(seg) + frame_of(kSeg1)});
  ASSERT_EQ(y.segments.size(), 2u);
  EXPECT_EQ(y.segments[0], seg);
}

TEST(Hj212Framer, LfOnlyAndNoLineEnd) {
  std::string a = frame_of(kSeg1);
  a.erase(a.size() - 2, 1);  // "\n" only
  std::string b = frame_of(kSeg2);
  b.resize(b.size() - 2);  // no line end, next frame follows at once
  Framer f;
  const Yield y = run(f, {a + b + frame_of(kSeg1)});
  ASSERT_EQ(y.segments.size(), 3u);
  EXPECT_EQ(y.segments[1], kSeg2);
}

TEST(Hj212Framer, LastFrameWithoutLineEndNeedsFinish) {
  std::string a = frame_of(kSeg1);
  a.resize(a.size() - 2);
  Framer f;
  f.feed(a);
  EXPECT_FALSE(f.next());  // might still get its CR LF
  f.finish();
  auto r = f.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, ScanStatus::kFrame);
}

TEST(Hj212Framer, WrongDeclaredLengthIsDelimitedByTheLineEndAndTheNextFrameSurvives) {
  // Declared 0078, segment 77 bytes: a real frame of the 2016 capture.
  const std::string bad =
      "##0078ST=91;CN=9012;PW=123456;MN=LD130100000452;CP=&&QN=2016082400501001;ExeRtn=1&&7200\r\n";
  Framer f;
  f.feed(bad + frame_of(kSeg1));
  auto r = f.next();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, ScanStatus::kFrame);
  EXPECT_FALSE(r->frame.length_matches);
  EXPECT_EQ(r->frame.declared_length, 78u);
  EXPECT_EQ(r->frame.segment.size(), 77u);
  auto r2 = f.next();
  ASSERT_TRUE(r2);
  ASSERT_EQ(r2->status, ScanStatus::kFrame);
  EXPECT_EQ(r2->frame.segment, kSeg1);
}

TEST(Hj212Framer, DeclaredLengthTooLargeDoesNotSwallowTheNextFrame) {
  // The declared length runs past the frame; the next frame arrives before enough bytes do.
  const std::string bad =
      "##0416ST=31;CN=2011;PW=123456;MN=ZG130131201308;CP=&&B02-Rtd=1&&6840\r\n";
  Framer f;
  f.feed(bad);
  EXPECT_FALSE(f.next());  // cannot tell yet
  f.feed(frame_of(kSeg1));
  auto r = f.next();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, ScanStatus::kFrame);
  EXPECT_FALSE(r->frame.length_matches);
  auto r2 = f.next();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->frame.segment, kSeg1);
}

TEST(Hj212Framer, LengthFieldNotDigits) {
  Framer f;
  const Yield y = run(f, {"##299ST=22;CN=2011;PW=;MN=1;CP=&&&&d042\r\n" + frame_of(kSeg1)});
  ASSERT_EQ(y.errors.size(), 1u);
  EXPECT_EQ(y.errors[0], Reason::kBadLength);
  ASSERT_EQ(y.segments.size(), 1u);
  EXPECT_EQ(y.segments[0], kSeg1);
}

TEST(Hj212Framer, LongerThanTheConfiguredMaximumIsTooLong) {
  ASSERT_EQ(kSeg1.size(), 101u);
  ASSERT_EQ(kSeg2.size(), 139u);
  Framer f(Framer::Limits{120});
  const Yield y = run(f, {frame_of(kSeg2) + frame_of(kSeg1)});
  ASSERT_EQ(y.errors.size(), 1u);
  EXPECT_EQ(y.errors[0], Reason::kTooLong);
  ASSERT_EQ(y.segments.size(), 1u);
  EXPECT_EQ(y.segments[0], kSeg1);
}

TEST(Hj212Framer, AcceptsDeclaredLengthsAboveTheStandards1024) {
  std::string seg = "ST=31;CN=2011;PW=123456;MN=88888880000001;CP=&&DataTime=20200923113557";
  while (seg.size() < 1600) seg += ";a21026-Rtd=13.780,a21026-Flag=N";
  seg += "&&";
  Framer f;
  const Yield y = run(f, {frame_of(seg)});
  ASSERT_EQ(y.segments.size(), 1u);
  EXPECT_EQ(y.segments[0].size(), seg.size());
}

TEST(Hj212Framer, EndlessGarbageIsBounded) {
  Framer f(Framer::Limits{200});
  std::string junk(5000, 'x');
  f.feed("##0150" + junk);
  auto r = f.next();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, ScanStatus::kError);
  EXPECT_EQ(r->reason, Reason::kTooLong);
  while (f.next()) {
  }
  EXPECT_LT(f.buffered(), 2u);
}

TEST(Hj212ScanFrame, LineModeNeverEndsAFrameAtAFollowingHash) {
  ScanOptions o;
  o.at_end = true;
  o.line_mode = true;
  std::string two = frame_of(kSeg1);
  two.resize(two.size() - 2);
  two += frame_of(kSeg2);
  const ScanResult r = scan_frame(two, o);
  ASSERT_EQ(r.status, ScanStatus::kFrame);
  EXPECT_FALSE(r.frame.length_matches);  // the whole line is one (bad) frame
  EXPECT_EQ(r.consumed, two.size());
}

}  // namespace
}  // namespace ecomon::protocol::hj212
