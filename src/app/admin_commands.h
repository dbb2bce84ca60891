// Administration from the command line, on a data directory, also while `ecomon serve` runs:
//   ecomon user add --data DIR --name NAME --role ROLE [--scope S]... [--password-stdin]
//   ecomon user list|passwd|disable|enable ...
//   ecomon apikey create --data DIR --role ROLE [--scope S]... [--label L]   (prints the key only)
//   ecomon apikey list|revoke ...
//   ecomon audit verify --data DIR      (exit 0: the chain is intact; 1: names the first broken
//   entry) ecomon audit list --data DIR [--limit N] ecomon routes                       (every HTTP
//   route, its access rule)
#pragma once

#include <string>
#include <vector>

namespace ecomon::app {

struct AdminOptions {
  std::string data_dir = "var";
  std::string name;
  std::string role;
  std::vector<std::string> scopes;
  std::string label;
  std::string id;
  bool password_stdin = false;
  std::size_t limit = 50;
};

int run_user_add(const AdminOptions& o);
int run_user_list(const AdminOptions& o);
int run_user_passwd(const AdminOptions& o);
int run_user_disable(const AdminOptions& o, bool disabled);
int run_apikey_create(const AdminOptions& o);
int run_apikey_list(const AdminOptions& o);
int run_apikey_revoke(const AdminOptions& o);
int run_audit_verify(const AdminOptions& o);
int run_audit_list(const AdminOptions& o);
int run_routes();

}  // namespace ecomon::app
