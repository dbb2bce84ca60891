// HJ 212 decode throughput on one day of real traffic (data/hj212_capture_2016-08-24: 176,515
// frames, 46 MB). `make bench` runs it; README.md reports the figures with the machine.
//
//   hj212_bench [--capture FILE.txt.gz] [Google Benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "protocol/hj212/crc.h"
#include "protocol/hj212/decoder.h"
#include "protocol/hj212/frame.h"

namespace hj = ecomon::protocol::hj212;

namespace {

std::string g_capture_path =
    ECOMON_DATA_DIR "/hj212_capture_2016-08-24/hj212-2005-capture-2016-08-24.txt.gz";
std::string g_capture;  // decompressed, one frame per line

bool load_capture() {
  const std::string cmd = "gzip -dc '" + g_capture_path + "'";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return false;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) g_capture.append(buf, n);
  return pclose(p) == 0 && !g_capture.empty();
}

// Line mode, as `ecomon hj212 parse` reads: frame, check length and CRC, decode every value.
void BM_DecodeCaptureLines(benchmark::State& state) {
  hj::ScanOptions scan;
  scan.at_end = true;
  scan.line_mode = true;
  hj::DecodeOptions options;
  hj::Message m;
  std::size_t frames = 0, accepted = 0, values = 0;
  for (auto _ : state) {
    std::string_view in(g_capture);
    std::size_t pos = 0;
    while (pos < in.size()) {
      const auto r = hj::scan_frame(in.substr(pos), scan);
      ++frames;
      if (r.status == hj::ScanStatus::kFrame && hj::decode_into(r.frame, options, m)) {
        ++accepted;
        values += m.items.size();
      }
      pos += r.consumed ? r.consumed : 1;
    }
    benchmark::DoNotOptimize(values);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_capture.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));  // items = frames
  state.counters["accepted"] =
      static_cast<double>(accepted) / static_cast<double>(state.iterations());
  state.counters["values"] = static_cast<double>(values) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_DecodeCaptureLines)->Unit(benchmark::kMillisecond);

// Stream mode, as the gateway reads a TCP connection: 1460-byte reads through the Framer.
void BM_DecodeCaptureStream(benchmark::State& state) {
  hj::DecodeOptions options;
  hj::Message m;
  std::size_t frames = 0;
  for (auto _ : state) {
    hj::Framer framer;
    std::string_view in(g_capture);
    for (std::size_t pos = 0; pos < in.size(); pos += 1460) {
      framer.feed(in.substr(pos, 1460));
      while (auto r = framer.next()) {
        ++frames;
        if (r->status == hj::ScanStatus::kFrame)
          benchmark::DoNotOptimize(hj::decode_into(r->frame, options, m).ok());
      }
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_capture.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(frames));
}
BENCHMARK(BM_DecodeCaptureStream)->Unit(benchmark::kMillisecond);

// Framing and the CRC check only, without decoding the content: the floor under the decoder.
void BM_FrameAndCrcOnly(benchmark::State& state) {
  hj::ScanOptions scan;
  scan.at_end = true;
  scan.line_mode = true;
  std::size_t good = 0;
  for (auto _ : state) {
    std::string_view in(g_capture);
    std::size_t pos = 0;
    while (pos < in.size()) {
      const auto r = hj::scan_frame(in.substr(pos), scan);
      if (r.status == hj::ScanStatus::kFrame) {
        good += hj::parse_crc_field(r.frame.crc_text) == hj::crc_hj212(r.frame.segment);
      }
      pos += r.consumed ? r.consumed : 1;
    }
    benchmark::DoNotOptimize(good);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_capture.size()));
}
BENCHMARK(BM_FrameAndCrcOnly)->Unit(benchmark::kMillisecond);

// The HJ 212 CRC alone over the same bytes.
void BM_CrcHj212(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(hj::crc_hj212(g_capture));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * g_capture.size()));
}
BENCHMARK(BM_CrcHj212)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--capture") == 0 && i + 1 < argc) g_capture_path = argv[++i];
  }
  if (!load_capture()) {
    std::fprintf(stderr, "hj212_bench: cannot read %s\n", g_capture_path.c_str());
    return 2;
  }
  std::fprintf(stderr, "capture: %s, %zu bytes\n", g_capture_path.c_str(), g_capture.size());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
