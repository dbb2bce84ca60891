#include "api/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace ecomon::api {

bool RateLimiter::allow(const std::string& client, std::int64_t now_ms,
                        std::int64_t* retry_after_ms) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(client);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) {
      // Drop the buckets that are full again (idle clients); if none, the least recently used.
      for (auto b = buckets_.begin(); b != buckets_.end();) {
        const double refilled =
            b->second.tokens + rate_ * static_cast<double>(now_ms - b->second.at_ms) / 1000.0;
        b = refilled >= burst_ ? buckets_.erase(b) : std::next(b);
      }
      if (buckets_.size() >= max_clients_) {
        auto oldest = std::min_element(buckets_.begin(), buckets_.end(), [](auto& a, auto& b) {
          return a.second.at_ms < b.second.at_ms;
        });
        buckets_.erase(oldest);
      }
    }
    it = buckets_.emplace(client, Bucket{burst_, now_ms}).first;
  }
  Bucket& b = it->second;
  const double elapsed_s =
      static_cast<double>(std::max<std::int64_t>(0, now_ms - b.at_ms)) / 1000.0;
  b.tokens = std::min(burst_, b.tokens + elapsed_s * rate_);
  b.at_ms = std::max(b.at_ms, now_ms);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  if (retry_after_ms) {
    *retry_after_ms = static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) / rate_ * 1000.0));
  }
  return false;
}

}  // namespace ecomon::api
