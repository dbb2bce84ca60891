// The GB 3095 limit tables and HJ 663's annual evaluation items, as transcribed in
// ../shared/reference/standards/GB3095-2012-air.md (§2, §3 and §5.1). Change a value only with a
// citation; tests/standards_gb3095_test.cpp repeats every row independently.
#include <array>

#include "standards/gb3095.h"

namespace ecomon::standards::air {
namespace {

using enum Pollutant;
using enum Averaging;
using enum Confidence;

constexpr Unit kUg = Unit::kMicrogramPerM3;
constexpr Unit kMg = Unit::kMilligramPerM3;

constexpr Gb3095Stage k2012 = Gb3095Stage::k2012;
constexpr Gb3095Stage kTrans = Gb3095Stage::k2026Transition;
constexpr Gb3095Stage kFinal = Gb3095Stage::k2026Final;

constexpr std::string_view k2012T1 = "GB 3095-2012 表1";
constexpr std::string_view k2012T2 = "GB 3095-2012 表2";
constexpr std::string_view kTransT1 =
    "GB 3095-2026 表1, 过渡阶段浓度限值 (2026-03-01..2030-12-31, §4.4)";
constexpr std::string_view kFinalT1 = "GB 3095-2026 表1, 浓度限值 (2031-01-01 起, §4.4)";
// Table 2 items are implemented where the MEE or a province decides (GB 3095-2026 §4.5).
constexpr std::string_view kTransT2 = "GB 3095-2026 表2, 过渡阶段浓度限值 (§4.5)";
constexpr std::string_view kFinalT2 = "GB 3095-2026 表2, 浓度限值 (2031-01-01 起, §4.5)";

// The PM rows of 2026 are confirmed by official news and several transcriptions; the gas rows
// come from two agreeing transcriptions (one conflicting, unreliable source gives SO2 40/100 and
// NO2 24-h 60 for the final phase); Table 2 of 2026 from a single transcription.
constexpr std::array kLimits = {
    // GB 3095-2012 Table 1 (basic items).
    LimitRow{k2012, kSo2, kAnnual, 20, 60, kUg, k2012T1, kConfirmed},
    LimitRow{k2012, kSo2, k24Hour, 50, 150, kUg, k2012T1, kConfirmed},
    LimitRow{k2012, kSo2, k1Hour, 150, 500, kUg, k2012T1, kConfirmed},
    LimitRow{k2012, kNo2, kAnnual, 40, 40, kUg, k2012T1, kConfirmed},
    LimitRow{k2012, kNo2, k24Hour, 80, 80, kUg, k2012T1, kConfirmed},
    LimitRow{k2012, kNo2, k1Hour, 200, 200, kUg, k2012T1, kConfirmed},
    LimitRow{k2012, kCo, k24Hour, 4, 4, kMg, k2012T1, kConfirmed},
    LimitRow{k2012, kCo, k1Hour, 10, 10, kMg, k2012T1, kConfirmed},
    LimitRow{k2012, kO3, k8HourDailyMax, 100, 160, kUg, k2012T1, kConfirmed},
    LimitRow{k2012, kO3, k1Hour, 160, 200, kUg, k2012T1, kConfirmed},
    LimitRow{k2012, kPm10, kAnnual, 40, 70, kUg, k2012T1, kConfirmed},
    LimitRow{k2012, kPm10, k24Hour, 50, 150, kUg, k2012T1, kConfirmed},
    LimitRow{k2012, kPm25, kAnnual, 15, 35, kUg, k2012T1, kConfirmed},
    LimitRow{k2012, kPm25, k24Hour, 35, 75, kUg, k2012T1, kConfirmed},
    // GB 3095-2012 Table 2 (other items).
    LimitRow{k2012, kTsp, kAnnual, 80, 200, kUg, k2012T2, kConfirmed},
    LimitRow{k2012, kTsp, k24Hour, 120, 300, kUg, k2012T2, kConfirmed},
    LimitRow{k2012, kNox, kAnnual, 50, 50, kUg, k2012T2, kConfirmed},
    LimitRow{k2012, kNox, k24Hour, 100, 100, kUg, k2012T2, kConfirmed},
    LimitRow{k2012, kNox, k1Hour, 250, 250, kUg, k2012T2, kConfirmed},
    LimitRow{k2012, kPb, kAnnual, 0.5, 0.5, kUg, k2012T2, kConfirmed},
    LimitRow{k2012, kPb, kQuarterly, 1, 1, kUg, k2012T2, kConfirmed},
    LimitRow{k2012, kBap, kAnnual, 0.001, 0.001, kUg, k2012T2, kConfirmed},
    LimitRow{k2012, kBap, k24Hour, 0.0025, 0.0025, kUg, k2012T2, kConfirmed},

    // GB 3095-2026 Table 1, transition phase.
    LimitRow{kTrans, kSo2, kAnnual, 20, 60, kUg, kTransT1, kTranscribed},
    LimitRow{kTrans, kSo2, k24Hour, 50, 150, kUg, kTransT1, kTranscribed},
    LimitRow{kTrans, kSo2, k1Hour, 150, 500, kUg, kTransT1, kTranscribed},
    LimitRow{kTrans, kNo2, kAnnual, 40, 40, kUg, kTransT1, kTranscribed},
    LimitRow{kTrans, kNo2, k24Hour, 80, 80, kUg, kTransT1, kTranscribed},
    LimitRow{kTrans, kNo2, k1Hour, 200, 200, kUg, kTransT1, kTranscribed},
    LimitRow{kTrans, kCo, k24Hour, 4, 4, kMg, kTransT1, kTranscribed},
    LimitRow{kTrans, kCo, k1Hour, 10, 10, kMg, kTransT1, kTranscribed},
    LimitRow{kTrans, kO3, k8HourDailyMax, 100, 160, kUg, kTransT1, kTranscribed},
    LimitRow{kTrans, kO3, k1Hour, 160, 200, kUg, kTransT1, kTranscribed},
    LimitRow{kTrans, kPm10, kAnnual, 40, 60, kUg, kTransT1, kConfirmed},
    LimitRow{kTrans, kPm10, k24Hour, 50, 120, kUg, kTransT1, kConfirmed},
    LimitRow{kTrans, kPm25, kAnnual, 15, 30, kUg, kTransT1, kConfirmed},
    LimitRow{kTrans, kPm25, k24Hour, 35, 60, kUg, kTransT1, kConfirmed},
    // GB 3095-2026 Table 2, transition phase.
    LimitRow{kTrans, kTsp, kAnnual, 80, 200, kUg, kTransT2, kUnconfirmed},
    LimitRow{kTrans, kTsp, k24Hour, 120, 300, kUg, kTransT2, kUnconfirmed},
    LimitRow{kTrans, kNox, kAnnual, 50, 50, kUg, kTransT2, kUnconfirmed},
    LimitRow{kTrans, kNox, k24Hour, 100, 100, kUg, kTransT2, kUnconfirmed},
    LimitRow{kTrans, kNox, k1Hour, 250, 250, kUg, kTransT2, kUnconfirmed},
    LimitRow{kTrans, kPb, kAnnual, 0.5, 0.5, kUg, kTransT2, kUnconfirmed},
    LimitRow{kTrans, kPb, kQuarterly, 1, 1, kUg, kTransT2, kUnconfirmed},
    LimitRow{kTrans, kBap, kAnnual, 0.001, 0.001, kUg, kTransT2, kUnconfirmed},
    LimitRow{kTrans, kBap, k24Hour, 0.0025, 0.0025, kUg, kTransT2, kUnconfirmed},

    // GB 3095-2026 Table 1, final limits.
    LimitRow{kFinal, kSo2, kAnnual, 20, 20, kUg, kFinalT1, kTranscribed},
    LimitRow{kFinal, kSo2, k24Hour, 50, 50, kUg, kFinalT1, kTranscribed},
    LimitRow{kFinal, kSo2, k1Hour, 150, 150, kUg, kFinalT1, kTranscribed},
    LimitRow{kFinal, kNo2, kAnnual, 30, 30, kUg, kFinalT1, kTranscribed},
    LimitRow{kFinal, kNo2, k24Hour, 50, 50, kUg, kFinalT1, kTranscribed},
    LimitRow{kFinal, kNo2, k1Hour, 200, 200, kUg, kFinalT1, kTranscribed},
    LimitRow{kFinal, kCo, k24Hour, 4, 4, kMg, kFinalT1, kTranscribed},
    LimitRow{kFinal, kCo, k1Hour, 10, 10, kMg, kFinalT1, kTranscribed},
    LimitRow{kFinal, kO3, k8HourDailyMax, 100, 160, kUg, kFinalT1, kTranscribed},
    LimitRow{kFinal, kO3, k1Hour, 160, 200, kUg, kFinalT1, kTranscribed},
    LimitRow{kFinal, kPm10, kAnnual, 20, 50, kUg, kFinalT1, kConfirmed},
    LimitRow{kFinal, kPm10, k24Hour, 50, 100, kUg, kFinalT1, kConfirmed},
    LimitRow{kFinal, kPm25, kAnnual, 10, 25, kUg, kFinalT1, kConfirmed},
    LimitRow{kFinal, kPm25, k24Hour, 25, 50, kUg, kFinalT1, kConfirmed},
    // GB 3095-2026 Table 2, final limits.
    LimitRow{kFinal, kTsp, kAnnual, 80, 200, kUg, kFinalT2, kUnconfirmed},
    LimitRow{kFinal, kTsp, k24Hour, 120, 300, kUg, kFinalT2, kUnconfirmed},
    LimitRow{kFinal, kNox, kAnnual, 40, 40, kUg, kFinalT2, kUnconfirmed},
    LimitRow{kFinal, kNox, k24Hour, 70, 70, kUg, kFinalT2, kUnconfirmed},
    LimitRow{kFinal, kNox, k1Hour, 250, 250, kUg, kFinalT2, kUnconfirmed},
    LimitRow{kFinal, kPb, kAnnual, 0.5, 0.5, kUg, kFinalT2, kUnconfirmed},
    LimitRow{kFinal, kPb, kQuarterly, 1, 1, kUg, kFinalT2, kUnconfirmed},
    LimitRow{kFinal, kBap, kAnnual, 0.001, 0.001, kUg, kFinalT2, kUnconfirmed},
    LimitRow{kFinal, kBap, k24Hour, 0.0025, 0.0025, kUg, kFinalT2, kUnconfirmed},
};

constexpr std::string_view kAnnualClause =
    "HJ 663-2013 §4 年评价项目 (HJ 663-2026 表1: same list per one transcription)";

constexpr std::array kAnnualItems = {
    AnnualItem{kSo2, true, 98, k24Hour, kAnnualClause},
    AnnualItem{kNo2, true, 98, k24Hour, kAnnualClause},
    AnnualItem{kPm10, true, 95, k24Hour, kAnnualClause},
    AnnualItem{kPm25, true, 95, k24Hour, kAnnualClause},
    AnnualItem{kCo, false, 95, k24Hour, kAnnualClause},
    AnnualItem{kO3, false, 90, k8HourDailyMax, kAnnualClause},
};

}  // namespace

std::span<const LimitRow> limit_table() { return kLimits; }

std::span<const AnnualItem> annual_items() { return kAnnualItems; }

}  // namespace ecomon::standards::air
