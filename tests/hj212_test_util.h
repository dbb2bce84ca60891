// Helpers shared by the HJ 212 tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "protocol/hj212/crc.h"

namespace ecomon::protocol::hj212::testing {

inline std::string testdata(const std::string& relative) {
  return std::string(ECOMON_TESTDATA_DIR) + "/" + relative;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Lines of a file without their line end, keeping NUL bytes.
inline std::vector<std::string> read_lines(const std::string& path) {
  const std::string all = read_file(path);
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < all.size()) {
    std::size_t nl = all.find('\n', pos);
    if (nl == std::string::npos) nl = all.size();
    std::string line = all.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    pos = nl + 1;
  }
  return lines;
}

// "##LLLL" + segment + HJ 212 CRC + CR LF.
inline std::string frame_of(const std::string& segment) {
  char len[8];
  std::snprintf(len, sizeof len, "%04zu", segment.size());
  char crc[4];
  format_crc_field(crc_hj212(segment), crc);
  return "##" + std::string(len) + segment + std::string(crc, 4) + "\r\n";
}

}  // namespace ecomon::protocol::hj212::testing
