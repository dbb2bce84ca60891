#include "app/admin_commands.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "api/routes.h"
#include "auth/service.h"
#include "core/civil_time.h"
#include "core/clock.h"
#include "storage/sqlite/sqlite_store.h"

namespace ecomon::app {
namespace {

core::SystemClock g_clock;

std::string iso(std::int64_t ms) { return core::format_beijing(ms); }

// The actor recorded in the audit trail for command-line changes.
std::string cli_actor() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user && *user ? user : std::to_string(::getuid()));
}

// Opens the data directory's store (creating it when new, as `serve` would) and the auth tables.
std::unique_ptr<auth::AuthService> open_auth(const std::string& cmd, const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    std::fprintf(stderr, "ecomon %s: cannot create %s: %s\n", cmd.c_str(), data_dir.c_str(),
                 ec.message().c_str());
    return nullptr;
  }
  const std::string db = data_dir + "/ecomon.db";
  {
    auto store = storage::open_sqlite_store(db);
    if (!store) {
      std::fprintf(stderr, "ecomon %s: store %s: %s\n", cmd.c_str(), db.c_str(),
                   store.error().detail.c_str());
      return nullptr;
    }
  }
  auto a = auth::AuthService::open(db, g_clock);
  if (!a) {
    std::fprintf(stderr, "ecomon %s: %s\n", cmd.c_str(), a.error().detail.c_str());
    return nullptr;
  }
  return std::move(*a);
}

bool parse_scopes(const std::string& cmd, const std::vector<std::string>& texts,
                  std::vector<auth::Scope>& out) {
  if (texts.empty()) {
    out.push_back(auth::Scope{"city", ""});
    return true;
  }
  for (const auto& t : texts) {
    auto s = auth::parse_scopes(t);
    if (!s) {
      std::fprintf(stderr, "ecomon %s: %s\n", cmd.c_str(), s.error().detail.c_str());
      return false;
    }
    out.insert(out.end(), s->begin(), s->end());
  }
  return true;
}

// Reads a password: one line from stdin (--password-stdin), or typed twice at the terminal.
bool read_password(const std::string& cmd, bool from_stdin, std::string& out) {
  if (from_stdin) {
    if (!std::getline(std::cin, out)) {
      std::fprintf(stderr, "ecomon %s: no password on stdin\n", cmd.c_str());
      return false;
    }
    if (!out.empty() && out.back() == '\r') out.pop_back();
    return true;
  }
  if (!::isatty(STDIN_FILENO)) {
    std::fprintf(stderr, "ecomon %s: stdin is not a terminal; use --password-stdin\n", cmd.c_str());
    return false;
  }
  termios old{};
  ::tcgetattr(STDIN_FILENO, &old);
  termios quiet = old;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string again;
  std::fprintf(stderr, "password: ");
  std::getline(std::cin, out);
  std::fprintf(stderr, "\nagain: ");
  std::getline(std::cin, again);
  std::fprintf(stderr, "\n");
  ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  if (out != again) {
    std::fprintf(stderr, "ecomon %s: the passwords differ\n", cmd.c_str());
    return false;
  }
  return true;
}

std::string scopes_text(const std::vector<auth::Scope>& scopes) {
  return auth::format_scopes(scopes);
}

}  // namespace

int run_user_add(const AdminOptions& o) {
  std::vector<auth::Scope> scopes;
  if (!parse_scopes("user add", o.scopes, scopes)) return 2;
  std::string password;
  if (!read_password("user add", o.password_stdin, password)) return 2;
  auto a = open_auth("user add", o.data_dir);
  if (!a) return 1;
  auto r = a->add_user(o.name, o.role, scopes, password, cli_actor(), "cli");
  if (!r) {
    std::fprintf(stderr, "ecomon user add: %s (%s)\n", r.error().detail.c_str(),
                 r.error().reason.c_str());
    return r.error().reason == "exists" ? 1 : 2;
  }
  std::fprintf(stderr, "ecomon user add: user '%s' (%s, %s) added\n", o.name.c_str(),
               o.role.c_str(), scopes_text(scopes).c_str());
  return 0;
}

int run_user_list(const AdminOptions& o) {
  auto a = open_auth("user list", o.data_dir);
  if (!a) return 1;
  auto users = a->users();
  if (!users) {
    std::fprintf(stderr, "ecomon user list: %s\n", users.error().detail.c_str());
    return 1;
  }
  for (const auto& u : *users) {
    std::printf("%s\t%s\t%s\t%s%s\n", u.name.c_str(), u.role.c_str(), scopes_text(u.scopes).c_str(),
                iso(u.created_ms).c_str(), u.disabled ? "\tdisabled" : "");
  }
  return 0;
}

int run_user_passwd(const AdminOptions& o) {
  std::string password;
  if (!read_password("user passwd", o.password_stdin, password)) return 2;
  auto a = open_auth("user passwd", o.data_dir);
  if (!a) return 1;
  auto r = a->set_password(o.name, password, cli_actor(), "cli");
  if (!r) {
    std::fprintf(stderr, "ecomon user passwd: %s\n", r.error().detail.c_str());
    return r.error().reason == "weak_password" ? 2 : 1;
  }
  return 0;
}

int run_user_disable(const AdminOptions& o, bool disabled) {
  auto a = open_auth("user", o.data_dir);
  if (!a) return 1;
  auto r = a->set_disabled(o.name, disabled, cli_actor(), "cli");
  if (!r) {
    std::fprintf(stderr, "ecomon user: %s\n", r.error().detail.c_str());
    return 1;
  }
  return 0;
}

int run_apikey_create(const AdminOptions& o) {
  std::vector<auth::Scope> scopes;
  if (!parse_scopes("apikey create", o.scopes, scopes)) return 2;
  auto a = open_auth("apikey create", o.data_dir);
  if (!a) return 1;
  auto r = a->create_api_key(o.label, o.role, scopes, cli_actor(), "cli");
  if (!r) {
    std::fprintf(stderr, "ecomon apikey create: %s\n", r.error().detail.c_str());
    return 2;
  }
  std::printf("%s\n", r->second.c_str());  // only the key on stdout
  std::fprintf(stderr, "ecomon apikey create: key %s (%s, %s); it is shown only now\n",
               r->first.id.c_str(), o.role.c_str(), scopes_text(scopes).c_str());
  return 0;
}

int run_apikey_list(const AdminOptions& o) {
  auto a = open_auth("apikey list", o.data_dir);
  if (!a) return 1;
  auto keys = a->api_keys();
  if (!keys) {
    std::fprintf(stderr, "ecomon apikey list: %s\n", keys.error().detail.c_str());
    return 1;
  }
  for (const auto& k : *keys) {
    std::printf("%s\t%s\t%s\t%s\t%s%s\n", k.id.c_str(), k.role.c_str(),
                scopes_text(k.scopes).c_str(), iso(k.created_ms).c_str(), k.label.c_str(),
                k.revoked_ms ? "\trevoked" : "");
  }
  return 0;
}

int run_apikey_revoke(const AdminOptions& o) {
  auto a = open_auth("apikey revoke", o.data_dir);
  if (!a) return 1;
  auto r = a->revoke_api_key(o.id, cli_actor(), "cli");
  if (!r) {
    std::fprintf(stderr, "ecomon apikey revoke: %s\n", r.error().detail.c_str());
    return 1;
  }
  return 0;
}

int run_audit_verify(const AdminOptions& o) {
  const std::string db = o.data_dir + "/ecomon.db";
  std::error_code ec;
  if (!std::filesystem::exists(db, ec)) {
    std::fprintf(stderr, "ecomon audit verify: no store in %s\n", o.data_dir.c_str());
    return 2;
  }
  auto a = open_auth("audit verify", o.data_dir);
  if (!a) return 2;
  auto v = a->verify_audit();
  if (!v) {
    std::fprintf(stderr, "ecomon audit verify: %s\n", v.error().detail.c_str());
    return 2;
  }
  if (v->first_broken) {
    std::printf("BROKEN at entry %lld: %s\n", static_cast<long long>(*v->first_broken),
                v->reason.c_str());
    return 1;
  }
  std::printf("ok: %lld entries, the chain is intact%s\n", static_cast<long long>(v->entries),
              v->head_checked ? " and reaches the head file's newest entry"
                              : " (no head file: the newest entries cannot be checked)");
  return 0;
}

int run_audit_list(const AdminOptions& o) {
  auto a = open_auth("audit list", o.data_dir);
  if (!a) return 1;
  auth::AuditQuery q;
  q.limit = o.limit;
  auto entries = a->audit_entries(q);
  if (!entries) {
    std::fprintf(stderr, "ecomon audit list: %s\n", entries.error().detail.c_str());
    return 1;
  }
  for (auto it = entries->rbegin(); it != entries->rend(); ++it) {
    std::printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\n", static_cast<long long>(it->seq),
                iso(it->at_ms).c_str(), it->actor.c_str(), it->action.c_str(), it->target.c_str(),
                it->client.c_str(), it->detail.c_str());
  }
  return 0;
}

int run_routes() {
  for (const auto& r : api::routes()) {
    std::string access;
    switch (r.access) {
      case api::Access::kPublic:
        access = "public";
        break;
      case api::Access::kAuthenticated:
        access = "authenticated";
        break;
      case api::Access::kAction:
        access = std::string(auth::action_name(*r.action));
        break;
    }
    std::printf("%s %s %s\n", std::string(r.method).c_str(), std::string(r.pattern).c_str(),
                access.c_str());
  }
  return 0;
}

}  // namespace ecomon::app
