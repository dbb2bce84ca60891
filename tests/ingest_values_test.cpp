#include <gtest/gtest.h>

#include "core/civil_time.h"
#include "ingest/values.h"
#include "protocol/hj212/decoder.h"

namespace ecomon::ingest {
namespace {

namespace hj = protocol::hj212;

TEST(IngestValues, OneValuePerItemWithSeriesTimeAndFlag) {
  const std::string seg =
      "QN=20260101000000001;ST=21;CN=2061;PW=1;MN=W1;Flag=5;CP=&&DataTime=20260301080000;"
      "w21003-Avg=0.35,w21003-Flag=N;060-Avg=0.4;w21011-Avg=<0.01;w01018-Avg=0.05L,w01018-Flag=D&&";
  hj::Message m;
  ASSERT_TRUE(hj::decode_segment(seg, m).ok());
  const std::int64_t received =
      core::to_unix_ms({2026, 3, 1, 9, 5, 0, 0}, core::kChinaUtcOffsetSeconds);
  const auto values = values_of(m, "SITE1", received, 0);
  ASSERT_EQ(values.size(), 4u);
  EXPECT_EQ(values[0].site, "SITE1");
  EXPECT_EQ(values[0].factor, "w21003");
  EXPECT_EQ(values[0].kind, storage::DataKind::kHour);
  // DataTime 08:00 Beijing = 00:00 UTC.
  EXPECT_EQ(values[0].measured_ms, core::to_unix_ms({2026, 3, 1, 0, 0, 0, 0}, 0));
  EXPECT_EQ(values[0].flag, "N");
  EXPECT_EQ(values[1].factor, "w21003");  // 2005 code 060 mapped
  EXPECT_EQ(values[1].text, "0.4");
  // Below the detection limit: no number, the report kept, a quality bit, the limit recoverable.
  EXPECT_FALSE(values[2].number);
  EXPECT_NE(values[2].quality & storage::kQualityBelowDetection, 0u);
  EXPECT_EQ(storage::detection_limit_of(values[2].text), 0.01);
  EXPECT_EQ(storage::detection_limit_of(values[3].text), 0.05);
  EXPECT_EQ(values[3].flag, "D");
  EXPECT_EQ(values[0].quality & storage::kQualityBelowDetection, 0u);
}

TEST(IngestValues, FutureDataTimeIsClockSuspectAndResendIsMarked) {
  const std::string seg =
      "ST=22;CN=2011;PW=1;MN=A;Flag=9;RF=1;CP=&&DataTime=20260301100000;a34004-Rtd=5&&";
  hj::Message m;
  ASSERT_TRUE(hj::decode_segment(seg, m).ok());
  const std::int64_t data =
      core::to_unix_ms({2026, 3, 1, 10, 0, 0, 0}, core::kChinaUtcOffsetSeconds);
  auto v = values_of(m, "", data - 11 * 60 * 1000, 0);  // received 11 minutes before its DataTime
  EXPECT_NE(v[0].quality & storage::kQualityClockSuspect, 0u);
  EXPECT_NE(v[0].quality & storage::kQualityResend, 0u);
  v = values_of(m, "", data - 9 * 60 * 1000, 0);
  EXPECT_EQ(v[0].quality & storage::kQualityClockSuspect, 0u);
  EXPECT_EQ(v[0].kind, storage::DataKind::kRealtime);
}

TEST(IngestValues, KindsAndCarriers) {
  EXPECT_EQ(kind_of_cn(2051), storage::DataKind::kMinute);
  EXPECT_EQ(kind_of_cn(2031), storage::DataKind::kDay);
  EXPECT_EQ(kind_of_cn(2021), storage::DataKind::kOther);
  EXPECT_TRUE(carries_values(2072));
  EXPECT_TRUE(carries_values(3020));
  EXPECT_FALSE(carries_values(9014));
  EXPECT_FALSE(carries_values(1011));
  EXPECT_TRUE(storage::is_below_detection("ND"));
  EXPECT_TRUE(storage::is_below_detection("未检出"));
  EXPECT_FALSE(storage::is_below_detection("12.5"));
  EXPECT_FALSE(storage::is_below_detection("L"));
}

}  // namespace
}  // namespace ecomon::ingest
