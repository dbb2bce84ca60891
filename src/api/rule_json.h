// Alarm rules from JSON: the one parser behind POST /api/v1/rules, also used by `ecomon serve`
// for the config file's [[rules]] tables (converted to JSON), so both accept exactly the same
// members (alarm/rule.h, README "Rule kinds"). Pure apart from Boost.JSON; thread-safe.
#pragma once

#include <string>

#include "alarm/rule.h"
#include "core/result.h"

namespace ecomon::api {

// A rule from a JSON object's text. Unknown members, wrong types, an unknown kind, op,
// data_kind or severity, a missing limit where one is required → error reason bad_request with
// the member named. The rule is not yet normalised (alarm::normalise_rule does that).
core::Result<alarm::Rule> rule_from_json_text(const std::string& text);

}  // namespace ecomon::api
