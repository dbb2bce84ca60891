#include "registry/registry.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>
#include <utility>

#include "core/civil_time.h"
#include "registry/checks.h"

namespace ecomon::registry {

namespace {

// The code lists of registry.h. Kept here once; the loader reaches them through checks.h.
constexpr std::array<std::string_view, 11> kSiteKinds = {
    "ambient_air",  "surface_water", "groundwater", "drinking_water_source", "soil",
    "noise",        "radiation",     "ecology",     "polluter_waste_gas",    "polluter_wastewater",
    "micro_station"};
constexpr std::array<std::string_view, 4> kLevels = {"national", "provincial", "city", "county"};
constexpr std::array<std::string_view, 5> kAirRoles = {"urban", "control", "regional", "background",
                                                       "traffic"};
constexpr std::array<std::string_view, 3> kWaterbodies = {"river", "lake", "reservoir"};
constexpr std::array<int, 3> kVersions = {2005, 2017, 2025};
constexpr std::array<std::string_view, 3> kCrcModes = {"hj212", "modbus", "arc"};
constexpr std::array<std::string_view, 2> kSm4WireForms = {"raw", "hex_text"};
// HJ 212-2017 table 3 (PROTOCOL.md §3): MN is 24 characters; real loggers send 7 to 24.
constexpr std::size_t kMaxMnLength = 24;

template <class List, class T>
bool contains(const List& list, const T& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

template <std::size_t N>
std::string join(const std::array<std::string_view, N>& list) {
  std::string out;
  for (std::string_view item : list) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::optional<internal::Problem> check_code(std::string_view field, std::string_view value,
                                            std::string_view allowed_list, bool allowed) {
  if (value.empty() || allowed) return std::nullopt;
  return internal::Problem{std::string(field), "'" + std::string(value) + "' is not one of " +
                                                   std::string(allowed_list)};
}

bool is_division_code(std::string_view code) {
  return code.size() == 6 &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A character that would break an HJ 212 header if it were part of an MN.
bool is_mn_char(char c) {
  return c > ' ' && c < 0x7f && c != ';' && c != ',' && c != '=' && c != '&';
}

bool is_st_char(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

core::Unexpected<core::Error> edit_error(std::string reason, std::string detail) {
  return core::fail(core::Error{std::move(reason), std::move(detail)});
}

}  // namespace

namespace internal {

std::optional<Problem> check_site(const Site& site) {
  if (site.code.empty()) return Problem{"code", "is empty"};
  if (site.name.empty()) return Problem{"name", "is empty"};
  if (site.kind.empty()) return Problem{"kind", "is empty; one of " + join(kSiteKinds)};
  if (auto p = check_code("kind", site.kind, join(kSiteKinds), contains(kSiteKinds, site.kind))) {
    return p;
  }
  if (auto p = check_code("level", site.level, join(kLevels), contains(kLevels, site.level))) {
    return p;
  }
  if (auto p = check_code("air_role", site.air_role, join(kAirRoles),
                          contains(kAirRoles, site.air_role))) {
    return p;
  }
  if (!site.air_role.empty() && site.kind != "ambient_air") {
    return Problem{"air_role", "is only for ambient_air sites, this one is " + site.kind};
  }
  if (auto p = check_code("waterbody", site.waterbody, join(kWaterbodies),
                          contains(kWaterbodies, site.waterbody))) {
    return p;
  }
  if (!site.waterbody.empty() && site.kind != "surface_water" &&
      site.kind != "drinking_water_source") {
    return Problem{
        "waterbody",
        "is only for surface_water and drinking_water_source sites, this one is " + site.kind};
  }
  const std::pair<std::string_view, const std::string*> codes[] = {
      {"province_code", &site.place.province_code},
      {"city_code", &site.place.city_code},
      {"county_code", &site.place.county_code}};
  for (const auto& [field, value] : codes) {
    if (!value->empty() && !is_division_code(*value)) {
      return Problem{std::string(field), "'" + *value + "' is not a 6-digit division code"};
    }
  }
  if (site.lon.has_value() != site.lat.has_value()) {
    return Problem{site.lon ? "lat" : "lon", "is empty but the other coordinate is given"};
  }
  if (site.lon && !(std::isfinite(*site.lon) && *site.lon >= -180 && *site.lon <= 180)) {
    return Problem{"lon", "is outside -180..180 degrees"};
  }
  if (site.lat && !(std::isfinite(*site.lat) && *site.lat >= -90 && *site.lat <= 90)) {
    return Problem{"lat", "is outside -90..90 degrees"};
  }
  return std::nullopt;
}

std::optional<Problem> check_device(const Device& device) {
  if (device.mn.empty()) return Problem{"mn", "is empty"};
  if (device.mn.size() > kMaxMnLength) {
    return Problem{"mn", "'" + device.mn + "' is longer than 24 characters"};
  }
  if (!std::all_of(device.mn.begin(), device.mn.end(), is_mn_char)) {
    return Problem{"mn", "'" + device.mn +
                             "' holds a space, control character, non-ASCII character or one "
                             "of ; , = &"};
  }
  if (device.st.size() != 2 || !std::all_of(device.st.begin(), device.st.end(), is_st_char)) {
    return Problem{"st", "'" + device.st + "' is not a 2-character system code (0-9, A-Z)"};
  }
  if (!contains(kVersions, device.profile.version)) {
    return Problem{"version", "'" + std::to_string(device.profile.version) +
                                  "' is not one of 2005, 2017, 2025"};
  }
  if (auto p = check_code("crc", device.profile.crc, join(kCrcModes),
                          contains(kCrcModes, device.profile.crc))) {
    return p;
  }
  if (device.profile.crc.empty()) return Problem{"crc", "is empty; one of " + join(kCrcModes)};
  const std::string& key = device.profile.sm4_key_hex;
  if (!key.empty()) {
    if (key.size() != 32 || !std::all_of(key.begin(), key.end(), is_hex)) {
      return Problem{"sm4_key_hex", "is not 32 hex digits (a 128-bit SM4 key)"};
    }
    // Only HJ 212-2025 encrypts; a key on an older device is a mix-up of two rows.
    if (device.profile.version != 2025) {
      return Problem{"sm4_key_hex", "is set but the device speaks HJ 212-" +
                                        std::to_string(device.profile.version) +
                                        "; only 2025 encrypts"};
    }
  }
  if (!contains(kSm4WireForms, device.profile.sm4_wire_form)) {
    return Problem{"sm4_wire_form",
                   "'" + device.profile.sm4_wire_form + "' is not one of " + join(kSm4WireForms)};
  }
  if (device.interval_s <= 0) return Problem{"interval_s", "must be a positive number of seconds"};
  return std::nullopt;
}

std::optional<Problem> check_factor(const Factor& factor) {
  if (factor.code.empty()) return Problem{"code", "is empty"};
  if (factor.name_zh.empty()) return Problem{"name_zh", "is empty"};
  if (factor.decimals < 0 || factor.decimals > 9) return Problem{"decimals", "is not 0..9"};
  return std::nullopt;
}

std::optional<Problem> check_enterprise(const Enterprise& enterprise) {
  if (enterprise.code.empty()) return Problem{"code", "is empty"};
  if (enterprise.name.empty()) return Problem{"name", "is empty"};
  return std::nullopt;
}

std::optional<Problem> check_outlet(const Outlet& outlet, const Site* site) {
  if (outlet.site.empty()) return Problem{"site", "is empty"};
  if (site == nullptr) return Problem{"site", "no site '" + outlet.site + "' in sites.csv"};
  if (site->kind != "polluter_waste_gas" && site->kind != "polluter_wastewater") {
    return Problem{"site", "site " + outlet.site + " is of kind " + site->kind +
                               "; an outlet is a polluter_waste_gas or polluter_wastewater site"};
  }
  if (outlet.enterprise.empty()) return Problem{"enterprise", "is empty"};
  return std::nullopt;
}

std::optional<Problem> check_permit(const Permit& permit) {
  if (permit.outlet.empty()) return Problem{"outlet", "is empty"};
  if (permit.factor.empty()) return Problem{"factor", "is empty"};
  if (!permit.limit && !permit.annual_total_t) {
    return Problem{"limit", "a permit row needs a limit, an annual_total_t, or both"};
  }
  if (permit.limit && !(*permit.limit >= 0)) return Problem{"limit", "must be at least 0"};
  if (permit.limit && permit.unit.empty()) return Problem{"unit", "is empty (the limit's unit)"};
  if (permit.annual_total_t && !(*permit.annual_total_t >= 0)) {
    return Problem{"annual_total_t", "must be at least 0"};
  }
  if (permit.converted && !permit.reference_o2_pct) {
    return Problem{"reference_o2_pct",
                   "is required when the limit applies to the converted "
                   "concentration (converted = true)"};
  }
  if (permit.reference_o2_pct &&
      !(*permit.reference_o2_pct >= 0 && *permit.reference_o2_pct < 21)) {
    return Problem{"reference_o2_pct", "must be 0 to below 21 (% O2)"};
  }
  return std::nullopt;
}

std::optional<Problem> check_range(std::int64_t from_ms, std::int64_t until_ms) {
  if (from_ms < until_ms) return std::nullopt;
  return Problem{"until", "ends at or before it starts: " + describe_range(from_ms, until_ms)};
}

std::string describe_instant(std::int64_t ms) {
  if (ms == INT64_MIN) return "since always";
  if (ms == INT64_MAX) return "still in force";
  return core::format_beijing(ms);
}

std::string describe_range(std::int64_t from_ms, std::int64_t until_ms) {
  return "[" + describe_instant(from_ms) + ", " + describe_instant(until_ms) + ")";
}

}  // namespace internal

// Assignments and settings are kept sorted so that site_of() and setting() find a device's or a
// site's entries by binary search: they run once per received frame.
void Registry::reindex() {
  site_index_.clear();
  device_index_.clear();
  factor_index_.clear();
  for (std::size_t i = 0; i < sites_.size(); ++i) site_index_[sites_[i].code] = i;
  for (std::size_t i = 0; i < devices_.size(); ++i) device_index_[devices_[i].mn] = i;
  for (std::size_t i = 0; i < factors_.size(); ++i) factor_index_[factors_[i].code] = i;
  std::stable_sort(assignments_.begin(), assignments_.end(),
                   [](const Assignment& a, const Assignment& b) {
                     return std::tie(a.mn, a.from_ms) < std::tie(b.mn, b.from_ms);
                   });
  std::stable_sort(settings_.begin(), settings_.end(),
                   [](const SiteSetting& a, const SiteSetting& b) {
                     return std::tie(a.site, a.key, a.from_ms) < std::tie(b.site, b.key, b.from_ms);
                   });
  std::stable_sort(permits_.begin(), permits_.end(), [](const Permit& a, const Permit& b) {
    return std::tie(a.outlet, a.factor, a.from_ms) < std::tie(b.outlet, b.factor, b.from_ms);
  });
}

const Enterprise* Registry::find_enterprise(std::string_view code) const {
  for (const auto& e : enterprises_) {
    if (e.code == code) return &e;
  }
  return nullptr;
}

const Outlet* Registry::find_outlet(std::string_view site) const {
  for (const auto& o : outlets_) {
    if (o.site == site) return &o;
  }
  return nullptr;
}

const Permit* Registry::permit(std::string_view outlet, std::string_view factor,
                               std::int64_t measured_ms) const {
  auto it = std::lower_bound(
      permits_.begin(), permits_.end(), std::pair{outlet, factor},
      [](const Permit& p, const std::pair<std::string_view, std::string_view>& k) {
        return std::pair<std::string_view, std::string_view>(p.outlet, p.factor) < k;
      });
  for (; it != permits_.end() && it->outlet == outlet && it->factor == factor; ++it) {
    if (it->from_ms <= measured_ms && measured_ms < it->until_ms) return &*it;
  }
  return nullptr;
}

const Site* Registry::find_site(std::string_view code) const {
  const auto it = site_index_.find(code);
  return it == site_index_.end() ? nullptr : &sites_[it->second];
}

const Device* Registry::find_device(std::string_view mn) const {
  const auto it = device_index_.find(mn);
  return it == device_index_.end() ? nullptr : &devices_[it->second];
}

const Factor* Registry::find_factor(std::string_view code) const {
  const auto it = factor_index_.find(code);
  return it == factor_index_.end() ? nullptr : &factors_[it->second];
}

const Site* Registry::site_of(std::string_view mn, std::int64_t measured_ms) const {
  auto it = std::lower_bound(assignments_.begin(), assignments_.end(), mn,
                             [](const Assignment& a, std::string_view m) { return a.mn < m; });
  // A device has few assignments; scanning them all stays correct even if a caller filled the
  // vector with overlapping ranges by hand.
  for (; it != assignments_.end() && it->mn == mn; ++it) {
    if (it->from_ms <= measured_ms && measured_ms < it->until_ms) return find_site(it->site);
  }
  return nullptr;
}

std::optional<std::string> Registry::setting(std::string_view site, std::string_view key,
                                             std::int64_t measured_ms) const {
  auto it = std::lower_bound(
      settings_.begin(), settings_.end(), std::pair{site, key},
      [](const SiteSetting& s, const std::pair<std::string_view, std::string_view>& k) {
        return std::pair<std::string_view, std::string_view>(s.site, s.key) < k;
      });
  for (; it != settings_.end() && it->site == site && it->key == key; ++it) {
    if (it->from_ms <= measured_ms && measured_ms < it->until_ms) return it->value;
  }
  return std::nullopt;
}

// Edit errors carry these stable reasons: empty_code, bad_site, bad_device, bad_range,
// unknown_site, unknown_device, unknown_enterprise, overlapping_assignment.
core::Result<Registry> Registry::with_site(Site site) const {
  if (site.code.empty()) return edit_error("empty_code", "a site needs a code");
  if (auto p = internal::check_site(site)) {
    return edit_error("bad_site", "site " + site.code + " " + p->field + ": " + p->message);
  }
  // An outlet stays a polluter site: its permits would otherwise judge an air station.
  if (const Outlet* o = find_outlet(site.code)) {
    if (auto p = internal::check_outlet(*o, &site)) {
      return edit_error("bad_site", "site " + site.code + " is an outlet of " + o->enterprise +
                                        " (outlets.csv): " + p->message);
    }
  }
  Registry next = *this;
  if (const auto it = site_index_.find(site.code); it != site_index_.end()) {
    next.sites_[it->second] = std::move(site);
  } else {
    next.sites_.push_back(std::move(site));
  }
  next.reindex();
  return next;
}

core::Result<Registry> Registry::with_device(Device device) const {
  if (device.mn.empty()) return edit_error("empty_code", "a device needs an MN");
  if (auto p = internal::check_device(device)) {
    return edit_error("bad_device", "device " + device.mn + " " + p->field + ": " + p->message);
  }
  if (!device.enterprise.empty() &&
      std::none_of(enterprises_.begin(), enterprises_.end(),
                   [&](const Enterprise& e) { return e.code == device.enterprise; })) {
    return edit_error("unknown_enterprise",
                      "device " + device.mn + ": no enterprise " + device.enterprise);
  }
  Registry next = *this;
  if (const auto it = device_index_.find(device.mn); it != device_index_.end()) {
    next.devices_[it->second] = std::move(device);
  } else {
    next.devices_.push_back(std::move(device));
  }
  next.reindex();
  return next;
}

core::Result<Registry> Registry::with_enterprise(Enterprise enterprise) const {
  if (enterprise.code.empty()) return edit_error("empty_code", "an enterprise needs a code");
  if (auto p = internal::check_enterprise(enterprise)) {
    return edit_error("bad_enterprise",
                      "enterprise " + enterprise.code + " " + p->field + ": " + p->message);
  }
  Registry next = *this;
  auto it = std::find_if(next.enterprises_.begin(), next.enterprises_.end(),
                         [&](const Enterprise& e) { return e.code == enterprise.code; });
  if (it != next.enterprises_.end()) {
    *it = std::move(enterprise);
  } else {
    next.enterprises_.push_back(std::move(enterprise));
  }
  return next;
}

core::Result<Registry> Registry::with_outlet(Outlet outlet) const {
  if (outlet.site.empty()) return edit_error("empty_code", "an outlet needs a site code");
  const Site* site = find_site(outlet.site);
  if (site == nullptr) return edit_error("unknown_site", "no site " + outlet.site);
  if (auto p = internal::check_outlet(outlet, site)) {
    return edit_error("bad_outlet", "outlet " + outlet.site + " " + p->field + ": " + p->message);
  }
  if (find_enterprise(outlet.enterprise) == nullptr) {
    return edit_error("unknown_enterprise",
                      "outlet " + outlet.site + ": no enterprise " + outlet.enterprise);
  }
  Registry next = *this;
  auto it = std::find_if(next.outlets_.begin(), next.outlets_.end(),
                         [&](const Outlet& o) { return o.site == outlet.site; });
  if (it != next.outlets_.end()) {
    *it = std::move(outlet);
  } else {
    next.outlets_.push_back(std::move(outlet));
  }
  return next;
}

core::Result<Registry> Registry::with_permit(Permit permit) const {
  if (permit.outlet.empty()) return edit_error("empty_code", "a permit needs an outlet");
  if (find_outlet(permit.outlet) == nullptr) {
    return edit_error("unknown_outlet", "no outlet " + permit.outlet);
  }
  if (auto p = internal::check_permit(permit)) {
    return edit_error("bad_permit", "permit of " + permit.outlet + " " + permit.factor + " " +
                                        p->field + ": " + p->message);
  }
  if (auto p = internal::check_range(permit.from_ms, permit.until_ms)) {
    return edit_error("bad_range", "permit of " + permit.outlet + " " + p->message);
  }
  // The same outlet, factor and start identify a permit: giving them again edits it.
  std::optional<std::size_t> replaced;
  for (std::size_t i = 0; i < permits_.size(); ++i) {
    const Permit& other = permits_[i];
    if (other.outlet != permit.outlet || other.factor != permit.factor) continue;
    if (other.from_ms == permit.from_ms) {
      replaced = i;
      continue;
    }
    if (internal::overlaps(other.from_ms, other.until_ms, permit.from_ms, permit.until_ms)) {
      return edit_error("overlapping_permit",
                        "permit of " + permit.outlet + " " + permit.factor + " " +
                            internal::describe_range(permit.from_ms, permit.until_ms) +
                            " overlaps the one " +
                            internal::describe_range(other.from_ms, other.until_ms));
    }
  }
  Registry next = *this;
  if (replaced) {
    next.permits_[*replaced] = std::move(permit);
  } else {
    next.permits_.push_back(std::move(permit));
  }
  next.reindex();
  return next;
}

core::Result<Registry> Registry::with_assignment(Assignment assignment) const {
  if (assignment.mn.empty()) return edit_error("empty_code", "an assignment needs a device MN");
  if (assignment.site.empty()) return edit_error("empty_code", "an assignment needs a site code");
  if (auto p = internal::check_range(assignment.from_ms, assignment.until_ms)) {
    return edit_error("bad_range", "assignment of " + assignment.mn + " to " + assignment.site +
                                       " " + p->message);
  }
  if (find_device(assignment.mn) == nullptr) {
    return edit_error("unknown_device", "no device " + assignment.mn);
  }
  if (find_site(assignment.site) == nullptr) {
    return edit_error("unknown_site", "no site " + assignment.site);
  }
  // The same device and start identify an assignment: giving them again edits it (typically to
  // close it with an until when the device is swapped).
  std::optional<std::size_t> replaced;
  for (std::size_t i = 0; i < assignments_.size(); ++i) {
    const Assignment& other = assignments_[i];
    if (other.mn != assignment.mn) continue;
    if (other.from_ms == assignment.from_ms) {
      replaced = i;
      continue;
    }
    if (internal::overlaps(other.from_ms, other.until_ms, assignment.from_ms,
                           assignment.until_ms)) {
      return edit_error("overlapping_assignment",
                        "device " + assignment.mn + " " +
                            internal::describe_range(assignment.from_ms, assignment.until_ms) +
                            " overlaps its assignment to " + other.site + " " +
                            internal::describe_range(other.from_ms, other.until_ms));
    }
  }
  Registry next = *this;
  if (replaced) {
    next.assignments_[*replaced] = std::move(assignment);
  } else {
    next.assignments_.push_back(std::move(assignment));
  }
  next.reindex();
  return next;
}

Registry Registry::with_pending_device(std::string_view mn, std::string_view st,
                                       std::int64_t from_ms) const {
  // A frame without an MN names no device that an operator could ever confirm, and a known
  // device is not a commissioning one: both leave the registry as it is.
  if (mn.empty() || find_device(mn) != nullptr) return *this;
  Registry next = *this;
  Device device;
  device.mn = std::string(mn);
  device.st = std::string(st);
  device.pending = true;
  next.devices_.push_back(std::move(device));
  if (find_site(mn) == nullptr) {
    Site site;
    site.code = std::string(mn);
    site.name = "待分配设备 " + std::string(mn);
    site.kind = std::string(site_kind_for_st(st));
    site.provisional = true;
    next.sites_.push_back(std::move(site));
  }
  next.assignments_.push_back(Assignment{std::string(mn), std::string(mn), from_ms, INT64_MAX});
  next.reindex();
  return next;
}

// HJ 212-2017 table 5 (PROTOCOL.md §6.1). Choices where the table has no site kind of ours:
// 26 (seawater) is surface_water, the nearest kind ecomon evaluates; 27 (VOCs) is ambient_air,
// as the small "AQI" stations that send it are; 51/52 (process monitoring of flue gas and
// wastewater) belong to the polluter they watch. Everything else — 33–37, 41, the free A0–Z9
// range, the non-standard 80 and 101 seen in traffic — becomes micro_station: a device outside
// the table is most often a low-cost sensor, and an operator re-kinds the provisional site anyway.
std::string_view site_kind_for_st(std::string_view st) {
  static constexpr std::pair<std::string_view, std::string_view> kTable[] = {
      {"21", "surface_water"},
      {"22", "ambient_air"},
      {"23", "noise"},
      {"24", "groundwater"},
      {"25", "soil"},
      {"26", "surface_water"},
      {"27", "ambient_air"},
      {"31", "polluter_waste_gas"},
      {"32", "polluter_wastewater"},
      {"38", "radiation"},
      {"39", "polluter_waste_gas"},
      {"51", "polluter_waste_gas"},
      {"52", "polluter_wastewater"}};
  for (const auto& [code, kind] : kTable) {
    if (code == st) return kind;
  }
  return "micro_station";
}

}  // namespace ecomon::registry
