#include "protocol/hj212/encoder.h"

#include <cstdio>

namespace ecomon::protocol::hj212 {
namespace {

int version_bits(Version v) {
  switch (v) {
    case Version::k2005:
      return 0;
    case Version::k2017:
      return 1;
    case Version::k2025:
      return 2;
    case Version::kUnknown:
      return 1;
  }
  return 1;
}

std::string four_digits(int cn) {
  char b[8];
  std::snprintf(b, sizeof b, "%04d", cn);
  return b;
}

// A command's segment: QN;ST;CN;PW;MN;Flag;CP=&&cp&&.
std::string command_segment(const Target& t, int cn, std::string_view cp) {
  std::string s;
  s.reserve(96 + cp.size());
  s += "QN=";
  s += t.qn;
  s += ";ST=";
  s += t.st;
  s += ";CN=";
  s += four_digits(cn);
  s += ";PW=";
  s += t.pw;
  s += ";MN=";
  s += t.mn;
  s += ";Flag=";
  s += std::to_string((version_bits(t.version) << 2) | 1);
  s += ";CP=&&";
  s += cp;
  s += "&&";
  return s;
}

// A reply to `to`: ST=91, the same QN/PW/MN, Flag with the version bits of `to` and no ack bit.
// HJ/T 212-2005 replies carry the request's QN inside CP and have no Flag.
std::string reply_segment(const Message& to, int cn, std::string_view cp_params) {
  std::string s;
  s.reserve(96 + cp_params.size());
  const bool old_style = to.version == Version::k2005;
  if (!old_style && to.qn) {
    s += "QN=";
    s += *to.qn;
    s += ';';
  }
  s += "ST=91;CN=";
  s += four_digits(cn);
  s += ";PW=";
  s += to.pw;
  s += ";MN=";
  s += to.mn;
  if (!old_style) {
    const int bits = to.flag ? (*to.flag & ~3) : (version_bits(to.version) << 2);
    s += ";Flag=";
    s += std::to_string(bits);
  }
  s += ";CP=&&";
  const auto qn = to.request_qn();
  if (old_style && qn) {
    s += "QN=";
    s += *qn;
    if (!cp_params.empty()) s += ';';
  }
  s += cp_params;
  s += "&&";
  return s;
}

std::string pol_id_prefix(std::optional<std::string_view> pol_id) {
  if (!pol_id) return {};
  return "PolId=" + std::string(*pol_id);
}

}  // namespace

std::string format_hj212_time(const core::CivilTime& t) {
  char b[24];
  std::snprintf(b, sizeof b, "%04d%02u%02u%02u%02u%02u", t.year, t.month, t.day, t.hour, t.minute,
                t.second);
  return b;
}

std::string encode_frame(std::string_view segment, CrcMode crc_mode,
                         const std::optional<Encryption>& encryption) {
  char crc[4];
  format_crc_field(crc_field_value(crc_mode, segment), crc);
  std::string body(segment);
  if (encryption) {
    const std::size_t open = body.find("CP=&&");
    if (open != std::string::npos && body.size() >= open + 7) {
      const std::size_t from = open + 5;
      std::string region = body.substr(from, body.size() - 2 - from);
      sm4_ecb_blocks(encryption->key, true, region);
      if (encryption->form == Sm4WireForm::kHexText) {
        const std::size_t whole = region.size() / 16 * 16;
        std::string text = "{";
        char b[8];
        for (std::size_t i = 0; i < whole; ++i) {
          std::snprintf(b, sizeof b, "%s0x%02X", i ? "," : "",
                        static_cast<unsigned char>(region[i]));
          text += b;
        }
        text += '}';
        text.append(region, whole, std::string::npos);
        region = std::move(text);
      }
      body = body.substr(0, from) + region + "&&";
    }
  }
  char len[8];
  std::snprintf(len, sizeof len, "%04zu", segment.size() % 10000);
  std::string frame;
  frame.reserve(body.size() + 12);
  frame += "##";
  frame += len;
  frame += body;
  frame.append(crc, 4);
  frame += "\r\n";
  return frame;
}

std::string upload_cp(const Upload& u) {
  std::string cp = "DataTime=" + format_hj212_time(u.data_time);
  for (const auto& f : u.factors) {
    bool first = true;
    auto item = [&](std::string_view name, std::string_view text) {
      cp += first ? ';' : ',';
      first = false;
      cp += f.code;
      cp += '-';
      cp += name;
      cp += '=';
      cp += text;
    };
    for (const auto& field : f.fields) item(field.name, field.text);
    if (!f.flag.empty()) item("Flag", f.flag);
  }
  return cp;
}

std::string upload_segment(const Upload& u) {
  const Target& t = u.target;
  std::string s;
  s += "QN=";
  s += t.qn;
  s += ";ST=";
  s += t.st;
  s += ";CN=";
  s += four_digits(u.cn);
  s += ";PW=";
  s += t.pw;
  s += ";MN=";
  s += t.mn;
  s += ";Flag=";
  s += std::to_string((version_bits(t.version) << 2) | (u.ack ? 1 : 0));
  if (u.resend && t.version == Version::k2025) s += ";RF=1";
  s += ";CP=&&";
  s += upload_cp(u);
  s += "&&";
  return s;
}

std::string data_ack_segment(const Message& upload) { return reply_segment(upload, 9014, ""); }
std::string notice_ack_segment(const Message& notice) { return reply_segment(notice, 9013, ""); }

std::string request_answer_segment(const Message& request, int qn_rtn) {
  return reply_segment(request, 9011, "QnRtn=" + std::to_string(qn_rtn));
}
std::string execution_result_segment(const Message& request, int exe_rtn) {
  return reply_segment(request, 9012, "ExeRtn=" + std::to_string(exe_rtn));
}

std::string get_time_segment(const Target& t, std::optional<std::string_view> pol_id) {
  return command_segment(t, 1011, pol_id_prefix(pol_id));
}

std::string set_time_segment(const Target& t, const core::CivilTime& time,
                             std::optional<std::string_view> pol_id) {
  std::string cp = pol_id_prefix(pol_id);
  if (!cp.empty()) cp += ';';
  cp += "SystemTime=" + format_hj212_time(time);
  return command_segment(t, 1012, cp);
}

std::string history_request_segment(const Target& t, int cn, const core::CivilTime& begin,
                                    const core::CivilTime& end) {
  return command_segment(
      t, cn, "BeginTime=" + format_hj212_time(begin) + ";EndTime=" + format_hj212_time(end));
}

std::string set_rtd_interval_segment(const Target& t, int seconds) {
  return command_segment(t, 1062, "RtdInterval=" + std::to_string(seconds));
}

std::string set_timeout_segment(const Target& t, int timeout_s, int retries) {
  return command_segment(
      t, 1000, "OverTime=" + std::to_string(timeout_s) + ";ReCount=" + std::to_string(retries));
}

std::string set_key_segment(const Target& t, std::string_view sk_create_time,
                            std::string_view new_key_hex) {
  std::string cp = "SKCreateTime=";
  cp += sk_create_time;
  cp += ",NewSK=";
  cp += new_key_hex;
  return command_segment(t, 1014, cp);
}

}  // namespace ecomon::protocol::hj212
