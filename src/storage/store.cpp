#include "storage/store.h"

#include "core/non_detect.h"

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

bool is_below_detection(std::string_view t) { return core::parse_non_detect(t).has_value(); }

std::optional<double> detection_limit_of(std::string_view t) {
  const auto nd = core::parse_non_detect(t);
  return nd ? nd->detection_limit : std::nullopt;
}

}  // namespace ecomon::storage
