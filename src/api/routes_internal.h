// Shared pieces of the API's request handlers (routes.cpp, registry_edits.cpp). Internal.
#pragma once

#include <string>
#include <string_view>

#include "api/http_api.h"

namespace ecomon::api {

namespace detail {
// {"error":{"code","message"}} with a status.
Response error(int status, std::string_view code, std::string_view message);
// A site as the API shows it.
std::string site_json(const registry::Site& site);
}  // namespace detail

Response put_site(const ApiSources& s, const std::string& code, const std::string& body);
Response put_device(const ApiSources& s, const std::string& mn, const std::string& body);
Response post_assignment(const ApiSources& s, const std::string& body);

}  // namespace ecomon::api
