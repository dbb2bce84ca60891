// AQI throughput: one million station-hours of real concentrations (the Sichuan 2020 hourly
// release, data/air_cn_sichuan_hourly_2020, cycled) through the HJ 633 engine. `make bench`.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "standards/aqi.h"

namespace aqi = ecomon::standards::aqi;
using ecomon::standards::Decimal;

namespace {

std::vector<aqi::Concentrations> g_hours;

// Columns of the release:
// timestamp,city,station_code,station_name,lon,lat,pm25,pm10,co,no2,o3,o3_8h,so2
bool load() {
  std::ifstream in(ECOMON_DATA_DIR
                   "/air_cn_sichuan_hourly_2020/sichuan_station_hourly_2020-03-26_2020-04-08.csv");
  std::string line;
  if (!std::getline(in, line)) return false;
  const aqi::Pollutant order[] = {
      aqi::Pollutant::kPm25, aqi::Pollutant::kPm10,  aqi::Pollutant::kCo, aqi::Pollutant::kNo2,
      aqi::Pollutant::kO3,   aqi::Pollutant::kO3_8h, aqi::Pollutant::kSo2};
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    f.resize(13);
    aqi::Concentrations c;
    for (int i = 0; i < 7; ++i) {
      if (auto d = Decimal::parse(f[6 + i])) c[order[i]] = *d;
    }
    g_hours.push_back(c);
  }
  return !g_hours.empty();
}

void run(benchmark::State& state, aqi::Report report, aqi::Standard standard) {
  constexpr std::size_t kStationHours = 1'000'000;
  std::size_t with_aqi = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kStationHours; ++i) {
      const auto r = aqi::evaluate(g_hours[i % g_hours.size()], report, standard);
      with_aqi += r.aqi.has_value();
    }
  }
  benchmark::DoNotOptimize(with_aqi);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kStationHours));
}

void BM_AqiHourly2012(benchmark::State& s) {
  run(s, aqi::Report::kHourly, aqi::Standard::kHj633_2012);
}
void BM_AqiHourly2026(benchmark::State& s) {
  run(s, aqi::Report::kHourly, aqi::Standard::kHj633_2026);
}
void BM_AqiDaily2026(benchmark::State& s) {
  run(s, aqi::Report::kDaily, aqi::Standard::kHj633_2026);
}
BENCHMARK(BM_AqiHourly2012)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AqiHourly2026)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AqiDaily2026)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (!load()) {
    std::fprintf(stderr, "standards_bench: cannot read the Sichuan hourly data\n");
    return 2;
  }
  std::fprintf(stderr, "station-hours loaded: %zu (cycled to 1,000,000 per iteration)\n",
               g_hours.size());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
