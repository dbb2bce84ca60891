#include <gtest/gtest.h>

#include <charconv>
#include <deque>
#include <random>

#include "hj212_test_util.h"
#include "protocol/hj212/decoder.h"

namespace ecomon::protocol::hj212 {
namespace {

// Messages view the bytes they were decoded from; keep every test segment alive.
const std::string& kept(const std::string& segment) {
  static std::deque<std::string> segments;
  return segments.emplace_back(segment);
}

Message must_decode(const std::string& text) {
  const std::string& segment = kept(text);
  Message m;
  auto r = decode_segment(segment, m);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail) << "\n" << segment;
  return m;
}

Error must_reject(const std::string& text) {
  const std::string& segment = kept(text);
  Message m;
  auto r = decode_segment(segment, m);
  EXPECT_FALSE(r.ok()) << segment;
  return r.ok() ? Error{} : r.error();
}

const Item* find(const Message& m, std::string_view factor, std::string_view field) {
  for (const Item& it : m.items) {
    if (it.factor == factor && it.field == field) return &it;
  }
  return nullptr;
}

TEST(Hj212Decoder, HeaderOf2017Upload) {
  const Message m = must_decode(
      "QN=20190925181031464;ST=22;CN=2061;PW=BF470F88957588DE902D1A52;MN=Z13401000010301;Flag=5;"
      "CP=&&DataTime=20190924220000;a34006-Avg=2.69700,a34006-Flag=N;a34007-Avg=7.96600,"
      "a34007-Flag=D&&");
  EXPECT_EQ(m.version, Version::k2017);
  EXPECT_EQ(m.qn, "20190925181031464");
  EXPECT_EQ(m.st, "22");
  EXPECT_EQ(m.cn, "2061");
  EXPECT_EQ(m.cn_code, 2061);
  EXPECT_EQ(m.pw, "BF470F88957588DE902D1A52");
  EXPECT_EQ(m.mn, "Z13401000010301");
  EXPECT_EQ(m.flag, 5);
  EXPECT_TRUE(m.ack_requested);
  EXPECT_FALSE(m.split);
  ASSERT_TRUE(m.data_time);
  EXPECT_EQ(*m.data_time, (core::CivilTime{2019, 9, 24, 22, 0, 0, 0}));
  ASSERT_EQ(m.items.size(), 2u);  // the -Flag entries become the items' flags
  EXPECT_EQ(m.items[0].factor, "a34006");
  EXPECT_EQ(m.items[0].field, "Avg");
  EXPECT_EQ(m.items[0].number, 2.697);
  EXPECT_EQ(m.items[0].flag, "N");
  EXPECT_EQ(m.items[1].flag, "D");
  EXPECT_EQ(m.items[1].factor_2017, "a34007");
}

TEST(Hj212Decoder, Old2005FrameWithoutQnAndFlag) {
  const Message m = must_decode(
      "ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817000;B01-Rtd=36.91;"
      "011-Rtd=231.0,011-Flag=N;060-Rtd=1.803,060-Flag=N&&");
  EXPECT_EQ(m.version, Version::k2005);
  EXPECT_FALSE(m.qn);
  EXPECT_FALSE(m.flag);
  EXPECT_FALSE(m.ack_requested);
  ASSERT_EQ(m.items.size(), 3u);
  // 2005 codes are kept as sent; the 2017 code is attached (HJ 212-2017 table B.1 "原编码").
  EXPECT_EQ(m.items[0].factor, "B01");
  EXPECT_EQ(m.items[0].factor_2017, "w00000");
  EXPECT_FALSE(m.items[0].flag);  // B01 has no flag
  EXPECT_EQ(m.items[1].factor, "011");
  EXPECT_EQ(m.items[1].factor_2017, "w01018");
  EXPECT_EQ(m.items[1].flag, "N");
  EXPECT_EQ(m.items[2].factor_2017, "w21003");
  ASSERT_TRUE(m.data_time);
  EXPECT_EQ(m.data_time->second, 17);  // 17-digit DataTime with milliseconds
  EXPECT_EQ(m.data_time->millisecond, 0);
}

TEST(Hj212Decoder, GasCodesOf2005MapToTheirHj524Codes) {
  const Message m = must_decode(
      "ST=31;CN=2011;PW=123456;MN=ZG130131201308;CP=&&DataTime=20160824003500000;B02-Rtd=264.40;"
      "01-Rtd=19.23,01-Flag=N;02-Rtd=98.36,02-Flag=N;03-Rtd=257.000,03-Flag=N;S01-Rtd=15.4,"
      "S01-Flag=N&&");
  EXPECT_EQ(find(m, "B02", "Rtd")->factor_2017, "a00000");
  EXPECT_EQ(find(m, "01", "Rtd")->factor_2017, "a34013");
  EXPECT_EQ(find(m, "02", "Rtd")->factor_2017, "a21026");
  EXPECT_EQ(find(m, "03", "Rtd")->factor_2017, "a21002");
  EXPECT_EQ(find(m, "S01", "Rtd")->factor_2017, "a19001");
}

TEST(Hj212Decoder, FlagBelongsToTheFactorInTheSameEntry) {
  // The same factor twice with different flags, and a flag sent before the value.
  const Message m = must_decode(
      "ST=31;CN=2011;PW=1;MN=M;CP=&&03-Rtd=1.5,03-Flag=N;03-ZsRtd=2.5,03-Flag=T;"
      "l01001-Flag=D,l01001-Rtd=119.9;a01001-Rtd=3&&");
  EXPECT_EQ(find(m, "03", "Rtd")->flag, "N");
  EXPECT_EQ(find(m, "03", "ZsRtd")->flag, "T");
  EXPECT_EQ(find(m, "l01001", "Rtd")->flag, "D");
  EXPECT_FALSE(find(m, "a01001", "Rtd")->flag);
  EXPECT_EQ(m.items.size(), 4u);
}

TEST(Hj212Decoder, NonNumericValuesAndUnknownFieldsAreKeptVerbatim) {
  const Message m = must_decode(
      "QN=20160801085857223;ST=32;CN=3020;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&"
      "DataTime=20160801085857;PolId=w01018;i11001-Info=//清洗管路//;w01018-SampleTime="
      "20160801070000,w01018-EFlag=A01,w01018-RawAvg=7.1,w01018-Rtd=N/A&&");
  EXPECT_EQ(find(m, "i11001", "Info")->text, "//清洗管路//");
  EXPECT_FALSE(find(m, "i11001", "Info")->number);
  EXPECT_FALSE(find(m, "w01018", "SampleTime")->number);  // a time, not a quantity
  EXPECT_EQ(find(m, "w01018", "SampleTime")->text, "20160801070000");
  EXPECT_EQ(find(m, "w01018", "EFlag")->text, "A01");
  EXPECT_EQ(find(m, "w01018", "RawAvg")->number, 7.1);
  EXPECT_EQ(find(m, "w01018", "Rtd")->text, "N/A");
  EXPECT_FALSE(find(m, "w01018", "Rtd")->number);
  EXPECT_EQ(m.param("PolId"), "w01018");
}

TEST(Hj212Decoder, NumbersAreOnlyFiniteDecimals) {
  const Message m = must_decode(
      "ST=22;CN=2011;PW=1;MN=M;CP=&&a-Rtd=inf;b-Rtd=nan;c-Rtd=+1.5;d-Rtd=-0.42;e-Rtd=1e3;f-Rtd=;g-"
      "Rtd=1.2.3&&");
  EXPECT_FALSE(find(m, "a", "Rtd")->number);
  EXPECT_FALSE(find(m, "b", "Rtd")->number);
  EXPECT_EQ(find(m, "c", "Rtd")->number, 1.5);
  EXPECT_EQ(find(m, "d", "Rtd")->number, -0.42);
  EXPECT_EQ(find(m, "e", "Rtd")->number, 1000.0);
  EXPECT_FALSE(find(m, "f", "Rtd")->number);
  EXPECT_FALSE(find(m, "g", "Rtd")->number);
}

TEST(Hj212Decoder, TyposOfTheStandardItself) {
  // HJ 212-2017 appendix C: ',' after QN (C.22), no ';' before CP (C.19), stray spaces (C.43).
  const Message a = must_decode(
      "QN=20160801085857534,ST=32;CN=2031;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&"
      "DataTime=20160801000000;w00000-Cou=1512.0&&");
  EXPECT_EQ(a.qn, "20160801085857534");
  EXPECT_EQ(a.st, "32");
  const Message b = must_decode(
      "QN=20160802000000001;ST=32;CN=2041;PW=123456;MN=010000A8900016F000169DC0;Flag=5CP=&&"
      "DataTime=20160801000000;SB1-RT=1.1&&");
  EXPECT_EQ(b.flag, 5);
  const Message c = must_decode(
      "QN=20160801085857223;ST=32;CN=3020;PW=123456;MN=010000A8900016F000169DC0; Flag=5;CP=&& "
      "PolId=w01018;InfoId=i12001&&");
  EXPECT_EQ(c.flag, 5);
  EXPECT_EQ(c.param("PolId"), "w01018");
}

TEST(Hj212Decoder, HeaderFieldsInAnyOrder) {
  const Message m = must_decode("CN=2011;MN=X1;ST=22;Flag=4;PW=123456;QN=1;CP=&&&&");
  EXPECT_EQ(m.mn, "X1");
  EXPECT_EQ(m.st, "22");
  EXPECT_EQ(m.version, Version::k2017);
  EXPECT_TRUE(m.items.empty());
}

TEST(Hj212Decoder, VersionBitsAndSplitFlag) {
  EXPECT_EQ(must_decode("ST=22;CN=2011;PW=1;MN=M;Flag=1;CP=&&&&").version, Version::k2005);
  const Message v25 = must_decode("ST=31;CN=2051;PW=1;MN=M;Flag=11;PNUM=2;PNO=1;RF=1;CP=&&&&");
  EXPECT_EQ(v25.version, Version::k2025);
  EXPECT_TRUE(v25.ack_requested);
  EXPECT_TRUE(v25.split);
  EXPECT_EQ(v25.pnum, 2u);
  EXPECT_EQ(v25.pno, 1u);
  EXPECT_TRUE(v25.is_resend());
  EXPECT_EQ(v25.warnings & kWarnSplitWithoutPnum, 0u);
  const Message unknown = must_decode("ST=31;CN=2051;PW=1;MN=M;Flag=16;CP=&&&&");
  EXPECT_EQ(unknown.version, Version::kUnknown);  // never rejected
  const Message no_pnum = must_decode("ST=31;CN=2051;PW=1;MN=M;Flag=7;CP=&&&&");
  EXPECT_NE(no_pnum.warnings & kWarnSplitWithoutPnum, 0u);
  const Message rf0 = must_decode("ST=31;CN=2051;PW=1;MN=M;Flag=8;RF=0;CP=&&&&");
  EXPECT_FALSE(rf0.is_resend());
  EXPECT_NE(rf0.warnings & kWarnRfValue, 0u);
}

TEST(Hj212Decoder, RepliesOf2005CarryTheQnInsideCp) {
  const Message m =
      must_decode("ST=91;CN=9011;PW=123456;MN=LD130100000452;CP=&&QN=20160824001302001;QnRtn=1&&");
  EXPECT_FALSE(m.qn);
  EXPECT_EQ(m.request_qn(), "20160824001302001");
  EXPECT_EQ(m.param("QnRtn"), "1");
}

TEST(Hj212Decoder, EmptyMnAndPwAreAccepted) {
  const Message m = must_decode("QN=20240601085857223;ST=91;CN=9013;PW=123456;MN=;Flag=8;CP=&&&&");
  EXPECT_EQ(m.mn, "");
  EXPECT_EQ(m.version, Version::k2025);
}

TEST(Hj212Decoder, RejectsWhatCannotBeUnderstood) {
  EXPECT_EQ(must_reject(std::string("ST=\0\0;CN=2031;PW=1;MN=M;CP=&&&&", 31)).reason,
            Reason::kBadHeader);
  EXPECT_EQ(must_reject("ST=312011;PW=123456;MN=ZG1;CP=&&&&").reason, Reason::kBadHeader);
  EXPECT_EQ(must_reject("ST=31;CN=2011;PW=1234MN=LD1;CP=&&&&").reason, Reason::kBadHeader);
  EXPECT_EQ(must_reject("ST=31;CN=20A1;PW=1;MN=M;CP=&&&&").reason, Reason::kBadHeader);
  EXPECT_EQ(must_reject("ST=31;CN=2011;PW=1;MN=M;Flag=256;CP=&&&&").reason, Reason::kBadHeader);
  EXPECT_EQ(must_reject("ST=31;CN=2011;PW=1;MN=M;Flag=4").reason, Reason::kBadHeader);
  EXPECT_EQ(must_reject("ST=31;CN=2011;PW=1;MN=M;CP=&&a-Rtd=1").reason, Reason::kBadField);
  EXPECT_EQ(must_reject("ST=31;CN=2011;PW=1;MN=M;CP=a-Rtd=1&&").reason, Reason::kBadField);
  EXPECT_EQ(must_reject("ST=31;CN=2011;PW=1;MN=M;CP=&&DataTime=2016082410450;a-Rtd=1&&").reason,
            Reason::kBadField);
  EXPECT_EQ(must_reject("ST=31;CN=2011;PW=1;MN=M;CP=&&DataTime=20160230104500&&").reason,
            Reason::kBadField);
  EXPECT_EQ(must_reject("ST=31;CN=2011;PW=1;MN=M;CP=&&=5&&").reason, Reason::kBadField);
}

TEST(Hj212Decoder, Hj212TimeFormats) {
  EXPECT_EQ(parse_hj212_time("20190924220000"), (core::CivilTime{2019, 9, 24, 22, 0, 0, 0}));
  EXPECT_EQ(parse_hj212_time("20160824003817123"), (core::CivilTime{2016, 8, 24, 0, 38, 17, 123}));
  EXPECT_FALSE(parse_hj212_time("2016082400381"));
  EXPECT_FALSE(parse_hj212_time("2016082400381712"));
  EXPECT_FALSE(parse_hj212_time("20161324003817"));
  EXPECT_FALSE(parse_hj212_time("2016082400381x"));
}

TEST(Hj212Decoder, LengthAndCrcChecks) {
  const std::string seg = "ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&B01-Rtd=36.91&&";
  char crc[4];
  format_crc_field(crc_hj212(seg), crc);
  RawFrame f{seg, std::string_view(crc, 4), static_cast<std::uint32_t>(seg.size()), true};
  EXPECT_TRUE(decode(f, {}).ok());

  char wrong[4] = {'0', '0', '0', '0'};
  RawFrame bad_crc{seg, std::string_view(wrong, 4), static_cast<std::uint32_t>(seg.size()), true};
  auto r = decode(bad_crc, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, Reason::kBadCrc);
  EXPECT_NE(r.error().detail.find(std::string(crc, 4)),
            std::string::npos);  // says what it computed

  RawFrame bad_len{seg, std::string_view(crc, 4), static_cast<std::uint32_t>(seg.size() + 2),
                   false};
  auto r2 = decode(bad_len, {});
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().reason, Reason::kBadLength);
  DecodeOptions lenient;
  lenient.accept_length_mismatch = true;
  auto r3 = decode(bad_len, lenient);
  ASSERT_TRUE(r3.ok());
  EXPECT_NE(r3->warnings & kWarnLengthMismatch, 0u);
}

TEST(Hj212Decoder, ReusingOneMessageGivesTheSameResult) {
  Message m;
  ASSERT_TRUE(
      decode_segment("ST=22;CN=2011;PW=1;MN=A;Flag=5;QN=9;CP=&&a1-Rtd=1,a1-Flag=N;a2-Rtd=2&&", m)
          .ok());
  ASSERT_TRUE(decode_segment("ST=32;CN=2061;PW=2;MN=B;CP=&&w1-Avg=3&&", m).ok());
  EXPECT_EQ(m.mn, "B");
  EXPECT_FALSE(m.qn);
  EXPECT_FALSE(m.flag);
  ASSERT_EQ(m.items.size(), 1u);
  EXPECT_FALSE(m.items[0].flag);
}

}  // namespace
}  // namespace ecomon::protocol::hj212

namespace ecomon::protocol::hj212 {
namespace {

TEST(Hj212Decoder, DecimalValuesAreTheCorrectlyRoundedDouble) {
  // The decoder's fast path for plain decimals must give exactly what std::from_chars gives.
  std::mt19937_64 rng(2017);
  std::string cp;
  std::vector<std::string> texts;
  for (int i = 0; i < 3000; ++i) {
    const int int_digits = 1 + static_cast<int>(rng() % 9);
    const int frac_digits = static_cast<int>(rng() % 9);
    std::string t = (rng() % 4 == 0) ? "-" : "";
    for (int d = 0; d < int_digits; ++d) t += static_cast<char>('0' + rng() % 10);
    if (frac_digits > 0) {
      t += '.';
      for (int d = 0; d < frac_digits; ++d) t += static_cast<char>('0' + rng() % 10);
    }
    texts.push_back(t);
    cp += (i ? ";" : "") + std::string("f") + std::to_string(i) + "-Rtd=" + t;
  }
  const Message m = must_decode("ST=22;CN=2011;PW=1;MN=M;CP=&&" + cp + "&&");
  ASSERT_EQ(m.items.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    double expected = 0;
    std::from_chars(texts[i].data(), texts[i].data() + texts[i].size(), expected);
    ASSERT_TRUE(m.items[i].number) << texts[i];
    ASSERT_EQ(*m.items[i].number, expected) << texts[i];
  }
}

}  // namespace
}  // namespace ecomon::protocol::hj212
