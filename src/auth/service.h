// Identities, sessions, API keys and the hash-chained audit trail (issue #7), kept in the
// store's SQLite file (tables auth_users, auth_sessions, auth_api_keys, audit_log) through this
// service's own connection, so that the command line (`ecomon user add`, `apikey create`,
// `audit verify`) works on the same data directory while `ecomon serve` runs.
//
// - Passwords: argon2id (libsodium crypto_pwhash_str, its "interactive" cost); never stored or
//   logged in clear. Policy: at least 10 characters, three of lower case / upper case / digits /
//   other characters, not containing the user name.
// - Session tokens ("es_…", 256 random bits) and API keys ("ek_<id>_…") are stored as SHA-256
//   hashes: a copy of the database does not hold a usable credential. Sessions end after
//   `session_ttl_ms` (8 h), after `session_idle_ms` without use (30 min), at logout, or when the
//   user is disabled; API keys when revoked.
// - Lockout: after `lockout_after` consecutive failed logins an account is locked for
//   `lockout_base_ms`, doubling with every further failure up to `lockout_max_ms`; a login
//   during the lock is refused (`locked`, with the time to wait) without looking at the password.
//   A successful login resets the count.
// - Audit: every entry carries the SHA-256 of its own content and of the previous entry's hash;
//   verify_audit() names the first entry whose content or link does not match. Entries appended
//   by several processes are serialised by the database's write lock. The newest entry's seq and
//   hash are also written to "<db>.audit-head" after each append, so that removing the newest
//   entries (which leaves a shorter chain that still links) is noticed as well.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/roles.h"
#include "auth/scope.h"
#include "core/clock.h"
#include "core/result.h"

namespace ecomon::auth {

struct Principal {
  std::string name;  // user name; for an API key "apikey:<id>"
  std::string role;
  std::vector<Scope> scopes;
  bool api_key = false;
  std::int64_t expires_ms = 0;  // sessions; 0 for API keys
  bool allows(Action a) const { return role_allows(role, a); }
};

struct AuthOptions {
  std::int64_t session_ttl_ms = 8LL * 3600 * 1000;
  std::int64_t session_idle_ms = 30LL * 60 * 1000;  // unused this long → ended; 0: no idle limit
  int lockout_after = 5;
  std::int64_t lockout_base_ms = 60 * 1000;
  std::int64_t lockout_max_ms = 3600 * 1000;
  // Argon2id cost: libsodium's "interactive" limits unless set (tests lower them).
  std::uint64_t pwhash_opslimit = 0;
  std::size_t pwhash_memlimit = 0;
  int busy_timeout_ms = 10000;
};

struct UserInfo {
  std::string name;
  std::string role;
  std::vector<Scope> scopes;
  std::int64_t created_ms = 0;
  bool disabled = false;
  int failed_logins = 0;
  std::int64_t locked_until_ms = 0;
};

struct ApiKeyInfo {
  std::string id;
  std::string label;
  std::string role;
  std::vector<Scope> scopes;
  std::int64_t created_ms = 0;
  std::string created_by;
  std::optional<std::int64_t> revoked_ms;
};

struct LoginOk {
  std::string token;
  Principal principal;
};

struct AuditEntry {
  std::int64_t seq = 0;
  std::int64_t at_ms = 0;
  std::string actor;   // user name, apikey:<id>, "cli" or "system"
  std::string action;  // login, login_failed, user.add, site.edit, ...
  std::string target;  // what was acted on
  std::string detail;  // JSON or text: what changed
  std::string client;  // peer address, or "cli"
  std::string prev_hash;
  std::string hash;
};

struct AuditQuery {
  std::int64_t from_ms = INT64_MIN;
  std::int64_t to_ms = INT64_MAX;
  std::string actor;   // empty: any
  std::string action;  // empty: any; "user." matches a prefix ending in '.'
  std::size_t limit = 1000;
  bool newest_first = true;
};

struct AuditVerify {
  std::int64_t entries = 0;
  std::optional<std::int64_t> first_broken;  // seq of the first entry that does not verify
  std::string reason;
  bool head_checked = false;  // the head file was there and compared
};

// Password policy: nullopt when acceptable, otherwise why not.
std::optional<std::string> password_problem(std::string_view name, std::string_view password);
// User names: 1-64 bytes, letters, digits and . _ @ - (also UTF-8 letters), no spaces.
std::optional<std::string> user_name_problem(std::string_view name);

class AuthService {
 public:
  // Opens (and creates the tables in) the SQLite database at `path`, which must exist (the
  // store creates it). Errors: cannot_open, db_error, busy.
  static core::Result<std::unique_ptr<AuthService>> open(const std::string& path,
                                                         const core::Clock& clock,
                                                         AuthOptions options = {});
  ~AuthService();
  AuthService(const AuthService&) = delete;
  AuthService& operator=(const AuthService&) = delete;

  // Errors: bad_name, bad_role, bad_scope, weak_password, exists. Audited.
  core::Result<void> add_user(const std::string& name, const std::string& role,
                              const std::vector<Scope>& scopes, const std::string& password,
                              const std::string& actor, const std::string& client);
  core::Result<void> set_password(const std::string& name, const std::string& password,
                                  const std::string& actor, const std::string& client);
  // A user's own change: the current password must be right (bad_credentials) and the new one
  // pass the policy and differ from it (weak_password). Ends the user's other sessions; audited.
  core::Result<void> change_own_password(const std::string& name, const std::string& current,
                                         const std::string& next, const std::string& client);
  // Disabling ends the user's sessions. Errors: not_found.
  core::Result<void> set_disabled(const std::string& name, bool disabled, const std::string& actor,
                                  const std::string& client);
  core::Result<std::vector<UserInfo>> users();

  // Returns the key's record and the key itself (shown once; only its hash is kept).
  core::Result<std::pair<ApiKeyInfo, std::string>> create_api_key(const std::string& label,
                                                                  const std::string& role,
                                                                  const std::vector<Scope>& scopes,
                                                                  const std::string& actor,
                                                                  const std::string& client);
  core::Result<void> revoke_api_key(const std::string& id, const std::string& actor,
                                    const std::string& client);
  core::Result<std::vector<ApiKeyInfo>> api_keys();

  // Errors: bad_credentials (unknown user, wrong password, disabled: one answer for all);
  // locked (retry_after_ms says how long). Both audited.
  core::Result<LoginOk> login(const std::string& name, const std::string& password,
                              const std::string& client, std::int64_t* retry_after_ms = nullptr);
  core::Result<void> logout(std::string_view token, const std::string& client);
  // Ends every session (after a restore: sessions of the backup's time must not come back).
  // Returns how many ended. Audited.
  core::Result<std::int64_t> end_all_sessions(const std::string& actor, const std::string& reason,
                                              const std::string& client);
  // The principal of a session token or API key; nullopt when unknown, expired or revoked.
  std::optional<Principal> authenticate(std::string_view token);

  core::Result<std::int64_t> audit(const std::string& actor, const std::string& action,
                                   const std::string& target, const std::string& detail,
                                   const std::string& client);
  core::Result<std::vector<AuditEntry>> audit_entries(const AuditQuery& query);
  core::Result<AuditVerify> verify_audit();

  class Impl;

 private:
  explicit AuthService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The entry's hash as verify_audit() recomputes it (hex SHA-256). Public for tests.
std::string audit_hash(const AuditEntry& e);

}  // namespace ecomon::auth
