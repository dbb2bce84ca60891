#include "app/hj212_json.h"

#include "core/json_writer.h"

namespace ecomon::app {
namespace hj = protocol::hj212;

namespace {

void optional_string(core::JsonWriter& w, const std::optional<std::string_view>& s) {
  if (s) {
    w.value(*s);
  } else {
    w.null();
  }
}

constexpr std::pair<std::uint32_t, const char*> kWarningNames[] = {
    {hj::kWarnLengthMismatch, "length_mismatch"},
    {hj::kWarnOver1024, "over_1024"},
    {hj::kWarnUnknownHeaderKey, "unknown_header_key"},
    {hj::kWarnDuplicateHeaderKey, "duplicate_header_key"},
    {hj::kWarnSplitWithoutPnum, "split_flag_mismatch"},
    {hj::kWarnRfValue, "rf_value"},
    {hj::kWarnEntryWithoutEquals, "entry_without_equals"},
    {hj::kWarnPlaintextFromKeyedDevice, "plaintext_from_keyed_device"},
};

}  // namespace

std::string message_json(const hj::Message& m) {
  core::JsonWriter w;
  w.begin_object();
  w.key("ok").value(true);
  w.key("version");
  if (m.version == hj::Version::kUnknown) {
    w.null();
  } else {
    w.value(std::int64_t{hj::version_year(m.version)});
  }
  w.key("qn");
  optional_string(w, m.qn);
  w.key("st").value(m.st);
  w.key("cn").value(m.cn);
  w.key("pw").value(m.pw);
  w.key("mn").value(m.mn);
  w.key("flag");
  if (m.flag) {
    w.value(std::int64_t{*m.flag});
  } else {
    w.null();
  }
  w.key("ack_requested").value(m.ack_requested);
  w.key("pnum");
  if (m.pnum) {
    w.value(std::int64_t{*m.pnum});
  } else {
    w.null();
  }
  w.key("pno");
  if (m.pno) {
    w.value(std::int64_t{*m.pno});
  } else {
    w.null();
  }
  w.key("datatime");
  if (m.data_time) {
    w.value(core::format_iso8601(*m.data_time, core::kChinaUtcOffsetSeconds));
  } else {
    w.null();
  }
  w.key("items").begin_array();
  for (const hj::Item& it : m.items) {
    w.begin_object();
    w.key("factor").value(it.factor);
    w.key("factor_2017");
    optional_string(w, it.factor_2017);
    w.key("field").value(it.field);
    w.key("value");
    if (it.number) {
      w.value(*it.number);
    } else {
      w.value(it.text);
    }
    w.key("flag");
    optional_string(w, it.flag);
    w.end_object();
  }
  w.end_array();
  // Beyond the items: CP entries of no factor, the 2025 resend mark, what was tolerated.
  w.key("params").begin_object();
  for (std::size_t i = 0; i < m.params.size(); ++i) {
    bool seen = false;  // a key twice (a repeated DataTime, say): the first is shown
    for (std::size_t j = 0; j < i && !seen; ++j) seen = m.params[j].key == m.params[i].key;
    if (!seen) w.key(m.params[i].key).value(m.params[i].value);
  }
  w.end_object();
  w.key("rf");
  optional_string(w, m.rf);
  w.key("encrypted").value(m.encrypted);
  w.key("warnings").begin_array();
  for (const auto& [bit, name] : kWarningNames) {
    if (m.warnings & bit) w.value(name);
  }
  w.end_array();
  w.end_object();
  return w.take();
}

std::string error_json(const hj::Error& e) {
  core::JsonWriter w;
  w.begin_object();
  w.key("ok").value(false);
  w.key("reason").value(hj::reason_code(e.reason));
  w.key("detail").value(e.detail);
  w.end_object();
  return w.take();
}

}  // namespace ecomon::app
