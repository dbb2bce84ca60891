#include "auth/scope.h"

#include <algorithm>

namespace ecomon::auth {
namespace {

bool known_kind(std::string_view k) {
  return k == "city" || k == "county" || k == "department" || k == "enterprise" || k == "site";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

core::Result<std::vector<Scope>> parse_scopes(std::string_view text) {
  text = trim(text);
  const std::size_t colon = text.find(':');
  const std::string kind(trim(text.substr(0, colon)));
  if (!known_kind(kind)) {
    return core::fail(core::Error{
        "bad_scope", "scope '" + std::string(text) +
                         "': the kind must be city, county, department, enterprise or site"});
  }
  std::vector<Scope> out;
  if (colon == std::string_view::npos) {
    if (kind != "city") {
      return core::fail(
          core::Error{"bad_scope", "scope '" + kind + "' needs a value (" + kind + ":...)"});
    }
    out.push_back(Scope{kind, ""});
    return out;
  }
  std::string_view values = text.substr(colon + 1);
  // Only a site set may list several values; a department name may contain a comma.
  if (kind != "site") {
    const std::string v(trim(values));
    if (v.empty()) return core::fail(core::Error{"bad_scope", "scope '" + kind + ":' is empty"});
    if (v.find(';') != std::string::npos) {
      return core::fail(core::Error{"bad_scope", "a scope value may not contain ';'"});
    }
    out.push_back(Scope{kind, v});
    return out;
  }
  while (true) {
    const std::size_t comma = values.find(',');
    const std::string v(trim(values.substr(0, comma)));
    if (v.empty() || v.find(';') != std::string::npos) {
      return core::fail(core::Error{"bad_scope", "scope 'site:' needs site codes: site:A,B"});
    }
    out.push_back(Scope{"site", v});
    if (comma == std::string_view::npos) break;
    values.remove_prefix(comma + 1);
  }
  return out;
}

std::string format_scopes(const std::vector<Scope>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ';';
    out += s.kind;
    if (!s.value.empty()) out += ':' + s.value;
  }
  return out;
}

core::Result<std::vector<Scope>> parse_scope_list(std::string_view stored) {
  std::vector<Scope> out;
  while (!stored.empty()) {
    const std::size_t semi = stored.find(';');
    auto one = parse_scopes(stored.substr(0, semi));
    if (!one) return core::fail(one.error());
    out.insert(out.end(), one->begin(), one->end());
    if (semi == std::string_view::npos) break;
    stored.remove_prefix(semi + 1);
  }
  return out;
}

bool unrestricted(const std::vector<Scope>& scopes) {
  return std::any_of(scopes.begin(), scopes.end(),
                     [](const Scope& s) { return s.kind == "city" && s.value.empty(); });
}

bool site_in_scope(const std::vector<Scope>& scopes, const registry::Registry& reg,
                   const registry::Site& site) {
  for (const auto& s : scopes) {
    if (s.kind == "city") {
      if (s.value.empty() || site.place.city_code == s.value) return true;
    } else if (s.kind == "county") {
      if (site.place.county_code == s.value) return true;
    } else if (s.kind == "department") {
      if (site.department == s.value) return true;
    } else if (s.kind == "site") {
      if (site.code == s.value) return true;
    } else if (s.kind == "enterprise") {
      // Its outlets (outlets.csv), and any site one of its devices was assigned to.
      if (const registry::Outlet* o = reg.find_outlet(site.code); o && o->enterprise == s.value) {
        return true;
      }
      for (const auto& a : reg.assignments()) {
        if (a.site != site.code) continue;
        const registry::Device* d = reg.find_device(a.mn);
        if (d && d->enterprise == s.value) return true;
      }
    }
  }
  return false;
}

}  // namespace ecomon::auth
