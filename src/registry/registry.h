// The model of the monitoring network: sites (monitoring points), devices (data loggers) and
// which device served which site when, factors, and site settings that change over time.
//
// Everything that changes has effective dates, so past data is judged by the settings of its time.
// A Registry is an immutable snapshot: share it as std::shared_ptr<const Registry> across threads;
// an edit makes a new snapshot (with_*()). Loaded from CSV files (load_registry).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace ecomon::registry {

// Site kinds, levels, roles and waterbody types use the codes below in files and the API.
// kind: ambient_air surface_water groundwater drinking_water_source soil noise radiation ecology
//       polluter_waste_gas polluter_wastewater micro_station
// level: national provincial city county
// air_role (ambient air only): urban 城市点, control 对照点, regional, background, traffic
// waterbody (water sites only): river lake reservoir
struct Place {
  std::string province;       // 四川省
  std::string province_code;  // 510000
  std::string city;           // 广元市
  std::string city_code;      // 510800
  std::string county;         // 利州区 (empty for city-level points)
  std::string county_code;
};

struct Site {
  std::string code;  // "2526A", a water section's code, or a device's MN for a provisional site
  std::string name;  // 中文 name
  std::string kind;
  std::string level;
  std::string air_role;
  std::string waterbody;
  std::string river;  // river or water body name for water sites (嘉陵江)
  Place place;
  std::optional<double> lon;  // WGS84 degrees
  std::optional<double> lat;
  std::string department;    // owning department
  bool provisional = false;  // created for a commissioning device (policy `accept`), not published
};

// A time-dependent site setting: designated water class ("water_class" = "II"), air area class
// ("air_area_class" = "2"), noise zone class ("noise_zone" = "4a"), control level ("control_level"
// = "国控"). Effective for data measured in [from_ms, until_ms).
struct SiteSetting {
  std::string site;
  std::string key;
  std::string value;
  std::int64_t from_ms = INT64_MIN;
  std::int64_t until_ms = INT64_MAX;
};

// How a device speaks HJ 212 (its protocol profile).
struct DeviceProfile {
  int version = 2017;                 // 2005, 2017 or 2025: the dialect of replies and commands
  std::string crc = "hj212";          // hj212 | modbus | arc
  std::string sm4_key_hex;            // HJ 212-2025 SM4 key, 32 hex digits, empty if none
  std::string sm4_wire_form = "raw";  // raw | hex_text
  bool accept_length_mismatch = false;
};

struct Device {
  std::string mn;
  std::string st;        // system code it reports with (22 air, 21 surface water, 31 flue gas...)
  std::string password;  // PW
  DeviceProfile profile;
  int interval_s = 3600;   // expected reporting interval, for gap detection and online status
  bool pending = false;    // registered by the `accept` policy, waiting for an operator
  std::string enterprise;  // enterprise code for polluter devices, empty otherwise
  std::string outlet;      // outlet code for polluter devices
};

// Device `mn` served site `site` for data measured in [from_ms, until_ms).
struct Assignment {
  std::string mn;
  std::string site;
  std::int64_t from_ms = INT64_MIN;
  std::int64_t until_ms = INT64_MAX;
};

struct Factor {
  std::string code;             // HJ 212-2017 code (a34004) or a local code
  std::string name_zh;          // 细颗粒物
  std::string name_en;          // PM2.5
  std::string unit;             // µg/m³ (ambient monitoring)
  std::string reference_state;  // gases: "298.15K,101.325kPa" (GB 3095-2012 amendment 2018)
  int decimals = 1;
  // The unit at a polluter's outlet when it differs (flue-gas SO2 and NO2 are mg/m³ in HJ 212-2017
  // table B.2, ambient SO2 and NO2 µg/m³); "" = `unit` everywhere.
  std::string emission_unit;
  // The unit of this factor's values at a site of kind `site_kind` (polluter_*: emission_unit).
  const std::string& unit_at(std::string_view site_kind) const {
    return !emission_unit.empty() && site_kind.starts_with("polluter_") ? emission_unit : unit;
  }
};

struct Enterprise {
  std::string code;  // unified social credit code or local code
  std::string name;
  std::string county;
};

// An outlet (排放口) of a key polluter: a site of kind polluter_waste_gas or polluter_wastewater
// that belongs to an enterprise. The outlet IS a registry site, so its devices are assigned to it
// like any site's and every stored value, alarm and scope check carries its code as `site`.
struct Outlet {
  std::string site;        // the site's code: the outlet's code in ecomon
  std::string enterprise;  // Enterprise::code
  std::string permit_code;  // 排放口编号 on the permit (DA001 waste gas, DW001 wastewater), or ""
};

// One permitted item (排污许可) of one factor at one outlet, for data measured in
// [from_ms, until_ms): the permitted concentration limit and/or the annual permitted total.
struct Permit {
  std::string outlet;                      // Outlet::site
  std::string factor;                      // HJ 212-2017 code (a21026, w01018)
  std::optional<double> limit;             // permitted concentration, in `unit`
  std::string unit;                        // mg/m³ (waste gas), mg/L (wastewater)
  std::string standard;                    // where the limit comes from: "GB 13223-2011 表1"
  bool converted = false;                  // limit applies to the converted concentration (折算)
  std::optional<double> reference_o2_pct;  // the reference O2 of the conversion, % (converted only)
  std::optional<double> annual_total_t;    // 许可排放量, tonnes per calendar year
  std::int64_t from_ms = INT64_MIN;
  std::int64_t until_ms = INT64_MAX;
};

class Registry {
 public:
  Registry() = default;

  const std::vector<Site>& sites() const { return sites_; }
  const std::vector<Device>& devices() const { return devices_; }
  const std::vector<Assignment>& assignments() const { return assignments_; }
  const std::vector<Factor>& factors() const { return factors_; }
  const std::vector<SiteSetting>& settings() const { return settings_; }
  const std::vector<Enterprise>& enterprises() const { return enterprises_; }
  const std::vector<Outlet>& outlets() const { return outlets_; }
  const std::vector<Permit>& permits() const { return permits_; }  // by (outlet, factor, from)

  const Site* find_site(std::string_view code) const;
  const Device* find_device(std::string_view mn) const;
  const Factor* find_factor(std::string_view code) const;
  // The site device `mn` served at `measured_ms`, if any.
  const Site* site_of(std::string_view mn, std::int64_t measured_ms) const;
  const Enterprise* find_enterprise(std::string_view code) const;
  // The outlet that site `site` is, if it is one.
  const Outlet* find_outlet(std::string_view site) const;
  // The permit of (outlet site, factor) in force for data measured at `measured_ms`, if any.
  const Permit* permit(std::string_view outlet, std::string_view factor,
                       std::int64_t measured_ms) const;
  // The value of a site setting for data measured at `measured_ms`.
  std::optional<std::string> setting(std::string_view site, std::string_view key,
                                     std::int64_t measured_ms) const;

  // Edits: a new snapshot with the change, or an error saying why it is refused (empty code,
  // unknown site or device, overlapping assignment). An entry with an existing code (an
  // assignment: the same MN and from_ms) replaces it: that is how an entry is edited.
  core::Result<Registry> with_site(Site site) const;
  core::Result<Registry> with_device(Device device) const;
  core::Result<Registry> with_assignment(Assignment assignment) const;
  // Key polluters. An enterprise with an existing code replaces it; an outlet is keyed by its
  // site (a polluter_* site; its enterprise must exist); a permit by (outlet, factor, from_ms),
  // and must not overlap another permit of the same outlet and factor. Extra reasons:
  // bad_enterprise, bad_outlet, bad_permit, unknown_outlet, overlapping_permit.
  core::Result<Registry> with_enterprise(Enterprise enterprise) const;
  core::Result<Registry> with_outlet(Outlet outlet) const;
  core::Result<Registry> with_permit(Permit permit) const;
  // A commissioning device (unknown-device policy `accept`): a pending device and a provisional
  // site whose code is its MN and whose kind follows its ST, assigned from `from_ms` on.
  Registry with_pending_device(std::string_view mn, std::string_view st,
                               std::int64_t from_ms) const;

  // For the loader.
  std::vector<Site>& mutable_sites() { return sites_; }
  std::vector<Device>& mutable_devices() { return devices_; }
  std::vector<Assignment>& mutable_assignments() { return assignments_; }
  std::vector<Factor>& mutable_factors() { return factors_; }
  std::vector<SiteSetting>& mutable_settings() { return settings_; }
  std::vector<Enterprise>& mutable_enterprises() { return enterprises_; }
  std::vector<Outlet>& mutable_outlets() { return outlets_; }
  std::vector<Permit>& mutable_permits() { return permits_; }
  // Rebuilds the lookup indexes; the loader calls it after filling the vectors.
  void reindex();

 private:
  std::vector<Site> sites_;
  std::vector<Device> devices_;
  std::vector<Assignment> assignments_;
  std::vector<Factor> factors_;
  std::vector<SiteSetting> settings_;
  std::vector<Enterprise> enterprises_;
  std::vector<Outlet> outlets_;
  std::vector<Permit> permits_;
  std::map<std::string, std::size_t, std::less<>> site_index_;
  std::map<std::string, std::size_t, std::less<>> device_index_;
  std::map<std::string, std::size_t, std::less<>> factor_index_;
};

// The site kind a device's ST implies (21 → surface_water, 22 → ambient_air, 23 → noise,
// 24 → groundwater, 25 → soil, 31/39 → polluter_waste_gas, 32 → polluter_wastewater, ...).
std::string_view site_kind_for_st(std::string_view st);

// Loads a registry directory: sites.csv, devices.csv, assignments.csv, factors.csv,
// settings.csv, enterprises.csv, outlets.csv, permits.csv (each optional except sites.csv; formats
// in config/registry/ README.md). Errors name the file, line and column.
core::Result<Registry> load_registry(const std::string& dir);

// Secrets in the files (the SM4 keys): how they are sealed on save and opened on load. The
// registry itself holds them open in memory; sealing is the caller's (auth::SecretBox), so this
// layer stays free of cryptography. `is_sealed` tells a sealed cell from a clear one (clear cells
// — the shipped config, older files — are still read).
struct SecretCodec {
  std::function<std::string(std::string_view)> seal;
  std::function<core::Result<std::string>(std::string_view)> open;
  std::function<bool(std::string_view)> is_sealed;
};
core::Result<Registry> load_registry(const std::string& dir, const SecretCodec& secrets);

// Writes `registry` into `dir` in the format load_registry() reads (each file replaced whole);
// with `secrets`, each SM4 key is written sealed.
core::Result<void> save_registry(const Registry& registry, const std::string& dir);
core::Result<void> save_registry(const Registry& registry, const std::string& dir,
                                 const SecretCodec& secrets);

}  // namespace ecomon::registry
