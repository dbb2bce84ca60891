#include "app/hj212_commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string_view>

#include "app/hj212_json.h"
#include "protocol/hj212/frame.h"

namespace ecomon::app {
namespace hj = protocol::hj212;

namespace {

// Reads a whole file ("-" = stdin). nullopt (with a message on stderr) if it cannot be read.
std::optional<std::string> read_input(const std::string& path) {
  FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "ecomon: cannot open %s: %s\n", path.c_str(), std::strerror(errno));
    return std::nullopt;
  }
  std::string data;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  if (f != stdin) std::fclose(f);
  if (failed) {
    std::fprintf(stderr, "ecomon: cannot read %s\n", path.c_str());
    return std::nullopt;
  }
  return data;
}

// Calls `on_frame` or `on_error` once per input line (a frame whose declared length spans a line
// break, as raw SM4 ciphertext may, counts as one line).
void for_each_line(std::string_view input, std::uint32_t max_segment,
                   const std::function<void(const hj::RawFrame&)>& on_frame,
                   const std::function<void(const hj::Error&)>& on_error) {
  hj::ScanOptions scan;
  scan.max_segment = max_segment;
  scan.at_end = true;
  scan.line_mode = true;
  std::size_t pos = 0;
  while (pos < input.size()) {
    const std::string_view rest = input.substr(pos);
    if (rest.size() >= 2 && rest[0] == '#' && rest[1] == '#') {
      const hj::ScanResult r = hj::scan_frame(rest, scan);
      if (r.status == hj::ScanStatus::kFrame) {
        on_frame(r.frame);
      } else {
        on_error(hj::Error{r.reason, r.detail});
      }
      pos += std::max<std::size_t>(r.consumed, 1);
      continue;
    }
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_error(hj::Error{hj::Reason::kBadFrame,
                       line.empty() ? "empty line" : "line does not start with ##"});
    pos += nl == std::string_view::npos ? rest.size() : nl + 1;
  }
}

}  // namespace

int run_hj212_parse(const Hj212InputOptions& options) {
  std::vector<std::string> files = options.files;
  if (files.empty()) files.push_back("-");
  int status = 0;
  hj::Message message;
  std::string out;
  auto flush = [&] {
    std::fwrite(out.data(), 1, out.size(), stdout);
    out.clear();
  };
  for (const std::string& file : files) {
    const auto input = read_input(file);
    if (!input) {
      status = 2;
      continue;
    }
    for_each_line(
        *input, options.max_segment,
        [&](const hj::RawFrame& frame) {
          if (auto r = hj::decode_into(frame, options.decode, message); r) {
            out += message_json(message);
          } else {
            out += error_json(r.error());
          }
          out += '\n';
          if (out.size() > (1 << 16)) flush();
        },
        [&](const hj::Error& e) {
          out += error_json(e);
          out += '\n';
        });
    flush();
  }
  std::fflush(stdout);
  return status;
}

int run_hj212_summary(const Hj212InputOptions& options) {
  std::vector<std::string> files = options.files;
  if (files.empty()) files.push_back("-");
  std::size_t frames = 0, ok = 0, values = 0, numeric = 0, bytes = 0;
  std::map<std::string, std::size_t> by_reason, by_cn, by_st, by_version, by_factor;
  std::set<std::string> devices;
  std::optional<core::CivilTime> first, last;
  auto earlier = [](const core::CivilTime& a, const core::CivilTime& b) {
    return core::to_unix_ms(a, 0) < core::to_unix_ms(b, 0);
  };
  hj::Message m;
  double decode_seconds = 0;
  int status = 0;
  for (const std::string& file : files) {
    const auto input = read_input(file);
    if (!input) {
      status = 2;
      continue;
    }
    bytes += input->size();
    const auto t0 = std::chrono::steady_clock::now();
    for_each_line(
        *input, options.max_segment,
        [&](const hj::RawFrame& frame) {
          ++frames;
          auto r = hj::decode_into(frame, options.decode, m);
          if (!r) {
            ++by_reason[std::string(hj::reason_code(r.error().reason))];
            return;
          }
          ++ok;
          devices.emplace(m.mn);
          ++by_cn[std::string(m.cn)];
          ++by_st[std::string(m.st)];
          ++by_version[std::to_string(hj::version_year(m.version))];
          values += m.items.size();
          for (const hj::Item& it : m.items) {
            numeric += it.number.has_value();
            ++by_factor[std::string(it.factor_2017 ? *it.factor_2017 : it.factor)];
          }
          if (m.data_time) {
            if (!first || earlier(*m.data_time, *first)) first = m.data_time;
            if (!last || earlier(*last, *m.data_time)) last = m.data_time;
          }
        },
        [&](const hj::Error& e) {
          ++frames;
          ++by_reason[std::string(hj::reason_code(e.reason))];
        });
    decode_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  auto top = [](const std::map<std::string, std::size_t>& counts, std::size_t n) {
    std::vector<std::pair<std::string, std::size_t>> v(counts.begin(), counts.end());
    std::sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.second > b.second; });
    if (v.size() > n) v.resize(n);
    std::string s;
    for (auto& [k, c] : v) s += "  " + k + "=" + std::to_string(c);
    return s;
  };
  std::printf("HJ 212 traffic summary 报文统计\n");
  std::printf("  input 输入:            %zu bytes, %zu lines\n", bytes, frames);
  std::printf("  accepted 接收:         %zu frames from %zu devices (MN)\n", ok, devices.size());
  std::printf("  rejected 拒收:         %zu%s\n", frames - ok, top(by_reason, 10).c_str());
  std::printf("  dialect 版本:        %s\n", top(by_version, 4).c_str());
  std::printf("  system ST 系统编码:  %s\n", top(by_st, 8).c_str());
  std::printf("  command CN 命令编码: %s\n", top(by_cn, 10).c_str());
  std::printf("  values 监测值:         %zu (%zu numeric)\n", values, numeric);
  std::printf("  top factors 因子:    %s\n", top(by_factor, 8).c_str());
  if (first && last) {
    std::printf("  data time 数据时间:    %s .. %s\n",
                core::format_iso8601(*first, core::kChinaUtcOffsetSeconds).c_str(),
                core::format_iso8601(*last, core::kChinaUtcOffsetSeconds).c_str());
  }
  if (decode_seconds > 0) {
    std::printf(
        "  decode 解码:           %.3f s, %.0f frames/s, %.1f MB/s (single core, incl. stats)\n",
        decode_seconds, static_cast<double>(frames) / decode_seconds,
        static_cast<double>(bytes) / decode_seconds / 1e6);
  }
  return status;
}

}  // namespace ecomon::app
