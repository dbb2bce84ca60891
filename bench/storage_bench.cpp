// The SQLite store: group-commit write throughput (batches of 1,000 frames x 10 values, as the
// ingest layer will send them), durable (synchronous=FULL) against not fsynced (NORMAL), and the
// read paths over a store of 1,000,000 values, with its size on disk per value.
//
// Needs only ecomon_storage_sqlite and benchmark::benchmark. Files go to a fresh directory under
// the system temp directory (TMPDIR), removed at the end: point TMPDIR at the disk to measure.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "storage/sqlite/sqlite_store.h"
#include "storage/store.h"

namespace storage = ecomon::storage;
namespace fs = std::filesystem;

namespace {

constexpr int kFramesPerBatch = 1000;  // one frame per device per batch: 1,000 devices
constexpr int kValuesPerFrame = 10;
constexpr std::int64_t kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
constexpr std::int64_t kStepMs = 60'000;         // minute data
constexpr int kStoredBatches = 100;              // 100 x 10,000 = the 1,000,000-value store

// Ambient air: PM2.5, PM10, SO2, NO2, O3, CO, temperature, humidity, pressure, wind speed.
const char* const kFactors[kValuesPerFrame] = {"a34004", "a34002", "a21026", "a21004", "a05024",
                                               "a21005", "a01001", "a01002", "a01006", "a01007"};

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("ecomon-storage-bench-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string mn_of(int device) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "010000A8900016F00016%04d", device);  // 24 characters, as sent
  return buf;
}

std::string site_of(int device) { return "S" + std::to_string(1000 + device); }

// Batch `b`: every device's minute values for minute b, with the frame as a logger sends it.
std::vector<storage::FrameWrite> make_batch(int b) {
  std::vector<storage::FrameWrite> batch(kFramesPerBatch);
  const std::int64_t measured = kT0 + b * kStepMs;
  for (int d = 0; d < kFramesPerBatch; ++d) {
    auto& fw = batch[static_cast<std::size_t>(d)];
    fw.frame.mn = mn_of(d);
    fw.frame.cn = "2051";
    fw.frame.peer = "203.0.113.7:50412";
    fw.frame.received_ms = measured + 65'000;
    fw.frame.outcome = "stored";
    std::string cp = "QN=20240101000000000;ST=22;CN=2051;PW=123456;MN=" + fw.frame.mn +
                     ";Flag=5;CP=&&DataTime=20240101080000;";
    fw.values.resize(kValuesPerFrame);
    for (int f = 0; f < kValuesPerFrame; ++f) {
      auto& v = fw.values[static_cast<std::size_t>(f)];
      const double number = 10.0 + ((b * 7 + d * 13 + f * 31) % 900) / 10.0;
      char text[16];
      std::snprintf(text, sizeof text, "%.1f", number);
      v.site = site_of(d);
      v.mn = fw.frame.mn;
      v.factor = kFactors[f];
      v.field = "Avg";
      v.kind = storage::DataKind::kMinute;
      v.measured_ms = measured;
      v.received_ms = fw.frame.received_ms;
      v.number = number;
      v.text = text;
      v.flag = "N";
      cp += std::string(kFactors[f]) + "-Avg=" + text + "," + kFactors[f] + "-Flag=N;";
    }
    cp += "&&";
    char head[8];
    std::snprintf(head, sizeof head, "##%04zu", cp.size());
    fw.frame.bytes = head + cp + "1C80\r\n";
  }
  return batch;
}

std::unique_ptr<storage::Store> open_or_die(const fs::path& file, bool synchronous_full) {
  storage::SqliteOptions options;
  options.synchronous_full = synchronous_full;
  auto r = storage::open_sqlite_store(file.string(), options);
  if (!r.ok()) {
    std::fprintf(stderr, "open %s: %s\n", file.c_str(), r.error().detail.c_str());
    std::abort();
  }
  return std::move(r).value();
}

// Bytes this process has passed to write() so far (Linux /proc/self/io "wchar"; 0 elsewhere).
double bytes_written() {
  double written = 0;
  if (std::FILE* f = std::fopen("/proc/self/io", "r")) {
    char line[128];
    while (std::fgets(line, sizeof line, f)) {
      if (std::sscanf(line, "wchar: %lf", &written) == 1) break;
    }
    std::fclose(f);
  }
  return written;
}

void write_batches(benchmark::State& state, bool synchronous_full) {
  TempDir dir;
  auto store = open_or_die(dir.path() / "bench.db", synchronous_full);
  int b = 0;
  const double written_before = bytes_written();
  for (auto _ : state) {
    state.PauseTiming();  // building the batch is the ingest layer's work, not the store's
    auto batch = make_batch(b++);
    state.ResumeTiming();
    auto r = store->write(batch);
    if (!r.ok()) {
      state.SkipWithError(r.error().detail.c_str());
      break;
    }
  }
  const auto values = static_cast<double>(state.iterations()) * kFramesPerBatch * kValuesPerFrame;
  state.counters["values/s"] = benchmark::Counter(values, benchmark::Counter::kIsRate);
  state.counters["frames/s"] =
      benchmark::Counter(values / kValuesPerFrame, benchmark::Counter::kIsRate);
  // WAL and checkpoint writes per value stored: the write amplification of the layout.
  state.counters["written/value"] = (bytes_written() - written_before) / values;
}

void BM_WriteBatchDurable(benchmark::State& state) { write_batches(state, true); }
void BM_WriteBatchNoFsync(benchmark::State& state) { write_batches(state, false); }
// 100 batches: the store grows from 0 to 1,000,000 values during the run. Wall-clock time: the
// fsync is the point.
BENCHMARK(BM_WriteBatchDurable)
    ->Iterations(kStoredBatches)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_WriteBatchNoFsync)
    ->Iterations(kStoredBatches)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The 1,000,000-value store the read benchmarks share, built on first use.
struct BigStore {
  TempDir dir;
  std::unique_ptr<storage::Store> store;
  double bytes_per_value = 0;

  BigStore() {
    const auto file = dir.path() / "big.db";
    {
      auto writer = open_or_die(file, false);
      for (int b = 0; b < kStoredBatches; ++b) {
        auto batch = make_batch(b);
        if (!writer->write(batch).ok()) std::abort();
      }
    }  // closing checkpoints the WAL into the file and removes it
    const auto values = static_cast<double>(kStoredBatches) * kFramesPerBatch * kValuesPerFrame;
    bytes_per_value = static_cast<double>(fs::file_size(file)) / values;
    store = open_or_die(file, true);
  }
};

BigStore& big_store() {
  static BigStore s;
  return s;
}

void BM_BytesOnDiskPerValue(benchmark::State& state) {
  auto& big = big_store();
  for (auto _ : state) benchmark::DoNotOptimize(big.bytes_per_value);
  state.counters["bytes/value"] = big.bytes_per_value;
}
BENCHMARK(BM_BytesOnDiskPerValue)->Iterations(1);

void BM_Latest(benchmark::State& state) {
  auto& big = big_store();
  int d = 0;
  std::size_t returned = 0;
  for (auto _ : state) {
    auto r = big.store->latest(site_of(d++ % kFramesPerBatch));
    if (!r.ok()) {
      state.SkipWithError(r.error().detail.c_str());
      break;
    }
    returned += r->size();
  }
  state.counters["values/call"] =
      static_cast<double>(returned) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Latest)->Unit(benchmark::kMicrosecond);

// One site and factor over the whole store (100 minutes).
void BM_Series(benchmark::State& state) {
  auto& big = big_store();
  int d = 0;
  std::size_t returned = 0;
  for (auto _ : state) {
    storage::SeriesQuery q;
    q.site = site_of(d++ % kFramesPerBatch);
    q.factor = "a34004";
    q.kind = storage::DataKind::kMinute;
    auto r = big.store->series(q);
    if (!r.ok()) {
      state.SkipWithError(r.error().detail.c_str());
      break;
    }
    returned += r->size();
  }
  state.counters["values/call"] =
      static_cast<double>(returned) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Series)->Unit(benchmark::kMicrosecond);

// All of one device's values (100 minutes x 10 factors).
void BM_Records(benchmark::State& state) {
  auto& big = big_store();
  int d = 0;
  std::size_t returned = 0;
  for (auto _ : state) {
    storage::RecordQuery q;
    q.mn = mn_of(d++ % kFramesPerBatch);
    q.kind = storage::DataKind::kMinute;
    auto r = big.store->records(q);
    if (!r.ok()) {
      state.SkipWithError(r.error().detail.c_str());
      break;
    }
    returned += r->size();
  }
  state.counters["values/call"] =
      static_cast<double>(returned) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Records)->Unit(benchmark::kMicrosecond);

// The change feed read in pages of 10,000, as a forwarder or live view catches up.
void BM_Changes(benchmark::State& state) {
  auto& big = big_store();
  std::uint64_t after = 0;
  std::size_t returned = 0;
  for (auto _ : state) {
    auto r = big.store->changes(after, 10000);
    if (!r.ok()) {
      state.SkipWithError(r.error().detail.c_str());
      break;
    }
    returned += r->size();
    after = r->empty() ? 0 : r->back().sequence;
  }
  state.counters["values/s"] =
      benchmark::Counter(static_cast<double>(returned), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Changes)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
