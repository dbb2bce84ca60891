// Replays fuzz inputs without libFuzzer (what `make test` runs under ASan/UBSan): every file in
// the directories given, whole and line by line.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  std::size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    if (!std::filesystem::exists(argv[i])) continue;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(argv[i])) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string all = ss.str();
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(all.data()), all.size());
      ++inputs;
      std::size_t pos = 0;
      while (pos < all.size()) {
        std::size_t nl = all.find('\n', pos);
        if (nl == std::string::npos) nl = all.size();
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(all.data() + pos), nl - pos);
        ++inputs;
        pos = nl + 1;
      }
    }
  }
  std::printf("replayed %zu inputs\n", inputs);
  return inputs > 0 ? 0 : 1;
}
