// `ecomon assess ecology`: the ecological index EI by HJ 192-2015 (standards/ecology.h).
//
// Input columns (one row per region and year; all indices on the normalised 0–100 scale):
//   biological_abundance  生物丰度指数      vegetation_cover  植被覆盖指数
//   water_network         水网密度指数      land_stress       土地胁迫指数
//   pollution_load        污染负荷指数
//     all five required: a missing one is an error, never 0; above 100 is capped at 100
//   restriction  环境限制指数 (optional): none (or empty), lower_one_grade (降1级),
//                not_excellent_or_good (不能为优和良)
//   previous_ei  the base year's EI (optional), for the change
//   date         YYYY-MM-DD (optional): selects the edition in force (none before 2015-03-13);
//                without it the latest
// Output columns:
//   ei            EI to 0.1, after the restriction cap
//   grade         优, 良, 一般, 较差, 差
//   change        ΔEI = ei − previous_ei, to 0.1 (empty without previous_ei)
//   change_grade  无明显变化, 略微变好/变差, 明显变好/变差, 显著变好/变差
//   standard      the edition applied ("HJ 192-2015")
// Other columns pass through.
#include <cstdio>
#include <string>

#include "app/assess.h"
#include "core/civil_time.h"
#include "standards/ecology.h"

namespace ecomon::app {

namespace {

namespace ecology = standards::ecology;

core::Unexpected<core::Error> bad(std::string detail) {
  return core::fail(core::Error{"bad_value", std::move(detail)});
}

class EcologyAssessor final : public Assessor {
 public:
  std::vector<std::string> columns(const std::vector<std::string>&) const override {
    return {"ei", "grade", "change", "change_grade", "standard"};
  }

  core::Result<std::vector<std::string>> assess(const CsvRow& row) const override {
    auto date = date_cell(row);
    if (!date) return core::fail(date.error());
    const ecology::EcologyEdition* edition = &ecology::latest_ecology_edition();
    if (*date && !(edition = ecology::ecology_edition_for(**date))) {
      return bad("column date: " + format_date(**date) +
                 " is before HJ 192-2015 (from 2015-03-13); HJ/T 192-2006 is not tabled");
    }

    ecology::SubIndices s;
    for (auto [column, target] : {std::pair{"biological_abundance", &s.biological_abundance},
                                  std::pair{"vegetation_cover", &s.vegetation_cover},
                                  std::pair{"water_network", &s.water_network_density},
                                  std::pair{"land_stress", &s.land_stress},
                                  std::pair{"pollution_load", &s.pollution_load}}) {
      auto v = number_cell(row, column);
      if (!v) return core::fail(v.error());
      if (!*v) return bad(std::string("column ") + column + ": missing; EI needs all five indices");
      if (**v < 0) return bad(std::string("column ") + column + ": negative index");
      *target = **v;
    }
    ecology::Restriction restriction = ecology::Restriction::kNone;
    if (const auto cell = row.get("restriction")) {
      const auto parsed = ecology::parse_restriction(*cell);
      if (!parsed) {
        return bad("column restriction: '" + std::string(*cell) +
                   "' is not none, lower_one_grade or not_excellent_or_good");
      }
      restriction = *parsed;
    }
    auto previous = number_cell(row, "previous_ei");
    if (!previous) return core::fail(previous.error());

    auto ei = ecology::ecological_index(*edition, s, restriction);
    if (!ei) return bad(ei.error().detail);
    std::vector<std::string> cells{format_decimal(ei->ei, 1),
                                   std::string(ecology::ei_grade_name(ei->grade)), "", "",
                                   std::string(edition->standard)};
    if (*previous) {
      auto change = ecology::ei_change(*edition, ei->ei, **previous);
      if (!change) return bad("column previous_ei: " + change.error().detail);
      cells[2] = format_decimal(change->delta, 1);
      cells[3] = ecology::change_grade_name(change->grade);
    }
    return cells;
  }
};

}  // namespace

core::Result<std::unique_ptr<Assessor>> make_ecology_assessor(const AssessOptions& options) {
  if (auto ok = check_options(options, {}); !ok) return core::fail(ok.error());
  return std::unique_ptr<Assessor>(std::make_unique<EcologyAssessor>());
}

}  // namespace ecomon::app
