#include "forward/frames.h"

#include <algorithm>
#include <tuple>

#include "core/civil_time.h"

namespace ecomon::forward {
namespace {

// HJ 212-2017 table 2: the CP holds 0–950 characters (the data segment then stays within 1024).
constexpr std::size_t kMaxCp = 950;

bool has_field(const OutFrame& f, const std::string& factor, const std::string& field) {
  for (const auto& of : f.factors) {
    if (of.code != factor) continue;
    for (const auto& [name, text] : of.fields) {
      if (name == field) return true;
    }
  }
  return false;
}

// The CP length `f` has (DataTime included), and what adding one item costs.
std::size_t cp_size(const OutFrame& f) {
  std::size_t n = 9 + 14;  // DataTime=YYYYMMDDhhmmss
  for (const auto& of : f.factors) {
    for (const auto& [name, text] : of.fields)
      n += 1 + of.code.size() + 1 + name.size() + 1 + text.size();
    if (!of.flag.empty()) n += 1 + of.code.size() + 6 + of.flag.size();
  }
  return n;
}

}  // namespace

bool Selection::takes(const storage::Value& v) const {
  if (cn_of(v.kind) == 0) return false;
  if (v.quality & (storage::kQualityQuarantined | storage::kQualityPending)) return false;
  if (!kinds.empty() && !kinds.count(v.kind)) return false;
  if (sites.empty() && devices.empty()) return true;
  return sites.count(v.site) > 0 || devices.count(v.mn) > 0;
}

const std::string& Selection::upstream_mn(const std::string& local_mn) const {
  const auto it = mn_map.find(local_mn);
  return it == mn_map.end() ? local_mn : it->second;
}

std::string_view reason_name(Reason r) {
  switch (r) {
    case Reason::kLive:
      return "live";
    case Reason::kLate:
      return "late";
    case Reason::kNewVersion:
      return "new_version";
  }
  return "live";
}

int cn_of(storage::DataKind k) {
  switch (k) {
    case storage::DataKind::kRealtime:
      return 2011;
    case storage::DataKind::kMinute:
      return 2051;
    case storage::DataKind::kHour:
      return 2061;
    case storage::DataKind::kDay:
      return 2031;
    case storage::DataKind::kOther:
      return 0;
  }
  return 0;
}

std::string OutFrame::segment(std::string_view qn, std::string_view pw,
                              protocol::hj212::Version version) const {
  protocol::hj212::Upload u;
  u.target.qn = qn;
  u.target.st = st;
  u.target.pw = pw;
  u.target.mn = mn;
  u.target.version = version;
  u.cn = cn;
  u.data_time = core::civil_from_unix_ms(data_ms, core::kChinaUtcOffsetSeconds);
  u.ack = true;
  u.resend = resend();
  u.factors.reserve(factors.size());
  for (const auto& f : factors) {
    protocol::hj212::UploadFactor uf;
    uf.code = f.code;
    uf.flag = f.flag;
    for (const auto& [name, text] : f.fields) uf.fields.push_back({name, text});
    u.factors.push_back(std::move(uf));
  }
  return protocol::hj212::upload_segment(u);
}

FrameBuilder::FrameBuilder(Selection selection,
                           std::function<std::string(const storage::Value&)> st_of)
    : selection_(std::move(selection)), st_of_(std::move(st_of)) {}

void FrameBuilder::seen(const std::string& local_mn, int cn, std::int64_t data_ms) {
  auto& n = newest_[{local_mn, cn}];
  n = std::max(n, data_ms);
}

std::vector<OutFrame> FrameBuilder::build(const std::vector<storage::Change>& batch) {
  std::vector<OutFrame> out;
  // (device, CN, data time) → the index in `out` of the frame still open for it.
  std::map<std::tuple<std::string, int, std::int64_t>, std::size_t> open;
  std::map<std::string, std::string> st_cache;
  for (const auto& c : batch) {
    const storage::Value& v = c.value;
    if (!selection_.takes(v)) continue;
    const int cn = cn_of(v.kind);
    Reason reason = Reason::kLive;
    if (v.version > 1) {
      reason = Reason::kNewVersion;
    } else {
      const auto it = newest_.find({v.mn, cn});
      if ((v.quality & storage::kQualityResend) ||
          (it != newest_.end() && v.measured_ms < it->second)) {
        reason = Reason::kLate;
      }
    }
    seen(v.mn, cn, v.measured_ms);

    const auto key = std::make_tuple(v.mn, cn, v.measured_ms);
    const std::size_t item = 1 + v.factor.size() + 1 + v.field.size() + 1 + v.text.size() +
                             (v.flag.empty() ? 0 : 1 + v.factor.size() + 6 + v.flag.size());
    auto found = open.find(key);
    if (found != open.end()) {
      const OutFrame& f = out[found->second];
      if (has_field(f, v.factor, v.field) || cp_size(f) + item > kMaxCp) {
        open.erase(found);
        found = open.end();
      }
    }
    if (found == open.end()) {
      OutFrame f;
      f.local_mn = v.mn;
      f.mn = selection_.upstream_mn(v.mn);
      auto st = st_cache.find(v.mn);
      if (st == st_cache.end()) st = st_cache.emplace(v.mn, st_of_(v)).first;
      f.st = st->second;
      f.cn = cn;
      f.data_ms = v.measured_ms;
      f.seq_from = c.sequence;
      out.push_back(std::move(f));
      found = open.emplace(key, out.size() - 1).first;
    }
    OutFrame& f = out[found->second];
    f.seq_from = std::min(f.seq_from, c.sequence);
    f.seq_to = std::max(f.seq_to, c.sequence);
    ++f.values;
    f.reason = std::max(f.reason, reason);
    auto of = std::find_if(f.factors.begin(), f.factors.end(), [&](const OutFactor& x) {
      return x.code == v.factor && x.flag == v.flag;
    });
    if (of == f.factors.end()) {  // a factor with another flag gets its own entry (decoder.h)
      f.factors.push_back(OutFactor{v.factor, {}, v.flag});
      of = f.factors.end() - 1;
    }
    of->fields.emplace_back(v.field, v.text);
  }
  return out;
}

}  // namespace ecomon::forward
