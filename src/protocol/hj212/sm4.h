// SM4 (GB/T 32907) in ECB mode without padding, as HJ 212-2025 §6.4 uses it for the CP data area:
// every full 16-byte block is encrypted, a shorter tail stays plaintext.
// Implemented with OpenSSL 3 (its default provider has SM4). Thread-safe: no shared state.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ecomon::protocol::hj212 {

using Sm4Key = std::array<std::uint8_t, 16>;

// 32 hex digits → key; nullopt otherwise.
std::optional<Sm4Key> parse_sm4_key(std::string_view hex);

// How a device writes the ciphertext on the wire (HJ 212-2025 leaves it ambiguous).
enum class Sm4WireForm : std::uint8_t {
  kRawBytes,  // the ciphertext bytes themselves; the length field stays right
  kHexText,   // "{0xE4,0x3E,...}" text followed by the plaintext tail
};

// Encrypts or decrypts `data` in place: the whole 16-byte blocks, leaving the tail as it is.
// Returns false only if OpenSSL fails (no SM4 in this OpenSSL build).
bool sm4_ecb_blocks(const Sm4Key& key, bool encrypt, std::string& data);

}  // namespace ecomon::protocol::hj212
