// The real data files of ../shared/data (copied under data/) as the unit tests read them, through
// the project's own CSV reader (app/csv.h): one reader per file format instead of a hand-split
// copy in each test.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "app/csv.h"
#include "core/civil_time.h"

namespace ecomon::test {

// Every record of a CSV file under the data directory as column → cell (the header's names).
// A file that cannot be read or parsed fails the calling test.
inline std::vector<std::map<std::string, std::string>> read_data_csv(const std::string& relative) {
  std::vector<std::map<std::string, std::string>> out;
  std::ifstream in(std::string(ECOMON_DATA_DIR) + "/" + relative, std::ios::binary);
  EXPECT_TRUE(in) << relative;
  auto header = app::read_csv_record(in);
  if (!header || !*header) {
    ADD_FAILURE() << relative << ": no header";
    return out;
  }
  while (true) {
    auto record = app::read_csv_record(in);
    if (!record) {
      ADD_FAILURE() << relative << ": " << record.error().detail;
      return out;
    }
    if (!*record) return out;
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < (*header)->size() && i < (*record)->size(); ++i) {
      row[(**header)[i]] = (**record)[i];
    }
    out.push_back(std::move(row));
  }
}

// One published concentration of the national hourly air release
// (data/air_cn_sichuan_hourly_2020): the station (its code, else its name), the HJ 212 factor, the
// hour's START (the release stamps an hour by its end), the value.
struct ReleaseValue {
  std::string station;
  std::string factor;
  std::int64_t start_ms = 0;
  double value = 0;
};

inline std::vector<ReleaseValue> read_air_release(const std::string& file) {
  static const std::vector<std::pair<std::string, std::string>> kColumns = {
      {"pm25_ugm3", "a34004"}, {"pm10_ugm3", "a34002"},  {"so2_ugm3", "a21026"},
      {"no2_ugm3", "a21004"},  {"o3_1h_ugm3", "a05024"}, {"co_mgm3", "a21005"}};
  std::vector<ReleaseValue> out;
  for (auto& row : read_data_csv("air_cn_sichuan_hourly_2020/" + file)) {
    const auto parsed = core::parse_iso8601(row["timestamp"]);
    EXPECT_TRUE(parsed && parsed->offset_seconds) << row["timestamp"];
    if (!parsed || !parsed->offset_seconds) continue;
    const std::int64_t start = core::to_unix_ms(parsed->civil, *parsed->offset_seconds) - 3'600'000;
    const std::string station =
        row["station_code"].empty() ? row["station_name"] : row["station_code"];
    for (const auto& [column, factor] : kColumns) {
      const std::string& cell = row[column];
      if (!cell.empty()) out.push_back(ReleaseValue{station, factor, start, std::stod(cell)});
    }
  }
  return out;
}

}  // namespace ecomon::test
