// Why the HJ 212 codec rejected bytes. The reason codes are stable: they appear in logs, counters,
// the `hj212 parse` output and alarms, so never rename one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ecomon::protocol::hj212 {

enum class Reason : std::uint8_t {
  kBadFrame,       // bad_frame: no "##", no CRC or CR LF where the frame must end
  kBadLength,      // bad_length: length field not 4 digits, or not the data segment's byte count
  kTooLong,        // too_long: declared length above the configured maximum
  kBadCrc,         // bad_crc: the CRC field does not match the data segment
  kBadHeader,      // bad_header: ST/CN/PW/MN/Flag/PNUM/PNO/RF missing or malformed, no CP
  kBadField,       // bad_field: CP not closed by "&&", a malformed CP entry or time
  kBadEncryption,  // bad_encryption: an HJ 212-2025 encrypted CP that cannot be decrypted
  kIncomplete,     // incomplete: a sub-packet group that expired before all parts arrived
};

inline constexpr int kReasonCount = 8;

// The stable text code of a reason ("bad_crc").
std::string_view reason_code(Reason reason);

struct Error {
  Reason reason;
  std::string detail;  // human-readable, for logs and the API; never parsed
};

}  // namespace ecomon::protocol::hj212
