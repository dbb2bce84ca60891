#include "protocol/hj212/sm4.h"

#include <openssl/evp.h>

#include <memory>

namespace ecomon::protocol::hj212 {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

struct CipherFree {
  void operator()(EVP_CIPHER* c) const { EVP_CIPHER_free(c); }
};
struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

}  // namespace

std::optional<Sm4Key> parse_sm4_key(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  Sm4Key key{};
  for (std::size_t i = 0; i < 16; ++i) {
    const int hi = hex_value(hex[2 * i]);
    const int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    key[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return key;
}

bool sm4_ecb_blocks(const Sm4Key& key, bool encrypt, std::string& data) {
  const std::size_t whole = data.size() / 16 * 16;
  if (whole == 0) return true;
  std::unique_ptr<EVP_CIPHER, CipherFree> cipher(EVP_CIPHER_fetch(nullptr, "SM4-ECB", nullptr));
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!cipher || !ctx) return false;
  if (EVP_CipherInit_ex2(ctx.get(), cipher.get(), key.data(), nullptr, encrypt ? 1 : 0, nullptr) !=
      1) {
    return false;
  }
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  auto* bytes = reinterpret_cast<unsigned char*>(data.data());
  int out_len = 0;
  if (EVP_CipherUpdate(ctx.get(), bytes, &out_len, bytes, static_cast<int>(whole)) != 1) {
    return false;
  }
  int final_len = 0;
  if (EVP_CipherFinal_ex(ctx.get(), bytes + out_len, &final_len) != 1) return false;
  return static_cast<std::size_t>(out_len + final_len) == whole;
}

}  // namespace ecomon::protocol::hj212
