// Ecosystem status: HJ 192-2015 生态环境状况评价技术规范 — the ecological index EI
// (生态环境状况指数) from its five normalised sub-indices, the environmental restriction index
// (环境限制指数) as a cap on the grade, the grade (分级) and the change grade (变化度分级).
//
// Units: every index is dimensionless on a 0–100 scale. EI and ΔEI are reported to 0.1 and
// graded on that reported value (GB/T 8170 rounding), so a published 75.0 is always 优.
// Sub-indices above 100 are capped at 100 (common practice, fact sheet §1 — unconfirmed clause);
// a negative sub-index is an error. Sub-indices are used as given (not rounded first).
// Missing vs zero: EI needs all five sub-indices; the caller passes none that is missing (a land
// stress of 0 adds 15 points, so a missing one must never become 0).
// Errors (core::Error reasons): "bad_value".
// Pure: no I/O, no clock, constant tables only; thread-safe; returned references and
// string_views point into static storage.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "core/result.h"
#include "standards/edition.h"

namespace ecomon::standards::ecology {

// The five normalised sub-indices, each 0–100.
struct SubIndices {
  double biological_abundance = 0;   // 生物丰度指数
  double vegetation_cover = 0;       // 植被覆盖指数
  double water_network_density = 0;  // 水网密度指数
  double land_stress = 0;            // 土地胁迫指数 (enters as 100 − value)
  double pollution_load = 0;         // 污染负荷指数 (enters as 100 − value)
};

enum class SubIndex {
  kBiologicalAbundance,
  kVegetationCover,
  kWaterNetworkDensity,
  kLandStress,
  kPollutionLoad
};

// One term of the EI formula: weight × value, or weight × (100 − value) for a stress.
struct EiWeight {
  SubIndex index;
  double weight;
  bool inverted;  // enters as (100 − value)
  std::string_view clause;
};

// 环境限制指数: events of the assessment year (major environmental incidents, ecological
// destruction, verified pollution problems) that cap the grade. Which event maps to which level
// is the standard's 约束内容 table, which the fact sheet could not confirm; the caller decides.
enum class Restriction {
  kNone,
  kLowerOneGrade,       // 生态环境级别降1级
  kNotExcellentOrGood,  // 不能为"优"和"良" (and one grade lower below 良)
};
// "none"/"" , "lower_one_grade"/"降1级", "not_excellent_or_good"/"不能为优和良" (case-insensitive).
std::optional<Restriction> parse_restriction(std::string_view text);
std::string_view restriction_name(Restriction restriction);

// An EI in [from, until) under `restriction` becomes `cap`.
struct RestrictionCap {
  Restriction restriction;
  double from;
  double until;  // +infinity for the top row
  double cap;
  std::string_view clause;
};

enum class EiGrade { kExcellent, kGood, kFair, kPoor, kVeryPoor };  // 优 良 一般 较差 差
std::string_view ei_grade_name(EiGrade grade);                      // "优", …

// EI ≥ lower_bound → grade (rows from the best grade down; the last row's bound is −infinity).
struct EiGradeRow {
  EiGrade grade;
  double lower_bound;
  std::string_view clause;
};

// ΔEI change classes by |ΔEI|: [from, until) → the better or the worse label by its sign.
enum class ChangeGrade {
  kNoObviousChange,      // 无明显变化
  kSlightlyBetter,       // 略微变好
  kSlightlyWorse,        // 略微变差
  kObviouslyBetter,      // 明显变好
  kObviouslyWorse,       // 明显变差
  kSignificantlyBetter,  // 显著变好
  kSignificantlyWorse,   // 显著变差
};
std::string_view change_grade_name(ChangeGrade grade);  // "明显变好", …

struct ChangeGradeRow {
  double from_abs;
  double until_abs;  // +infinity for the top row
  ChangeGrade better;
  ChangeGrade worse;  // the same as `better` for the no-change row
  std::string_view clause;
};

struct EcologyEdition {
  std::string_view standard;  // "HJ 192-2015"
  Validity validity;
  std::span<const EiWeight> weights;
  std::span<const RestrictionCap> restriction_caps;
  std::span<const EiGradeRow> grades;
  std::span<const ChangeGradeRow> change_grades;
};

std::span<const EcologyEdition> ecology_editions();
const EcologyEdition* ecology_edition_for(const Date& date);  // nullptr before 2015-03-13
const EcologyEdition& latest_ecology_edition();

struct EcologicalIndex {
  double unrestricted = 0;  // Σ weight × term, rounded to 0.1
  double ei = 0;            // after the restriction cap; the reported EI
  EiGrade grade = EiGrade::kVeryPoor;
};

// EI = 0.35·生物丰度 + 0.25·植被覆盖 + 0.15·水网密度 + 0.15·(100 − 土地胁迫)
//      + 0.10·(100 − 污染负荷), rounded to 0.1, then capped by the restriction, then graded.
core::Result<EcologicalIndex> ecological_index(const EcologyEdition& edition,
                                               const SubIndices& sub_indices,
                                               Restriction restriction = Restriction::kNone);

EiGrade ei_grade(const EcologyEdition& edition, double ei);

struct EiChange {
  double delta = 0;  // EI − previous EI, rounded to 0.1
  ChangeGrade grade = ChangeGrade::kNoObviousChange;
};
// The change from `previous_ei` to `ei` (both finite; "bad_value" otherwise).
core::Result<EiChange> ei_change(const EcologyEdition& edition, double ei, double previous_ei);

}  // namespace ecomon::standards::ecology
