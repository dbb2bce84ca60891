// Checks shared by the loader (load_registry) and the edits (Registry::with_*): one place says
// what a valid site, device or factor is, so a file cannot hold what an edit would refuse.
// Internal to src/registry; not part of the contract in registry.h. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "registry/registry.h"

namespace ecomon::registry::internal {

// What is wrong and where: `field` is the member (and CSV column) name, `message` says why.
struct Problem {
  std::string field;
  std::string message;
};

std::optional<Problem> check_site(const Site& site);
std::optional<Problem> check_device(const Device& device);
std::optional<Problem> check_factor(const Factor& factor);
std::optional<Problem> check_enterprise(const Enterprise& enterprise);
// An outlet is a site of a polluter kind; a permit needs a factor, a limit or an annual total,
// and a reference O2 below 21 % when it applies to the converted concentration.
std::optional<Problem> check_outlet(const Outlet& outlet, const Site* site);
std::optional<Problem> check_permit(const Permit& permit);
// An effective range [from_ms, until_ms) must not be empty.
std::optional<Problem> check_range(std::int64_t from_ms, std::int64_t until_ms);

inline bool overlaps(std::int64_t a_from, std::int64_t a_until, std::int64_t b_from,
                     std::int64_t b_until) {
  return a_from < b_until && b_from < a_until;
}

// "2020-01-01T00:00:00+08:00" (Beijing time), "since always" for INT64_MIN, "still in force"
// for INT64_MAX: for error details.
std::string describe_instant(std::int64_t ms);
std::string describe_range(std::int64_t from_ms, std::int64_t until_ms);

}  // namespace ecomon::registry::internal
