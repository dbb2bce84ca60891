// ecomon: one binary, subcommands (DESIGN.md decision 1). This file is the composition root.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "app/assess.h"
#include "app/hj212_commands.h"
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

  std::string assess_kind;
  auto* assess = app.add_subcommand(
      "assess",
      "evaluate CSV rows by the national standards (stdin → stdout); kinds: aqi, water, "
      "groundwater, noise, soil, ecology; options: --name value");
  assess->add_option("kind", assess_kind, "what to assess")->required();
  assess->allow_extras();

  CLI11_PARSE(app, argc, argv);

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
