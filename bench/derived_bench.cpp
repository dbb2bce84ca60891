// Aggregate queries over a year of minute data (issue #5 §6): a SQLite store gets a year of
// minute values (CN 2051 Avg) of PM2.5 and O3 at one station (2 × 525,600 values, not timed) and
// the device's own O3 hours (CN 2061, 8,760 values: those hours keep the platform's minute mean
// beside them, the path of a device that sends both), the
// derived service computes its stored hours, days and indices once (timed once, reported as the
// counter "setup_s" of the first benchmark), then the queries the API makes are timed:
//   day     the 24 stored hours of one day (interval=hour over a day)
//   month   the stored days of one month (interval=day over a month)
//   year    the 365 stored days of the year folded into months and the year (interval=month|year)
//   aqi     the 365 stored daily AQI rows of the year (/api/v1/aqi?mode=daily over a year)
//   as_of   the same year of days as known before one re-sent minute a day revised every day
//           (each row read back from its revision trail)
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "derive/aggregates.h"
#include "standards/aggregation.h"
#include "storage/sqlite/sqlite_store.h"

namespace derive = ecomon::derive;
namespace storage = ecomon::storage;
namespace agg = ecomon::standards::aggregation;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr const char* kSite = "2524A";
const std::int64_t kYear = agg::beijing_year_start(1'767'225'600'000);  // 2026-01-01 Beijing

class StepClock final : public ecomon::core::Clock {
 public:
  std::int64_t now_ms() const override { return now; }
  std::int64_t now = kYear + 400 * kDay;
};

struct Fixture {
  fs::path dir;
  std::unique_ptr<storage::Store> store;
  StepClock clock;
  std::unique_ptr<derive::DerivedService> derived;
  double setup_s = 0;
  std::uint64_t values = 0;
  std::int64_t before_resend = 0;

  Fixture() {
    dir = fs::temp_directory_path() / ("ecomon-derived-bench-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string path = (dir / "ecomon.db").string();
    storage::SqliteOptions so;
    so.synchronous_full = false;  // the store's writes are not what is measured
    auto s = storage::open_sqlite_store(path, so);
    if (!s) return;
    store = std::move(*s);
    for (std::int64_t day = kYear; day < kYear + 365 * kDay; day += kDay) {
      std::vector<storage::FrameWrite> batch(1);
      batch[0].frame.mn = "GY00000002524A";
      batch[0].frame.cn = "2051";
      batch[0].frame.received_ms = day + kDay;
      batch[0].frame.outcome = "stored";
      for (std::int64_t t = day; t < day + kDay; t += kMinute) {
        for (const char* factor : {"a34004", "a05024"}) {
          storage::Value v;
          v.site = kSite;
          v.mn = "GY00000002524A";
          v.factor = factor;
          v.field = "Avg";
          v.kind = storage::DataKind::kMinute;
          v.measured_ms = t;
          v.received_ms = day + kDay;
          v.number = 40 + static_cast<double>((t / kMinute) % 97);
          v.text = "x";
          v.flag = "N";
          batch[0].values.push_back(std::move(v));
        }
      }
      for (std::int64_t t = day; t < day + kDay; t += kHour) {  // the device's own O3 hours
        storage::Value v;
        v.site = kSite;
        v.mn = "GY00000002524A";
        v.factor = "a05024";
        v.field = "Avg";
        v.kind = storage::DataKind::kHour;
        v.measured_ms = t;
        v.received_ms = day + kDay;
        v.number = 90;
        v.text = "90";
        v.flag = "N";
        batch[0].values.push_back(std::move(v));
      }
      values += batch[0].values.size();
      if (!store->write(batch)) return;
    }
    auto d = derive::DerivedService::open(path, *store, clock);
    if (!d) return;
    derived = std::move(*d);
    const auto t0 = std::chrono::steady_clock::now();
    if (!derived->process_changes()) derived.reset();
    setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!derived) return;
    // One minute of every day re-sent with another value: a new_version revision per hour, day.
    before_resend = clock.now;
    clock.now += kDay;
    std::vector<storage::FrameWrite> batch(1);
    batch[0].frame.mn = "GY00000002524A";
    batch[0].frame.cn = "2051";
    batch[0].frame.received_ms = clock.now;
    batch[0].frame.outcome = "stored";
    for (std::int64_t day = kYear; day < kYear + 365 * kDay; day += kDay) {
      storage::Value v;
      v.site = kSite;
      v.mn = "GY00000002524A";
      v.factor = "a34004";
      v.field = "Avg";
      v.kind = storage::DataKind::kMinute;
      v.measured_ms = day + 10 * kHour;
      v.received_ms = clock.now;
      v.number = 999;
      v.text = "999";
      v.flag = "N";
      batch[0].values.push_back(std::move(v));
    }
    if (!store->write(batch) || !derived->process_changes()) derived.reset();
  }
  ~Fixture() { fs::remove_all(dir); }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

derive::AggregateQuery query(derive::Period p, std::int64_t from, std::int64_t to) {
  derive::AggregateQuery q;
  q.site = kSite;
  q.factor = "a34004";
  q.period = p;
  q.from_ms = from;
  q.to_ms = to;
  return q;
}

void BM_DayOfHours(benchmark::State& state) {
  auto& f = fixture();
  if (!f.derived) return state.SkipWithError("setup failed");
  std::int64_t day = kYear;
  for (auto _ : state) {
    auto rows = f.derived->aggregates(query(derive::Period::kHour, day, day + kDay));
    benchmark::DoNotOptimize(rows);
    day = kYear + ((day - kYear + kDay) % (365 * kDay));
  }
  state.counters["setup_s"] = f.setup_s;
  state.counters["values"] = static_cast<double>(f.values);
}
BENCHMARK(BM_DayOfHours);

void BM_MonthOfDays(benchmark::State& state) {
  auto& f = fixture();
  if (!f.derived) return state.SkipWithError("setup failed");
  for (auto _ : state) {
    auto rows = f.derived->aggregates(query(derive::Period::kDay, kYear, kYear + 31 * kDay));
    benchmark::DoNotOptimize(rows);
  }
}
BENCHMARK(BM_MonthOfDays);

void BM_YearOfMonthsAndTheYear(benchmark::State& state) {
  auto& f = fixture();
  if (!f.derived) return state.SkipWithError("setup failed");
  for (auto _ : state) {
    auto rows = f.derived->aggregates(query(derive::Period::kDay, kYear, kYear + 365 * kDay));
    // What GET /api/v1/aggregates?interval=month|year does with them.
    auto months = derive::months_or_years_from_days(*rows, true);
    auto years = derive::months_or_years_from_days(*rows, false);
    benchmark::DoNotOptimize(months);
    benchmark::DoNotOptimize(years);
  }
}
BENCHMARK(BM_YearOfMonthsAndTheYear);

void BM_YearOfDailyAqi(benchmark::State& state) {
  auto& f = fixture();
  if (!f.derived) return state.SkipWithError("setup failed");
  for (auto _ : state) {
    derive::IndexQuery q;
    q.site = kSite;
    q.name = "aqi_day";
    q.from_ms = kYear;
    q.to_ms = kYear + 365 * kDay;
    auto rows = f.derived->indices(q);
    benchmark::DoNotOptimize(rows);
  }
}
BENCHMARK(BM_YearOfDailyAqi);

void BM_YearOfDaysAsOf(benchmark::State& state) {
  auto& f = fixture();
  if (!f.derived) return state.SkipWithError("setup failed");
  for (auto _ : state) {
    auto q = query(derive::Period::kDay, kYear, kYear + 365 * kDay);
    q.as_of_ms = f.before_resend;  // every day was revised since: each reads its trail
    auto rows = f.derived->aggregates(q);
    benchmark::DoNotOptimize(rows);
  }
}
BENCHMARK(BM_YearOfDaysAsOf);

}  // namespace

BENCHMARK_MAIN();
