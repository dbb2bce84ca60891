#include "core/non_detect.h"

#include <charconv>
#include <cmath>

namespace ecomon::core {
namespace {

std::optional<double> non_negative(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v) || v < 0) {
    return std::nullopt;
  }
  return v;
}

bool equals_ascii_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::optional<NonDetect> parse_non_detect(std::string_view text) {
  if (equals_ascii_nocase(text, "ND") || equals_ascii_nocase(text, "N.D.") || text == "未检出") {
    return NonDetect{};
  }
  if (!text.empty() && text.front() == '<') {
    if (auto dl = non_negative(text.substr(1))) return NonDetect{dl};
    return std::nullopt;
  }
  // "0.01L": the reporting convention of Chinese monitoring (检出限 + "L").
  if (text.size() >= 2 && (text.back() == 'L' || text.back() == 'l')) {
    if (auto dl = non_negative(text.substr(0, text.size() - 1))) return NonDetect{dl};
  }
  return std::nullopt;
}

}  // namespace ecomon::core
