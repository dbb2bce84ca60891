// HJ 212 encoders: everything the platform sends to a data logger, and the frames of a device
// (used by the simulator and tests). Pure; thread-safe.
//
// Replies mirror the device's dialect: the version bits of its Flag (2017 → Flag=4, 2025 →
// Flag=8), its QN, PW and MN; HJ/T 212-2005 replies carry the QN inside CP and no Flag.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/civil_time.h"
#include "protocol/hj212/crc.h"
#include "protocol/hj212/message.h"
#include "protocol/hj212/sm4.h"

namespace ecomon::protocol::hj212 {

struct Encryption {
  Sm4Key key;
  Sm4WireForm form = Sm4WireForm::kRawBytes;
};

// "##" + 4-digit length + segment + CRC + CR LF. With `encryption`, the CP content is SM4-encrypted
// (whole blocks; the tail stays plaintext) after the CRC is computed over the plaintext, and the
// length field keeps the plaintext length, as HJ 212-2025 appendix A.2 prints it.
std::string encode_frame(std::string_view segment, CrcMode crc_mode = CrcMode::kHj212,
                         const std::optional<Encryption>& encryption = std::nullopt);

// The device a command is addressed to and the QN of the exchange (the caller's clock makes the
// QN: "YYYYMMDDhhmmsszzz").
struct Target {
  std::string_view qn;
  std::string_view st;
  std::string_view pw;
  std::string_view mn;
  Version version = Version::k2017;
};

// ---- data segments (no framing); encode_frame() frames them ----

// 9014 data response to an upload, 9013 notice response (e.g. to 1013 or a 9015 heartbeat).
std::string data_ack_segment(const Message& upload);
std::string notice_ack_segment(const Message& notice);
// 9011 request answer (QnRtn) and 9012 execution result (ExeRtn), as a device sends them.
std::string request_answer_segment(const Message& request, int qn_rtn);
std::string execution_result_segment(const Message& request, int exe_rtn);

// Commands from the platform (answered by 9011 + 9012, so Flag has the ack bit).
std::string get_time_segment(const Target& t, std::optional<std::string_view> pol_id);  // 1011
std::string set_time_segment(const Target& t, const core::CivilTime& time,
                             std::optional<std::string_view> pol_id);  // 1012
// 2051 minute, 2061 hour, 2031 day, 2041 running time history between BeginTime and EndTime.
std::string history_request_segment(const Target& t, int cn, const core::CivilTime& begin,
                                    const core::CivilTime& end);
std::string set_rtd_interval_segment(const Target& t, int seconds);            // 1062
std::string set_timeout_segment(const Target& t, int timeout_s, int retries);  // 1000
// HJ 212-2025 §6.4.3 key update from the platform (1014): SKCreateTime (17 digits) and the new
// SM4 key; the device answers 9011, switches keys, then 9012. Send it encrypted (encode_frame
// with the device's current key): 1014 is one of the encrypted commands (§6.4.4).
std::string set_key_segment(const Target& t, std::string_view sk_create_time,
                            std::string_view new_key_hex);

// A data upload as a data logger sends it (2011 real-time, 2051 minute, 2061 hour, 2031 day):
// QN;ST;CN;PW;MN;Flag;[RF=1;]CP=&&DataTime=...;f-Field=text,...,f-Flag=X;...&&. Values are
// written as given (their text), never reformatted. `resend` writes HJ 212-2025's RF=1 (补传,
// table 3) and only for Version::k2025: HJ 212-2017 has no resend field, a re-sent upload looks
// like any other (../shared/reference/hj212/HJ212-2025.md, rows "RF" and "Device-initiated 补传").
struct UploadField {
  std::string_view name;  // "Rtd", "Avg", "ZsAvg", "Cou", ...
  std::string_view text;  // the value exactly as it is to be sent
};
struct UploadFactor {
  std::string_view code;  // "a34004"
  std::vector<UploadField> fields;
  std::string_view flag;  // the factor's data flag ("N", "D", ...); empty: no -Flag
};
struct Upload {
  Target target;
  int cn = 2061;
  core::CivilTime data_time;  // local time (UTC+8), the start of the period
  bool ack = true;            // Flag bit 0: ask for a 9014
  bool resend = false;
  std::vector<UploadFactor> factors;
};
std::string upload_segment(const Upload& u);
// The CP content upload_segment() writes for `u` (HJ 212-2017 table 2 limits a CP to 950
// characters; callers that split use this to measure).
std::string upload_cp(const Upload& u);

// "YYYYMMDDhhmmss" (14 digits).
std::string format_hj212_time(const core::CivilTime& t);

}  // namespace ecomon::protocol::hj212
