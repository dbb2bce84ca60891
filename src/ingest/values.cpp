#include "ingest/values.h"

#include "core/civil_time.h"

namespace ecomon::ingest {

storage::DataKind kind_of_cn(int cn) {
  switch (cn) {
    case 2011:
      return storage::DataKind::kRealtime;
    case 2051:
      return storage::DataKind::kMinute;
    case 2061:
      return storage::DataKind::kHour;
    case 2031:
      return storage::DataKind::kDay;
    default:
      return storage::DataKind::kOther;
  }
}

bool carries_values(int cn) { return (cn >= 2000 && cn <= 2999) || cn == 3020; }

std::vector<storage::Value> values_of(const protocol::hj212::Message& m, std::string_view site,
                                      std::int64_t received_ms, std::uint32_t quality,
                                      const ValueOptions& options) {
  std::vector<storage::Value> out;
  out.reserve(m.items.size());
  const std::int64_t measured_ms =
      m.data_time ? core::to_unix_ms(*m.data_time, core::kChinaUtcOffsetSeconds) : received_ms;
  std::uint32_t q = quality;
  if (measured_ms > received_ms + options.future_tolerance_ms) q |= storage::kQualityClockSuspect;
  if (m.is_resend()) q |= storage::kQualityResend;
  const storage::DataKind kind = kind_of_cn(m.cn_code);
  for (const auto& item : m.items) {
    storage::Value v;
    v.site = std::string(site);
    v.mn = std::string(m.mn);
    v.factor = std::string(item.factor_2017 ? *item.factor_2017 : item.factor);
    v.field = std::string(item.field);
    v.kind = kind;
    v.measured_ms = measured_ms;
    v.received_ms = received_ms;
    v.number = item.number;
    v.text = std::string(item.text);
    v.flag = item.flag ? std::string(*item.flag) : std::string();
    v.quality = q;
    if (!v.number && storage::is_below_detection(v.text)) {
      v.quality |= storage::kQualityBelowDetection;  // a report, not a measured number
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace ecomon::ingest
