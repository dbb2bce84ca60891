// Runs every data-driven case file of testdata/standards/cases/ through the assessor named in its
// first line — the same code `ecomon assess` runs. A case file is CSV:
//
//   # assess aqi --mode daily --standard HJ633-2026
//   # any further comment lines
//   time,pm25,...,expect_aqi,expect_category,clause
//
// Each `expect_<column>` cell that is not empty must equal the assessor's <column> for that row;
// `expect_error` must be a substring of the row's error. `clause` cites the standard; it is shown
// when a case fails. Add cases by adding rows; add a file per element or edition.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/assess.h"

namespace ecomon::app {
namespace {

struct CaseFile {
  std::string path;
  std::string kind;
  AssessOptions options;
  std::string csv;  // the CSV part (comments removed)
};

CaseFile load(const std::filesystem::path& path) {
  CaseFile f;
  f.path = path.filename().string();
  std::ifstream in(path);
  std::string line;
  std::ostringstream csv;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) {
      if (line.rfind("# assess ", 0) == 0 && f.kind.empty()) {
        std::istringstream words(line.substr(9));
        words >> f.kind;
        std::string key, value;
        while (words >> key >> value) f.options[key.substr(2)] = value;
      }
      continue;
    }
    csv << line << '\n';
  }
  f.csv = csv.str();
  return f;
}

std::vector<std::filesystem::path> case_files() {
  std::vector<std::filesystem::path> out;
  const std::filesystem::path dir = std::string(ECOMON_TESTDATA_DIR) + "/standards/cases";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".csv") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Parses CSV text into rows of cells (header first).
std::vector<std::vector<std::string>> parse(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::vector<std::string>> rows;
  while (true) {
    auto r = read_csv_record(in);
    if (!r || !*r) break;
    if ((*r)->size() == 1 && (**r)[0].empty()) continue;
    rows.push_back(std::move(**r));
  }
  return rows;
}

TEST(StandardsCases, EveryCaseFileHoldsAndEveryExpectationMatches) {
  const auto files = case_files();
  ASSERT_FALSE(files.empty());
  std::size_t checked = 0;
  for (const auto& path : files) {
    const CaseFile f = load(path);
    SCOPED_TRACE(f.path);
    ASSERT_FALSE(f.kind.empty()) << "first line must be '# assess KIND [--option value]...'";
    auto assessor = make_assessor(f.kind, f.options);
    ASSERT_TRUE(assessor.ok()) << assessor.error().detail;
    std::istringstream in(f.csv);
    std::ostringstream out, err;
    ASSERT_EQ(run_assess(**assessor, in, out, err), 0) << err.str();
    const auto input = parse(f.csv);
    const auto output = parse(out.str());
    ASSERT_EQ(input.size(), output.size());
    const auto& in_header = input[0];
    const auto& out_header = output[0];
    auto out_col = [&](const std::string& name) -> int {
      for (std::size_t i = 0; i < out_header.size(); ++i) {
        if (out_header[i] == name) return static_cast<int>(i);
      }
      return -1;
    };
    int clause_col = -1;
    for (std::size_t i = 0; i < in_header.size(); ++i) {
      if (in_header[i] == "clause") clause_col = static_cast<int>(i);
    }
    for (std::size_t r = 1; r < input.size(); ++r) {
      const std::string clause = clause_col >= 0 && clause_col < static_cast<int>(input[r].size())
                                     ? input[r][clause_col]
                                     : "";
      for (std::size_t c = 0; c < in_header.size(); ++c) {
        if (in_header[c].rfind("expect_", 0) != 0 || c >= input[r].size()) continue;
        const std::string& want = input[r][c];
        if (want.empty()) continue;
        const std::string column = in_header[c].substr(7);
        const int oc = out_col(column);
        ASSERT_GE(oc, 0) << "no output column '" << column << "'";
        const std::string& got = output[r][oc];
        if (column == "error") {
          EXPECT_NE(got.find(want), std::string::npos)
              << "row " << r + 1 << " [" << clause << "]: error '" << got << "' lacks '" << want
              << "'";
        } else {
          EXPECT_EQ(got, want) << "row " << r + 1 << " column " << column << " [" << clause << "]";
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 0u);
  std::printf("checked %zu expectations in %zu case files\n", checked, files.size());
}

}  // namespace
}  // namespace ecomon::app
