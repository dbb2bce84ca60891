#include "storage/store.h"

#include <charconv>

namespace ecomon::storage {

namespace {

// Indexed by the enum's value; the names are stable: the API, the CLI and files use them.
constexpr std::string_view kKindNames[] = {"rtd", "minute", "hour", "day", "other"};

}  // namespace

std::string_view kind_name(DataKind k) {
  const auto i = static_cast<std::size_t>(k);
  return i < std::size(kKindNames) ? kKindNames[i] : std::string_view("other");
}

std::optional<DataKind> parse_kind(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kKindNames); ++i) {
    if (kKindNames[i] == name) return static_cast<DataKind>(i);
  }
  return std::nullopt;
}

namespace {
std::optional<double> parse_positive(std::string_view s) {
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !(v >= 0)) return std::nullopt;
  return v;
}
}  // namespace

bool is_below_detection(std::string_view t) {
  if (t == "ND" || t == "nd" || t == "N.D." || t == "未检出" || t == "<DL") return true;
  return detection_limit_of(t).has_value();
}

std::optional<double> detection_limit_of(std::string_view t) {
  if (t.size() >= 2 && t.front() == '<') return parse_positive(t.substr(1));
  if (t.size() >= 2 && (t.back() == 'L' || t.back() == 'l')) {
    return parse_positive(t.substr(0, t.size() - 1));
  }
  return std::nullopt;
}

}  // namespace ecomon::storage
