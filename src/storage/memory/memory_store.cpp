#include "storage/memory/memory_store.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <tuple>

namespace ecomon::storage {

namespace {

// A value's key within one device, in records() order.
struct SlotKey {
  std::int64_t measured_ms;
  std::string factor;
  std::string field;
  DataKind kind;

  bool operator<(const SlotKey& o) const {
    return std::tie(measured_ms, factor, field, kind) <
           std::tie(o.measured_ms, o.factor, o.field, o.kind);
  }
};

// One entry of latest(), in its order.
struct LatestKey {
  std::string site;
  std::string factor;
  std::string field;
  DataKind kind;

  bool operator<(const LatestKey& o) const {
    return std::tie(site, factor, field, kind) < std::tie(o.site, o.factor, o.field, o.kind);
  }
};

// A value without a factor or field, or with a kind out of range, is the caller's bug (the HJ 212
// decoder never makes one). An empty mn is accepted: HJ 212 allows it, and refusing it here would
// fail every frame that shares the batch.
std::optional<core::Error> validate(const Value& v) {
  if (v.factor.empty() || v.field.empty()) {
    return core::Error{"bad_value", "a value of mn '" + v.mn +
                                        "' needs a factor and a field (factor '" + v.factor +
                                        "', field '" + v.field + "')"};
  }
  if (static_cast<std::uint8_t>(v.kind) > static_cast<std::uint8_t>(DataKind::kOther)) {
    return core::Error{"bad_value", "data kind out of range for mn '" + v.mn + "'"};
  }
  return std::nullopt;
}

class MemoryStore final : public Store {
 public:
  core::Result<WriteResult> write(std::vector<FrameWrite>& batch) override {
    std::unique_lock lock(mu_);
    // Everything that can fail is checked before anything changes: all or nothing.
    for (const auto& fw : batch) {
      for (const auto& v : fw.values) {
        if (auto e = validate(v)) return core::fail(std::move(*e));
      }
    }
    WriteResult r;
    r.first_frame_id = frames_.size() + 1;
    for (auto& fw : batch) {
      fw.frame.id = frames_.size() + 1;
      frames_.push_back(fw.frame);
      for (auto& v : fw.values) {
        v.frame_id = fw.frame.id;
        auto& versions = by_device_[v.mn][SlotKey{v.measured_ms, v.factor, v.field, v.kind}];
        if (!versions.empty()) {
          const Value& last = log_[versions.back() - 1];
          if (last.text == v.text && last.flag == v.flag) {
            v.version = last.version;
            v.sequence = 0;
            ++r.duplicates;
            continue;
          }
          v.version = last.version + 1;
          ++r.new_versions;
        } else {
          v.version = 1;
          ++r.values_stored;
        }
        v.sequence = log_.size() + 1;
        log_.push_back(v);
        versions.push_back(v.sequence);
        // Later measured time wins; a tie goes to the later write (a new version of the same key).
        if (!(v.quality & kQualityNotLatest)) {
          auto [it, inserted] =
              latest_.try_emplace(LatestKey{v.site, v.factor, v.field, v.kind}, v.sequence);
          if (!inserted && v.measured_ms >= log_[it->second - 1].measured_ms)
            it->second = v.sequence;
        }
      }
    }
    r.last_sequence = log_.size();
    return r;
  }

  core::Result<std::vector<Value>> records(const RecordQuery& q) const override {
    std::shared_lock lock(mu_);
    std::vector<Value> out;
    const auto device = by_device_.find(q.mn);
    if (device == by_device_.end()) return out;
    const auto& slots = device->second;
    for (auto it = slots.lower_bound(SlotKey{q.from_ms, "", "", DataKind::kRealtime});
         it != slots.end() && it->first.measured_ms < q.to_ms; ++it) {
      if (q.kind && it->first.kind != *q.kind) continue;
      for (const auto seq : it->second) {
        if (out.size() >= q.limit) return out;
        out.push_back(log_[seq - 1]);
      }
    }
    return out;
  }

  core::Result<std::vector<Value>> series(const SeriesQuery& q) const override {
    std::shared_lock lock(mu_);
    // A scan of every key: the memory store is for tests and tools, not for large data.
    std::vector<const Value*> hits;
    for (const auto& [mn, slots] : by_device_) {
      for (const auto& [key, versions] : slots) {
        const Value& v = log_[versions.back() - 1];
        if (v.site == q.site && v.factor == q.factor && (!q.kind || v.kind == *q.kind) &&
            v.measured_ms >= q.from_ms && v.measured_ms < q.to_ms) {
          hits.push_back(&v);
        }
      }
    }
    std::sort(hits.begin(), hits.end(), [](const Value* a, const Value* b) {
      return std::tie(a->measured_ms, a->kind, a->field, a->mn) <
             std::tie(b->measured_ms, b->kind, b->field, b->mn);
    });
    std::vector<Value> out;
    for (std::size_t i = 0; i < hits.size() && i < q.limit; ++i) out.push_back(*hits[i]);
    return out;
  }

  core::Result<std::vector<Value>> latest(std::string_view site) const override {
    std::shared_lock lock(mu_);
    std::vector<Value> out;
    const std::string s(site);
    for (auto it = latest_.lower_bound(LatestKey{s, "", "", DataKind::kRealtime});
         it != latest_.end() && it->first.site == s; ++it) {
      out.push_back(log_[it->second - 1]);
    }
    return out;
  }

  core::Result<std::optional<Frame>> frame(std::uint64_t id) const override {
    std::shared_lock lock(mu_);
    if (id == 0 || id > frames_.size()) return std::optional<Frame>();
    return std::optional<Frame>(frames_[id - 1]);
  }

  core::Result<std::vector<Change>> changes(std::uint64_t after_sequence,
                                            std::size_t limit) const override {
    std::shared_lock lock(mu_);
    std::vector<Change> out;
    for (std::uint64_t seq = after_sequence + 1; seq <= log_.size() && out.size() < limit; ++seq) {
      out.push_back(Change{seq, log_[seq - 1]});
    }
    return out;
  }

  core::Result<std::uint64_t> value_count() const override {
    std::shared_lock lock(mu_);
    return static_cast<std::uint64_t>(log_.size());
  }

  core::Result<std::uint64_t> frame_count() const override {
    std::shared_lock lock(mu_);
    return static_cast<std::uint64_t>(frames_.size());
  }

 private:
  mutable std::shared_mutex mu_;
  std::vector<Frame> frames_;  // frame id = index + 1
  std::vector<Value> log_;     // every stored version; sequence = index + 1
  // mn -> key -> sequences of its versions, oldest first.
  std::map<std::string, std::map<SlotKey, std::vector<std::uint64_t>>> by_device_;
  std::map<LatestKey, std::uint64_t> latest_;  // -> sequence of the latest value
};

}  // namespace

std::unique_ptr<Store> make_memory_store() { return std::make_unique<MemoryStore>(); }

}  // namespace ecomon::storage
