#include "protocol/hj212/factor_codes.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace ecomon::protocol::hj212 {
namespace {

struct CodeMapping {
  std::string_view code_2005;
  std::string_view code_2017;
};

// HJ 212-2017 appendix B, tables B.1 (water, codes from HJ 525-2009) and B.2 (gas, codes from
// HJ 524-2009), column "原编码" (the HJ/T 212-2005 code). Sorted by the 2005 code. Water codes have
// three characters and gas codes two (or S01..S08, B02), so the two tables never collide.
constexpr std::array kMappings = {
    CodeMapping{"001", "w01001"},  // pH
    CodeMapping{"002", "w01002"},  // colour
    CodeMapping{"003", "w01012"},  // suspended solids (SS)
    CodeMapping{"01", "a34013"},   // smoke dust (particulate matter in flue gas)
    CodeMapping{"010", "w01017"},  // BOD5
    CodeMapping{"011", "w01018"},  // COD (chemical oxygen demand)
    CodeMapping{"015", "w01020"},  // total organic carbon (TOC)
    CodeMapping{"02", "a21026"},   // sulfur dioxide (SO2)
    CodeMapping{"020", "w20111"},  // total mercury
    CodeMapping{"021", "w20113"},  // alkyl mercury
    CodeMapping{"022", "w20115"},  // total cadmium
    CodeMapping{"023", "w20116"},  // total chromium
    CodeMapping{"024", "w20117"},  // hexavalent chromium
    CodeMapping{"026", "w20119"},  // total arsenic
    CodeMapping{"027", "w20120"},  // total lead
    CodeMapping{"028", "w20121"},  // total nickel
    CodeMapping{"029", "w20122"},  // total copper
    CodeMapping{"03", "a21002"},   // nitrogen oxides (NOx)
    CodeMapping{"030", "w20123"},  // total zinc
    CodeMapping{"031", "w20124"},  // total manganese
    CodeMapping{"032", "w20125"},  // total iron
    CodeMapping{"033", "w20126"},  // total silver
    CodeMapping{"034", "w20127"},  // total beryllium
    CodeMapping{"035", "w20128"},  // total selenium
    CodeMapping{"036", "w20092"},  // tin
    CodeMapping{"037", "w20023"},  // boron
    CodeMapping{"038", "w20061"},  // molybdenum
    CodeMapping{"039", "w20012"},  // barium
    CodeMapping{"04", "a21005"},   // carbon monoxide (CO)
    CodeMapping{"040", "w20038"},  // cobalt
    CodeMapping{"041", "w20089"},  // thallium
    CodeMapping{"05", "a21028"},   // hydrogen sulfide
    CodeMapping{"06", "a21018"},   // fluoride
    CodeMapping{"060", "w21003"},  // ammonia nitrogen (NH3-N)
    CodeMapping{"061", "w99001"},  // organic nitrogen
    CodeMapping{"062", "w21004"},  // Kjeldahl nitrogen
    CodeMapping{"063", "w21006"},  // nitrite
    CodeMapping{"064", "w21007"},  // nitrate
    CodeMapping{"065", "w21001"},  // total nitrogen (TN)
    CodeMapping{"07", "a21017"},   // cyanide
    CodeMapping{"070", "w21016"},  // cyanide
    CodeMapping{"071", "w21019"},  // sulfide
    CodeMapping{"072", "w21017"},  // fluoride
    CodeMapping{"08", "a21024"},   // hydrogen chloride
    CodeMapping{"080", "w22001"},  // petroleum (oils)
    CodeMapping{"09", "a34038"},   // asphalt fume
    CodeMapping{"090", "w21022"},  // chloride
    CodeMapping{"10", "a21001"},   // ammonia (NH3)
    CodeMapping{"101", "w21011"},  // total phosphorus (TP)
    CodeMapping{"11", "a21022"},   // chlorine
    CodeMapping{"110", "w23002"},  // volatile phenols
    CodeMapping{"12", "a99051"},   // carbon disulfide
    CodeMapping{"13", "a30022"},   // mercaptans
    CodeMapping{"14", "a34039"},   // sulfuric acid mist
    CodeMapping{"15", "a34040"},   // chromic acid mist
    CodeMapping{"17", "a25003"},   // toluene
    CodeMapping{"18", "a25005"},   // xylene
    CodeMapping{"19", "a31001"},   // formaldehyde
    CodeMapping{"20", "a25044"},   // benzo[a]pyrene
    CodeMapping{"21", "a26001"},   // anilines
    CodeMapping{"22", "a25023"},   // nitrobenzene
    CodeMapping{"23", "a25010"},   // chlorobenzene
    CodeMapping{"24", "a99049"},   // phosgene
    CodeMapping{"25", "a24087"},   // hydrocarbons
    CodeMapping{"26", "a31002"},   // acetaldehyde
    CodeMapping{"27", "a23001"},   // phenols
    CodeMapping{"28", "a30001"},   // methanol
    CodeMapping{"29", "a24046"},   // vinyl chloride
    CodeMapping{"30", "a05001"},   // carbon dioxide
    CodeMapping{"31", "a20057"},   // mercury and compounds
    CodeMapping{"32", "a20043"},   // lead and compounds
    CodeMapping{"33", "a20025"},   // cadmium and compounds
    CodeMapping{"34", "a20091"},   // tin and compounds
    CodeMapping{"35", "a20063"},   // nickel and compounds
    CodeMapping{"350", "w33001"},  // HCH (hexachlorocyclohexane)
    CodeMapping{"351", "w33007"},  // DDT
    CodeMapping{"36", "a20016"},   // beryllium and compounds
    CodeMapping{"37", "a01010"},   // Ringelmann blackness
    CodeMapping{"520", "w19002"},  // anionic surfactants
    CodeMapping{"540", "w25043"},  // benzo[a]pyrene
    CodeMapping{"550", "w02003"},  // faecal coliforms
    CodeMapping{"570", "w03001"},  // gross alpha
    CodeMapping{"571", "w03002"},  // gross beta
    CodeMapping{"B01", "w00000"},  // wastewater (flow)
    CodeMapping{"B02", "a00000"},  // waste gas (flow)
    CodeMapping{"S01", "a19001"},  // oxygen (O2)
    CodeMapping{"S02", "a01011"},  // flue gas velocity
    CodeMapping{"S03", "a01012"},  // flue gas temperature
    CodeMapping{"S04", "a01017"},  // flue gas dynamic pressure
    CodeMapping{"S05", "a01014"},  // flue gas humidity
    CodeMapping{"S06", "a01015"},  // cooler temperature
    CodeMapping{"S07", "a01016"},  // flue cross-section area
    CodeMapping{"S08", "a01013"},  // flue gas pressure
};

// HJ 212-2017 table B.3: noise items (GB 3096-2008).
constexpr std::array<std::string_view, 12> kNoiseCodes = {"L10", "L5",  "L50", "L90", "L95", "LA",
                                                          "LMn", "LMx", "Ld",  "Ldn", "Leq", "Ln"};

bool is_2017_shaped(std::string_view code) {
  // One lower-case class letter (a gas, w water, e/g process, i information, ...) + 5 digits.
  if (code.size() != 6 || code[0] < 'a' || code[0] > 'z') return false;
  return std::all_of(code.begin() + 1, code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A code of at most 3 characters packed into one number, so the lookup compares integers.
constexpr std::uint32_t pack(std::string_view code) {
  std::uint32_t v = static_cast<std::uint32_t>(code.size()) << 24;
  for (std::size_t i = 0; i < code.size() && i < 3; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(code[i])) << (16 - 8 * i);
  }
  return v;
}

// The 2005 codes in an open-addressing hash table of packed keys (key 0 marks an empty slot; a
// packed code is never 0 as its length is in it): one multiply and usually one probe. It replaced
// a binary search over the 93 codes (~3 % of the decode time on the 2016 capture).
struct Slot {
  std::uint32_t key;
  std::string_view code_2017;
};
constexpr std::size_t kSlots = 256;  // a power of two, under half full
static_assert(kMappings.size() * 2 < kSlots);

constexpr std::size_t slot_of(std::uint32_t key) { return (key * 0x9E3779B1u) >> 24; }

constexpr std::array<Slot, kSlots> make_slots() {
  std::array<Slot, kSlots> t{};
  for (const CodeMapping& m : kMappings) {
    const std::uint32_t key = pack(m.code_2005);
    std::size_t i = slot_of(key);
    while (t[i].key != 0) i = (i + 1) % kSlots;
    t[i] = Slot{key, m.code_2017};
  }
  return t;
}
constexpr auto kSlotTable = make_slots();

}  // namespace

std::optional<std::string_view> factor_code_2017(std::string_view code) {
  if (is_2017_shaped(code)) return code;  // most traffic: check it first
  if (code.size() <= 3) {
    const std::uint32_t key = pack(code);
    for (std::size_t i = slot_of(key); kSlotTable[i].key != 0; i = (i + 1) % kSlots) {
      if (kSlotTable[i].key == key) return kSlotTable[i].code_2017;
    }
  }
  if (std::find(kNoiseCodes.begin(), kNoiseCodes.end(), code) != kNoiseCodes.end()) return code;
  return std::nullopt;
}

}  // namespace ecomon::protocol::hj212
