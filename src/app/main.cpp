// ecomon: one binary, subcommands (DESIGN.md decision 1). This file is the composition root.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "app/admin_commands.h"
#include "app/assess.h"
#include "app/backup.h"
#include "app/hj212_commands.h"
#include "app/serve.h"
#include "app/simulate.h"
#include "protocol/hj212/crc.h"
#include "protocol/hj212/sm4.h"

int main(int argc, char** argv) {
  namespace hj = ecomon::protocol::hj212;
  CLI::App app{"ecomon — ecological-environment monitoring data platform (生态环境监测数据平台)"};
  app.set_version_flag("--version", "ecomon 0.1.0");
  app.require_subcommand(1);

  ecomon::app::Hj212InputOptions input;
  std::string crc = "hj212";
  std::string sm4_key;
  auto* hj212 = app.add_subcommand("hj212", "HJ 212 data-logger protocol tools");
  hj212->require_subcommand(1);
  auto add_input_options = [&](CLI::App* cmd) {
    cmd->add_option("files", input.files, "input files, one frame per line (default: stdin)");
    cmd->add_option("--crc", crc, "CRC algorithm of the devices: hj212 | modbus | arc")
        ->check(CLI::IsMember({"hj212", "modbus", "arc"}));
    cmd->add_option("--sm4-key", sm4_key, "HJ 212-2025 SM4 key, 32 hex digits");
    cmd->add_option("--max-length", input.max_segment, "largest accepted data segment (bytes)")
        ->check(CLI::Range(1u, hj::kDefaultMaxSegment));
    cmd->add_flag("--accept-length-mismatch", input.decode.accept_length_mismatch,
                  "accept a wrong length field (with a warning)");
  };
  auto* parse =
      hj212->add_subcommand("parse", "decode frames, one per line; print one JSON object per line");
  add_input_options(parse);
  auto* summary = hj212->add_subcommand("summary", "decode frames and print traffic statistics");
  add_input_options(summary);

  ecomon::app::ServeOptions serve_options;
  std::string serve_config;
  auto* serve = app.add_subcommand("serve", "run the platform: HJ 212 gateway, store, HTTP API");
  serve->add_option("--data", serve_options.data_dir, "data directory (SQLite database)");
  serve->add_option("--registry", serve_options.registry_dir, "registry directory (CSV files)");
  serve->add_option("--hj212-listen", serve_options.hj212_listen,
                    "HJ 212 ADDR:PORT (0 = any free)");
  serve->add_option("--http-listen", serve_options.http_listen, "HTTP ADDR:PORT (0 = any free)");
  serve->add_option("--tls-cert", serve_options.tls_cert,
                    "HTTPS certificate chain (PEM; with --tls-key)");
  serve->add_option("--tls-key", serve_options.tls_key, "HTTPS private key (PEM, unencrypted)");
  serve->add_flag("--allow-plain-http", serve_options.allow_plain_http,
                  "serve plain HTTP on a non-loopback address (behind a TLS proxy)");
  serve
      ->add_option("--unknown-devices", serve_options.unknown_devices,
                   "reject | quarantine | accept")
      ->check(CLI::IsMember({"reject", "quarantine", "accept"}));
  serve->add_option(
      "--web-root", serve_options.web_root,
      "built web front-end (default: share/ecomon/web beside the binary, else web/dist)");
  serve->add_option("--config", serve_config, "TOML config file (options given here win)");
  serve->add_option("--webhook-secret", serve_options.webhook_secret,
                    "HMAC-SHA256 key signing alarm webhooks (X-Ecomon-Signature)");
  serve->add_option("--webhook-ca-file", serve_options.webhook_ca_file,
                    "PEM file of CAs trusted for https:// webhooks besides the system's");
  serve->add_option("--idle-timeout", serve_options.idle_timeout_s, "device idle timeout (s)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{86400 * 7}));
  serve->add_option("--max-connections", serve_options.max_connections, "device connections")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000}));
  serve
      ->add_option("--max-buffered-bytes", serve_options.max_buffered_bytes,
                   "bytes buffered per device connection")
      ->check(CLI::Range(std::int64_t{1024}, std::int64_t{64} << 20));

  ecomon::app::SimulateOptions sim;
  auto* simulate =
      app.add_subcommand("simulate", "HJ 212 data loggers: replay data or generate it");
  simulate->add_option("--to", sim.to, "platform HOST:PORT");
  simulate->add_option("--devices", sim.devices, "devices (connections) to generate")
      ->check(CLI::Range(1, 100000));
  simulate->add_option("--rate", sim.rate, "frames per second per device (0: as fast as acked)");
  simulate->add_option("--frames", sim.frames, "frames per device (0: until stopped)");
  simulate->add_option("--values", sim.values, "values per generated frame")
      ->check(CLI::Range(1, 60));
  simulate->add_option("--window", sim.window, "frames in flight per device")
      ->check(CLI::Range(1, 64));
  simulate->add_option("--version", sim.version, "HJ 212 dialect: 2005 | 2017 | 2025")
      ->check(CLI::IsMember({2005, 2017, 2025}));
  simulate->add_option("--mn-prefix", sim.mn_prefix, "prefix of generated MNs");
  simulate->add_option("--replay", sim.replay_csv, "hourly station CSV to replay through HJ 212");
  simulate->add_option("--registry", sim.registry_dir, "registry for --replay (site → device)");
  simulate->add_option("--snapshot", sim.snapshot_csv, "with --replay: water snapshot CSV");
  simulate->add_flag("--loop", sim.loop, "with --replay: start again when the data ends");
  simulate->add_option("--ack-timeout", sim.ack_timeout_ms, "ms before a frame is sent again");
  simulate->add_option("--password", sim.password, "PW the devices send");

  // Administration on a data directory (also while `serve` runs): users, API keys, audit.
  ecomon::app::AdminOptions admin;
  auto data_option = [&](CLI::App* cmd) {
    cmd->add_option("--data", admin.data_dir, "data directory (as given to serve)");
  };
  auto scope_option = [&](CLI::App* cmd) {
    cmd->add_option("--scope", admin.scopes,
                    "city | city:CODE | county:CODE | department:NAME | enterprise:CODE | "
                    "site:CODE[,CODE...] (repeatable; default: city = everything)");
  };
  const std::vector<std::string> roles{"admin",    "analyst",    "reviewer",   "viewer",
                                       "enforcer", "department", "enterprise", "operator"};
  auto* user = app.add_subcommand("user", "user accounts (roles, scopes, passwords)");
  user->require_subcommand(1);
  auto* user_add = user->add_subcommand("add", "add a user");
  data_option(user_add);
  user_add->add_option("--name", admin.name, "login name")->required();
  user_add->add_option("--role", admin.role, "role")->required()->check(CLI::IsMember(roles));
  scope_option(user_add);
  user_add->add_flag("--password-stdin", admin.password_stdin,
                     "read the password from the first line of stdin");
  auto* user_list = user->add_subcommand("list", "list users");
  data_option(user_list);
  auto* user_passwd = user->add_subcommand("passwd", "set a user's password (ends its sessions)");
  data_option(user_passwd);
  user_passwd->add_option("--name", admin.name, "login name")->required();
  user_passwd->add_flag("--password-stdin", admin.password_stdin, "read it from stdin");
  auto* user_disable = user->add_subcommand("disable", "disable a user (ends its sessions)");
  data_option(user_disable);
  user_disable->add_option("--name", admin.name, "login name")->required();
  auto* user_enable = user->add_subcommand("enable", "enable a disabled user");
  data_option(user_enable);
  user_enable->add_option("--name", admin.name, "login name")->required();
  auto* apikey = app.add_subcommand("apikey", "API keys for machines");
  apikey->require_subcommand(1);
  auto* apikey_create = apikey->add_subcommand("create", "create a key; prints only the key");
  data_option(apikey_create);
  apikey_create->add_option("--role", admin.role, "role")->required()->check(CLI::IsMember(roles));
  scope_option(apikey_create);
  apikey_create->add_option("--label", admin.label, "what the key is for");
  auto* apikey_list = apikey->add_subcommand("list", "list keys (never the keys themselves)");
  data_option(apikey_list);
  auto* apikey_revoke = apikey->add_subcommand("revoke", "revoke a key");
  data_option(apikey_revoke);
  apikey_revoke->add_option("id", admin.id, "key id (apikey list)")->required();
  auto* audit = app.add_subcommand("audit", "the hash-chained audit trail");
  audit->require_subcommand(1);
  auto* audit_verify =
      audit->add_subcommand("verify", "check the chain; exit 1 naming the first broken entry");
  data_option(audit_verify);
  auto* audit_list = audit->add_subcommand("list", "print the latest entries");
  data_option(audit_list);
  audit_list->add_option("--limit", admin.limit, "entries");
  auto* routes = app.add_subcommand("routes", "print every HTTP route and who may call it");

  std::string assess_kind;
  auto* assess = app.add_subcommand(
      "assess",
      "evaluate CSV rows by the national standards (stdin → stdout); kinds: aqi, water, "
      "groundwater, noise, soil, ecology; options: --name value");
  assess->add_option("kind", assess_kind, "what to assess")->required();
  assess->allow_extras();

  // Backups of a data directory, taken online while `serve` runs, and their restore.
  ecomon::app::BackupOptions backup_options;
  auto* backup = app.add_subcommand(
      "backup", "copy a data directory's store and registry edits into one file, while serving");
  backup->add_option("--data", backup_options.data_dir, "data directory (as given to serve)");
  backup->add_option("--to", backup_options.to, "backup file (written as FILE.tmp, then renamed)");
  backup->add_flag("--force", backup_options.force, "replace an existing backup file");
  ecomon::app::RestoreOptions restore_options;
  auto* restore = app.add_subcommand(
      "restore", "check a backup and restore it into a data directory no server is using");
  restore->add_option("--from", restore_options.from, "backup file");
  restore->add_option("--data", restore_options.data_dir, "data directory to restore into");
  restore->add_flag("--force", restore_options.force, "replace an existing store and registry");

  CLI11_PARSE(app, argc, argv);

  if (simulate->parsed()) return ecomon::app::run_simulate(sim);
  if (user_add->parsed()) return ecomon::app::run_user_add(admin);
  if (user_list->parsed()) return ecomon::app::run_user_list(admin);
  if (user_passwd->parsed()) return ecomon::app::run_user_passwd(admin);
  if (user_disable->parsed()) return ecomon::app::run_user_disable(admin, true);
  if (user_enable->parsed()) return ecomon::app::run_user_disable(admin, false);
  if (apikey_create->parsed()) return ecomon::app::run_apikey_create(admin);
  if (apikey_list->parsed()) return ecomon::app::run_apikey_list(admin);
  if (apikey_revoke->parsed()) return ecomon::app::run_apikey_revoke(admin);
  if (audit_verify->parsed()) return ecomon::app::run_audit_verify(admin);
  if (audit_list->parsed()) return ecomon::app::run_audit_list(admin);
  if (routes->parsed()) return ecomon::app::run_routes();
  if (serve->parsed()) {
    // Defaults, then the config file, then the options given on the command line.
    ecomon::app::ServeOptions o;
    if (!serve_config.empty() && !ecomon::app::apply_serve_config(o, serve_config)) return 2;
    auto given = [&](const char* name) { return serve->count(name) > 0; };
    if (given("--data")) o.data_dir = serve_options.data_dir;
    if (given("--registry")) o.registry_dir = serve_options.registry_dir;
    if (given("--hj212-listen")) o.hj212_listen = serve_options.hj212_listen;
    if (given("--http-listen")) o.http_listen = serve_options.http_listen;
    if (given("--tls-cert")) o.tls_cert = serve_options.tls_cert;
    if (given("--tls-key")) o.tls_key = serve_options.tls_key;
    if (given("--allow-plain-http")) o.allow_plain_http = serve_options.allow_plain_http;
    if (given("--unknown-devices")) o.unknown_devices = serve_options.unknown_devices;
    if (given("--idle-timeout")) o.idle_timeout_s = serve_options.idle_timeout_s;
    if (given("--max-connections")) o.max_connections = serve_options.max_connections;
    if (given("--max-buffered-bytes")) o.max_buffered_bytes = serve_options.max_buffered_bytes;
    if (given("--webhook-secret")) o.webhook_secret = serve_options.webhook_secret;
    if (given("--webhook-ca-file")) o.webhook_ca_file = serve_options.webhook_ca_file;
    return ecomon::app::run_serve(o);
  }
  if (assess->parsed()) {
    ecomon::app::AssessOptions options;
    const std::vector<std::string> extras = assess->remaining();
    for (std::size_t i = 0; i < extras.size(); ++i) {
      const std::string& arg = extras[i];
      if (arg.rfind("--", 0) != 0 || arg.size() < 3) {
        std::fprintf(stderr, "ecomon assess: unexpected argument '%s'\n", arg.c_str());
        return 2;
      }
      const std::size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        options[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
      } else if (i + 1 < extras.size()) {
        options[arg.substr(2)] = extras[++i];
      } else {
        std::fprintf(stderr, "ecomon assess: option %s needs a value\n", arg.c_str());
        return 2;
      }
    }
    auto assessor = ecomon::app::make_assessor(assess_kind, options);
    if (!assessor) {
      std::fprintf(stderr, "ecomon assess: %s\n", assessor.error().detail.c_str());
      return 2;
    }
    return ecomon::app::run_assess(**assessor, std::cin, std::cout, std::cerr);
  }
  if (backup->parsed()) return ecomon::app::run_backup(backup_options);
  if (restore->parsed()) return ecomon::app::run_restore(restore_options);

  input.decode.crc_mode = *hj::parse_crc_mode(crc);
  if (!sm4_key.empty()) {
    input.decode.sm4_key = hj::parse_sm4_key(sm4_key);
    if (!input.decode.sm4_key) {
      std::fprintf(stderr, "ecomon: --sm4-key must be 32 hex digits\n");
      return 2;
    }
  }
  if (parse->parsed()) return ecomon::app::run_hj212_parse(input);
  if (summary->parsed()) return ecomon::app::run_hj212_summary(input);
  return 1;
}
