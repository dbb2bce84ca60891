#include <gtest/gtest.h>

#include <limits>

#include "core/json_writer.h"

namespace ecomon::core {
namespace {

TEST(JsonWriter, NumbersReadAsWritten) {
  JsonWriter w;
  w.begin_array().value(35.2).value(0.0).value(101.94).value(-0.424219).value(std::int64_t{7});
  w.value(std::numeric_limits<double>::infinity()).end_array();
  EXPECT_EQ(w.str(), "[35.2,0,101.94,-0.424219,7,null]");
}

TEST(JsonWriter, StringsAreEscapedAndUtf8Safe) {
  JsonWriter w;
  w.begin_object().key("k").value(std::string_view("a\"b\\c\n\x01 清洗\xff")).end_object();
  EXPECT_EQ(w.str(), "{\"k\":\"a\\\"b\\\\c\\n\\u0001 清洗\xEF\xBF\xBD\"}");
}

TEST(JsonWriter, NestedSeparators) {
  JsonWriter w;
  w.begin_object()
      .key("a")
      .begin_array()
      .value(true)
      .null()
      .end_array()
      .key("b")
      .begin_object()
      .end_object()
      .end_object();
  EXPECT_EQ(w.str(), "{\"a\":[true,null],\"b\":{}}");
}

TEST(JsonWriter, RawValuesTakeTheirPlace) {
  JsonWriter w;
  w.begin_array().value(std::int64_t{1}).raw(R"({"text":"x"})").value(false).end_array();
  EXPECT_EQ(w.str(), R"([1,{"text":"x"},false])");
}

}  // namespace
}  // namespace ecomon::core
