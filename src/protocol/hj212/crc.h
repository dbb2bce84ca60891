// CRC of the HJ 212 data segment.
//
// HJ 212 appendix A ("ANSI CRC16") is not CRC-16/MODBUS: for each byte it computes
// reg = (reg >> 8) ^ byte, so only 8 bits of state pass from byte to byte. Some real loggers use
// CRC-16/MODBUS or CRC-16/ARC instead; a device profile selects the mode.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ecomon::protocol::hj212 {

enum class CrcMode : std::uint8_t {
  kHj212,   // HJ 212-2017/2025 appendix A, printed high byte first ("1C80")
  kModbus,  // CRC-16/MODBUS printed in wire order (low byte first), as the loggers that use it do
  kArc,     // CRC-16/ARC (reflected 0xA001, init 0), printed high byte first
};

// "hj212" / "modbus" / "arc"; nullopt for anything else.
std::optional<CrcMode> parse_crc_mode(std::string_view text);
std::string_view crc_mode_name(CrcMode mode);

// The HJ 212 appendix A CRC of `data` (0xFFFF for empty input).
std::uint16_t crc_hj212(std::string_view data);
namespace detail {
// The table implementation crc_hj212() uses on CPUs without GFNI; exposed so tests check both
// paths on every machine.
std::uint16_t crc_hj212_table(std::string_view data);
}  // namespace detail

// CRC-16/MODBUS (init 0xFFFF) and CRC-16/ARC (init 0x0000), as the register value.
std::uint16_t crc_modbus(std::string_view data);
std::uint16_t crc_arc(std::string_view data);

// The 16-bit number whose 4 upper-case hex digits a device of `mode` writes for `data`.
std::uint16_t crc_field_value(CrcMode mode, std::string_view data);

// Parses 4 hex digits, either case. nullopt if `text` is not exactly 4 hex digits.
std::optional<std::uint16_t> parse_crc_field(std::string_view text);

// Writes the 4 upper-case hex digits of `value` into out[0..3].
void format_crc_field(std::uint16_t value, char out[4]);

}  // namespace ecomon::protocol::hj212
