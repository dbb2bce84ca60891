#include <gtest/gtest.h>

#include <random>
#include <string>

#include "protocol/hj212/crc.h"

namespace ecomon::protocol::hj212 {
namespace {

// The appendix A loop exactly as HJ 212-2017 prints it, byte by byte: the reference the fast
// implementation must agree with.
std::uint16_t reference_crc(std::string_view data) {
  unsigned reg = 0xFFFF;
  for (unsigned char b : data) {
    reg = (reg >> 8) ^ b;
    for (int i = 0; i < 8; ++i) {
      const unsigned lsb = reg & 1;
      reg >>= 1;
      if (lsb) reg ^= 0xA001;
    }
  }
  return static_cast<std::uint16_t>(reg);
}

struct Worked {
  const char* segment;
  std::uint16_t crc;
};

// PROTOCOL.md §4 "Worked examples" (each taken from a real frame or the standard).
const Worked kWorked[] = {
    {"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&"
     "RtdInterval=30&&",
     0x1C80},  // HJ 212-2017 appendix A (the text's "1C08" is a typo)
    {"QN=20190925181031464;ST=22;CN=2061;PW=BF470F88957588DE902D1A52;MN=Z13401000010301;Flag=5;"
     "CP=&&DataTime=20190924220000;a34006-Avg=2.69700,a34006-Flag=N;a34007-Avg=7.96600,a34007-"
     "Flag=N;a34048-Avg=3.30600,a34048-Flag=N;a34047-Avg=7.35700,a34047-Flag=N;a34049-Avg=10."
     "66300,a34049-Flag=N&&",
     0xC181},
    {"ST=32;CN=2011;PW=123456;MN=LD130133000015;CP=&&DataTime=20160824003817000;B01-Rtd=36.91;"
     "011-Rtd=231.0,011-Flag=N;060-Rtd=1.803,060-Flag=N&&",
     0x4980},
    {"QN=20160801085857223;ST=23;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&"
     "DataTime=20160801085857; LA-Rtd=50.1&&",
     0x1E00},
    {"QN=20160801085000001;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&",
     0xC241},
    // HJ 212-2025 appendix A.1 (same algorithm).
    {"QN=20240601085857223;ST=32;CN=1011;PW=123456;MN=010000A8900016F000169DC0;Flag=9;CP=&&&&",
     0x2200},
};

TEST(Hj212Crc, WorkedExamplesOfTheStandard) {
  for (const Worked& w : kWorked) {
    EXPECT_EQ(crc_hj212(w.segment), w.crc) << w.segment;
    EXPECT_EQ(reference_crc(w.segment), w.crc) << w.segment;
  }
}

TEST(Hj212Crc, EmptySegmentIsFFFF) { EXPECT_EQ(crc_hj212(""), 0xFFFF); }

TEST(Hj212Crc, NoiseExampleIsNotArc) {
  // PROTOCOL.md §4 example 6: CRC-16/ARC of the same bytes is 018C.
  const std::string_view seg =
      "QN=20160801085857223;ST=23;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;CP=&&"
      "DataTime=20160801085857; LA-Rtd=50.1&&";
  EXPECT_EQ(crc_arc(seg), 0x018C);
  EXPECT_EQ(crc_field_value(CrcMode::kArc, seg), 0x018C);
}

TEST(Hj212Crc, StandardCheckValuesOfModbusAndArc) {
  // The catalogue check value of each algorithm over "123456789".
  EXPECT_EQ(crc_modbus("123456789"), 0x4B37);
  EXPECT_EQ(crc_arc("123456789"), 0xBB3D);
  // Loggers that use MODBUS print the register low byte first.
  EXPECT_EQ(crc_field_value(CrcMode::kModbus, "123456789"), 0x374B);
}

TEST(Hj212Crc, FastPathAgreesWithTheAppendixLoopOnEveryLengthAndByte) {
  std::mt19937 rng(212);
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t len = 0; len < 300; ++len) {
    for (int rep = 0; rep < 20; ++rep) {
      std::string s(len, '\0');
      for (char& c : s) c = static_cast<char>(byte(rng));
      ASSERT_EQ(crc_hj212(s), reference_crc(s)) << "length " << len;
      ASSERT_EQ(detail::crc_hj212_table(s), reference_crc(s)) << "length " << len;
    }
  }
}

TEST(Hj212Crc, OnlyEightLowBytesArePossible) {
  // PROTOCOL.md §4: the state between bytes is 8 bits, so the low byte of every valid CRC is one
  // of 00 01 40 41 80 81 C0 C1. A CRC outside that set came from another algorithm.
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string s(1 + i % 50, 'x');
    for (char& c : s) c = static_cast<char>(rng());
    const unsigned low = crc_hj212(s) & 0xFF;
    EXPECT_TRUE(low == 0x00 || low == 0x01 || low == 0x40 || low == 0x41 || low == 0x80 ||
                low == 0x81 || low == 0xC0 || low == 0xC1)
        << std::hex << low;
  }
}

TEST(Hj212Crc, FieldParsingAcceptsEitherCaseOnlyFourHexDigits) {
  EXPECT_EQ(parse_crc_field("1C80"), 0x1C80);
  EXPECT_EQ(parse_crc_field("8c41"), 0x8C41);
  EXPECT_FALSE(parse_crc_field("18c"));
  EXPECT_FALSE(parse_crc_field("1C8G"));
  EXPECT_FALSE(parse_crc_field("1C800"));
  char out[4];
  format_crc_field(0x018C, out);
  EXPECT_EQ(std::string(out, 4), "018C");  // zero padded
}

TEST(Hj212Crc, ModeNames) {
  EXPECT_EQ(parse_crc_mode("modbus"), CrcMode::kModbus);
  EXPECT_EQ(parse_crc_mode("arc"), CrcMode::kArc);
  EXPECT_EQ(parse_crc_mode("hj212"), CrcMode::kHj212);
  EXPECT_FALSE(parse_crc_mode("crc32"));
  EXPECT_EQ(crc_mode_name(CrcMode::kModbus), "modbus");
}

}  // namespace
}  // namespace ecomon::protocol::hj212
