// Request bodies of the API (Boost.JSON kept out of routes_internal.h). Internal.
#pragma once

#include <boost/json.hpp>
#include <string>

#include "core/result.h"

namespace ecomon::api::detail {

// The body as a JSON object; `allow_empty`: an empty (or blank) body is an empty object.
// Error reason: bad_request, naming what is wrong.
core::Result<boost::json::object> parse_json_object(const std::string& body,
                                                    bool allow_empty = false);

}  // namespace ecomon::api::detail
