// ecomon: one binary, subcommands (DESIGN.md decision 1). This file is the composition root.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "app/assess.h"
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
  serve
      ->add_option("--unknown-devices", serve_options.unknown_devices,
                   "reject | quarantine | accept")
      ->check(CLI::IsMember({"reject", "quarantine", "accept"}));
  serve->add_option("--config", serve_config, "TOML config file (options given here win)");
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

  std::string assess_kind;
  auto* assess = app.add_subcommand(
      "assess",
      "evaluate CSV rows by the national standards (stdin → stdout); kinds: aqi, water, "
      "groundwater, noise, soil, ecology; options: --name value");
  assess->add_option("kind", assess_kind, "what to assess")->required();
  assess->allow_extras();

  CLI11_PARSE(app, argc, argv);

  if (simulate->parsed()) return ecomon::app::run_simulate(sim);
  if (serve->parsed()) {
    // Defaults, then the config file, then the options given on the command line.
    ecomon::app::ServeOptions o;
    if (!serve_config.empty() && !ecomon::app::apply_serve_config(o, serve_config)) return 2;
    auto given = [&](const char* name) { return serve->count(name) > 0; };
    if (given("--data")) o.data_dir = serve_options.data_dir;
    if (given("--registry")) o.registry_dir = serve_options.registry_dir;
    if (given("--hj212-listen")) o.hj212_listen = serve_options.hj212_listen;
    if (given("--http-listen")) o.http_listen = serve_options.http_listen;
    if (given("--unknown-devices")) o.unknown_devices = serve_options.unknown_devices;
    if (given("--idle-timeout")) o.idle_timeout_s = serve_options.idle_timeout_s;
    if (given("--max-connections")) o.max_connections = serve_options.max_connections;
    if (given("--max-buffered-bytes")) o.max_buffered_bytes = serve_options.max_buffered_bytes;
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
