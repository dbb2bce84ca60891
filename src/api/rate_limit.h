// A token bucket per client (IP address): `rate` requests per second with bursts of `burst`.
// Bounded memory: at most `max_clients` buckets; the oldest idle ones are dropped first.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace ecomon::api {

class RateLimiter {
 public:
  RateLimiter(double rate_per_s, double burst, std::size_t max_clients = 10000)
      : rate_(rate_per_s), burst_(burst), max_clients_(max_clients) {}

  // True when the client may make a request at `now_ms`; otherwise *retry_after_ms says when.
  bool allow(const std::string& client, std::int64_t now_ms,
             std::int64_t* retry_after_ms = nullptr);

 private:
  struct Bucket {
    double tokens;
    std::int64_t at_ms;
  };
  double rate_;
  double burst_;
  std::size_t max_clients_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace ecomon::api
