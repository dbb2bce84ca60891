// Secrets at rest (issue #7 §3): HJ 212-2025 SM4 device keys are written to the registry files
// sealed with the data directory's master key, never in clear.
//
// Sealed form: "enc:v1:" + base64(nonce ‖ XSalsa20-Poly1305 ciphertext) (libsodium secretbox);
// tampering or a wrong master key fails to open. The master key is 32 random bytes in
// DATA/secret.key (mode 0600), created on first use; back it up apart from the data (a backup
// file holds sealed keys only).
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/result.h"

namespace ecomon::auth {

// `bytes` random bytes from the system's CSPRNG as upper-case hex (a new SM4 key: 16).
std::string random_hex(std::size_t bytes);

class SecretBox {
 public:
  // Reads the key file, or creates it (0600) when it does not exist. Errors: cannot_open,
  // bad_key_file (wrong size), crypto_unavailable.
  static core::Result<SecretBox> open_or_create(const std::string& key_file);
  static bool is_sealed(std::string_view text) { return text.rfind("enc:v1:", 0) == 0; }

  std::string seal(std::string_view plaintext) const;
  // Errors: not_sealed, bad_secret (corrupt, or sealed under another master key).
  core::Result<std::string> open(std::string_view sealed) const;

 private:
  std::array<unsigned char, 32> key_{};
};

}  // namespace ecomon::auth
