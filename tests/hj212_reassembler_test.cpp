#include <gtest/gtest.h>

#include "protocol/hj212/decoder.h"
#include "protocol/hj212/reassembler.h"

namespace ecomon::protocol::hj212 {
namespace {

std::string part(int pnum, int pno, const std::string& qn, const std::string& entries,
                 const std::string& mn = "010000A8900016F000169DC0") {
  return "QN=" + qn + ";ST=32;CN=2061;PW=123456;MN=" + mn + ";Flag=7;PNUM=" + std::to_string(pnum) +
         ";PNO=" + std::to_string(pno) + ";CP=&&DataTime=20160801080000;" + entries + "&&";
}

Message decoded(const std::string& s) {
  Message m;
  EXPECT_TRUE(decode_segment(s, m).ok()) << s;
  return m;
}

TEST(Hj212Reassembler, PartsInAnyOrderMakeOneRecord) {
  Reassembler r;
  const std::string p2 = part(3, 2, "2", "w01018-Avg=40.1,w01018-Flag=N");
  const std::string p3 = part(3, 3, "3", "w21003-Avg=1.2,w21003-Flag=D");
  const std::string p1 = part(3, 1, "1", "w00000-Cou=63.0,w00000-Flag=N");
  auto a = r.add(decoded(p2), 1000);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->has_value());
  auto b = r.add(decoded(p3), 1100);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_value());
  EXPECT_EQ(r.groups(), 1u);
  auto c = r.add(decoded(p1), 1200);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->has_value());
  const Assembled& rec = **c;
  EXPECT_TRUE(rec.complete);
  EXPECT_EQ(rec.parts_received, 3u);
  const Message& m = rec.message;
  ASSERT_EQ(m.items.size(), 3u);
  EXPECT_EQ(m.items[0].factor, "w00000");  // PNO order
  EXPECT_EQ(m.items[2].flag, "D");
  EXPECT_FALSE(m.split);
  EXPECT_FALSE(m.pnum);
  EXPECT_EQ(m.qn, "1");
  EXPECT_TRUE(m.params.empty());  // the repeated DataTime is not kept as a parameter
  EXPECT_EQ(r.groups(), 0u);
  EXPECT_EQ(r.bytes(), 0u);
  EXPECT_EQ(r.counters().completed, 1u);
}

TEST(Hj212Reassembler, DuplicatesAreIgnoredAndInconsistentPartsRejected) {
  Reassembler r;
  ASSERT_TRUE(r.add(decoded(part(2, 1, "1", "a-Avg=1")), 0).ok());
  auto dup = r.add(decoded(part(2, 1, "1", "a-Avg=1")), 1);
  ASSERT_TRUE(dup.ok());
  EXPECT_FALSE(dup->has_value());
  EXPECT_EQ(r.counters().duplicates, 1u);
  auto wrong_pnum = r.add(decoded(part(3, 2, "2", "b-Avg=1")), 2);
  ASSERT_FALSE(wrong_pnum.ok());
  auto out_of_range = r.add(decoded(part(2, 3, "3", "b-Avg=1")), 2);
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_EQ(r.counters().rejected, 2u);
}

TEST(Hj212Reassembler, IncompleteGroupsExpireWithWhatArrived) {
  Reassembler::Limits limits;
  limits.timeout_ms = 5000;
  Reassembler r(limits);
  ASSERT_TRUE(r.add(decoded(part(2, 2, "2", "w01018-Avg=40.1")), 0).ok());
  EXPECT_TRUE(r.expire(4999).empty());
  auto expired = r.expire(5000);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_FALSE(expired[0].complete);
  EXPECT_EQ(expired[0].parts_received, 1u);
  EXPECT_EQ(expired[0].parts_expected, 2u);
  ASSERT_EQ(expired[0].message.items.size(), 1u);  // nothing that arrived is lost
  EXPECT_EQ(expired[0].message.items[0].number, 40.1);
  EXPECT_EQ(r.groups(), 0u);
  EXPECT_EQ(r.counters().expired, 1u);
}

TEST(Hj212Reassembler, BoundedNumberOfGroupsEvictsTheOldest) {
  Reassembler::Limits limits;
  limits.max_groups = 2;
  Reassembler r(limits);
  ASSERT_TRUE(r.add(decoded(part(2, 1, "1", "a-Avg=1", "DEV1")), 10).ok());
  ASSERT_TRUE(r.add(decoded(part(2, 1, "1", "a-Avg=1", "DEV2")), 20).ok());
  ASSERT_TRUE(r.add(decoded(part(2, 1, "1", "a-Avg=1", "DEV3")), 30).ok());
  EXPECT_EQ(r.groups(), 2u);
  EXPECT_EQ(r.counters().evicted, 1u);
  auto handed_back = r.expire(31);
  ASSERT_EQ(handed_back.size(), 1u);
  EXPECT_EQ(handed_back[0].message.mn, "DEV1");
}

}  // namespace
}  // namespace ecomon::protocol::hj212
