// The HTTP API's routes as data: `ecomon routes` prints them, the tests enumerate them.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "auth/roles.h"

namespace ecomon::api {

enum class Access {
  kPublic,         // no credential
  kAuthenticated,  // any valid credential
  kAction,         // a credential whose role grants `action`
};

struct RouteInfo {
  std::string_view method;   // GET, PUT, POST, DELETE (HEAD is answered as GET)
  std::string_view pattern;  // /api/v1/sites/{code}/latest
  Access access;
  std::optional<auth::Action> action;
};

std::vector<RouteInfo> routes();

}  // namespace ecomon::api
