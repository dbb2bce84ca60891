// The reviewed soil tables. Source: ../shared/reference/standards/soil.md.
//
// GB 36600-2018 表1/表2: transcribed from the official PDF and cross-checked (confirmed).
// GB 15618-2018: the Cu rows, Cd other-land 6.5<pH≤7.5 (0.3), Cd control 6.5<pH≤7.5 and pH>7.5
// (3.0, 4.0) and the 表2 values are cross-checked; the other cells are the fact sheet's
// recollection of the standard — verify against the PDF before go-live (rows marked "unverified").
#include "standards/soil.h"

namespace ecomon::standards::soil {

namespace {

constexpr Validity kFrom2018_08_01{Date{2018, 8, 1}, std::nullopt};

using U = AgriRowUse;

// GB 15618-2018 表1 风险筛选值（基本项目） and 表2 风险筛选值（其他项目）, mg/kg,
// columns pH ≤5.5 | 5.5–6.5 | 6.5–7.5 | >7.5.
constexpr AgriScreeningRow kAgriScreening[] = {
    {"cd", "镉", U::kPaddy, true, {0.3, 0.4, 0.6, 0.8}, "GB 15618-2018 表1 镉 水田 (unverified)"},
    {"cd", "镉", U::kOther, true, {0.3, 0.3, 0.3, 0.6}, "GB 15618-2018 表1 镉 其他"},
    {"hg", "汞", U::kPaddy, true, {0.5, 0.5, 0.6, 1.0}, "GB 15618-2018 表1 汞 水田 (unverified)"},
    {"hg", "汞", U::kOther, true, {1.3, 1.8, 2.4, 3.4}, "GB 15618-2018 表1 汞 其他 (unverified)"},
    {"as", "砷", U::kPaddy, true, {30, 30, 25, 20}, "GB 15618-2018 表1 砷 水田 (unverified)"},
    {"as", "砷", U::kOther, true, {40, 40, 30, 25}, "GB 15618-2018 表1 砷 其他 (unverified)"},
    {"pb", "铅", U::kPaddy, true, {80, 100, 140, 240}, "GB 15618-2018 表1 铅 水田 (unverified)"},
    {"pb", "铅", U::kOther, true, {70, 90, 120, 170}, "GB 15618-2018 表1 铅 其他 (unverified)"},
    {"cr", "铬", U::kPaddy, true, {250, 250, 300, 350}, "GB 15618-2018 表1 铬 水田 (unverified)"},
    {"cr", "铬", U::kOther, true, {150, 150, 200, 250}, "GB 15618-2018 表1 铬 其他 (unverified)"},
    {"cu", "铜", U::kOrchard, true, {150, 150, 200, 200}, "GB 15618-2018 表1 铜 果园"},
    {"cu", "铜", U::kOther, true, {50, 50, 100, 100}, "GB 15618-2018 表1 铜 其他"},
    {"ni", "镍", U::kAll, true, {60, 70, 100, 190}, "GB 15618-2018 表1 镍 (unverified)"},
    {"zn", "锌", U::kAll, true, {200, 200, 250, 300}, "GB 15618-2018 表1 锌 (unverified)"},
    {"hch", "六六六总量", U::kAll, false, {0.10, 0.10, 0.10, 0.10}, "GB 15618-2018 表2 六六六总量"},
    {"ddt", "滴滴涕总量", U::kAll, false, {0.10, 0.10, 0.10, 0.10}, "GB 15618-2018 表2 滴滴涕总量"},
    {"bap", "苯并[a]芘", U::kAll, false, {0.55, 0.55, 0.55, 0.55}, "GB 15618-2018 表2 苯并[a]芘"},
};

// GB 15618-2018 表3 风险管制值, mg/kg, same columns. Cu, Ni, Zn and 表2 items have none.
constexpr AgriControlRow kAgriControl[] = {
    {"cd", {1.5, 2.0, 3.0, 4.0}, "GB 15618-2018 表3 镉 (pH≤6.5 cells unverified)"},
    {"hg", {2.0, 2.5, 4.0, 6.0}, "GB 15618-2018 表3 汞 (unverified)"},
    {"as", {200, 150, 120, 100}, "GB 15618-2018 表3 砷 (unverified)"},
    {"pb", {400, 500, 700, 1000}, "GB 15618-2018 表3 铅 (unverified)"},
    {"cr", {800, 850, 1000, 1300}, "GB 15618-2018 表3 铬 (unverified)"},
};

constexpr AgriEdition kAgriEditions[] = {
    {"GB 15618-2018", kFrom2018_08_01, kAgriScreening, kAgriControl},
};

// GB 36600-2018 表1 建设用地土壤污染风险筛选值和管制值（基本项目）, mg/kg:
// {screening class 1, class 2}, {control class 1, class 2}.
constexpr ConstructionRow kConstruction[] = {
    // 重金属和无机物
    {"as", "砷", {20, 60}, {120, 140}, true, "GB 36600-2018 表1 #1 注①"},
    {"cd", "镉", {20, 65}, {47, 172}, false, "GB 36600-2018 表1 #2"},
    {"cr6", "铬（六价）", {3.0, 5.7}, {30, 78}, false, "GB 36600-2018 表1 #3"},
    {"cu", "铜", {2000, 18000}, {8000, 36000}, false, "GB 36600-2018 表1 #4"},
    {"pb", "铅", {400, 800}, {800, 2500}, false, "GB 36600-2018 表1 #5"},
    {"hg", "汞", {8, 38}, {33, 82}, false, "GB 36600-2018 表1 #6"},
    {"ni", "镍", {150, 900}, {600, 2000}, false, "GB 36600-2018 表1 #7"},
    // 挥发性有机物
    {"carbon_tetrachloride", "四氯化碳", {0.9, 2.8}, {9, 36}, false, "GB 36600-2018 表1 #8"},
    {"chloroform", "氯仿", {0.3, 0.9}, {5, 10}, false, "GB 36600-2018 表1 #9"},
    {"chloromethane", "氯甲烷", {12, 37}, {21, 120}, false, "GB 36600-2018 表1 #10"},
    {"dichloroethane_1_1", "1,1-二氯乙烷", {3, 9}, {20, 100}, false, "GB 36600-2018 表1 #11"},
    {"dichloroethane_1_2", "1,2-二氯乙烷", {0.52, 5}, {6, 21}, false, "GB 36600-2018 表1 #12"},
    {"dichloroethylene_1_1", "1,1-二氯乙烯", {12, 66}, {40, 200}, false, "GB 36600-2018 表1 #13"},
    {"cis_dichloroethylene_1_2",
     "顺-1,2-二氯乙烯",
     {66, 596},
     {200, 2000},
     false,
     "GB 36600-2018 表1 #14"},
    {"trans_dichloroethylene_1_2",
     "反-1,2-二氯乙烯",
     {10, 54},
     {31, 163},
     false,
     "GB 36600-2018 表1 #15"},
    {"dichloromethane", "二氯甲烷", {94, 616}, {300, 2000}, false, "GB 36600-2018 表1 #16"},
    {"dichloropropane_1_2", "1,2-二氯丙烷", {1, 5}, {5, 47}, false, "GB 36600-2018 表1 #17"},
    {"tetrachloroethane_1_1_1_2",
     "1,1,1,2-四氯乙烷",
     {2.6, 10},
     {26, 100},
     false,
     "GB 36600-2018 表1 #18"},
    {"tetrachloroethane_1_1_2_2",
     "1,1,2,2-四氯乙烷",
     {1.6, 6.8},
     {14, 50},
     false,
     "GB 36600-2018 表1 #19"},
    {"tetrachloroethylene", "四氯乙烯", {11, 53}, {34, 183}, false, "GB 36600-2018 表1 #20"},
    {"trichloroethane_1_1_1",
     "1,1,1-三氯乙烷",
     {701, 840},
     {840, 840},
     false,
     "GB 36600-2018 表1 #21"},
    {"trichloroethane_1_1_2",
     "1,1,2-三氯乙烷",
     {0.6, 2.8},
     {5, 15},
     false,
     "GB 36600-2018 表1 #22"},
    {"trichloroethylene", "三氯乙烯", {0.7, 2.8}, {7, 20}, false, "GB 36600-2018 表1 #23"},
    {"trichloropropane_1_2_3",
     "1,2,3-三氯丙烷",
     {0.05, 0.5},
     {0.5, 5},
     false,
     "GB 36600-2018 表1 #24"},
    {"vinyl_chloride", "氯乙烯", {0.12, 0.43}, {1.2, 4.3}, false, "GB 36600-2018 表1 #25"},
    {"benzene", "苯", {1, 4}, {10, 40}, false, "GB 36600-2018 表1 #26"},
    {"chlorobenzene", "氯苯", {68, 270}, {200, 1000}, false, "GB 36600-2018 表1 #27"},
    {"dichlorobenzene_1_2", "1,2-二氯苯", {560, 560}, {560, 560}, false, "GB 36600-2018 表1 #28"},
    {"dichlorobenzene_1_4", "1,4-二氯苯", {5.6, 20}, {56, 200}, false, "GB 36600-2018 表1 #29"},
    {"ethylbenzene", "乙苯", {7.2, 28}, {72, 280}, false, "GB 36600-2018 表1 #30"},
    {"styrene", "苯乙烯", {1290, 1290}, {1290, 1290}, false, "GB 36600-2018 表1 #31"},
    {"toluene", "甲苯", {1200, 1200}, {1200, 1200}, false, "GB 36600-2018 表1 #32"},
    {"m_p_xylene", "间二甲苯+对二甲苯", {163, 570}, {500, 570}, false, "GB 36600-2018 表1 #33"},
    {"o_xylene", "邻二甲苯", {222, 640}, {640, 640}, false, "GB 36600-2018 表1 #34"},
    // 半挥发性有机物
    {"nitrobenzene", "硝基苯", {34, 76}, {190, 760}, false, "GB 36600-2018 表1 #35"},
    {"aniline", "苯胺", {92, 260}, {211, 663}, false, "GB 36600-2018 表1 #36"},
    {"chlorophenol_2", "2-氯酚", {250, 2256}, {500, 4500}, false, "GB 36600-2018 表1 #37"},
    {"benz_a_anthracene", "苯并[a]蒽", {5.5, 15}, {55, 151}, false, "GB 36600-2018 表1 #38"},
    {"bap", "苯并[a]芘", {0.55, 1.5}, {5.5, 15}, false, "GB 36600-2018 表1 #39"},
    {"benzo_b_fluoranthene", "苯并[b]荧蒽", {5.5, 15}, {55, 151}, false, "GB 36600-2018 表1 #40"},
    {"benzo_k_fluoranthene", "苯并[k]荧蒽", {55, 151}, {550, 1500}, false, "GB 36600-2018 表1 #41"},
    {"chrysene", "䓛", {490, 1293}, {4900, 12900}, false, "GB 36600-2018 表1 #42"},
    {"dibenz_a_h_anthracene",
     "二苯并[a,h]蒽",
     {0.55, 1.5},
     {5.5, 15},
     false,
     "GB 36600-2018 表1 #43"},
    {"indeno_1_2_3_cd_pyrene",
     "茚并[1,2,3-cd]芘",
     {5.5, 15},
     {55, 151},
     false,
     "GB 36600-2018 表1 #44"},
    {"naphthalene", "萘", {25, 70}, {255, 700}, false, "GB 36600-2018 表1 #45"},
    // 表2 (其他项目): the rows the fact sheet lists; the other 31 are not tabled yet.
    {"sb", "锑", {20, 180}, {40, 360}, false, "GB 36600-2018 表2 锑"},
    {"be", "铍", {15, 29}, {98, 290}, false, "GB 36600-2018 表2 铍"},
    {"co", "钴", {20, 70}, {190, 350}, true, "GB 36600-2018 表2 钴 注①"},
    {"methylmercury", "甲基汞", {5.0, 45}, {10, 120}, false, "GB 36600-2018 表2 甲基汞"},
    {"v", "钒", {165, 752}, {330, 1500}, true, "GB 36600-2018 表2 钒 注①"},
    {"cyanide", "氰化物", {22, 135}, {44, 270}, false, "GB 36600-2018 表2 氰化物"},
    {"petroleum_hydrocarbons",
     "石油烃（C10-C40）",
     {826, 4500},
     {5000, 9000},
     false,
     "GB 36600-2018 表2 石油烃（C10-C40）"},
    {"pcbs",
     "多氯联苯（总量）",
     {0.14, 0.38},
     {1.4, 3.8},
     false,
     "GB 36600-2018 表2 多氯联苯（总量）"},
    {"dioxins",
     "二噁英类（总毒性当量）",
     {1e-5, 4e-5},
     {1e-4, 4e-4},
     false,
     "GB 36600-2018 表2 二噁英类（总毒性当量）"},
};

constexpr ConstructionEdition kConstructionEditions[] = {
    {"GB 36600-2018", kFrom2018_08_01, kConstruction},
};

}  // namespace

std::span<const AgriEdition> agri_editions() { return kAgriEditions; }
std::span<const ConstructionEdition> construction_editions() { return kConstructionEditions; }

}  // namespace ecomon::standards::soil
