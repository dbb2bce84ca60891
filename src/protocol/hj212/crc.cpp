#include "protocol/hj212/crc.h"

#include <array>
#include <cstddef>

namespace ecomon::protocol::hj212 {
namespace {

// One byte through the appendix A loop: eight rounds of shift right, XOR 0xA001 on carry.
constexpr std::uint16_t eight_rounds(std::uint16_t reg) {
  for (int i = 0; i < 8; ++i) {
    const bool lsb = reg & 1u;
    reg = static_cast<std::uint16_t>(reg >> 1);
    if (lsb) reg ^= 0xA001;
  }
  return reg;
}

constexpr std::array<std::uint16_t, 256> make_round_table() {
  std::array<std::uint16_t, 256> t{};
  for (unsigned x = 0; x < 256; ++x) t[x] = eight_rounds(static_cast<std::uint16_t>(x));
  return t;
}
constexpr std::array<std::uint16_t, 256> kRounds = make_round_table();

// In the HJ 212 CRC the state carried from one byte to the next is h = reg >> 8, and
// h' = L(h ^ byte) with L(x) = kRounds[x] >> 8 — a linear map on 8 bits. So 16 bytes at once:
// h16 = L^16(h ^ b0) ^ L^15(b1) ^ ... ^ L^1(b15), with one table per power of L. The 16 lookups
// are independent, which is what makes this several times faster than the byte loop.
constexpr int kSlice = 16;
using PowerTables = std::array<std::array<std::uint8_t, 256>, kSlice + 1>;

constexpr PowerTables make_power_tables() {
  PowerTables p{};
  for (unsigned x = 0; x < 256; ++x) p[0][x] = static_cast<std::uint8_t>(x);
  for (int k = 1; k <= kSlice; ++k) {
    for (unsigned x = 0; x < 256; ++x) {
      p[k][x] = static_cast<std::uint8_t>(kRounds[p[k - 1][x]] >> 8);
    }
  }
  return p;
}
constexpr PowerTables kPow = make_power_tables();

// The usual reflected CRC-16 (MODBUS, ARC) with the same round table:
// reg = (reg >> 8) ^ T[(reg ^ b) & 0xFF]. Used only for non-conforming devices, so a byte loop.
std::uint16_t crc_reflected(std::string_view data, std::uint16_t reg) {
  for (unsigned char b : data) {
    reg = static_cast<std::uint16_t>((reg >> 8) ^ kRounds[(reg ^ b) & 0xFF]);
  }
  return reg;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::uint16_t crc_hj212(std::string_view data) {
  if (data.empty()) return 0xFFFF;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size() - 1;  // the last byte yields the full 16-bit register
  unsigned h = 0xFF;
  while (n >= kSlice) {
    unsigned acc = kPow[16][h ^ p[0]];
    for (int k = 1; k < kSlice; ++k) acc ^= kPow[kSlice - k][p[k]];
    h = acc;
    p += kSlice;
    n -= kSlice;
  }
  for (; n > 0; --n, ++p) h = kPow[1][h ^ *p];
  return kRounds[h ^ *p];
}

std::uint16_t crc_modbus(std::string_view data) { return crc_reflected(data, 0xFFFF); }
std::uint16_t crc_arc(std::string_view data) { return crc_reflected(data, 0x0000); }

std::uint16_t crc_field_value(CrcMode mode, std::string_view data) {
  switch (mode) {
    case CrcMode::kHj212:
      return crc_hj212(data);
    case CrcMode::kModbus: {
      const std::uint16_t reg = crc_modbus(data);
      return static_cast<std::uint16_t>((reg << 8) | (reg >> 8));
    }
    case CrcMode::kArc:
      return crc_arc(data);
  }
  return crc_hj212(data);
}

std::optional<CrcMode> parse_crc_mode(std::string_view text) {
  if (text == "hj212") return CrcMode::kHj212;
  if (text == "modbus") return CrcMode::kModbus;
  if (text == "arc") return CrcMode::kArc;
  return std::nullopt;
}

std::string_view crc_mode_name(CrcMode mode) {
  switch (mode) {
    case CrcMode::kHj212:
      return "hj212";
    case CrcMode::kModbus:
      return "modbus";
    case CrcMode::kArc:
      return "arc";
  }
  return "hj212";
}

std::optional<std::uint16_t> parse_crc_field(std::string_view text) {
  if (text.size() != 4) return std::nullopt;
  unsigned v = 0;
  for (char c : text) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<unsigned>(d);
  }
  return static_cast<std::uint16_t>(v);
}

void format_crc_field(std::uint16_t value, char out[4]) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out[0] = kHex[(value >> 12) & 0xF];
  out[1] = kHex[(value >> 8) & 0xF];
  out[2] = kHex[(value >> 4) & 0xF];
  out[3] = kHex[value & 0xF];
}

}  // namespace ecomon::protocol::hj212
