#include "app/key_rotation.h"

#include <chrono>
#include <future>

#include "auth/secret_box.h"
#include "core/civil_time.h"
#include "protocol/hj212/encoder.h"

namespace ecomon::app {

namespace hj = protocol::hj212;

core::Result<std::string> rotate_sm4_key(const KeyRotationContext& c, const std::string& mn) {
  auto reg = c.registry->get();
  const registry::Device* d = reg->find_device(mn);
  if (!d) return core::fail(core::Error{"not_found", "no device '" + mn + "'"});
  const auto current = hj::parse_sm4_key(d->profile.sm4_key_hex);
  if (d->profile.version != 2025 || !current) {
    return core::fail(core::Error{"not_encrypted",
                                  "device '" + mn + "' does not use HJ 212-2025 SM4 encryption"});
  }
  std::string key = auth::random_hex(16);
  if (key.empty() || key == d->profile.sm4_key_hex) {
    return core::fail(core::Error{"crypto_unavailable", "no random key could be made"});
  }
  // QN and SKCreateTime: Beijing time to the millisecond.
  const std::int64_t now = c.clock->now_ms();
  const auto t = core::civil_from_unix_ms(now, core::kChinaUtcOffsetSeconds);
  char ms[4];
  std::snprintf(ms, sizeof ms, "%03d", static_cast<int>(((now % 1000) + 1000) % 1000));
  const std::string qn = hj::format_hj212_time(t) + ms;

  hj::Target target{qn, d->st, d->password, mn, hj::Version::k2025};
  hj::Encryption enc{*current, d->profile.sm4_wire_form == "hex_text" ? hj::Sm4WireForm::kHexText
                                                                      : hj::Sm4WireForm::kRawBytes};
  const std::string frame =
      hj::encode_frame(hj::set_key_segment(target, qn, key),
                       hj::parse_crc_mode(d->profile.crc).value_or(hj::CrcMode::kHj212), enc);

  // The switch happens inside the gateway's callback, on its loop, while it handles the device's
  // 9012: the device's next frame (encrypted with the new key) is decoded with the new key.
  auto promise = std::make_shared<std::promise<core::Result<void>>>();
  auto answer = promise->get_future();
  auto on_answer = [promise, registry = c.registry, save = c.save, mn,
                    key](gateway::CommandResult r) {
    if (r.outcome != "executed") {
      std::string why =
          r.outcome == "offline" ? "the device has no open connection"
          : r.outcome == "refused"
              ? "the device refused the key update (QnRtn=" + std::to_string(r.qn_rtn) + ")"
          : r.outcome == "failed"
              ? "the device could not apply the key (ExeRtn=" + std::to_string(r.exe_rtn) + ")"
              : "no execution result from the device (" + r.outcome + ")";
      promise->set_value(core::fail(core::Error{r.outcome, why + "; the old key stays in use"}));
      return;
    }
    auto updated = registry->update(
        [&](const registry::Registry& now_reg) -> core::Result<registry::Registry> {
          const registry::Device* cur = now_reg.find_device(mn);
          if (!cur) return core::fail(core::Error{"not_found", "device '" + mn + "' was removed"});
          registry::Device next = *cur;
          next.profile.sm4_key_hex = key;
          auto edited = now_reg.with_device(next);
          if (!edited) return edited;
          if (save) {
            if (auto saved = save(*edited); !saved) {
              return core::fail(core::Error{"save_failed", saved.error().detail});
            }
          }
          return edited;
        });
    if (!updated) {
      // The device already uses the new key: the operator must act.
      promise->set_value(core::fail(core::Error{
          updated.error().reason,
          "the device switched keys but the registry was not updated: " + updated.error().detail}));
      return;
    }
    promise->set_value(core::Result<void>{});
  };
  c.gateway->send_command(mn, qn, frame, c.timeout_ms, std::move(on_answer));
  // The gateway always answers (timeout included); the extra wait only guards a stopped loop.
  if (answer.wait_for(std::chrono::milliseconds(c.timeout_ms + 5000)) !=
      std::future_status::ready) {
    return core::fail(core::Error{"timeout", "device '" + mn + "' did not answer the key update"});
  }
  if (auto done = answer.get(); !done) return core::fail(done.error());
  return qn;
}

}  // namespace ecomon::app
