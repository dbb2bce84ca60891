// `ecomon assess noise`: functional-zone compliance by GB 3096-2008 (standards/noise.h).
//
// Input columns (one row per point and day; empty cell = missing, never 0):
//   zone        声环境功能区类别: 0, 1, 2, 3, 4a, 4b (required, unless --zone gives it for all
//   rows) ld          昼间等效声级 L_d, dB(A) (06:00–22:00) ln          夜间等效声级 L_n, dB(A)
//   (22:00–06:00) lmax_night  the night's maximum A level L_max, dB(A) (optional) night_event kind
//   of that night noise: frequent (频发, limit + 10), sporadic (偶发, + 15), or
//               sudden (突发, GB 3096-2008 §5.4's general + 15 — the default when empty; also
//               --night-event for all rows)
//   date        YYYY-MM-DD (optional, a time may follow): selects the edition in force on that
//               day; without it the latest tabled edition
// Output columns:
//   ldn               昼夜等效声级 (L_d and L_n both given), 0.1 dB
//   day_limit, night_limit          表1 limits of the zone, dB(A)
//   day_exceed_db, night_exceed_db  L − limit when above, else 0 (empty when L is missing)
//   day_compliant, night_compliant  yes / no
//   lmax_limit, lmax_exceed_db, lmax_compliant   the night L_max rule (empty without lmax_night)
//   compliant         no if any judged level exceeds; yes if L_d and L_n both comply (and L_max,
//                     when given); empty otherwise
//   standard          the edition applied ("GB 3096-2008")
// Levels are judged after rounding to 0.1 dB (the reported precision). Other columns pass through.
// Options: --zone CLASS, --night-event KIND.
#include <cstdio>
#include <string>

#include "app/assess.h"
#include "core/civil_time.h"
#include "standards/noise.h"

namespace ecomon::app {

namespace {

namespace noise = standards::noise;

core::Unexpected<core::Error> bad(std::string detail) {
  return core::fail(core::Error{"bad_value", std::move(detail)});
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

class NoiseAssessor final : public Assessor {
 public:
  NoiseAssessor(std::optional<noise::ZoneClass> zone, noise::NightEvent night_event)
      : zone_(zone), night_event_(night_event) {}

  std::vector<std::string> columns(const std::vector<std::string>&) const override {
    return {"ldn",           "day_limit",       "night_limit", "day_exceed_db",  "night_exceed_db",
            "day_compliant", "night_compliant", "lmax_limit",  "lmax_exceed_db", "lmax_compliant",
            "compliant",     "standard"};
  }

  core::Result<std::vector<std::string>> assess(const CsvRow& row) const override {
    auto date = date_cell(row);
    if (!date) return core::fail(date.error());
    const noise::NoiseEdition* edition = &noise::latest_noise_edition();
    if (*date) {
      edition = noise::noise_edition_for(**date);
      if (!edition) {
        const noise::NoiseEdition& first = noise::noise_editions().front();
        return bad("column date: " + format_date(**date) + " is before " +
                   std::string(first.standard) + " (in force from " +
                   format_date(first.validity.from) + "); earlier editions are not tabled");
      }
    }

    noise::NoiseInput input;
    if (const auto z = row.get("zone")) {
      const auto parsed = noise::parse_zone_class(*z);
      if (!parsed) {
        return bad("column zone: '" + std::string(*z) +
                   "' is not a zone class (0, 1, 2, 3, 4a, 4b)");
      }
      input.zone = *parsed;
    } else if (zone_) {
      input.zone = *zone_;
    } else {
      return bad("column zone: missing (0, 1, 2, 3, 4a, 4b; or --zone)");
    }
    input.night_event = night_event_;
    if (const auto e = row.get("night_event")) {
      const auto parsed = noise::parse_night_event(*e);
      if (!parsed) {
        return bad("column night_event: '" + std::string(*e) +
                   "' is not frequent, sporadic or sudden");
      }
      input.night_event = *parsed;
    }
    for (auto [column, target] : {std::pair{"ld", &input.ld_db}, std::pair{"ln", &input.ln_db},
                                  std::pair{"lmax_night", &input.lmax_night_db}}) {
      auto v = number_cell(row, column);
      if (!v) return core::fail(v.error());
      *target = *v;
    }

    auto a = noise::assess(*edition, input);
    if (!a) return bad(a.error().detail);
    auto level = [](const std::optional<double>& v) { return v ? format_decimal(*v, 1) : ""; };
    auto exceed = [](const std::optional<noise::LevelVerdict>& v) {
      return v ? format_decimal(v->exceed_db, 1) : "";
    };
    auto compliant = [](const std::optional<noise::LevelVerdict>& v) {
      return v ? yes_no(v->compliant) : "";
    };
    return std::vector<std::string>{
        level(a->ldn_db),
        format_decimal(a->day_limit_db, 1),
        format_decimal(a->night_limit_db, 1),
        exceed(a->day),
        exceed(a->night),
        compliant(a->day),
        compliant(a->night),
        a->night_max ? format_decimal(a->night_max->limit_db, 1) : "",
        exceed(a->night_max),
        compliant(a->night_max),
        a->compliant ? yes_no(*a->compliant) : "",
        std::string(edition->standard),
    };
  }

 private:
  std::optional<noise::ZoneClass> zone_;
  noise::NightEvent night_event_;
};

}  // namespace

core::Result<std::unique_ptr<Assessor>> make_noise_assessor(const AssessOptions& options) {
  if (auto ok = check_options(options, {"zone", "night-event"}); !ok) return core::fail(ok.error());
  std::optional<noise::ZoneClass> zone;
  if (const auto it = options.find("zone"); it != options.end()) {
    zone = noise::parse_zone_class(it->second);
    if (!zone) {
      return core::fail(core::Error{
          "bad_option", "--zone '" + it->second + "' is not a zone class (0, 1, 2, 3, 4a, 4b)"});
    }
  }
  noise::NightEvent event = noise::NightEvent::kSudden;
  if (const auto it = options.find("night-event"); it != options.end()) {
    const auto parsed = noise::parse_night_event(it->second);
    if (!parsed) {
      return core::fail(core::Error{
          "bad_option", "--night-event '" + it->second + "' is not frequent, sporadic or sudden"});
    }
    event = *parsed;
  }
  return std::unique_ptr<Assessor>(std::make_unique<NoiseAssessor>(zone, event));
}

}  // namespace ecomon::app
