// Scopes: which part of the network a user or API key may see (issue #7). A role grants actions;
// the scopes limit the data they reach. A principal holds one or more scopes; a site is in reach
// when any of them contains it.
//
//   city                  the whole network (every site)
//   city:510800           the sites of one city (by administrative code; for a province)
//   county:510802         the sites of one county or district
//   department:NAME       the sites owned by one department (Site::department)
//   enterprise:CODE       the sites of one enterprise: its outlets (registry outlets.csv) and the
//                         sites that one of its devices was assigned to
//   site:2523A            one site (site:A,B,C is three scopes)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "registry/registry.h"

namespace ecomon::auth {

struct Scope {
  std::string kind;   // city | county | department | enterprise | site
  std::string value;  // empty only for the whole network ("city")
  bool operator==(const Scope&) const = default;
};

// Parses "county:510802", "site:2523A,2524A" (several), "city". Error reason: bad_scope.
core::Result<std::vector<Scope>> parse_scopes(std::string_view text);
// "county:510802;site:2523A" — the stored form; parse_scope_list reads it back.
std::string format_scopes(const std::vector<Scope>& scopes);
core::Result<std::vector<Scope>> parse_scope_list(std::string_view stored);

bool unrestricted(const std::vector<Scope>& scopes);
bool site_in_scope(const std::vector<Scope>& scopes, const registry::Registry& reg,
                   const registry::Site& site);

}  // namespace ecomon::auth
