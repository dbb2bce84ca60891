#include "app/device_commands.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>

#include "core/civil_time.h"
#include "protocol/hj212/encoder.h"

namespace ecomon::app {

namespace hj = protocol::hj212;

namespace {

hj::Version version_of(int year) {
  if (year == 2005) return hj::Version::k2005;
  if (year == 2025) return hj::Version::k2025;
  return hj::Version::k2017;
}

std::string detail_of(const gateway::CommandResult& r) {
  if (r.outcome == "executed") return "";
  if (r.outcome == "offline") return "the device has no open connection";
  if (r.outcome == "refused") return "QnRtn=" + std::to_string(r.qn_rtn);
  if (r.outcome == "failed") return "ExeRtn=" + std::to_string(r.exe_rtn);
  return "no execution result from the device";
}

}  // namespace

std::vector<api::DeviceCommandOutcome> set_rtd_interval(const DeviceCommandContext& c,
                                                        const std::vector<std::string>& mns,
                                                        int seconds) {
  std::vector<api::DeviceCommandOutcome> out(mns.size());
  std::vector<std::future<gateway::CommandResult>> answers(mns.size());
  auto reg = c.registry->get();
  const std::int64_t now = c.clock->now_ms();
  const auto t = core::civil_from_unix_ms(now, core::kChinaUtcOffsetSeconds);
  for (std::size_t i = 0; i < mns.size(); ++i) {
    out[i].mn = mns[i];
    const registry::Device* d = reg->find_device(mns[i]);
    if (!d) {
      out[i].outcome = "not_found";
      out[i].detail = "not a registered device";
      continue;
    }
    // QN: Beijing time to the millisecond, the last digits told apart per device.
    char ms[4];
    std::snprintf(ms, sizeof ms, "%03d",
                  static_cast<int>((((now % 1000) + 1000) % 1000 + i) % 1000));
    const std::string qn = hj::format_hj212_time(t) + ms;
    const hj::Target target{qn, d->st, d->password, d->mn, version_of(d->profile.version)};
    const std::string frame =
        hj::encode_frame(hj::set_rtd_interval_segment(target, seconds),
                         hj::parse_crc_mode(d->profile.crc).value_or(hj::CrcMode::kHj212));
    auto promise = std::make_shared<std::promise<gateway::CommandResult>>();
    answers[i] = promise->get_future();
    c.gateway->send_command(d->mn, qn, frame, c.timeout_ms,
                            [promise](gateway::CommandResult r) { promise->set_value(r); });
  }
  // The gateway always answers (timeout included); the extra wait only guards a stopped loop.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(c.timeout_ms + 5000);
  for (std::size_t i = 0; i < mns.size(); ++i) {
    if (!answers[i].valid()) continue;
    if (answers[i].wait_until(deadline) != std::future_status::ready) {
      out[i].outcome = "timeout";
      out[i].detail = "no answer";
      continue;
    }
    const gateway::CommandResult r = answers[i].get();
    out[i].outcome = r.outcome;
    out[i].detail = detail_of(r);
  }
  return out;
}

void send_history_request(const DeviceCommandContext& c, const std::string& mn, int cn,
                          std::int64_t begin_ms, std::int64_t end_ms, std::int64_t timeout_ms,
                          std::function<void(std::string outcome)> done) {
  auto reg = c.registry->get();
  const registry::Device* d = reg->find_device(mn);
  if (!d) {
    done("not_found");
    return;
  }
  // QN: Beijing time to the millisecond; a counter tells apart requests of the same millisecond.
  static std::atomic<unsigned> sequence{0};
  const std::int64_t now = c.clock->now_ms();
  char ms[4];
  std::snprintf(ms, sizeof ms, "%03u",
                static_cast<unsigned>((((now % 1000) + 1000) % 1000 + sequence++) % 1000));
  const std::string qn =
      hj::format_hj212_time(core::civil_from_unix_ms(now, core::kChinaUtcOffsetSeconds)) + ms;
  const hj::Target target{qn, d->st, d->password, d->mn, version_of(d->profile.version)};
  const std::string frame = hj::encode_frame(
      hj::history_request_segment(target, cn,
                                  core::civil_from_unix_ms(begin_ms, core::kChinaUtcOffsetSeconds),
                                  core::civil_from_unix_ms(end_ms, core::kChinaUtcOffsetSeconds)),
      hj::parse_crc_mode(d->profile.crc).value_or(hj::CrcMode::kHj212));
  c.gateway->send_command(d->mn, qn, frame, timeout_ms,
                          [done = std::move(done)](gateway::CommandResult r) { done(r.outcome); });
}

}  // namespace ecomon::app
