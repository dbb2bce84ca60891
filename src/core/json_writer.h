// A minimal streaming JSON writer for command output.
//
// Hand-written rather than Boost.JSON because the numbers must read as the devices wrote them:
// Boost.JSON 1.81 serialises 35.2 as "3.52E1"; here doubles use the shortest round-trip decimal
// form of std::to_chars ("35.2"). Strings are escaped, and bytes that are not UTF-8 become U+FFFD
// (device bytes are not always UTF-8). Not thread-safe; one writer per output line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ecomon::core {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(double d);
  JsonWriter& value(std::int64_t i);
  JsonWriter& value(bool b);
  JsonWriter& null();
  // Already serialised JSON (e.g. a document this program wrote and stored), written as it is:
  // the caller vouches that it is one valid JSON value.
  JsonWriter& raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate();
  void string(std::string_view s);

  std::string out_;
  bool need_comma_ = false;
};

}  // namespace ecomon::core
