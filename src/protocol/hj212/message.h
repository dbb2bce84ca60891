// A decoded HJ 212 message (2005, 2017 or 2025 dialect).
//
// Views (std::string_view) point into the bytes given to the decoder, or into the message's own
// plaintext when the CP was SM4-encrypted on the wire; a Message must not outlive those bytes.
// Moving a Message keeps its views valid. Not thread-safe; a plain value.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/civil_time.h"

namespace ecomon::protocol::hj212 {

// Protocol dialect, from the version bits of Flag (Flag >> 2). A missing Flag means 2005.
enum class Version : std::uint8_t { k2005, k2017, k2025, kUnknown };

// 2005 / 2017 / 2025, or 0 for kUnknown.
int version_year(Version v);

// Non-fatal oddities the decoder accepted; a bit set, reported with the message.
enum Warning : std::uint32_t {
  kWarnLengthMismatch = 1u << 0,      // declared length ≠ segment, accepted by device leniency
  kWarnOver1024 = 1u << 1,            // data segment above the standard's 1024 bytes
  kWarnUnknownHeaderKey = 1u << 2,    // a header field other than QN ST CN PW MN Flag PNUM PNO RF
  kWarnDuplicateHeaderKey = 1u << 3,  // a header field twice (the first is used)
  kWarnSplitWithoutPnum = 1u << 4,    // Flag says split but PNUM/PNO are missing (or vice versa)
  kWarnRfValue = 1u << 5,             // RF present with a value other than 1
  kWarnEntryWithoutEquals = 1u << 6,  // a CP entry without '=' (kept as a parameter)
  kWarnPlaintextFromKeyedDevice = 1u << 7,  // a device with an SM4 key sent plaintext
};

// One value of one factor: "a34004-Rtd=35.2" with the factor's flag "a34004-Flag=N".
struct Item {
  std::string_view factor;                      // the code exactly as sent ("a34004", "011", "O3")
  std::optional<std::string_view> factor_2017;  // HJ 212-2017 code, if known
  std::string_view field;                // "Rtd", "Avg", "ZsAvg", "Cou", "SampleTime", or as sent
  std::string_view text;                 // the value exactly as sent
  std::optional<double> number;          // the value when `text` is a finite decimal number
  std::optional<std::string_view> flag;  // the factor's data flag ("N", "D", ...) if sent
  std::uint16_t entry = 0;  // index of the ';'-separated CP entry the value was sent in
};

// A CP entry that belongs to no factor: QnRtn, ExeRtn, RtdInterval, BeginTime, PolId, QN (2005
// replies), bare keys such as FANSTATUS. DataTime is decoded into Message::data_time instead.
struct Param {
  std::string_view key;
  std::string_view value;
};

struct Message {
  Version version = Version::k2005;
  std::optional<int> flag;     // Flag as sent (0..255)
  bool ack_requested = false;  // Flag bit 0
  bool split = false;          // Flag bit 1: PNUM/PNO present
  std::optional<std::string_view> qn;
  std::string_view st;
  std::string_view cn;  // 4 digits
  int cn_code = 0;      // cn as a number
  std::string_view pw;
  std::string_view mn;  // may be empty (2025 devices before MN assignment)
  std::optional<std::uint32_t> pnum;
  std::optional<std::uint32_t> pno;
  std::optional<std::string_view> rf;        // HJ 212-2025 resend mark, "1" when resent
  std::optional<core::CivilTime> data_time;  // CP DataTime, local time (UTC+8)
  std::vector<Item> items;
  std::vector<Param> params;
  std::string_view segment;    // the data segment (plaintext)
  std::string_view cp;         // the CP content between "CP=&&" and the closing "&&"
  bool encrypted = false;      // the CP arrived SM4-encrypted
  std::uint32_t warnings = 0;  // Warning bits

  // The QN of the request this message answers: the header QN, or for 2005 replies the QN
  // carried inside CP.
  std::optional<std::string_view> request_qn() const;
  // The first param with `key`, if any.
  std::optional<std::string_view> param(std::string_view key) const;
  bool is_resend() const { return rf && *rf == "1"; }

  // Owns the decrypted segment when `encrypted`; views above may point into it.
  std::vector<char> plaintext;
};

}  // namespace ecomon::protocol::hj212
