#include "auth/roles.h"

#include <algorithm>
#include <array>
#include <vector>

namespace ecomon::auth {
namespace {

using A = Action;

struct RoleGrant {
  std::string_view role;
  std::vector<Action> actions;
};

// The whole access policy. `admin` is handled separately: it may do everything.
const std::array<RoleGrant, 7> kGrants{{
    // NOLINT(cert-err58-cpp)
    {"analyst",
     {A::kDataRead, A::kDeviceRead, A::kDataReview, A::kAlarmRead, A::kAlarmHandle, A::kRuleWrite}},
    {"reviewer", {A::kDataRead, A::kDeviceRead, A::kDataReview, A::kDataApprove, A::kAlarmRead}},
    {"viewer", {A::kDataRead, A::kDeviceRead, A::kAlarmRead}},
    {"enforcer", {A::kDataRead, A::kAlarmRead, A::kAlarmHandle}},
    {"department", {A::kDataRead}},
    {"enterprise", {A::kDataRead, A::kAlarmRead}},
    {"operator", {A::kDataRead, A::kDeviceRead, A::kRegistryWrite, A::kMetricsRead}},
}};

constexpr std::array<std::string_view, 8> kRoles{
    "admin", "analyst", "reviewer", "viewer", "enforcer", "department", "enterprise", "operator"};

}  // namespace

std::string_view action_name(Action a) {
  switch (a) {
    case A::kDataRead:
      return "data.read";
    case A::kDeviceRead:
      return "device.read";
    case A::kRegistryWrite:
      return "registry.write";
    case A::kDataReview:
      return "data.review";
    case A::kDataApprove:
      return "data.approve";
    case A::kAlarmRead:
      return "alarm.read";
    case A::kAlarmHandle:
      return "alarm.handle";
    case A::kRuleWrite:
      return "rule.write";
    case A::kUserAdmin:
      return "user.admin";
    case A::kAuditRead:
      return "audit.read";
    case A::kMetricsRead:
      return "metrics.read";
  }
  return "unknown";
}

std::span<const std::string_view> role_names() { return kRoles; }

bool role_known(std::string_view role) {
  return std::find(kRoles.begin(), kRoles.end(), role) != kRoles.end();
}

bool role_allows(std::string_view role, Action action) {
  if (role == "admin") return true;
  for (const auto& g : kGrants) {
    if (g.role == role) {
      return std::find(g.actions.begin(), g.actions.end(), action) != g.actions.end();
    }
  }
  return false;
}

}  // namespace ecomon::auth
