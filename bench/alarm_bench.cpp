// The alarm engine's cost per stored value with 10,000 rules (issue #6): values are written to a
// SQLite store (not timed), then AlarmService::process_changes() reads them from the change feed,
// matches them against the rules, evaluates and commits (timed: the engine's real work, feed read
// and its fsynced transaction included). Also: evaluate() alone, the pure per-rule cost.
//
// Rules: 10,000 threshold rules over 1,000 sites x 10 factors (one rule per site and factor, real-
// time data); values: 1,000 sites x 10 factors per iteration. Arg 0: no value exceeds; arg 10:
// 10% of the values exceed (alarms open, update and clear).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "alarm/service.h"
#include "storage/sqlite/sqlite_store.h"

namespace al = ecomon::alarm;  // not `alarm`: POSIX alarm() is in scope
namespace storage = ecomon::storage;
namespace fs = std::filesystem;

namespace {

constexpr int kSites = 1000;
constexpr int kFactors = 10;
constexpr std::int64_t kT0 = 1'780'000'000'000;
const char* const kFactorCodes[kFactors] = {"a34004", "a34002", "a21026", "a21004", "a05024",
                                            "a21005", "a01001", "a01002", "a01006", "a01007"};

class FixedClock final : public ecomon::core::Clock {
 public:
  std::int64_t now_ms() const override { return kT0; }
};

std::string site_code(int s) { return "S" + std::to_string(10000 + s); }

void BM_EngineWith10000Rules(benchmark::State& state) {
  const int exceed_percent = static_cast<int>(state.range(0));
  const fs::path dir =
      fs::temp_directory_path() / ("ecomon-alarm-bench-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "ecomon.db").string();
  {
    storage::SqliteOptions so;
    so.synchronous_full = false;  // the store's writes are not what is measured
    auto store = storage::open_sqlite_store(path, so);
    FixedClock clock;
    auto service = al::AlarmService::open(path, **store, clock);
    if (!store || !service) {
      state.SkipWithError("cannot open");
      return;
    }
    auto& alarms = **service;
    for (int s = 0; s < kSites; ++s) {
      for (int f = 0; f < kFactors; ++f) {
        al::Rule r;
        r.name = "limit";
        r.site = site_code(s);
        r.factor = kFactorCodes[f];
        r.data_kind = storage::DataKind::kRealtime;
        r.limit = 100;
        (void)alarms.create_rule(r, "bench");
      }
    }
    std::int64_t t = kT0;
    std::uint64_t values = 0;
    int round = 0;
    for (auto _ : state) {
      state.PauseTiming();
      std::vector<storage::FrameWrite> batch(kSites);
      t += 1000;
      for (int s = 0; s < kSites; ++s) {
        auto& fw = batch[static_cast<std::size_t>(s)];
        fw.frame.mn = "MN" + site_code(s);
        fw.frame.cn = "2011";
        fw.frame.received_ms = t;
        fw.frame.outcome = "stored";
        for (int f = 0; f < kFactors; ++f) {
          storage::Value v;
          v.site = site_code(s);
          v.mn = fw.frame.mn;
          v.factor = kFactorCodes[f];
          v.field = "Rtd";
          v.kind = storage::DataKind::kRealtime;
          v.measured_ms = t;
          v.received_ms = t;
          const bool exceeds = ((s * kFactors + f + round) % 100) < exceed_percent;
          v.number = exceeds ? 150.0 : 50.0;
          v.text = exceeds ? "150" : "50";
          v.flag = "N";
          fw.values.push_back(std::move(v));
        }
      }
      if (!(*store)->write(batch)) {
        state.SkipWithError("write failed");
        break;
      }
      ++round;
      state.ResumeTiming();
      auto n = alarms.process_changes();
      if (!n) {
        state.SkipWithError(n.error().detail.c_str());
        break;
      }
      values += *n;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(values));
    state.counters["alarms_open"] = static_cast<double>(alarms.counters().alarms_open);
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_EngineWith10000Rules)->Arg(0)->Arg(10)->Unit(benchmark::kMillisecond)->Iterations(20);

// Key polluters: one `permit` rule for every outlet (site empty) on SO2 with a converted permit,
// 1,000 outlets each sending a real-time frame of SO2 Rtd, SO2 ZsRtd and O2 per iteration; the
// engine reads each outlet's time back from the store (3 series reads) and judges it once. Arg:
// percent of the frames whose converted value exceeds the permit.
void BM_PermitRuleOver1000Outlets(benchmark::State& state) {
  const int exceed_percent = static_cast<int>(state.range(0));
  const fs::path dir =
      fs::temp_directory_path() / ("ecomon-permit-bench-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "ecomon.db").string();
  {
    storage::SqliteOptions so;
    so.synchronous_full = false;
    auto store = storage::open_sqlite_store(path, so);
    FixedClock clock;
    auto service = al::AlarmService::open(path, **store, clock);
    if (!store || !service) {
      state.SkipWithError("cannot open");
      return;
    }
    auto& alarms = **service;
    alarms.set_permits([](const std::string&, const std::string& factor,
                          std::int64_t) -> std::optional<al::PermitTerms> {
      if (factor != "a21026") return std::nullopt;
      return al::PermitTerms{100.0, "mg/m³", "GB 13223-2011 表1", true, 6.0, std::nullopt};
    });
    al::Rule r;
    r.name = "SO2 permit";
    r.kind = al::RuleKind::kPermit;
    r.factor = "a21026";
    r.data_kind = storage::DataKind::kRealtime;
    (void)alarms.create_rule(r, "bench");
    std::int64_t t = kT0;
    std::uint64_t values = 0;
    int round = 0;
    for (auto _ : state) {
      state.PauseTiming();
      std::vector<storage::FrameWrite> batch(kSites);
      t += 1000;
      for (int s = 0; s < kSites; ++s) {
        auto& fw = batch[static_cast<std::size_t>(s)];
        fw.frame.mn = "MN" + site_code(s);
        fw.frame.cn = "2011";
        fw.frame.received_ms = t;
        fw.frame.outcome = "stored";
        const bool exceeds = ((s + round) % 100) < exceed_percent;
        for (const auto& [factor, field, x] :
             {std::tuple<const char*, const char*, double>{"a21026", "Rtd", 80},
              {"a21026", "ZsRtd", exceeds ? 150.0 : 90.0},
              {"a19001", "Rtd", 9}}) {
          storage::Value v;
          v.site = site_code(s);
          v.mn = fw.frame.mn;
          v.factor = factor;
          v.field = field;
          v.kind = storage::DataKind::kRealtime;
          v.measured_ms = t;
          v.received_ms = t;
          v.number = x;
          v.flag = "N";
          fw.values.push_back(std::move(v));
        }
      }
      if (!(*store)->write(batch)) {
        state.SkipWithError("write failed");
        break;
      }
      ++round;
      state.ResumeTiming();
      auto n = alarms.process_changes();
      if (!n) {
        state.SkipWithError(n.error().detail.c_str());
        break;
      }
      values += *n;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(values));
    state.counters["alarms_open"] = static_cast<double>(alarms.counters().alarms_open);
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_PermitRuleOver1000Outlets)
    ->Arg(0)
    ->Arg(10)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(20);

// evaluate() alone: one threshold rule against one value.
void BM_EvaluateThreshold(benchmark::State& state) {
  al::Rule r;
  r.name = "x";
  r.factor = "a34004";
  r.data_kind = storage::DataKind::kRealtime;
  r.limit = 100;
  (void)al::normalise_rule(r);
  storage::Value v;
  v.factor = "a34004";
  v.field = "Rtd";
  v.number = 50;
  v.flag = "N";
  al::SeriesState st;
  std::int64_t t = kT0;
  for (auto _ : state) {
    v.measured_ms = ++t;
    benchmark::DoNotOptimize(al::evaluate(r, v, st));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateThreshold);

}  // namespace

BENCHMARK_MAIN();
