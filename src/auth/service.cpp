#include "auth/service.h"

#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "storage/sqlite/sql.h"

namespace ecomon::auth {
namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS auth_users(
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  scopes TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  password_changed_ms INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS auth_sessions(
  token_hash TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  client TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS auth_api_keys(
  id TEXT PRIMARY KEY,
  key_hash TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL,
  role TEXT NOT NULL,
  scopes TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  revoked_ms INTEGER);
CREATE TABLE IF NOT EXISTS audit_log(
  seq INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL,
  client TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at_ms);
)sql";

const std::string kGenesisHash(64, '0');

using storage::sql::exec;
using Query = storage::sql::Statement;

core::Error db_error(sqlite3* db, std::string_view what) { return storage::sql::error(db, what); }

std::string hex(const unsigned char* p, std::size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> h{};
  crypto_hash_sha256(h.data(), reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return hex(h.data(), h.size());
}

std::string random_token(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  sodium_memzero(raw.data(), raw.size());
  return out;
}

// Length-prefixed fields: no field content can imitate a field boundary.
void put_field(std::string& out, std::string_view f) {
  out += std::to_string(f.size());
  out += ':';
  out += f;
  out += '\n';
}

}  // namespace

std::string audit_hash(const AuditEntry& e) {
  std::string content;
  put_field(content, e.prev_hash);
  put_field(content, std::to_string(e.seq));
  put_field(content, std::to_string(e.at_ms));
  put_field(content, e.actor);
  put_field(content, e.action);
  put_field(content, e.target);
  put_field(content, e.detail);
  put_field(content, e.client);
  return sha256_hex(content);
}

std::optional<std::string> password_problem(std::string_view name, std::string_view password) {
  if (password.size() < 10) return "a password needs at least 10 characters";
  if (password.size() > 256) return "a password may have at most 256 bytes";
  int lower = 0, upper = 0, digit = 0, other = 0;
  for (const char c : password) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "a password may not contain control characters";
    if (std::islower(u)) {
      lower = 1;
    } else if (std::isupper(u)) {
      upper = 1;
    } else if (std::isdigit(u)) {
      digit = 1;
    } else {
      other = 1;
    }
  }
  if (lower + upper + digit + other < 3) {
    return "a password needs three of: lower-case letters, upper-case letters, digits, other "
           "characters";
  }
  if (!name.empty()) {
    std::string p(password), n(name);
    auto lower_all = [](std::string& s) {
      for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    };
    lower_all(p);
    lower_all(n);
    if (p.find(n) != std::string::npos) return "a password may not contain the user name";
  }
  return std::nullopt;
}

std::optional<std::string> user_name_problem(std::string_view name) {
  if (name.empty() || name.size() > 64) return "a user name has 1 to 64 bytes";
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || std::isalnum(u) || c == '.' || c == '_' || c == '@' || c == '-') continue;
    return "a user name has letters, digits and . _ @ - only";
  }
  if (name.rfind("apikey:", 0) == 0) return "user names may not start with 'apikey:'";
  return std::nullopt;
}

class AuthService::Impl {
 public:
  Impl(const core::Clock& clock, AuthOptions options) : clock_(clock), options_(options) {}

  core::Result<void> open(const std::string& path) {
    head_path_ = path + ".audit-head";
    // Sessions, lockouts and audit entries are fsynced like acknowledged values.
    auto db = storage::sql::open_service_connection(path, options_.busy_timeout_ms);
    if (!db) return core::fail(db.error());
    db_ = std::move(*db);
    const std::string schema(kSchema);
    if (!exec(db_.get(), schema.c_str())) return core::fail(db_error(db_.get(), path + ": schema"));
    return {};
  }

  // --- helpers; the caller holds mu_ ---

  core::Result<void> begin() {
    if (!exec(db_.get(), "BEGIN IMMEDIATE")) return core::fail(db_error(db_.get(), "begin"));
    return {};
  }
  core::Result<void> commit() {
    if (!exec(db_.get(), "COMMIT")) {
      auto e = db_error(db_.get(), "commit");
      exec(db_.get(), "ROLLBACK");
      return core::fail(e);
    }
    return {};
  }
  void rollback() { exec(db_.get(), "ROLLBACK"); }

  // Appends one audit entry inside the caller's transaction.
  core::Result<std::int64_t> append_audit(AuditEntry e) {
    Query last(db_.get(), "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    const int rc = last.step();
    if (rc == SQLITE_ROW) {
      e.seq = last.integer(0) + 1;
      e.prev_hash = last.text(1);
    } else if (rc == SQLITE_DONE) {
      e.seq = 1;
      e.prev_hash = kGenesisHash;
    } else {
      return core::fail(db_error(db_.get(), "audit"));
    }
    e.hash = audit_hash(e);
    Query ins(db_.get(),
              "INSERT INTO audit_log(seq, at_ms, actor, action, target, detail, client, prev_hash, "
              "hash) VALUES(?,?,?,?,?,?,?,?,?)");
    ins.bind(e.seq).bind(e.at_ms).bind(e.actor).bind(e.action).bind(e.target).bind(e.detail);
    ins.bind(e.client).bind(e.prev_hash).bind(e.hash);
    if (ins.step() != SQLITE_DONE) return core::fail(db_error(db_.get(), "audit"));
    return e.seq;
  }

  // Runs `body` and the audit entry in one transaction: no change without its trace.
  template <typename Body>
  core::Result<void> audited(const std::string& actor, const std::string& action,
                             const std::string& target, const std::string& detail,
                             const std::string& client, Body body) {
    std::lock_guard lock(mu_);
    if (auto r = begin(); !r.ok()) return r;
    if (auto r = body(); !r.ok()) {
      rollback();
      return r;
    }
    AuditEntry e;
    e.at_ms = clock_.now_ms();
    e.actor = actor;
    e.action = action;
    e.target = target;
    e.detail = detail;
    e.client = client;
    if (auto a = append_audit(std::move(e)); !a.ok()) {
      rollback();
      return core::fail(a.error());
    }
    if (auto c = commit(); !c.ok()) return c;
    write_head();
    return {};
  }

  core::Result<std::string> hash_password(const std::string& password) {
    std::array<char, crypto_pwhash_STRBYTES> out{};
    const auto ops =
        options_.pwhash_opslimit ? options_.pwhash_opslimit : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    const auto mem =
        options_.pwhash_memlimit ? options_.pwhash_memlimit : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), ops, mem,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
      return core::fail(core::Error{"out_of_memory", "password hashing failed (memory)"});
    }
    return std::string(out.data());
  }

  bool verify_password(const std::string& hash, const std::string& password) {
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  }

  // A hash to verify against when the user does not exist, so that the answer takes as long.
  const std::string& dummy_hash() {
    std::call_once(dummy_once_, [&] {
      auto h = hash_password(random_token(24));
      dummy_ = h ? *h : std::string();
    });
    return dummy_;
  }

  // The audit head file: "<seq> <hash>" of the newest entry, written (atomically, fsynced) after
  // each commit that appended one. verify_audit() checks the chain reaches it, so removing the
  // newest entries is noticed too. Never lowered by this process; a racing process may leave an
  // older head, which only weakens the check, never fails it.
  void write_head() {
    Query last(db_.get(), "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    if (last.step() != SQLITE_ROW) return;
    const std::int64_t seq = last.integer(0);
    if (auto head = read_head(); head && head->first >= seq) return;
    const std::string text = std::to_string(seq) + " " + last.text(1) + "\n";
    const std::string tmp = head_path_ + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (ok) ::rename(tmp.c_str(), head_path_.c_str());
  }
  std::optional<std::pair<std::int64_t, std::string>> read_head() const {
    std::FILE* f = std::fopen(head_path_.c_str(), "r");
    if (!f) return std::nullopt;
    long long seq = 0;
    char hash[65] = {};
    const int n = std::fscanf(f, "%lld %64s", &seq, hash);
    std::fclose(f);
    if (n != 2) return std::make_pair(std::int64_t{-1}, std::string());  // damaged
    return std::make_pair(static_cast<std::int64_t>(seq), std::string(hash));
  }
  std::string head_path_;

  const core::Clock& clock_;
  AuthOptions options_;
  storage::sql::Connection db_;
  std::mutex mu_;
  std::unordered_map<std::string, std::int64_t> last_used_;  // session token hash → last use
  std::once_flag dummy_once_;
  std::string dummy_;
};

AuthService::AuthService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AuthService::~AuthService() = default;

core::Result<std::unique_ptr<AuthService>> AuthService::open(const std::string& path,
                                                             const core::Clock& clock,
                                                             AuthOptions options) {
  if (sodium_init() < 0) {
    return core::fail(core::Error{"crypto_unavailable", "libsodium could not be initialised"});
  }
  auto impl = std::make_unique<Impl>(clock, options);
  if (auto r = impl->open(path); !r.ok()) return core::fail(r.error());
  return std::unique_ptr<AuthService>(new AuthService(std::move(impl)));
}

core::Result<void> AuthService::add_user(const std::string& name, const std::string& role,
                                         const std::vector<Scope>& scopes,
                                         const std::string& password, const std::string& actor,
                                         const std::string& client) {
  if (auto p = user_name_problem(name)) return core::fail(core::Error{"bad_name", *p});
  if (!role_known(role)) {
    return core::fail(core::Error{"bad_role", "unknown role '" + role + "'"});
  }
  if (scopes.empty()) return core::fail(core::Error{"bad_scope", "a user needs a scope"});
  if (role == "enterprise" && std::any_of(scopes.begin(), scopes.end(),
                                          [](const Scope& s) { return s.kind != "enterprise"; })) {
    return core::fail(
        core::Error{"bad_scope", "an enterprise user's scope is enterprise:CODE only"});
  }
  if (auto p = password_problem(name, password)) {
    return core::fail(core::Error{"weak_password", *p});
  }
  auto hash = impl_->hash_password(password);
  if (!hash) return core::fail(hash.error());
  const std::string stored_scopes = format_scopes(scopes);
  const std::int64_t now = impl_->clock_.now_ms();
  return impl_->audited(
      actor, "user.add", name, "role=" + role + " scope=" + stored_scopes, client,
      [&]() -> core::Result<void> {
        Query q(impl_->db_.get(),
                "INSERT INTO auth_users(name, role, scopes, password_hash, "
                "created_ms, password_changed_ms) VALUES(?,?,?,?,?,?) "
                "ON CONFLICT(name) DO NOTHING");
        q.bind(name).bind(role).bind(stored_scopes).bind(*hash).bind(now).bind(now);
        if (q.step() != SQLITE_DONE) {
          return core::fail(db_error(impl_->db_.get(), "add user"));
        }
        if (sqlite3_changes(impl_->db_.get()) == 0) {
          return core::fail(core::Error{"exists", "user '" + name + "' exists already"});
        }
        return {};
      });
}

core::Result<void> AuthService::set_password(const std::string& name, const std::string& password,
                                             const std::string& actor, const std::string& client) {
  if (auto p = password_problem(name, password)) {
    return core::fail(core::Error{"weak_password", *p});
  }
  auto hash = impl_->hash_password(password);
  if (!hash) return core::fail(hash.error());
  const std::int64_t now = impl_->clock_.now_ms();
  return impl_->audited(actor, "user.password", name, "", client, [&]() -> core::Result<void> {
    Query q(impl_->db_.get(),
            "UPDATE auth_users SET password_hash=?, password_changed_ms=?, failed_logins=0, "
            "locked_until_ms=0 WHERE name=?");
    q.bind(*hash).bind(now).bind(name);
    if (q.step() != SQLITE_DONE) return core::fail(db_error(impl_->db_.get(), "set password"));
    if (sqlite3_changes(impl_->db_.get()) == 0) {
      return core::fail(core::Error{"not_found", "no user '" + name + "'"});
    }
    Query end(impl_->db_.get(), "DELETE FROM auth_sessions WHERE user=?");
    end.bind(name);
    if (end.step() != SQLITE_DONE) return core::fail(db_error(impl_->db_.get(), "sessions"));
    return {};
  });
}

core::Result<void> AuthService::change_own_password(const std::string& name,
                                                    const std::string& current,
                                                    const std::string& next,
                                                    const std::string& client) {
  std::string hash;
  {
    std::lock_guard lock(impl_->mu_);
    Query q(impl_->db_.get(), "SELECT password_hash FROM auth_users WHERE name=? AND disabled=0");
    q.bind(name);
    if (q.step() != SQLITE_ROW) {
      return core::fail(core::Error{"bad_credentials", "the current password is wrong"});
    }
    hash = q.text(0);
  }
  if (!impl_->verify_password(hash, current)) {
    (void)audit(name, "user.password_failed", name, "wrong current password", client);
    return core::fail(core::Error{"bad_credentials", "the current password is wrong"});
  }
  if (next == current) {
    return core::fail(core::Error{"weak_password", "the new password must differ from the old"});
  }
  return set_password(name, next, name, client);
}

core::Result<void> AuthService::set_disabled(const std::string& name, bool disabled,
                                             const std::string& actor, const std::string& client) {
  return impl_->audited(actor, disabled ? "user.disable" : "user.enable", name, "", client,
                        [&]() -> core::Result<void> {
                          Query q(impl_->db_.get(),
                                  "UPDATE auth_users SET disabled=? WHERE name=?");
                          q.bind(std::int64_t{disabled ? 1 : 0}).bind(name);
                          if (q.step() != SQLITE_DONE)
                            return core::fail(db_error(impl_->db_.get(), "disable"));
                          if (sqlite3_changes(impl_->db_.get()) == 0) {
                            return core::fail(core::Error{"not_found", "no user '" + name + "'"});
                          }
                          if (disabled) {
                            Query end(impl_->db_.get(), "DELETE FROM auth_sessions WHERE user=?");
                            end.bind(name);
                            if (end.step() != SQLITE_DONE)
                              return core::fail(db_error(impl_->db_.get(), "sessions"));
                          }
                          return {};
                        });
}

core::Result<std::vector<UserInfo>> AuthService::users() {
  std::lock_guard lock(impl_->mu_);
  Query q(impl_->db_.get(),
          "SELECT name, role, scopes, created_ms, disabled, failed_logins, locked_until_ms FROM "
          "auth_users ORDER BY name");
  std::vector<UserInfo> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    UserInfo u;
    u.name = q.text(0);
    u.role = q.text(1);
    if (auto s = parse_scope_list(q.text(2))) u.scopes = std::move(*s);
    u.created_ms = q.integer(3);
    u.disabled = q.integer(4) != 0;
    u.failed_logins = static_cast<int>(q.integer(5));
    u.locked_until_ms = q.integer(6);
    out.push_back(std::move(u));
  }
  if (rc != SQLITE_DONE) return core::fail(db_error(impl_->db_.get(), "users"));
  return out;
}

core::Result<std::pair<ApiKeyInfo, std::string>> AuthService::create_api_key(
    const std::string& label, const std::string& role, const std::vector<Scope>& scopes,
    const std::string& actor, const std::string& client) {
  if (!role_known(role)) {
    return core::fail(core::Error{"bad_role", "unknown role '" + role + "'"});
  }
  if (scopes.empty()) return core::fail(core::Error{"bad_scope", "an API key needs a scope"});
  if (label.size() > 200) return core::fail(core::Error{"bad_request", "label too long"});
  ApiKeyInfo info;
  std::array<unsigned char, 6> id_raw{};
  randombytes_buf(id_raw.data(), id_raw.size());
  info.id = hex(id_raw.data(), id_raw.size());
  info.label = label;
  info.role = role;
  info.scopes = scopes;
  info.created_ms = impl_->clock_.now_ms();
  info.created_by = actor;
  std::string key = "ek_" + info.id + "_" + random_token(32);
  const std::string key_hash = sha256_hex(key);
  auto r = impl_->audited(
      actor, "apikey.create", info.id,
      "role=" + role + " scope=" + format_scopes(scopes) + (label.empty() ? "" : " label=" + label),
      client, [&]() -> core::Result<void> {
        Query q(impl_->db_.get(),
                "INSERT INTO auth_api_keys(id, key_hash, label, role, scopes, created_ms, "
                "created_by) VALUES(?,?,?,?,?,?,?)");
        q.bind(info.id).bind(key_hash).bind(label).bind(role).bind(format_scopes(scopes));
        q.bind(info.created_ms).bind(actor);
        if (q.step() != SQLITE_DONE) return core::fail(db_error(impl_->db_.get(), "api key"));
        return {};
      });
  if (!r) return core::fail(r.error());
  return std::make_pair(std::move(info), std::move(key));
}

core::Result<void> AuthService::revoke_api_key(const std::string& id, const std::string& actor,
                                               const std::string& client) {
  const std::int64_t now = impl_->clock_.now_ms();
  return impl_->audited(actor, "apikey.revoke", id, "", client, [&]() -> core::Result<void> {
    Query q(impl_->db_.get(),
            "UPDATE auth_api_keys SET revoked_ms=? WHERE id=? AND revoked_ms IS NULL");
    q.bind(now).bind(id);
    if (q.step() != SQLITE_DONE) return core::fail(db_error(impl_->db_.get(), "revoke"));
    if (sqlite3_changes(impl_->db_.get()) == 0) {
      return core::fail(core::Error{"not_found", "no active API key '" + id + "'"});
    }
    return {};
  });
}

core::Result<std::vector<ApiKeyInfo>> AuthService::api_keys() {
  std::lock_guard lock(impl_->mu_);
  Query q(impl_->db_.get(),
          "SELECT id, label, role, scopes, created_ms, created_by, revoked_ms FROM auth_api_keys "
          "ORDER BY created_ms, id");
  std::vector<ApiKeyInfo> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    ApiKeyInfo k;
    k.id = q.text(0);
    k.label = q.text(1);
    k.role = q.text(2);
    if (auto s = parse_scope_list(q.text(3))) k.scopes = std::move(*s);
    k.created_ms = q.integer(4);
    k.created_by = q.text(5);
    if (!q.is_null(6)) k.revoked_ms = q.integer(6);
    out.push_back(std::move(k));
  }
  if (rc != SQLITE_DONE) return core::fail(db_error(impl_->db_.get(), "api keys"));
  return out;
}

core::Result<LoginOk> AuthService::login(const std::string& name, const std::string& password,
                                         const std::string& client, std::int64_t* retry_after_ms) {
  auto& I = *impl_;
  const std::int64_t now = I.clock_.now_ms();
  struct Row {
    std::string role, scopes, hash;
    bool disabled = false;
    std::int64_t locked_until = 0;
  };
  std::optional<Row> row;
  {
    std::lock_guard lock(I.mu_);
    Query q(I.db_.get(),
            "SELECT role, scopes, password_hash, disabled, locked_until_ms FROM auth_users WHERE "
            "name=?");
    q.bind(name);
    const int rc = q.step();
    if (rc == SQLITE_ROW) {
      row = Row{q.text(0), q.text(1), q.text(2), q.integer(3) != 0, q.integer(4)};
    } else if (rc != SQLITE_DONE) {
      return core::fail(db_error(I.db_.get(), "login"));
    }
  }
  const std::string target = user_name_problem(name) ? std::string("(invalid name)") : name;
  if (row && row->locked_until > now) {
    if (retry_after_ms) *retry_after_ms = row->locked_until - now;
    auto a =
        I.audited(target, "login.locked", target, "", client, [] { return core::Result<void>{}; });
    (void)a;
    return core::fail(
        core::Error{"locked", "too many failed logins; try again in " +
                                  std::to_string((row->locked_until - now + 999) / 1000) + " s"});
  }
  // Verify outside the lock: argon2id takes tens of milliseconds by design.
  const bool good = row ? I.verify_password(row->hash, password)
                        : (I.verify_password(I.dummy_hash(), password), false);
  if (!good || row->disabled) {
    std::lock_guard lock(I.mu_);
    if (auto r = I.begin(); !r.ok()) return core::fail(r.error());
    std::string detail;
    if (row && !good) {
      Query up(I.db_.get(),
               "UPDATE auth_users SET failed_logins=failed_logins+1 WHERE name=? RETURNING "
               "failed_logins");
      up.bind(name);
      if (up.step() != SQLITE_ROW) {
        auto e = db_error(I.db_.get(), "login");
        I.rollback();
        return core::fail(e);
      }
      const std::int64_t failed = up.integer(0);
      detail = "failed_logins=" + std::to_string(failed);
      if (failed >= I.options_.lockout_after) {
        const std::int64_t extra = std::min<std::int64_t>(failed - I.options_.lockout_after, 20);
        const std::int64_t lock_ms =
            std::min(I.options_.lockout_base_ms << extra, I.options_.lockout_max_ms);
        Query lk(I.db_.get(), "UPDATE auth_users SET locked_until_ms=? WHERE name=?");
        lk.bind(now + lock_ms).bind(name);
        lk.step();
        detail += " locked_for_ms=" + std::to_string(lock_ms);
      }
    } else if (row) {
      detail = "disabled";
    } else {
      detail = "unknown user";
    }
    AuditEntry e{0, now, target, "login.failed", target, detail, client, "", ""};
    if (auto a = I.append_audit(std::move(e)); !a.ok()) {
      I.rollback();
      return core::fail(a.error());
    }
    if (auto c = I.commit(); !c.ok()) return core::fail(c.error());
    I.write_head();
    return core::fail(core::Error{"bad_credentials", "wrong user name or password"});
  }
  auto scopes = parse_scope_list(row->scopes);
  if (!scopes) return core::fail(scopes.error());
  LoginOk ok;
  ok.token = "es_" + random_token(32);
  ok.principal =
      Principal{name, row->role, std::move(*scopes), false, now + I.options_.session_ttl_ms};
  const std::string token_hash = sha256_hex(ok.token);
  auto r = I.audited(name, "login", name, "", client, [&]() -> core::Result<void> {
    Query up(I.db_.get(), "UPDATE auth_users SET failed_logins=0, locked_until_ms=0 WHERE name=?");
    up.bind(name);
    if (up.step() != SQLITE_DONE) return core::fail(db_error(I.db_.get(), "login"));
    // Forget the idle clocks of sessions that cannot be alive any more.
    std::erase_if(I.last_used_,
                  [&](const auto& e) { return now - e.second > I.options_.session_ttl_ms; });
    Query purge(I.db_.get(), "DELETE FROM auth_sessions WHERE expires_ms<=?");
    purge.bind(now);
    purge.step();
    Query ins(I.db_.get(),
              "INSERT INTO auth_sessions(token_hash, user, created_ms, expires_ms, client) "
              "VALUES(?,?,?,?,?)");
    ins.bind(token_hash).bind(name).bind(now).bind(ok.principal.expires_ms).bind(client);
    if (ins.step() != SQLITE_DONE) return core::fail(db_error(I.db_.get(), "session"));
    return {};
  });
  if (!r) return core::fail(r.error());
  return ok;
}

core::Result<void> AuthService::logout(std::string_view token, const std::string& client) {
  auto who = authenticate(token);
  if (!who || who->api_key) {
    return core::fail(core::Error{"not_found", "no such session"});
  }
  const std::string token_hash = sha256_hex(token);
  return impl_->audited(who->name, "logout", who->name, "", client, [&]() -> core::Result<void> {
    Query q(impl_->db_.get(), "DELETE FROM auth_sessions WHERE token_hash=?");
    q.bind(token_hash);
    if (q.step() != SQLITE_DONE) return core::fail(db_error(impl_->db_.get(), "logout"));
    return {};
  });
}

core::Result<std::int64_t> AuthService::end_all_sessions(const std::string& actor,
                                                         const std::string& reason,
                                                         const std::string& client) {
  std::int64_t ended = 0;
  auto r =
      impl_->audited(actor, "session.end_all", "*", reason, client, [&]() -> core::Result<void> {
        Query q(impl_->db_.get(), "DELETE FROM auth_sessions");
        if (q.step() != SQLITE_DONE) return core::fail(db_error(impl_->db_.get(), "sessions"));
        ended = sqlite3_changes(impl_->db_.get());
        return {};
      });
  if (!r) return core::fail(r.error());
  return ended;
}

std::optional<Principal> AuthService::authenticate(std::string_view token) {
  if (token.size() < 10 || token.size() > 200) return std::nullopt;
  const std::string token_hash = sha256_hex(token);
  std::lock_guard lock(impl_->mu_);
  if (token.rfind("ek_", 0) == 0) {
    Query q(impl_->db_.get(),
            "SELECT id, role, scopes FROM auth_api_keys WHERE key_hash=? AND revoked_ms IS NULL");
    q.bind(token_hash);
    if (q.step() != SQLITE_ROW) return std::nullopt;
    auto scopes = parse_scope_list(q.text(2));
    if (!scopes) return std::nullopt;
    return Principal{"apikey:" + q.text(0), q.text(1), std::move(*scopes), true, 0};
  }
  Query q(impl_->db_.get(),
          "SELECT u.name, u.role, u.scopes, s.expires_ms FROM auth_sessions s JOIN auth_users u "
          "ON u.name = s.user WHERE s.token_hash=? AND s.expires_ms>? AND u.disabled=0");
  const std::int64_t now = impl_->clock_.now_ms();
  q.bind(token_hash).bind(now);
  if (q.step() != SQLITE_ROW) {
    impl_->last_used_.erase(token_hash);
    return std::nullopt;
  }
  auto scopes = parse_scope_list(q.text(2));
  if (!scopes) return std::nullopt;
  Principal who{q.text(0), q.text(1), std::move(*scopes), false, q.integer(3)};
  // Idle timeout: a session unused for session_idle_ms ends (kept in memory: a restart of the
  // server gives every session a fresh idle period, never a longer absolute life).
  if (impl_->options_.session_idle_ms > 0) {
    auto [it, fresh] = impl_->last_used_.try_emplace(token_hash, now);
    if (!fresh && now - it->second > impl_->options_.session_idle_ms) {
      impl_->last_used_.erase(it);
      Query end(impl_->db_.get(), "DELETE FROM auth_sessions WHERE token_hash=?");
      end.bind(token_hash);
      end.step();
      return std::nullopt;
    }
    it->second = now;
  }
  return who;
}

core::Result<std::int64_t> AuthService::audit(const std::string& actor, const std::string& action,
                                              const std::string& target, const std::string& detail,
                                              const std::string& client) {
  std::lock_guard lock(impl_->mu_);
  if (auto r = impl_->begin(); !r.ok()) return core::fail(r.error());
  AuditEntry e{0, impl_->clock_.now_ms(), actor, action, target, detail, client, "", ""};
  auto seq = impl_->append_audit(std::move(e));
  if (!seq) {
    impl_->rollback();
    return core::fail(seq.error());
  }
  if (auto c = impl_->commit(); !c.ok()) return core::fail(c.error());
  impl_->write_head();
  return *seq;
}

core::Result<std::vector<AuditEntry>> AuthService::audit_entries(const AuditQuery& query) {
  std::lock_guard lock(impl_->mu_);
  std::string sql =
      "SELECT seq, at_ms, actor, action, target, detail, client, prev_hash, hash FROM audit_log "
      "WHERE at_ms>=? AND at_ms<?";
  if (!query.actor.empty()) sql += " AND actor=?";
  const bool prefix = !query.action.empty() && query.action.back() == '.';
  if (!query.action.empty()) sql += prefix ? " AND substr(action, 1, ?)=?" : " AND action=?";
  sql += query.newest_first ? " ORDER BY seq DESC" : " ORDER BY seq";
  sql += " LIMIT ?";
  Query q(impl_->db_.get(), sql);
  q.bind(query.from_ms).bind(query.to_ms);
  if (!query.actor.empty()) q.bind(query.actor);
  if (prefix) q.bind(static_cast<std::int64_t>(query.action.size()));
  if (!query.action.empty()) q.bind(query.action);
  q.bind(static_cast<std::int64_t>(query.limit));
  std::vector<AuditEntry> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back(AuditEntry{q.integer(0), q.integer(1), q.text(2), q.text(3), q.text(4), q.text(5),
                             q.text(6), q.text(7), q.text(8)});
  }
  if (rc != SQLITE_DONE) return core::fail(db_error(impl_->db_.get(), "audit"));
  return out;
}

core::Result<AuditVerify> AuthService::verify_audit() {
  std::lock_guard lock(impl_->mu_);
  // One read transaction: a consistent view while others append.
  if (!exec(impl_->db_.get(), "BEGIN")) return core::fail(db_error(impl_->db_.get(), "verify"));
  Query q(
      impl_->db_.get(),
      "SELECT seq, at_ms, actor, action, target, detail, client, prev_hash, hash FROM audit_log "
      "ORDER BY seq");
  AuditVerify v;
  const auto head = impl_->read_head();
  std::string hash_at_head;
  std::string expected_prev = kGenesisHash;
  std::int64_t expected_seq = 1;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    AuditEntry e{q.integer(0), q.integer(1), q.text(2), q.text(3), q.text(4),
                 q.text(5),    q.text(6),    q.text(7), q.text(8)};
    ++v.entries;
    if (e.seq != expected_seq) {
      v.first_broken = e.seq;
      v.reason = "entry " + std::to_string(e.seq) + " follows entry " +
                 std::to_string(expected_seq - 1) + ": entries are missing";
      break;
    }
    if (e.prev_hash != expected_prev) {
      v.first_broken = e.seq;
      v.reason = "entry " + std::to_string(e.seq) +
                 ": its link does not match the hash of the entry before it";
      break;
    }
    if (audit_hash(e) != e.hash) {
      v.first_broken = e.seq;
      v.reason = "entry " + std::to_string(e.seq) + ": its content does not match its hash";
      break;
    }
    expected_prev = e.hash;
    if (head && e.seq == head->first) hash_at_head = e.hash;
    ++expected_seq;
  }
  const bool failed = rc != SQLITE_ROW && rc != SQLITE_DONE;
  auto err = failed ? std::optional(db_error(impl_->db_.get(), "verify")) : std::nullopt;
  exec(impl_->db_.get(), "COMMIT");
  if (err) return core::fail(*err);
  if (!v.first_broken) {
    // The chain is whole as far as it goes; does it go as far as the head says it went?
    if (head) {
      v.head_checked = true;
      if (head->first < 0) {
        v.first_broken = v.entries + 1;
        v.reason = "the audit head file is damaged";
      } else if (head->first > v.entries) {
        v.first_broken = v.entries + 1;
        v.reason = "entries " + std::to_string(v.entries + 1) + " to " +
                   std::to_string(head->first) + " are missing (the head file says the trail " +
                   "reached entry " + std::to_string(head->first) + ")";
      } else if (head->first > 0 && head->second != hash_at_head) {
        v.first_broken = head->first;
        v.reason =
            "entry " + std::to_string(head->first) + ": its hash differs from the head file's";
      }
    }
  }
  return v;
}

}  // namespace ecomon::auth
