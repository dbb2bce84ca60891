#include "standards/aqi_tables.h"

namespace ecomon::standards::aqi::tables {
namespace {

constexpr Decimal I(std::int64_t v) { return Decimal{v, 0}; }
constexpr Decimal D(std::int64_t units, int scale) { return Decimal{units, scale}; }

// HJ 633-2012 表1 空气质量分指数及对应的污染物项目浓度限值.
constexpr ChinaRow kHj633_2012[] = {
    {Pollutant::kSo2,
     Averaging::k24h,
     {I(0), I(50), I(150), I(475), I(800), I(1600), I(2100), I(2620)},
     8,
     "HJ 633-2012 表1 SO2 24小时平均"},
    {Pollutant::kSo2,
     Averaging::k1h,
     {I(0), I(150), I(500), I(650), I(800)},
     5,
     "HJ 633-2012 表1 SO2 1小时平均, 注(2)"},
    {Pollutant::kNo2,
     Averaging::k24h,
     {I(0), I(40), I(80), I(180), I(280), I(565), I(750), I(940)},
     8,
     "HJ 633-2012 表1 NO2 24小时平均"},
    {Pollutant::kNo2,
     Averaging::k1h,
     {I(0), I(100), I(200), I(700), I(1200), I(2340), I(3090), I(3840)},
     8,
     "HJ 633-2012 表1 NO2 1小时平均"},
    {Pollutant::kPm10,
     Averaging::k24h,
     {I(0), I(50), I(150), I(250), I(350), I(420), I(500), I(600)},
     8,
     "HJ 633-2012 表1 PM10 24小时平均"},
    {Pollutant::kCo,
     Averaging::k24h,
     {I(0), I(2), I(4), I(14), I(24), I(36), I(48), I(60)},
     8,
     "HJ 633-2012 表1 CO 24小时平均 (mg/m3)"},
    {Pollutant::kCo,
     Averaging::k1h,
     {I(0), I(5), I(10), I(35), I(60), I(90), I(120), I(150)},
     8,
     "HJ 633-2012 表1 CO 1小时平均 (mg/m3)"},
    {Pollutant::kO3,
     Averaging::k1h,
     {I(0), I(160), I(200), I(300), I(400), I(800), I(1000), I(1200)},
     8,
     "HJ 633-2012 表1 O3 1小时平均"},
    {Pollutant::kO3_8h,
     Averaging::k8h,
     {I(0), I(100), I(160), I(215), I(265), I(800)},
     6,
     "HJ 633-2012 表1 O3 8小时滑动平均, 注(3)"},
    {Pollutant::kPm25,
     Averaging::k24h,
     {I(0), I(35), I(75), I(115), I(150), I(250), I(350), I(500)},
     8,
     "HJ 633-2012 表1 PM2.5 24小时平均"},
};

// HJ 633-2026 表3: as 2012 except the IAQI 100 breakpoints of PM10 (120) and PM2.5 (60).
constexpr ChinaRow kHj633_2026[] = {
    {Pollutant::kSo2,
     Averaging::k24h,
     {I(0), I(50), I(150), I(475), I(800), I(1600), I(2100), I(2620)},
     8,
     "HJ 633-2026 表3 SO2 24小时平均"},
    {Pollutant::kSo2,
     Averaging::k1h,
     {I(0), I(150), I(500), I(650), I(800)},
     5,
     "HJ 633-2026 表3 SO2 1小时平均, 注b"},
    {Pollutant::kNo2,
     Averaging::k24h,
     {I(0), I(40), I(80), I(180), I(280), I(565), I(750), I(940)},
     8,
     "HJ 633-2026 表3 NO2 24小时平均"},
    {Pollutant::kNo2,
     Averaging::k1h,
     {I(0), I(100), I(200), I(700), I(1200), I(2340), I(3090), I(3840)},
     8,
     "HJ 633-2026 表3 NO2 1小时平均"},
    {Pollutant::kPm10,
     Averaging::k24h,
     {I(0), I(50), I(120), I(250), I(350), I(420), I(500), I(600)},
     8,
     "HJ 633-2026 表3 PM10 24小时平均"},
    {Pollutant::kCo,
     Averaging::k24h,
     {I(0), I(2), I(4), I(14), I(24), I(36), I(48), I(60)},
     8,
     "HJ 633-2026 表3 CO 24小时平均 (mg/m3)"},
    {Pollutant::kCo,
     Averaging::k1h,
     {I(0), I(5), I(10), I(35), I(60), I(90), I(120), I(150)},
     8,
     "HJ 633-2026 表3 CO 1小时平均 (mg/m3)"},
    {Pollutant::kO3,
     Averaging::k1h,
     {I(0), I(160), I(200), I(300), I(400), I(800), I(1000), I(1200)},
     8,
     "HJ 633-2026 表3 O3 1小时平均"},
    {Pollutant::kO3_8h,
     Averaging::k8h,
     {I(0), I(100), I(160), I(215), I(265), I(800)},
     6,
     "HJ 633-2026 表3 O3 8小时滑动平均, 注c"},
    {Pollutant::kPm25,
     Averaging::k24h,
     {I(0), I(35), I(60), I(115), I(150), I(250), I(350), I(500)},
     8,
     "HJ 633-2026 表3 PM2.5 24小时平均"},
};

constexpr ChinaEdition kChina[] = {
    {Standard::kHj633_2012, Validity{Date{2012, 2, 29}, Date{2026, 3, 1}}, kHj633_2012, false,
     "HJ 633-2012 环境空气质量指数（AQI）技术规定（试行）"},
    {Standard::kHj633_2026, Validity{Date{2026, 3, 1}, std::nullopt}, kHj633_2026, true,
     "HJ 633-2026 环境空气质量指数（AQI）技术规定"},
};

// US EPA, 40 CFR 58 App. G as revised 2024-02-07 (effective 2024-05-06).
constexpr UsSegment kUsO3_8h[] = {{D(0, 3), D(54, 3), 0, 50},
                                  {D(55, 3), D(70, 3), 51, 100},
                                  {D(71, 3), D(85, 3), 101, 150},
                                  {D(86, 3), D(105, 3), 151, 200},
                                  {D(106, 3), D(200, 3), 201, 300}};
constexpr UsSegment kUsO3_1h[] = {{D(125, 3), D(164, 3), 101, 150},
                                  {D(165, 3), D(204, 3), 151, 200},
                                  {D(205, 3), D(404, 3), 201, 300},
                                  {D(405, 3), D(604, 3), 301, 500}};
constexpr UsSegment kUsPm25[] = {
    {D(0, 1), D(90, 1), 0, 50},         {D(91, 1), D(354, 1), 51, 100},
    {D(355, 1), D(554, 1), 101, 150},   {D(555, 1), D(1254, 1), 151, 200},
    {D(1255, 1), D(2254, 1), 201, 300}, {D(2255, 1), D(3254, 1), 301, 500}};
constexpr UsSegment kUsPm10[] = {{I(0), I(54), 0, 50},       {I(55), I(154), 51, 100},
                                 {I(155), I(254), 101, 150}, {I(255), I(354), 151, 200},
                                 {I(355), I(424), 201, 300}, {I(425), I(604), 301, 500}};
constexpr UsSegment kUsCo8h[] = {
    {D(0, 1), D(44, 1), 0, 50},       {D(45, 1), D(94, 1), 51, 100},
    {D(95, 1), D(124, 1), 101, 150},  {D(125, 1), D(154, 1), 151, 200},
    {D(155, 1), D(304, 1), 201, 300}, {D(305, 1), D(504, 1), 301, 500}};
constexpr UsSegment kUsSo2_1h[] = {{I(0), I(35), 0, 50},
                                   {I(36), I(75), 51, 100},
                                   {I(76), I(185), 101, 150},
                                   {I(186), I(304), 151, 200}};
constexpr UsSegment kUsSo2_24h[] = {{I(305), I(604), 201, 300}, {I(605), I(1004), 301, 500}};
constexpr UsSegment kUsNo2_1h[] = {{I(0), I(53), 0, 50},        {I(54), I(100), 51, 100},
                                   {I(101), I(360), 101, 150},  {I(361), I(649), 151, 200},
                                   {I(650), I(1249), 201, 300}, {I(1250), I(2049), 301, 500}};

constexpr UsRow kUs[] = {
    {UsItem::kO3_8h, kUsO3_8h, 3, "40 CFR 58 App. G table 2, O3 8-hour (ppm)"},
    {UsItem::kO3_1h, kUsO3_1h, 3, "40 CFR 58 App. G table 2, O3 1-hour (ppm)"},
    {UsItem::kPm25, kUsPm25, 1, "40 CFR 58 App. G table 2 (2024), PM2.5 24-hour"},
    {UsItem::kPm10, kUsPm10, 0, "40 CFR 58 App. G table 2, PM10 24-hour"},
    {UsItem::kCo8h, kUsCo8h, 1, "40 CFR 58 App. G table 2, CO 8-hour (ppm)"},
    {UsItem::kSo2_1h, kUsSo2_1h, 0, "40 CFR 58 App. G table 2, SO2 1-hour (ppb)"},
    {UsItem::kSo2_24h, kUsSo2_24h, 0, "40 CFR 58 App. G table 2 note, SO2 24-hour above 200"},
    {UsItem::kNo2_1h, kUsNo2_1h, 0, "40 CFR 58 App. G table 2, NO2 1-hour (ppb)"},
};

}  // namespace

std::span<const ChinaEdition> china_editions() { return kChina; }

const ChinaEdition& china_edition(Standard s) {
  for (const auto& e : kChina) {
    if (e.standard == s) return e;
  }
  return kChina[1];
}

const ChinaRow* china_row(const ChinaEdition& e, Pollutant p, Averaging a) {
  for (const auto& r : e.rows) {
    if (r.pollutant == p && r.averaging == a) return &r;
  }
  return nullptr;
}

const UsRow& us_row(UsItem item) {
  for (const auto& r : kUs) {
    if (r.item == item) return r;
  }
  return kUs[0];
}

}  // namespace ecomon::standards::aqi::tables
