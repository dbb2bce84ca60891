#include "alarm/evidence.h"

#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "storage/sqlite/sql.h"

namespace ecomon::alarm {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS alarm_evidence(
  id INTEGER PRIMARY KEY,
  alarm_id INTEGER NOT NULL,
  uploader TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alarm_evidence_by_alarm ON alarm_evidence(alarm_id, id);
)sql";

constexpr const char* kColumns =
    "SELECT id, alarm_id, uploader, at_ms, name, content_type, size, sha256 FROM alarm_evidence ";

constexpr std::string_view kXlsx =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
constexpr std::string_view kTypes[] = {"image/jpeg", "image/png", "application/pdf",
                                       "text/plain", "text/csv",  kXlsx};

using Stmt = storage::sql::Statement;

core::Error fail_with(std::string reason, std::string detail) {
  return core::Error{std::move(reason), std::move(detail)};
}

// The media type without parameters, lower case.
std::string media_type(std::string_view content_type) {
  std::string t(content_type.substr(0, content_type.find(';')));
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.pop_back();
  for (char& c : t) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return t;
}

bool valid_utf8_text(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    if (c == 0) return false;
    if (c < 0x80) {
      n = 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

bool starts_with(std::string_view bytes, std::string_view magic) {
  return bytes.substr(0, magic.size()) == magic;
}

bool bytes_match_type(const std::string& type, std::string_view bytes) {
  if (type == "image/jpeg") return starts_with(bytes, "\xFF\xD8\xFF");
  if (type == "image/png") return starts_with(bytes, std::string_view("\x89PNG\r\n\x1A\n", 8));
  if (type == "application/pdf") return starts_with(bytes, "%PDF-");
  if (type == kXlsx) return starts_with(bytes, std::string_view("PK\x03\x04", 4));
  return valid_utf8_text(bytes);  // text/plain, text/csv
}

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 0xF];
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> h{};
  crypto_hash_sha256(h.data(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return hex(h.data(), h.size());
}

// Writes `bytes` to `path` durably: a temporary file in the same directory, fsynced, renamed over
// `path`, and the directory fsynced.
core::Result<void> write_durably(const std::filesystem::path& path, std::string_view bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec)
    return core::fail(fail_with("io_error", path.parent_path().string() + ": " + ec.message()));
  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return core::fail(fail_with("io_error", tmp + ": " + std::strerror(errno)));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return core::fail(fail_with("io_error", tmp + ": " + why));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return core::fail(fail_with("io_error", tmp + ": fsync failed"));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return core::fail(fail_with("io_error", path.string() + ": " + std::strerror(errno)));
  }
  const int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

Evidence read_row(const Stmt& q) {
  return Evidence{q.integer(0), q.integer(1), q.text(2),    q.integer(3),
                  q.text(4),    q.text(5),    q.integer(6), q.text(7)};
}

}  // namespace

std::string sanitise_name(std::string_view name) {
  const std::size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name = name.substr(slash + 1);
  std::string out;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) continue;
    if (std::strchr(":*?\"<>|;", c) != nullptr) continue;
    out += c;
  }
  std::size_t lead = 0;
  while (lead < out.size() && (out[lead] == '.' || out[lead] == ' ')) ++lead;
  out.erase(0, lead);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (out.size() > 120) {
    std::size_t cut = 120;
    // Do not split a UTF-8 character: back up to the start of the one at the cut.
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  if (!valid_utf8_text(out)) {
    // Invalid UTF-8 cannot be shown or put in a header: keep the ASCII only.
    std::string ascii;
    for (const char c : out) {
      if (static_cast<unsigned char>(c) < 0x80) ascii += c;
    }
    out = std::move(ascii);
  }
  return out.empty() ? std::string("evidence") : out;
}

bool evidence_type_allowed(std::string_view content_type) {
  const std::string t = media_type(content_type);
  for (const auto allowed : kTypes) {
    if (t == allowed) return true;
  }
  return false;
}

class EvidenceService::Impl {
 public:
  Impl(const core::Clock& clock, EvidenceOptions options) : clock_(clock), options_(options) {}

  core::Result<void> open(const std::string& db_path, const std::string& dir) {
    auto db = storage::sql::open_service_connection(db_path, options_.busy_timeout_ms);
    if (!db) return core::fail(db.error());
    db_ = std::move(*db);
    if (!storage::sql::exec(db_.get(), kSchema)) {
      return core::fail(storage::sql::error(db_.get(), db_path + ": evidence schema"));
    }
    dir_ = dir;
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) return core::fail(fail_with("cannot_open", dir + ": " + ec.message()));
    return {};
  }

  std::filesystem::path file_of(const std::string& sha) const {
    return dir_ / sha.substr(0, 2) / sha;
  }

  core::Result<Evidence> refuse(const std::string& reason, const std::string& detail) {
    ++refused_[reason];
    return core::fail(fail_with(reason, detail));
  }

  core::Result<Evidence> add(std::int64_t alarm_id, const std::string& uploader,
                             std::string_view name, std::string_view content_type,
                             std::string_view bytes) {
    std::lock_guard lock(mu_);
    if (bytes.empty()) return refuse("empty", "the file is empty");
    if (bytes.size() > options_.max_bytes) {
      return refuse("too_large", "the file has " + std::to_string(bytes.size()) +
                                     " bytes; at most " + std::to_string(options_.max_bytes));
    }
    const std::string type = media_type(content_type);
    if (!evidence_type_allowed(type)) {
      return refuse("bad_type", "Content-Type '" + type.substr(0, 100) +
                                    "' is not accepted: image/jpeg, image/png, application/pdf, "
                                    "text/plain, text/csv or an .xlsx workbook");
    }
    if (!bytes_match_type(type, bytes)) {
      return refuse("type_mismatch", "the file's bytes are not " + type);
    }
    {
      Stmt q(db_.get(), "SELECT count(*) FROM alarm_evidence WHERE alarm_id=?");
      q.bind(alarm_id);
      if (q.step() != SQLITE_ROW) return core::fail(storage::sql::error(db_.get(), "evidence"));
      if (static_cast<std::size_t>(q.integer(0)) >= options_.max_per_alarm) {
        return refuse("too_many", "alarm " + std::to_string(alarm_id) + " already has " +
                                      std::to_string(options_.max_per_alarm) + " files");
      }
    }
    Evidence e;
    e.alarm_id = alarm_id;
    e.uploader = uploader;
    e.at_ms = clock_.now_ms();
    e.name = sanitise_name(name);
    e.content_type = type;
    e.size = static_cast<std::int64_t>(bytes.size());
    e.sha256 = sha256_hex(bytes);
    const auto path = file_of(e.sha256);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec) ||
        std::filesystem::file_size(path, ec) != bytes.size()) {
      if (auto r = write_durably(path, bytes); !r) return core::fail(r.error());
    }
    Stmt q(db_.get(),
           "INSERT INTO alarm_evidence(alarm_id, uploader, at_ms, name, content_type, size, "
           "sha256) VALUES(?,?,?,?,?,?,?)");
    q.bind(e.alarm_id).bind(e.uploader).bind(e.at_ms).bind(e.name).bind(e.content_type);
    q.bind(e.size).bind(e.sha256);
    if (q.step() != SQLITE_DONE) return core::fail(storage::sql::error(db_.get(), "evidence"));
    e.id = sqlite3_last_insert_rowid(db_.get());
    return e;
  }

  core::Result<std::vector<Evidence>> list(std::int64_t alarm_id) {
    std::lock_guard lock(mu_);
    Stmt q(db_.get(), (std::string(kColumns) + "WHERE alarm_id=? ORDER BY id").c_str());
    q.bind(alarm_id);
    std::vector<Evidence> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(read_row(q));
    if (rc != SQLITE_DONE) return core::fail(storage::sql::error(db_.get(), "evidence"));
    return out;
  }

  core::Result<std::pair<Evidence, std::string>> read(std::int64_t alarm_id, std::int64_t id) {
    Evidence e;
    {
      std::lock_guard lock(mu_);
      Stmt q(db_.get(), (std::string(kColumns) + "WHERE id=? AND alarm_id=?").c_str());
      q.bind(id).bind(alarm_id);
      const int rc = q.step();
      if (rc == SQLITE_DONE) {
        return core::fail(fail_with("not_found", "alarm " + std::to_string(alarm_id) +
                                                     " has no evidence " + std::to_string(id)));
      }
      if (rc != SQLITE_ROW) return core::fail(storage::sql::error(db_.get(), "evidence"));
      e = read_row(q);
    }
    std::ifstream in(file_of(e.sha256), std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    std::string data = bytes.str();
    if (!in || static_cast<std::int64_t>(data.size()) != e.size || sha256_hex(data) != e.sha256) {
      return core::fail(fail_with("io_error", "the stored file of evidence " + std::to_string(id) +
                                                  " is missing or damaged"));
    }
    return std::make_pair(std::move(e), std::move(data));
  }

  std::mutex mu_;
  const core::Clock& clock_;
  EvidenceOptions options_;
  storage::sql::Connection db_;
  std::filesystem::path dir_;
  std::map<std::string, std::uint64_t> refused_;
};

EvidenceService::EvidenceService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EvidenceService::~EvidenceService() = default;

core::Result<std::unique_ptr<EvidenceService>> EvidenceService::open(const std::string& db_path,
                                                                     const std::string& dir,
                                                                     const core::Clock& clock,
                                                                     EvidenceOptions options) {
  if (sodium_init() < 0) {
    return core::fail(core::Error{"crypto_unavailable", "libsodium could not be initialised"});
  }
  auto impl = std::make_unique<Impl>(clock, options);
  if (auto r = impl->open(db_path, dir); !r) return core::fail(r.error());
  return std::unique_ptr<EvidenceService>(new EvidenceService(std::move(impl)));
}

core::Result<Evidence> EvidenceService::add(std::int64_t alarm_id, const std::string& uploader,
                                            std::string_view name, std::string_view content_type,
                                            std::string_view bytes) {
  return impl_->add(alarm_id, uploader, name, content_type, bytes);
}
core::Result<std::vector<Evidence>> EvidenceService::list(std::int64_t alarm_id) {
  return impl_->list(alarm_id);
}
core::Result<std::pair<Evidence, std::string>> EvidenceService::read(std::int64_t alarm_id,
                                                                     std::int64_t id) {
  return impl_->read(alarm_id, id);
}
std::map<std::string, std::uint64_t> EvidenceService::refused() {
  std::lock_guard lock(impl_->mu_);
  return impl_->refused_;
}

}  // namespace ecomon::alarm
