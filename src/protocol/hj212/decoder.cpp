#include "protocol/hj212/decoder.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "protocol/hj212/factor_codes.h"

namespace ecomon::protocol::hj212 {
namespace {

using core::fail;
using VoidResult = core::Result<void, Error>;

constexpr std::string_view kCpOpen = "CP=&&";
constexpr std::string_view kCpClose = "&&";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::uint32_t> parse_uint(std::string_view s) {
  if (!all_digits(s) || s.size() > 9) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : s) v = v * 10 + static_cast<std::uint32_t>(c - '0');
  return v;
}

bool is_printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u != 0x7F;
  });
}

// Shows a value in an error detail without control bytes.
std::string shown(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 64)) {
    if (c >= 0x20 && c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  if (s.size() > 64) out += "...";
  return out;
}

std::string hex4(std::uint16_t v) {
  char b[4];
  format_crc_field(v, b);
  return std::string(b, 4);
}

// Sets `out` and returns true when `s` is a finite decimal number.
bool parse_number(std::string_view s, double& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const char c0 = s.front();
  // from_chars also takes "inf", "nan" and hex-less words; only decimal numbers are values here.
  if (!((c0 >= '0' && c0 <= '9') || c0 == '-' || c0 == '.')) return false;
  // Fast path for what devices send ("-0.424219", "231.0"): at most 15 significant digits and
  // no exponent, so digits / 10^k is exactly the correctly rounded double (both are exact
  // doubles and IEEE division rounds once). Anything else goes to std::from_chars.
  {
    static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const char* p = s.data();
    const char* const end = p + s.size();
    const bool negative = *p == '-';
    if (negative) ++p;
    // The integer digits, then after an optional point the fraction digits: two tight loops
    // (a single loop tracked the point at every digit).
    std::uint64_t digits = 0;
    auto take_digits = [&] {
      const char* const from = p;
      for (unsigned d; p < end && (d = static_cast<unsigned>(*p - '0')) < 10; ++p) {
        digits = digits * 10 + d;
      }
      return static_cast<int>(p - from);
    };
    int count = take_digits();
    int fraction = 0;  // digits after the point
    if (p < end && *p == '.') {
      ++p;
      fraction = take_digits();
      count += fraction;
    }
    if (p == end && count > 0 && count <= 15) {
      double v = static_cast<double>(digits);
      if (fraction > 0) v /= kPow10[fraction];
      out = negative ? -v : v;
      return true;
    }
  }
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return false;
  out = v;
  return true;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The structural bytes of a header or CP ('=', ',' and ';') as bit masks, 64 bytes at a time, so
// the parser jumps from one to the next instead of a table lookup and a branch per byte (~7 % of
// the decode time on the 2016 capture). With SSE2 (baseline on x86-64) 16 bytes are 3 compares;
// elsewhere a loop builds the same mask. Positions come out in order and each exactly once.
class Structurals {
 public:
  explicit Structurals(std::string_view text) : data_(text.data()), size_(text.size()) {
    if (size_ > 0) bits_ = block_mask(0);
  }
  // The position of the next structural byte, or the text size when there is none left.
  std::size_t next() {
    while (bits_ == 0) {
      block_ += 64;
      if (block_ >= size_) return size_;
      bits_ = block_mask(block_);
    }
    const std::size_t pos = block_ + static_cast<std::size_t>(std::countr_zero(bits_));
    bits_ &= bits_ - 1;
    return pos;
  }

 private:
  std::uint64_t block_mask(std::size_t at) const {
    std::uint64_t mask = 0;
    for (std::size_t chunk = at; chunk < at + 64 && chunk < size_; chunk += 16) {
      std::uint64_t m;
      if (chunk + 16 <= size_) {
        m = mask16(data_ + chunk);
      } else if (size_ >= 16) {
        // The last, partial chunk: the 16 bytes that end the text, shifted into place, so that
        // nothing past the text is read.
        m = mask16(data_ + size_ - 16) >> (chunk + 16 - size_);
      } else {
        m = 0;
        for (std::size_t i = chunk; i < size_; ++i) {
          m |= static_cast<std::uint64_t>(is_structural(data_[i])) << (i - chunk);
        }
      }
      mask |= m << (chunk - at);
    }
    return mask;
  }
  static bool is_structural(char c) { return c == '=' || c == ',' || c == ';'; }
  static std::uint64_t mask16(const char* p) {
#if defined(__SSE2__)
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hit = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('=')), _mm_cmpeq_epi8(x, _mm_set1_epi8(','))),
        _mm_cmpeq_epi8(x, _mm_set1_epi8(';')));
    return static_cast<std::uint16_t>(_mm_movemask_epi8(hit));
#else
    std::uint64_t m = 0;
    for (int i = 0; i < 16; ++i) m |= static_cast<std::uint64_t>(is_structural(p[i])) << i;
    return m;
#endif
  }

  const char* data_;
  std::size_t size_;
  std::size_t block_ = 0;
  std::uint64_t bits_ = 0;
};

// ---- header --------------------------------------------------------------------------------

bool valid_st(std::string_view st) {
  // Two characters 0-9/A-Z per the standard; three-digit values (e.g. 101) occur in real traffic.
  if (st.size() < 2 || st.size() > 3) return false;
  return std::all_of(st.begin(), st.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
}

// A header key of at most 4 bytes packed with its length into one integer (0 for longer keys), so
// the key dispatch is one switch instead of a string compare per known key.
constexpr std::uint64_t header_key(std::string_view key) {
  if (key.size() > 4) return 0;
  std::uint64_t v = static_cast<std::uint64_t>(key.size()) << 32;
  for (std::size_t i = 0; i < key.size(); ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(key[i])) << (8 * i);
  }
  return v;
}

VoidResult parse_header(std::string_view header, Message& m) {
  bool seen_st = false, seen_cn = false, seen_pw = false, seen_mn = false;
  std::string_view flag_text, pnum_text, pno_text;
  bool seen_flag = false, seen_pnum = false, seen_pno = false;

  Structurals structurals(header);
  const char* const begin = header.data();
  const char* const end = begin + header.size();
  const char* p = begin;
  for (const char* q;; p = q + 1) {
    // A field ends at ';' or ','; the first '=' splits it.
    q = begin + structurals.next();
    const char* eq = nullptr;
    if (q < end && *q == '=') {
      eq = q;
      do {
        q = begin + structurals.next();
      } while (q < end && *q == '=');
    }
    const std::string_view field(p, static_cast<std::size_t>(q - p));
    if (eq == nullptr) {
      if (trim(field).empty()) {
        if (q >= end) break;
        continue;
      }
      return fail(
          Error{Reason::kBadHeader, "header field without '=': '" + shown(trim(field)) + "'"});
    }
    const std::string_view key = trim(std::string_view(field.data(), eq - field.data()));
    const std::string_view value = trim(std::string_view(eq + 1, q - eq - 1));
    auto take = [&](bool& seen, std::string_view& target) {
      if (seen) {
        m.warnings |= kWarnDuplicateHeaderKey;
        return;
      }
      seen = true;
      target = value;
    };
    switch (header_key(key)) {
      case header_key("QN"):
        if (m.qn) {
          m.warnings |= kWarnDuplicateHeaderKey;
        } else {
          m.qn = value;
        }
        break;
      case header_key("ST"):
        take(seen_st, m.st);
        break;
      case header_key("CN"):
        take(seen_cn, m.cn);
        break;
      case header_key("PW"):
        take(seen_pw, m.pw);
        break;
      case header_key("MN"):
        take(seen_mn, m.mn);
        break;
      case header_key("Flag"):
        take(seen_flag, flag_text);
        break;
      case header_key("PNUM"):
        take(seen_pnum, pnum_text);
        break;
      case header_key("PNO"):
        take(seen_pno, pno_text);
        break;
      case header_key("RF"):
        if (m.rf) {
          m.warnings |= kWarnDuplicateHeaderKey;
        } else {
          m.rf = value;
          if (value != "1") m.warnings |= kWarnRfValue;
        }
        break;
      default:
        m.warnings |= kWarnUnknownHeaderKey;
    }
    if (q >= end) break;
  }

  if (!seen_st) return fail(Error{Reason::kBadHeader, "no ST field"});
  if (!valid_st(m.st))
    return fail(Error{Reason::kBadHeader, "ST '" + shown(m.st) + "' is not 2-3 letters or digits"});
  if (!seen_cn) return fail(Error{Reason::kBadHeader, "no CN field"});
  if (m.cn.size() != 4 || !all_digits(m.cn)) {
    return fail(Error{Reason::kBadHeader, "CN '" + shown(m.cn) + "' is not 4 digits"});
  }
  m.cn_code = static_cast<int>(*parse_uint(m.cn));
  if (!seen_pw) return fail(Error{Reason::kBadHeader, "no PW field"});
  if (!is_printable(m.pw)) return fail(Error{Reason::kBadHeader, "PW has control bytes"});
  if (!seen_mn) return fail(Error{Reason::kBadHeader, "no MN field"});
  if (!is_printable(m.mn) || m.mn.find(' ') != std::string_view::npos) {
    return fail(Error{Reason::kBadHeader, "MN '" + shown(m.mn) + "' has spaces or control bytes"});
  }
  if (m.qn && !is_printable(*m.qn)) return fail(Error{Reason::kBadHeader, "QN has control bytes"});

  if (seen_flag) {
    const auto f = parse_uint(flag_text);
    if (!f || *f > 255) {
      return fail(Error{Reason::kBadHeader, "Flag '" + shown(flag_text) + "' is not 0-255"});
    }
    m.flag = static_cast<int>(*f);
    m.ack_requested = (*f & 1u) != 0;
    m.split = (*f & 2u) != 0;
    switch (*f >> 2) {
      case 0:
        m.version = Version::k2005;
        break;
      case 1:
        m.version = Version::k2017;
        break;
      case 2:
        m.version = Version::k2025;
        break;
      default:
        m.version = Version::kUnknown;  // never rejected: dispatch on ST/CN and the device profile
    }
  } else {
    m.version = Version::k2005;
  }
  if (seen_pnum) {
    m.pnum = parse_uint(pnum_text);
    if (!m.pnum)
      return fail(Error{Reason::kBadHeader, "PNUM '" + shown(pnum_text) + "' is not a number"});
  }
  if (seen_pno) {
    m.pno = parse_uint(pno_text);
    if (!m.pno)
      return fail(Error{Reason::kBadHeader, "PNO '" + shown(pno_text) + "' is not a number"});
  }
  if (m.split != (m.pnum.has_value() && m.pno.has_value())) m.warnings |= kWarnSplitWithoutPnum;
  return {};
}

// ---- CP ------------------------------------------------------------------------------------

// Factor codes are a few bytes: compared inline, where string_view's == called memcmp.
bool same_code(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

bool is_time_field(std::string_view field) {
  return field.size() >= 4 && std::memcmp(field.data() + field.size() - 4, "Time", 4) == 0;
}

bool is_flag_field(std::string_view field) {
  return field.size() == 4 && std::memcmp(field.data(), "Flag", 4) == 0;
}

// Data flags seen in a CP ("a34004-Flag=N"): a value takes the flag of its factor sent in the same
// ';' entry, else the first flag of its factor sent anywhere in the CP.
class FlagTable {
 public:
  // A flag entry: given to the values of `factor` already in the entry, remembered for the rest.
  void add(std::string_view factor, std::string_view flag, std::vector<Item>& items,
           std::size_t entry_begin) {
    for (std::size_t i = entry_begin; i < items.size(); ++i) {
      if (!items[i].flag && same_code(items[i].factor, factor)) items[i].flag = flag;
    }
    if (entry_count_ < kMax) entry_[entry_count_++] = Seen::of(factor, flag);
    if (all_count_ < kMax) all_[all_count_++] = Seen::of(factor, flag);
  }
  // The flag sent for `factor` earlier in the current entry, if any.
  std::optional<std::string_view> in_entry(std::string_view factor) const {
    for (std::size_t i = 0; i < entry_count_; ++i) {
      if (same_code(entry_[i].factor(), factor)) return entry_[i].flag();
    }
    return std::nullopt;
  }
  void end_entry() { entry_count_ = 0; }
  bool any() const { return all_count_ > 0; }
  // Values still without a flag take the first flag of their factor from anywhere in the CP.
  void fill_from_anywhere(std::vector<Item>& items) const {
    for (Item& it : items) {
      if (it.flag) continue;
      for (std::size_t i = 0; i < all_count_; ++i) {
        if (same_code(all_[i].factor(), it.factor)) {
          it.flag = all_[i].flag();
          break;
        }
      }
    }
  }

 private:
  // Trivially constructible, so the arrays below cost nothing until used.
  struct Seen {
    const char* factor_data;
    const char* flag_data;
    std::uint32_t factor_size;
    std::uint32_t flag_size;
    static Seen of(std::string_view factor, std::string_view flag) {
      return {factor.data(), flag.data(), static_cast<std::uint32_t>(factor.size()),
              static_cast<std::uint32_t>(flag.size())};
    }
    std::string_view factor() const { return {factor_data, factor_size}; }
    std::string_view flag() const { return {flag_data, flag_size}; }
  };
  static constexpr std::size_t kMax = 256;  // a CP of at most 9999 bytes has fewer flags
  std::array<Seen, kMax> entry_;
  std::array<Seen, kMax> all_;
  std::size_t entry_count_ = 0;
  std::size_t all_count_ = 0;
};

VoidResult parse_cp(std::string_view cp, Message& m) {
  std::uint16_t entry_index = 0;
  std::size_t entry_begin = m.items.size();
  // A factor's fields come together (Min, Avg, Max, Cou): map its code once.
  std::string_view last_factor;
  std::optional<std::string_view> last_factor_2017;
  bool unflagged = false;  // some value had no flag of its factor in its own entry
  FlagTable flags;
  Structurals structurals(cp);
  const char* const begin = cp.data();
  const char* const end = begin + cp.size();
  const char* p = begin;
  while (true) {
    // One key=value ends at ',' (same entry) or ';' (next entry); the first '=' splits it, later
    // ones belong to the value.
    const char* q = begin + structurals.next();
    const char* eq = nullptr;
    if (q < end && *q == '=') {
      eq = q;
      do {
        q = begin + structurals.next();
      } while (q < end && *q == '=');
    }
    const bool entry_ends = q >= end || *q == ';';
    if (eq == nullptr) {
      const std::string_view bare = trim(std::string_view(p, static_cast<std::size_t>(q - p)));
      if (!bare.empty()) {
        m.params.push_back(Param{bare, {}});
        m.warnings |= kWarnEntryWithoutEquals;
      }
    } else {
      const std::string_view key = trim(std::string_view(p, static_cast<std::size_t>(eq - p)));
      const std::string_view value =
          trim(std::string_view(eq + 1, static_cast<std::size_t>(q - eq - 1)));
      if (key.empty()) {
        return fail(Error{Reason::kBadField,
                          "CP entry without a name: '" + shown(std::string_view(p, q - p)) + "'"});
      }
      const std::size_t dash = key.rfind('-');
      if (dash == std::string_view::npos || dash == 0 || dash + 1 == key.size()) {
        if (key == "DataTime" && !m.data_time) {
          m.data_time = parse_hj212_time(value);
          if (!m.data_time) {
            return fail(Error{Reason::kBadField,
                              "DataTime '" + shown(value) + "' is not YYYYMMDDhhmmss[zzz]"});
          }
        } else {
          m.params.push_back(Param{key, value});
        }
      } else {
        const std::string_view factor = key.substr(0, dash);
        const std::string_view field = key.substr(dash + 1);
        if (is_flag_field(field)) {
          flags.add(factor, value, m.items, entry_begin);
        } else {
          if (!same_code(factor, last_factor) || last_factor.data() == nullptr) {
            last_factor = factor;
            last_factor_2017 = factor_code_2017(factor);
          }
          // Written field by field in place: copying in std::optionals returned by value cost ~3 %
          // (perf put the time on the 16-byte reloads of the just-written parts).
          Item& item = m.items.emplace_back();
          item.factor = factor;
          item.field = field;
          item.text = value;
          item.entry = entry_index;
          if (last_factor_2017) item.factor_2017.emplace(*last_factor_2017);
          double number;
          if (!is_time_field(field) && parse_number(value, number)) item.number.emplace(number);
          if (const auto flag = flags.in_entry(factor)) item.flag.emplace(*flag);
        }
      }
    }
    if (entry_ends) {
      for (std::size_t i = entry_begin; i < m.items.size() && !unflagged; ++i) {
        unflagged = !m.items[i].flag;
      }
      flags.end_entry();
      entry_begin = m.items.size();
      ++entry_index;
    }
    if (q >= end) break;
    p = q + 1;
  }
  if (unflagged && flags.any()) flags.fill_from_anywhere(m.items);
  return {};
}

void reset(Message& m) {
  std::vector<Item> items = std::move(m.items);
  std::vector<Param> params = std::move(m.params);
  std::vector<char> plaintext = std::move(m.plaintext);
  items.clear();
  params.clear();
  plaintext.clear();
  m = Message{};
  m.items = std::move(items);
  m.params = std::move(params);
  m.plaintext = std::move(plaintext);
}

// Splits a segment at "CP=&&" and checks that the CP is closed.
struct SegmentParts {
  std::string_view header;
  std::string_view cp;  // between "CP=&&" and the final "&&"
};
core::Result<SegmentParts, Error> split_segment(std::string_view segment) {
  const std::size_t cp_at = segment.find(kCpOpen);
  if (cp_at == std::string_view::npos) {
    if (segment.find("CP=") != std::string_view::npos) {
      return fail(Error{Reason::kBadField, "CP does not start with &&"});
    }
    return fail(Error{Reason::kBadHeader, "no CP field"});
  }
  const std::size_t body = cp_at + kCpOpen.size();
  if (segment.size() < body + kCpClose.size() || !ends_with(segment, kCpClose)) {
    return fail(Error{Reason::kBadField, "CP is not closed by &&"});
  }
  return SegmentParts{segment.substr(0, cp_at),
                      segment.substr(body, segment.size() - kCpClose.size() - body)};
}

VoidResult decode_segment_reusing(std::string_view segment, Message& m) {
  auto parts = split_segment(segment);
  if (!parts) return fail(parts.error());
  m.segment = segment;
  m.cp = parts->cp;
  if (segment.size() > kStandardMaxSegment) m.warnings |= kWarnOver1024;
  if (auto h = parse_header(parts->header, m); !h) return h;
  return parse_cp(parts->cp, m);
}

// ---- HJ 212-2025 SM4 ------------------------------------------------------------------------

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Parses "{0xE4,0x3E,...}" at the start of `text`; returns the bytes and the rest (the plaintext
// tail), or nullopt if `text` does not start with that form.
struct HexText {
  std::string bytes;
  std::string_view tail;
};
std::optional<HexText> parse_hex_text(std::string_view text) {
  if (text.size() < 2 || text[0] != '{') return std::nullopt;
  const std::size_t close = text.find('}');
  if (close == std::string_view::npos) return std::nullopt;
  HexText out;
  std::string_view list = text.substr(1, close - 1);
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view tok = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (tok.size() != 4 || tok[0] != '0' || (tok[1] != 'x' && tok[1] != 'X')) return std::nullopt;
    const int hi = hex_value(tok[2]);
    const int lo = hex_value(tok[3]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  out.tail = text.substr(close + 1);
  return out;
}

// Rebuilds the plaintext segment of an encrypted frame into m.plaintext. Returns an error only
// when the CP is in the "{0x..}" form but malformed, or OpenSSL fails.
core::Result<std::string_view, Error> decrypt_segment(std::string_view segment,
                                                      const SegmentParts& parts, const Sm4Key& key,
                                                      Message& m) {
  std::string region;
  std::string_view tail;
  if (!parts.cp.empty() && parts.cp.front() == '{') {
    auto hex = parse_hex_text(parts.cp);
    if (!hex)
      return fail(Error{Reason::kBadEncryption, "CP starts with '{' but is not {0xNN,...}"});
    if (hex->bytes.size() % 16 != 0) {
      return fail(Error{Reason::kBadEncryption, "ciphertext has " +
                                                    std::to_string(hex->bytes.size()) +
                                                    " bytes, not whole 16-byte SM4 blocks"});
    }
    region = std::move(hex->bytes);
    tail = hex->tail;
  } else {
    region.assign(parts.cp);  // raw bytes: whole blocks are ciphertext, the tail is plaintext
  }
  if (!sm4_ecb_blocks(key, false, region)) {
    return fail(Error{Reason::kBadEncryption, "SM4 decryption failed (OpenSSL)"});
  }
  const std::size_t header_len = static_cast<std::size_t>(parts.cp.data() - segment.data());
  m.plaintext.clear();
  m.plaintext.insert(m.plaintext.end(), segment.data(), segment.data() + header_len);
  m.plaintext.insert(m.plaintext.end(), region.begin(), region.end());
  m.plaintext.insert(m.plaintext.end(), tail.begin(), tail.end());
  m.plaintext.insert(m.plaintext.end(), kCpClose.begin(), kCpClose.end());
  return std::string_view(m.plaintext.data(), m.plaintext.size());
}

}  // namespace

bool is_encrypted_command(int cn_code) {
  return (cn_code >= 2000 && cn_code <= 2999) || cn_code == 1014 || cn_code == 3020;
}

int version_year(Version v) {
  switch (v) {
    case Version::k2005:
      return 2005;
    case Version::k2017:
      return 2017;
    case Version::k2025:
      return 2025;
    case Version::kUnknown:
      return 0;
  }
  return 0;
}

std::optional<std::string_view> Message::request_qn() const {
  if (qn) return qn;
  return param("QN");
}

std::optional<std::string_view> Message::param(std::string_view key) const {
  for (const Param& p : params) {
    if (p.key == key) return p.value;
  }
  return std::nullopt;
}

std::optional<core::CivilTime> parse_hj212_time(std::string_view s) {
  if ((s.size() != 14 && s.size() != 17) || !all_digits(s)) return std::nullopt;
  auto num = [&](std::size_t at, std::size_t len) {
    int v = 0;
    for (std::size_t i = at; i < at + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  core::CivilTime t;
  t.year = num(0, 4);
  t.month = static_cast<std::uint8_t>(num(4, 2));
  t.day = static_cast<std::uint8_t>(num(6, 2));
  t.hour = static_cast<std::uint8_t>(num(8, 2));
  t.minute = static_cast<std::uint8_t>(num(10, 2));
  t.second = static_cast<std::uint8_t>(num(12, 2));
  t.millisecond = s.size() == 17 ? static_cast<std::uint16_t>(num(14, 3)) : 0;
  if (!core::is_valid(t)) return std::nullopt;
  return t;
}

core::Result<void, Error> decode_segment(std::string_view segment, Message& out) {
  reset(out);
  return decode_segment_reusing(segment, out);
}

core::Result<void, Error> decode_into(const RawFrame& frame, const DecodeOptions& options,
                                      Message& m) {
  reset(m);
  const auto crc_field = parse_crc_field(frame.crc_text);
  if (!crc_field) {
    return fail(
        Error{Reason::kBadFrame, "CRC field '" + shown(frame.crc_text) + "' is not 4 hex digits"});
  }
  const std::string_view segment = frame.segment;

  // HJ 212-2025 encrypted CP: the CRC covers the plaintext, so decrypt first.
  if (options.sm4_key) {
    auto parts = split_segment(segment);
    if (parts) {
      Message peek;
      if (parse_header(parts->header, peek) && peek.version == Version::k2025 &&
          is_encrypted_command(peek.cn_code)) {
        auto plain = decrypt_segment(segment, *parts, *options.sm4_key, m);
        if (!plain) return fail(plain.error());
        const bool length_ok = frame.length_matches || plain->size() == frame.declared_length ||
                               options.accept_length_mismatch;
        if (length_ok && crc_field_value(options.crc_mode, *plain) == *crc_field) {
          std::vector<char> keep = std::move(m.plaintext);
          reset(m);
          m.plaintext = std::move(keep);
          const std::string_view text(m.plaintext.data(), m.plaintext.size());
          if (auto r = decode_segment_reusing(text, m); !r) return r;
          m.encrypted = true;
          if (!frame.length_matches) m.warnings |= kWarnLengthMismatch;
          return {};
        }
        m.plaintext.clear();
        m.warnings |= kWarnPlaintextFromKeyedDevice;  // unless the plaintext checks fail too
      }
    }
  }

  const std::uint16_t computed = crc_field_value(options.crc_mode, segment);
  if (!frame.length_matches && !options.accept_length_mismatch) {
    std::string detail = "declared length " + std::to_string(frame.declared_length) +
                         " but the data segment has " + std::to_string(segment.size()) + " bytes";
    if (computed != *crc_field) detail += "; the CRC does not match either";
    return fail(Error{Reason::kBadLength, std::move(detail)});
  }
  if (computed != *crc_field) {
    return fail(Error{Reason::kBadCrc, "CRC field " + std::string(frame.crc_text) + " but the " +
                                           std::string(crc_mode_name(options.crc_mode)) +
                                           " CRC of the data segment is " + hex4(computed)});
  }
  const std::uint32_t keyed_warning = m.warnings & kWarnPlaintextFromKeyedDevice;
  if (auto r = decode_segment_reusing(segment, m); !r) return r;
  m.warnings |= keyed_warning;
  if (!frame.length_matches) m.warnings |= kWarnLengthMismatch;
  return {};
}

core::Result<Message, Error> decode(const RawFrame& frame, const DecodeOptions& options) {
  Message m;
  if (auto r = decode_into(frame, options, m); !r) return fail(r.error());
  return m;
}

}  // namespace ecomon::protocol::hj212
