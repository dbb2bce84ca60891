// Roles and the actions they grant (issue #7). A role grants actions; a scope (scope.h) limits
// the data an action reaches. Roles are fixed in code: the table below is the whole policy.
//
//   role        who                             actions
//   admin       administrator                   everything
//   analyst     monitoring-station analyst      read data and devices, review data, alarms, rules
//   reviewer    data reviewer (审核)            read data and devices, review and approve data
//   viewer      bureau official (read only)     read data and devices, alarms
//   enforcer    enforcement officer             read data, alarms, handle alarms
//   department  other department                read data
//   enterprise  enterprise environment manager  read data, alarms (scope: its enterprise only)
//   operator    device operator                 read data and devices, edit sites/devices
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace ecomon::auth {

enum class Action {
  kDataRead,       // sites, latest values, series
  kDeviceRead,     // devices, their status and stored records
  kRegistryWrite,  // edit sites, devices, assignments
  kDataReview,     // invalidate, correct, restore values (数据审核)
  kDataApprove,    // approve reviewed ranges as final
  kAlarmRead,
  kAlarmHandle,  // acknowledge, dispatch, handle, close alarms
  kRuleWrite,    // alarm rules
  kUserAdmin,    // users and API keys
  kAuditRead,    // the audit trail
  kMetricsRead,  // /metrics
};

std::string_view action_name(Action a);  // "data.read", ...
std::span<const std::string_view> role_names();
bool role_known(std::string_view role);
bool role_allows(std::string_view role, Action action);

}  // namespace ecomon::auth
