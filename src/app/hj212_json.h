// JSON rendering of HJ 212 decode results, the shape `ecomon hj212 parse` prints (README).
#pragma once

#include <string>

#include "protocol/hj212/error.h"
#include "protocol/hj212/message.h"

namespace ecomon::app {

// {"ok":true,"version":2017,"qn":...,"items":[...]} — one line, no trailing newline.
std::string message_json(const protocol::hj212::Message& m);
// {"ok":false,"reason":"bad_crc","detail":"..."}
std::string error_json(const protocol::hj212::Error& e);

}  // namespace ecomon::app
