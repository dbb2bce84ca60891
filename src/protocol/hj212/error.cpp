#include "protocol/hj212/error.h"

namespace ecomon::protocol::hj212 {

std::string_view reason_code(Reason reason) {
  switch (reason) {
    case Reason::kBadFrame:
      return "bad_frame";
    case Reason::kBadLength:
      return "bad_length";
    case Reason::kTooLong:
      return "too_long";
    case Reason::kBadCrc:
      return "bad_crc";
    case Reason::kBadHeader:
      return "bad_header";
    case Reason::kBadField:
      return "bad_field";
    case Reason::kBadEncryption:
      return "bad_encryption";
    case Reason::kIncomplete:
      return "incomplete";
  }
  return "bad_frame";
}

}  // namespace ecomon::protocol::hj212
