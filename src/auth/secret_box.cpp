#include "auth/secret_box.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace ecomon::auth {
namespace {

constexpr std::string_view kPrefix = "enc:v1:";

core::Error io_error(const std::string& path, const char* what) {
  return core::Error{"cannot_open", path + ": " + what + ": " + std::strerror(errno)};
}

}  // namespace

std::string random_hex(std::size_t bytes) {
  if (sodium_init() < 0) return {};
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes * 2);
  for (const unsigned char b : raw) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

core::Result<SecretBox> SecretBox::open_or_create(const std::string& key_file) {
  if (sodium_init() < 0) {
    return core::fail(core::Error{"crypto_unavailable", "libsodium could not be initialised"});
  }
  SecretBox box;
  int fd = ::open(key_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    // Create it exclusively: two processes starting at once must not write two different keys.
    crypto_secretbox_keygen(box.key_.data());
    fd = ::open(key_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      const bool ok =
          ::write(fd, box.key_.data(), box.key_.size()) == static_cast<ssize_t>(box.key_.size()) &&
          ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) {
        ::unlink(key_file.c_str());
        return core::fail(io_error(key_file, "cannot write the master key"));
      }
      return box;
    }
    if (errno != EEXIST) return core::fail(io_error(key_file, "cannot create the master key"));
    fd = ::open(key_file.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) return core::fail(io_error(key_file, "cannot read the master key"));
  const ssize_t n = ::read(fd, box.key_.data(), box.key_.size());
  char extra = 0;
  const ssize_t more = ::read(fd, &extra, 1);
  ::close(fd);
  if (n != static_cast<ssize_t>(box.key_.size()) || more != 0) {
    return core::fail(core::Error{"bad_key_file", key_file + ": a master key file holds exactly " +
                                                      std::to_string(box.key_.size()) + " bytes"});
  }
  return box;
}

std::string SecretBox::seal(std::string_view plaintext) const {
  std::vector<unsigned char> buf(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
                                 plaintext.size());
  randombytes_buf(buf.data(), crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(buf.data() + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        buf.data(), key_.data());
  std::string out(sodium_base64_ENCODED_LEN(buf.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                  '\0');
  sodium_bin2base64(out.data(), out.size(), buf.data(), buf.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return std::string(kPrefix) + out;
}

core::Result<std::string> SecretBox::open(std::string_view sealed) const {
  if (!is_sealed(sealed)) return core::fail(core::Error{"not_sealed", "not a sealed secret"});
  sealed.remove_prefix(kPrefix.size());
  std::vector<unsigned char> buf(sealed.size());
  std::size_t len = 0;
  if (sodium_base642bin(buf.data(), buf.size(), sealed.data(), sealed.size(), nullptr, &len,
                        nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return core::fail(core::Error{"bad_secret", "a sealed secret is damaged"});
  }
  std::string out(len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(out.data()),
                                 buf.data() + crypto_secretbox_NONCEBYTES,
                                 len - crypto_secretbox_NONCEBYTES, buf.data(), key_.data()) != 0) {
    return core::fail(core::Error{
        "bad_secret", "a sealed secret does not open with this data directory's master key"});
  }
  return out;
}

}  // namespace ecomon::auth
