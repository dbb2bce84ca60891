// The notations of a result below the detection limit (未检出) in Chinese monitoring reports and
// device data: "ND", "N.D.", "未检出", "<0.01", and the limit followed by L ("0.01L"). Shared by
// the standards (evaluation treats a non-detect as class I) and the store (kept as a report, never
// as a number). Pure; thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace ecomon::core {

struct NonDetect {
  std::optional<double> detection_limit;  // absent for "ND", "未检出"
};

// nullopt when `text` is none of the notations (a plain number is not a non-detect).
std::optional<NonDetect> parse_non_detect(std::string_view text);

}  // namespace ecomon::core
