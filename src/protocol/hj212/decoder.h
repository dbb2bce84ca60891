// HJ 212 decoder: a framed data segment → a typed Message, or a typed rejection.
//
// Pure: no sockets, no clock, no globals. Accepts what real devices send and can be understood
// (header fields in any order, missing QN/Flag, ',' or ';' between header fields, stray spaces,
// 2005 factor codes, 17-digit times, values that are not numbers), and rejects the rest with a
// Reason (error.h). Thread-safe: the functions share no state.
#pragma once

#include <optional>
#include <string_view>

#include "core/result.h"
#include "protocol/hj212/crc.h"
#include "protocol/hj212/error.h"
#include "protocol/hj212/frame.h"
#include "protocol/hj212/message.h"
#include "protocol/hj212/sm4.h"

namespace ecomon::protocol::hj212 {

// Per-device decoding settings (the device profile of the registry supplies them).
struct DecodeOptions {
  CrcMode crc_mode = CrcMode::kHj212;
  // Accept a declared length that differs from the data segment, with kWarnLengthMismatch.
  bool accept_length_mismatch = false;
  // HJ 212-2025 SM4 key: when set, the CP of 2025 data commands (CN 2000–2999, 1014, 3020) is
  // decrypted (either wire form) before the CRC is checked, since the CRC covers the plaintext.
  std::optional<Sm4Key> sm4_key;
};

// Checks the length and the CRC of a framed segment and decodes it into `out` (which is reset;
// reusing one Message across calls avoids allocations).
core::Result<void, Error> decode_into(const RawFrame& frame, const DecodeOptions& options,
                                      Message& out);
core::Result<Message, Error> decode(const RawFrame& frame, const DecodeOptions& options);

// Decodes a data segment without length or CRC checks (e.g. the segments printed in the standard).
core::Result<void, Error> decode_segment(std::string_view segment, Message& out);

// Parses "YYYYMMDDhhmmss" or "YYYYMMDDhhmmsszzz" (milliseconds) into a valid civil time.
std::optional<core::CivilTime> parse_hj212_time(std::string_view text);

// True for the commands whose CP HJ 212-2025 §6.4.4 encrypts: 2000–2999, 1014, 3020.
bool is_encrypted_command(int cn_code);

}  // namespace ecomon::protocol::hj212
