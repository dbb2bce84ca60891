// HJ 212-2025 §6.4 SM4 encryption of the CP, against the appendix A.2 vectors (HJ212-2025.md
// E2–E4).
#include <gtest/gtest.h>

#include "hj212_test_util.h"
#include "protocol/hj212/decoder.h"
#include "protocol/hj212/encoder.h"
#include "protocol/hj212/sm4.h"

namespace ecomon::protocol::hj212 {
namespace {

const Sm4Key kKey = *parse_sm4_key("30303030303030303030303030303030");  // 16 × '0', appendix A.2

const std::string kE2 =
    "##0295QN=20240520210700000;ST=31;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=9;CP=&&"
    "DataTime=20240520210600;a01011-Min=1.35,a01011-Avg=1.35,a01011-Max=1.35,a01011-Flag=N;"
    "a01012-Min=9.3,a01012-Avg=9.3,a01012-Max=9.3,a01012-Flag=N;a01014-Min=3.20,a01014-Avg=3.211,"
    "a01014-Max=3.212,a01014-Flag=N&&2200\r\n";
const std::string kE3Cipher =
    "E43E159ACFAB242CB53155FB8B9281A1A242577ABFAED881BE88B72D69FC55ED1A80119FAAC8B3CD33D285CC76F57F"
    "2CA7F88B9573C6647E0F07E24609BD6B63EB20C5B9784F28E71D2F4994FF61D9E1C2B3075592B4D1E09C4D8BB27BE9"
    "7B559E3DA6643781A6F477769DEEB009B10DFFF3426922725D607DC4480F0CAC5F70DB2587B124BCB281592721D6E4"
    "BC180A97E5E111499CBE822E31C8D7761553543AA24207C290997BBDE64F9266BC5F529A172E381C1D898CA1A0D771"
    "A914A7B2D7467C70B94F1D4A7B0350A48DBF8B41";
const std::string kE4 =
    "##0234QN=20240520210700000;ST=31;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=9;CP=&&"
    "DataTime=20240520210600;a01011-Min=1.35,a01011-Avg=1.35,a01011-Max=1.35,a01011-Flag=N;"
    "a01014-Min=3.20,a01014-Avg=3.20,a01014-Max=3.20,a01014-Flag=N&&B541\r\n";
const std::string kE4Cipher =
    "E43E159ACFAB242CB53155FB8B9281A1A242577ABFAED881BE88B72D69FC55ED1A80119FAAC8B3CD33D285CC76F57F"
    "2CA7F88B9573C6647E0F07E24609BD6B63EB20C5B9784F28E71D2F4994FF61D9E13B391A1D2A454B65388D5D9435DB"
    "F021528C7BF9755EF16518710C0CAC0ADEF9C5156CD0A5A17674AC0ED2ABC40023E9EF70128554B82438E91ADCE98A"
    "0D03A4";

std::string unhex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string hex_list(const std::string& bytes) {
  std::string out = "{";
  char b[8];
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(b, sizeof b, "%s0x%02X", i ? "," : "", static_cast<unsigned char>(bytes[i]));
    out += b;
  }
  return out + "}";
}

// The plaintext frame with its CP content replaced by `wire_cp`.
std::string with_cp(const std::string& frame, const std::string& wire_cp, bool fix_length) {
  const std::size_t open = frame.find("CP=&&") + 5;
  const std::size_t close = frame.size() - 8;  // "&&" + CRC + CR LF
  std::string out = frame.substr(0, open) + wire_cp + frame.substr(close);
  if (fix_length) {
    char len[8];
    std::snprintf(len, sizeof len, "%04zu", out.size() - 12);
    out.replace(2, 4, len);
  }
  return out;
}

std::string cp_of(const std::string& frame) {
  const std::size_t open = frame.find("CP=&&") + 5;
  return frame.substr(open, frame.size() - 8 - open);
}

core::Result<Message, Error> decode_wire(const std::string& wire, const DecodeOptions& o) {
  ScanOptions scan;
  scan.at_end = true;
  scan.line_mode = true;
  const ScanResult r = scan_frame(wire, scan);
  if (r.status != ScanStatus::kFrame) return core::fail(Error{r.reason, r.detail});
  auto m = decode(r.frame, o);
  if (!m) return m;
  // Views point into `wire` or m->plaintext; copy what the tests compare before `wire` dies.
  return m;
}

TEST(Hj212Sm4, EncryptingTheAppendixPlaintextGivesThePrintedCiphertext) {
  std::string region = cp_of(kE2);
  ASSERT_EQ(region.size(), 208u);  // 13 whole blocks
  ASSERT_TRUE(sm4_ecb_blocks(kKey, true, region));
  EXPECT_EQ(region, unhex(kE3Cipher));

  std::string region4 = cp_of(kE4);
  ASSERT_EQ(region4.size(), 147u);  // 9 blocks + "g=N"
  ASSERT_TRUE(sm4_ecb_blocks(kKey, true, region4));
  EXPECT_EQ(region4.substr(0, 144), unhex(kE4Cipher));
  EXPECT_EQ(region4.substr(144), "g=N");  // the tail stays plaintext
}

TEST(Hj212Sm4, DecodesTheRawBytesWireForm) {
  const std::string wire = with_cp(kE2, unhex(kE3Cipher), false);
  DecodeOptions o;
  o.sm4_key = kKey;
  auto m = decode_wire(wire, o);
  ASSERT_TRUE(m.ok()) << m.error().detail;
  EXPECT_TRUE(m->encrypted);
  EXPECT_EQ(m->version, Version::k2025);
  EXPECT_EQ(m->items.size(), 9u);
  EXPECT_EQ(m->items[7].factor, "a01014");
  EXPECT_EQ(m->items[7].number, 3.211);
  EXPECT_EQ(m->items[7].flag, "N");

  // Without the key, the ciphertext fails the (plaintext) CRC.
  auto no_key = decode_wire(wire, {});
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.error().reason, Reason::kBadCrc);
  // With a wrong key too.
  DecodeOptions wrong;
  wrong.sm4_key = *parse_sm4_key("31313131313131313131313131313131");
  auto bad = decode_wire(wire, wrong);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason, Reason::kBadCrc);
}

TEST(Hj212Sm4, DecodesTheHexTextFormWithEitherLength) {
  DecodeOptions o;
  o.sm4_key = kKey;
  const std::string text_cp = hex_list(unhex(kE4Cipher)) + "g=N";
  // The length field as the standard prints it (the plaintext's 0234) ...
  const std::string printed = with_cp(kE4, text_cp, false);
  auto a = decode_wire(printed, o);
  ASSERT_TRUE(a.ok()) << a.error().detail;
  EXPECT_TRUE(a->encrypted);
  EXPECT_EQ(a->items.size(), 6u);
  // ... and as some implementations write it (the transmitted length).
  const std::string transmitted = with_cp(kE4, text_cp, true);
  auto b = decode_wire(transmitted, o);
  ASSERT_TRUE(b.ok()) << b.error().detail;
  EXPECT_EQ(b->items.size(), 6u);
}

TEST(Hj212Sm4, MalformedCiphertextTextIsBadEncryption) {
  DecodeOptions o;
  o.sm4_key = kKey;
  const std::string wire = with_cp(kE4, "{0xE4,0x3E}g=N", true);  // 2 bytes, not a block
  auto r = decode_wire(wire, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, Reason::kBadEncryption);
}

TEST(Hj212Sm4, PlaintextFromAKeyedDeviceIsAcceptedWithAWarning) {
  DecodeOptions o;
  o.sm4_key = kKey;
  auto r = decode_wire(kE2, o);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_FALSE(r->encrypted);
  EXPECT_NE(r->warnings & kWarnPlaintextFromKeyedDevice, 0u);
}

TEST(Hj212Sm4, CommandsOutsideTheEncryptedSetAreNeverDecrypted) {
  EXPECT_TRUE(is_encrypted_command(2051));
  EXPECT_TRUE(is_encrypted_command(1014));
  EXPECT_TRUE(is_encrypted_command(3020));
  EXPECT_FALSE(is_encrypted_command(1011));
  EXPECT_FALSE(is_encrypted_command(9014));
}

TEST(Hj212Sm4, EncoderRoundTripsBothWireForms) {
  const std::string plain_seg = kE4.substr(6, 234);
  for (Sm4WireForm form : {Sm4WireForm::kRawBytes, Sm4WireForm::kHexText}) {
    const std::string wire = encode_frame(plain_seg, CrcMode::kHj212, Encryption{kKey, form});
    EXPECT_EQ(wire.substr(0, 6), "##0234");  // the plaintext length, as appendix A.2 prints it
    EXPECT_EQ(wire.substr(wire.size() - 6), "B541\r\n");
    DecodeOptions o;
    o.sm4_key = kKey;
    auto m = decode_wire(wire, o);
    ASSERT_TRUE(m.ok()) << m.error().detail;
    EXPECT_TRUE(m->encrypted);
    EXPECT_EQ(std::string(m->segment), plain_seg);
  }
  EXPECT_NE(encode_frame(plain_seg, CrcMode::kHj212, Encryption{kKey, Sm4WireForm::kHexText})
                .find("{0xE4,0x3E,0x15,"),
            std::string::npos);
}

TEST(Hj212Sm4, KeyParsing) {
  EXPECT_TRUE(parse_sm4_key("0123456789abcdefABCDEF0123456789"));
  EXPECT_FALSE(parse_sm4_key("0123"));
  EXPECT_FALSE(parse_sm4_key("0123456789abcdefABCDEF012345678g"));
}

}  // namespace
}  // namespace ecomon::protocol::hj212
