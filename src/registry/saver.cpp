// Writes a registry in the format load_registry() reads (config/registry/README.md), so edits
// made through the API survive a restart.
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/civil_time.h"
#include "registry/registry.h"

namespace ecomon::registry {
namespace {

std::string cell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string row(std::initializer_list<std::string> cells) {
  std::string out;
  bool first = true;
  for (const auto& c : cells) {
    if (!first) out += ',';
    out += cell(c);
    first = false;
  }
  return out + "\n";
}

std::string time_cell(std::int64_t ms) {
  if (ms == INT64_MIN || ms == INT64_MAX) return "";
  return core::format_beijing(ms);
}

std::string number_cell(const std::optional<double>& v) {
  if (!v) return "";
  char b[32];
  std::snprintf(b, sizeof b, "%.7g", *v);
  return b;
}

// The shortest text that reads back as the same double (limits and totals must round-trip).
std::string exact_cell(const std::optional<double>& v) {
  if (!v) return "";
  char b[32];
  const auto r = std::to_chars(b, b + sizeof b, *v);
  return std::string(b, r.ptr);
}

std::string flag(bool b) { return b ? "true" : "false"; }

}  // namespace

core::Result<void> save_registry(const Registry& r, const std::string& dir) {
  return save_registry(r, dir, SecretCodec{});
}

core::Result<void> save_registry(const Registry& r, const std::string& dir,
                                 const SecretCodec& secrets) {
  auto key_cell = [&](const std::string& key) {
    return key.empty() || !secrets.seal ? key : secrets.seal(key);
  };
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return core::fail(core::Error{"save_failed", dir + ": " + ec.message()});
  std::map<std::string, std::string> files;
  std::string& sites = files["sites.csv"];
  sites = row({"code", "name", "kind", "level", "air_role", "waterbody", "river", "province",
               "province_code", "city", "city_code", "county", "county_code", "lon", "lat",
               "department", "provisional"});
  for (const Site& s : r.sites()) {
    sites += row({s.code, s.name, s.kind, s.level, s.air_role, s.waterbody, s.river,
                  s.place.province, s.place.province_code, s.place.city, s.place.city_code,
                  s.place.county, s.place.county_code, number_cell(s.lon), number_cell(s.lat),
                  s.department, flag(s.provisional)});
  }
  std::string& devices = files["devices.csv"];
  devices = row({"mn", "st", "password", "version", "crc", "sm4_key_hex", "sm4_wire_form",
                 "accept_length_mismatch", "interval_s", "pending", "enterprise", "outlet"});
  for (const Device& d : r.devices()) {
    devices += row({d.mn, d.st, d.password, std::to_string(d.profile.version), d.profile.crc,
                    key_cell(d.profile.sm4_key_hex), d.profile.sm4_wire_form,
                    flag(d.profile.accept_length_mismatch), std::to_string(d.interval_s),
                    flag(d.pending), d.enterprise, d.outlet});
  }
  std::string& assignments = files["assignments.csv"];
  assignments = row({"mn", "site", "from", "until"});
  for (const Assignment& a : r.assignments()) {
    assignments += row({a.mn, a.site, time_cell(a.from_ms), time_cell(a.until_ms)});
  }
  std::string& factors = files["factors.csv"];
  factors =
      row({"code", "name_zh", "name_en", "unit", "reference_state", "decimals", "emission_unit"});
  for (const Factor& f : r.factors()) {
    factors += row({f.code, f.name_zh, f.name_en, f.unit, f.reference_state,
                    std::to_string(f.decimals), f.emission_unit});
  }
  std::string& settings = files["settings.csv"];
  settings = row({"site", "key", "value", "from", "until"});
  for (const SiteSetting& s : r.settings()) {
    settings += row({s.site, s.key, s.value, time_cell(s.from_ms), time_cell(s.until_ms)});
  }
  std::string& enterprises = files["enterprises.csv"];
  enterprises = row({"code", "name", "county"});
  for (const Enterprise& e : r.enterprises()) enterprises += row({e.code, e.name, e.county});
  std::string& outlets = files["outlets.csv"];
  outlets = row({"site", "enterprise", "permit_code"});
  for (const Outlet& o : r.outlets()) outlets += row({o.site, o.enterprise, o.permit_code});
  std::string& permits = files["permits.csv"];
  permits = row({"outlet", "factor", "limit", "unit", "standard", "converted", "reference_o2_pct",
                 "annual_total_t", "from", "until"});
  for (const Permit& p : r.permits()) {
    permits += row({p.outlet, p.factor, exact_cell(p.limit), p.unit, p.standard, flag(p.converted),
                    exact_cell(p.reference_o2_pct), exact_cell(p.annual_total_t),
                    time_cell(p.from_ms), time_cell(p.until_ms)});
  }

  // Each file is written beside its final name and renamed over it, so a crash never leaves a
  // half-written file.
  for (const auto& [name, text] : files) {
    const std::string path = dir + "/" + name;
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << text;
      out.flush();
      if (!out) return core::fail(core::Error{"save_failed", "cannot write " + tmp});
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) return core::fail(core::Error{"save_failed", path + ": " + ec.message()});
  }
  return {};
}

}  // namespace ecomon::registry
