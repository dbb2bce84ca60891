#include <gtest/gtest.h>

#include <deque>

#include "protocol/hj212/decoder.h"
#include "protocol/hj212/encoder.h"

namespace ecomon::protocol::hj212 {
namespace {

// Messages view the bytes they were decoded from; keep every test segment alive.
Message decoded(const std::string& text) {
  static std::deque<std::string> segments;
  const std::string& segment = segments.emplace_back(text);
  Message m;
  EXPECT_TRUE(decode_segment(segment, m).ok()) << segment;
  return m;
}

TEST(Hj212Encoder, DataAckMirrorsTheDevicesVersionAndQn) {
  // HJ 212-2017 appendix C.16 and the 9014 printed after it.
  const std::string seg2017 =
      "QN=20160801085000001;ST=32;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&"
      "DataTime=20160801084000;w00000-Cou=10.5&&";
  const std::string upload2017 = seg2017;
  const Message u17 = decoded(upload2017);
  EXPECT_EQ(
      data_ack_segment(u17),
      "QN=20160801085000001;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&");
  EXPECT_EQ(encode_frame(data_ack_segment(u17)),
            "##0087QN=20160801085000001;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;"
            "Flag=4;CP=&&&&C241\r\n");  // PROTOCOL.md §4 example 7

  // HJ 212-2025 (appendix C): Flag=8 in the reply to Flag=9, and 11 (split + ack) → 8.
  const Message u25 = decoded(
      "QN=20240601085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=11;PNUM=2;"
      "PNO=1;CP=&&DataTime=20240601085857;w01018-Rtd=1&&");
  EXPECT_EQ(encode_frame(data_ack_segment(u25)),
            "##0087QN=20240601085857223;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;"
            "Flag=8;CP=&&&&21C0\r\n");  // HJ212-2025.md E6, last line
}

TEST(Hj212Encoder, Replies2005StyleCarryTheQnInCp) {
  const Message u05 = decoded("ST=32;CN=2011;PW=123456;MN=LD130133000015;Flag=1;CP=&&B01-Rtd=1&&");
  EXPECT_EQ(data_ack_segment(u05), "ST=91;CN=9014;PW=123456;MN=LD130133000015;CP=&&&&");
  const Message req05 =
      decoded("QN=20160824001302001;ST=32;CN=1011;PW=123456;MN=LD130133000015;CP=&&&&");
  EXPECT_EQ(request_answer_segment(req05, 1),
            "ST=91;CN=9011;PW=123456;MN=LD130133000015;CP=&&QN=20160824001302001;QnRtn=1&&");
}

TEST(Hj212Encoder, NoticeAckFor2025HeartbeatWithEmptyMn) {
  const Message hb = decoded(
      "QN=20240601085857223;ST=32;CN=1001;PW=123456;MN=;Flag=9;CP=&&i23005-Info="
      "6970000000001ABCDEFG1234&&");
  EXPECT_EQ(encode_frame(notice_ack_segment(hb)),
            "##0063QN=20240601085857223;ST=91;CN=9013;PW=123456;MN=;Flag=8;CP=&&&&48C0\r\n");  // E6
}

TEST(Hj212Encoder, CommandsOf2025) {
  Target t{"20240601085857223", "32", "123456", "010000A8900016F000169DC0", Version::k2025};
  EXPECT_EQ(encode_frame(set_timeout_segment(t, 5, 3)),
            "##0107QN=20240601085857223;ST=32;CN=1000;PW=123456;MN=010000A8900016F000169DC0;"
            "Flag=9;CP=&&OverTime=5;ReCount=3&&E681\r\n");  // E6, first line
  EXPECT_EQ(encode_frame(get_time_segment(t, std::nullopt)),
            "##0087QN=20240601085857223;ST=32;CN=1011;PW=123456;MN=010000A8900016F000169DC0;"
            "Flag=9;CP=&&&&2200\r\n");  // E1 (HJ 212-2025 appendix A.1)
  Target t44 = t;
  t44.st = "44";
  EXPECT_EQ(encode_frame(history_request_segment(t44, 2011, {2024, 6, 1, 6, 45, 0, 0},
                                                 {2024, 6, 1, 8, 45, 0, 0})),
            "##0134QN=20240601085857223;ST=44;CN=2011;PW=123456;MN=010000A8900016F000169DC0;"
            "Flag=9;CP=&&BeginTime=20240601064500;EndTime=20240601084500&&C741\r\n");  // E6
  // The 1014 key update as reference/hj212/HJ212-2025.md prints it (length 0140, CRC EA41).
  EXPECT_EQ(encode_frame(set_key_segment(t, "20240601085857223", "0000000000000000")),
            "##0140QN=20240601085857223;ST=32;CN=1014;PW=123456;MN=010000A8900016F000169DC0;"
            "Flag=9;CP=&&SKCreateTime=20240601085857223,NewSK=0000000000000000&&EA41\r\n");
}

TEST(Hj212Encoder, EncodedFramesDecode) {
  Target t{"20260301000000000", "22", "123456", "AQ0001", Version::k2017};
  const std::string seg = set_time_segment(t, {2026, 3, 1, 0, 0, 0, 0}, std::string_view("a34004"));
  Message m = decoded(seg);
  EXPECT_EQ(m.cn, "1012");
  EXPECT_EQ(m.param("SystemTime"), "20260301000000");
  EXPECT_EQ(m.param("PolId"), "a34004");
  EXPECT_TRUE(m.ack_requested);
}

}  // namespace
}  // namespace ecomon::protocol::hj212
