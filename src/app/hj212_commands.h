// `ecomon hj212 ...` subcommands: parse (frames → JSON lines) and summary (frames → statistics).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/hj212/decoder.h"

namespace ecomon::app {

struct Hj212InputOptions {
  std::vector<std::string> files;  // empty or "-" = standard input
  protocol::hj212::DecodeOptions decode;
  std::uint32_t max_segment = protocol::hj212::kDefaultMaxSegment;
};

// Writes one JSON object per input line to stdout. Returns the exit status: 0 unless an input
// cannot be read (2).
int run_hj212_parse(const Hj212InputOptions& options);

// Decodes all frames and prints what the traffic holds: frames, devices, commands, rejections by
// reason, values, the time span, and the decode rate.
int run_hj212_summary(const Hj212InputOptions& options);

}  // namespace ecomon::app
