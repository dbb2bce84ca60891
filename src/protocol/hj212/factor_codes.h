// Factor (pollutant/parameter) codes: HJ/T 212-2005 codes and their HJ 212-2017 equivalents.
#pragma once

#include <optional>
#include <string_view>

namespace ecomon::protocol::hj212 {

// The HJ 212-2017 code for a factor code as a device sent it: the mapped code for an HJ/T 212-2005
// code of appendix B ("011" → "w01018", "S01" → "a19001"), the code itself when it already has
// the 2017 form (letter + 5 digits, or a noise item such as "LA"), nullopt otherwise ("O3",
// "SB1"). The returned view points to static storage or into `code`.
std::optional<std::string_view> factor_code_2017(std::string_view code);

}  // namespace ecomon::protocol::hj212
