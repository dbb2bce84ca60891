#include "standards/ecology.h"

#include <cmath>
#include <limits>
#include <string>

#include "standards/rounding.h"

namespace ecomon::standards::ecology {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMaxSubIndex = 100;  // the normalised scale; above it is capped (fact sheet §1)

// HJ 192-2015 EI weights (fact sheet §1, confirmed by the reference implementation's code).
constexpr EiWeight kHj192Weights[] = {
    {SubIndex::kBiologicalAbundance, 0.35, false, "HJ 192-2015 EI 权重 生物丰度指数 0.35"},
    {SubIndex::kVegetationCover, 0.25, false, "HJ 192-2015 EI 权重 植被覆盖指数 0.25"},
    {SubIndex::kWaterNetworkDensity, 0.15, false, "HJ 192-2015 EI 权重 水网密度指数 0.15"},
    {SubIndex::kLandStress, 0.15, true, "HJ 192-2015 EI 权重 (100−土地胁迫指数) 0.15"},
    {SubIndex::kPollutionLoad, 0.10, true, "HJ 192-2015 EI 权重 (100−污染负荷指数) 0.10"},
};

// 环境限制指数 caps, as the reference implementation applies them (fact sheet §3). The mapping of
// events to levels (约束内容) is unconfirmed; the caps themselves follow the grade edges.
constexpr RestrictionCap kHj192Caps[] = {
    {Restriction::kLowerOneGrade, 75, kInf, 74.9, "HJ 192-2015 环境限制指数 降1级 (fact sheet §3)"},
    {Restriction::kLowerOneGrade, 55, 75, 54.9, "HJ 192-2015 环境限制指数 降1级 (fact sheet §3)"},
    {Restriction::kLowerOneGrade, 35, 55, 34.9, "HJ 192-2015 环境限制指数 降1级 (fact sheet §3)"},
    {Restriction::kLowerOneGrade, 20, 35, 19.9, "HJ 192-2015 环境限制指数 降1级 (fact sheet §3)"},
    {Restriction::kNotExcellentOrGood, 55, kInf, 54.9,
     "HJ 192-2015 环境限制指数 不能为优和良 (fact sheet §3)"},
    {Restriction::kNotExcellentOrGood, 35, 55, 34.9,
     "HJ 192-2015 环境限制指数 不能为优和良 (fact sheet §3)"},
    {Restriction::kNotExcellentOrGood, 20, 35, 19.9,
     "HJ 192-2015 环境限制指数 不能为优和良 (fact sheet §3)"},
};

// 生态环境状况分级: 优 EI ≥ 75, 良 55 ≤ EI < 75, 一般 35 ≤ EI < 55, 较差 20 ≤ EI < 35, 差 EI < 20.
constexpr EiGradeRow kHj192Grades[] = {
    {EiGrade::kExcellent, 75, "HJ 192-2015 生态环境状况分级 优"},
    {EiGrade::kGood, 55, "HJ 192-2015 生态环境状况分级 良"},
    {EiGrade::kFair, 35, "HJ 192-2015 生态环境状况分级 一般"},
    {EiGrade::kPoor, 20, "HJ 192-2015 生态环境状况分级 较差"},
    {EiGrade::kVeryPoor, -kInf, "HJ 192-2015 生态环境状况分级 差"},
};

// 生态环境状况变化度分级 by |ΔEI|.
constexpr ChangeGradeRow kHj192Changes[] = {
    {0, 1, ChangeGrade::kNoObviousChange, ChangeGrade::kNoObviousChange,
     "HJ 192-2015 变化度分级 无明显变化 |ΔEI|<1"},
    {1, 3, ChangeGrade::kSlightlyBetter, ChangeGrade::kSlightlyWorse,
     "HJ 192-2015 变化度分级 略微变化 1≤|ΔEI|<3"},
    {3, 8, ChangeGrade::kObviouslyBetter, ChangeGrade::kObviouslyWorse,
     "HJ 192-2015 变化度分级 明显变化 3≤|ΔEI|<8"},
    {8, kInf, ChangeGrade::kSignificantlyBetter, ChangeGrade::kSignificantlyWorse,
     "HJ 192-2015 变化度分级 显著变化 |ΔEI|≥8"},
};

constexpr EcologyEdition kEditions[] = {
    {"HJ 192-2015", Validity{Date{2015, 3, 13}, std::nullopt}, kHj192Weights, kHj192Caps,
     kHj192Grades, kHj192Changes},
};

core::Unexpected<core::Error> error(std::string detail) {
  return core::fail(core::Error{"bad_value", std::move(detail)});
}

// GB/T 8170 rounding to the reported one decimal (standards/rounding.h).
double round_tenth(double value) { return round_gbt8170(value, 1); }

double value_of(const SubIndices& s, SubIndex index) {
  switch (index) {
    case SubIndex::kBiologicalAbundance:
      return s.biological_abundance;
    case SubIndex::kVegetationCover:
      return s.vegetation_cover;
    case SubIndex::kWaterNetworkDensity:
      return s.water_network_density;
    case SubIndex::kLandStress:
      return s.land_stress;
    case SubIndex::kPollutionLoad:
      return s.pollution_load;
  }
  return 0;
}

std::string_view sub_index_name(SubIndex index) {
  switch (index) {
    case SubIndex::kBiologicalAbundance:
      return "biological abundance index";
    case SubIndex::kVegetationCover:
      return "vegetation cover index";
    case SubIndex::kWaterNetworkDensity:
      return "water network density index";
    case SubIndex::kLandStress:
      return "land stress index";
    case SubIndex::kPollutionLoad:
      return "pollution load index";
  }
  return "?";
}

}  // namespace

std::optional<Restriction> parse_restriction(std::string_view text) {
  std::string t(text);
  for (char& c : t) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (t.empty() || t == "none" || t == "无") return Restriction::kNone;
  if (t == "lower_one_grade" || t == "降1级" || t == "降一级") return Restriction::kLowerOneGrade;
  if (t == "not_excellent_or_good" || t == "不能为优和良") return Restriction::kNotExcellentOrGood;
  return std::nullopt;
}

std::string_view restriction_name(Restriction restriction) {
  switch (restriction) {
    case Restriction::kNone:
      return "none";
    case Restriction::kLowerOneGrade:
      return "lower_one_grade";
    case Restriction::kNotExcellentOrGood:
      return "not_excellent_or_good";
  }
  return "?";
}

std::string_view ei_grade_name(EiGrade grade) {
  switch (grade) {
    case EiGrade::kExcellent:
      return "优";
    case EiGrade::kGood:
      return "良";
    case EiGrade::kFair:
      return "一般";
    case EiGrade::kPoor:
      return "较差";
    case EiGrade::kVeryPoor:
      return "差";
  }
  return "?";
}

std::string_view change_grade_name(ChangeGrade grade) {
  switch (grade) {
    case ChangeGrade::kNoObviousChange:
      return "无明显变化";
    case ChangeGrade::kSlightlyBetter:
      return "略微变好";
    case ChangeGrade::kSlightlyWorse:
      return "略微变差";
    case ChangeGrade::kObviouslyBetter:
      return "明显变好";
    case ChangeGrade::kObviouslyWorse:
      return "明显变差";
    case ChangeGrade::kSignificantlyBetter:
      return "显著变好";
    case ChangeGrade::kSignificantlyWorse:
      return "显著变差";
  }
  return "?";
}

std::span<const EcologyEdition> ecology_editions() { return kEditions; }

const EcologyEdition* ecology_edition_for(const Date& date) {
  for (const EcologyEdition& e : kEditions) {
    if (e.validity.covers(date)) return &e;
  }
  return nullptr;
}

const EcologyEdition& latest_ecology_edition() { return kEditions[std::size(kEditions) - 1]; }

EiGrade ei_grade(const EcologyEdition& edition, double ei) {
  const double reported = round_tenth(ei);
  for (const EiGradeRow& row : edition.grades) {
    if (reported >= row.lower_bound) return row.grade;
  }
  return edition.grades.back().grade;
}

core::Result<EcologicalIndex> ecological_index(const EcologyEdition& edition,
                                               const SubIndices& sub_indices,
                                               Restriction restriction) {
  double sum = 0;
  for (const EiWeight& w : edition.weights) {
    const double v = value_of(sub_indices, w.index);
    if (!std::isfinite(v) || v < 0) {
      return error(std::string(sub_index_name(w.index)) + " must be a finite number ≥ 0");
    }
    const double capped = std::min(v, kMaxSubIndex);
    sum += w.weight * (w.inverted ? kMaxSubIndex - capped : capped);
  }
  EcologicalIndex out;
  out.unrestricted = round_tenth(sum);
  out.ei = out.unrestricted;
  for (const RestrictionCap& cap : edition.restriction_caps) {
    if (cap.restriction == restriction && out.ei >= cap.from && out.ei < cap.until) {
      out.ei = cap.cap;
      break;
    }
  }
  out.grade = ei_grade(edition, out.ei);
  return out;
}

core::Result<EiChange> ei_change(const EcologyEdition& edition, double ei, double previous_ei) {
  if (!std::isfinite(ei) || !std::isfinite(previous_ei)) return error("EI must be finite");
  EiChange out;
  out.delta = round_tenth(ei - previous_ei);
  if (out.delta == 0) out.delta = 0;  // no "-0"
  const double magnitude = std::abs(out.delta);
  for (const ChangeGradeRow& row : edition.change_grades) {
    if (magnitude >= row.from_abs && magnitude < row.until_abs) {
      out.grade = out.delta < 0 ? row.worse : row.better;
      break;
    }
  }
  return out;
}

}  // namespace ecomon::standards::ecology
