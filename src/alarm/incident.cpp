#include "alarm/incident.h"

#include <sqlite3.h>

#include <mutex>

#include "storage/sqlite/sql.h"

namespace ecomon::alarm {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS incidents(
  id INTEGER PRIMARY KEY,
  title TEXT NOT NULL,
  location TEXT NOT NULL,
  pollutant TEXT NOT NULL,
  sites TEXT NOT NULL,
  state TEXT NOT NULL,
  opened_ms INTEGER NOT NULL,
  opened_by TEXT NOT NULL,
  closed_ms INTEGER,
  closed_by TEXT NOT NULL DEFAULT '',
  rtd_interval_s INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS incident_timeline(
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents(id),
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL,
  text TEXT NOT NULL,
  mn TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS incident_timeline_by_incident ON incident_timeline(incident_id, id);
)sql";

constexpr const char* kColumns =
    "SELECT id, title, location, pollutant, sites, state, opened_ms, opened_by, closed_ms, "
    "closed_by, rtd_interval_s FROM incidents ";

using Stmt = storage::sql::Statement;

core::Error db_error(sqlite3* db, const std::string& what) { return storage::sql::error(db, what); }

std::string join_lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += '\n';
    out += s;
  }
  return out;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t next = s.find('\n', pos);
    if (next == std::string::npos) next = s.size();
    out.push_back(s.substr(pos, next - pos));
    pos = next + 1;
  }
  return out;
}

Incident read_incident(const Stmt& q) {
  Incident i;
  i.id = q.integer(0);
  i.title = q.text(1);
  i.location = q.text(2);
  i.pollutant = q.text(3);
  i.sites = split_lines(q.text(4));
  i.state = q.text(5);
  i.opened_ms = q.integer(6);
  i.opened_by = q.text(7);
  if (!q.is_null(8)) i.closed_ms = q.integer(8);
  i.closed_by = q.text(9);
  i.rtd_interval_s = q.integer(10);
  return i;
}

bool bad_text(const std::string& s, std::size_t max) {
  if (s.size() > max) return true;
  for (const char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') return true;
  }
  return false;
}

}  // namespace

class IncidentService::Impl {
 public:
  explicit Impl(const core::Clock& clock) : clock_(clock) {}

  core::Result<void> open(const std::string& path, int busy_timeout_ms) {
    auto db = storage::sql::open_service_connection(path, busy_timeout_ms);
    if (!db) return core::fail(db.error());
    db_ = std::move(*db);
    if (!exec(kSchema)) return core::fail(db_error(db_.get(), path + ": incident schema"));
    return {};
  }

  bool exec(const char* sql) { return storage::sql::exec(db_.get(), sql); }

  core::Result<std::optional<Incident>> get(std::int64_t id) {
    Stmt q(db_.get(), (std::string(kColumns) + "WHERE id=?").c_str());
    q.bind(id);
    const int rc = q.step();
    if (rc == SQLITE_DONE) return std::optional<Incident>();
    if (rc != SQLITE_ROW) return core::fail(db_error(db_.get(), "incident"));
    return std::optional<Incident>(read_incident(q));
  }

  core::Result<TimelineEntry> insert_entry(std::int64_t id, TimelineEntry e) {
    Stmt q(db_.get(),
           "INSERT INTO incident_timeline(incident_id, at_ms, actor, kind, text, mn, outcome) "
           "VALUES(?,?,?,?,?,?,?)");
    q.bind(id).bind(e.at_ms).bind(e.actor).bind(e.kind).bind(e.text).bind(e.mn).bind(e.outcome);
    if (q.step() != SQLITE_DONE) return core::fail(db_error(db_.get(), "incident timeline"));
    e.id = sqlite3_last_insert_rowid(db_.get());
    return e;
  }

  const core::Clock& clock_;
  std::mutex mu_;
  storage::sql::Connection db_;
};

IncidentService::IncidentService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IncidentService::~IncidentService() = default;

core::Result<std::unique_ptr<IncidentService>> IncidentService::open(const std::string& path,
                                                                     const core::Clock& clock,
                                                                     int busy_timeout_ms) {
  auto impl = std::make_unique<Impl>(clock);
  if (auto r = impl->open(path, busy_timeout_ms); !r) return core::fail(r.error());
  return std::unique_ptr<IncidentService>(new IncidentService(std::move(impl)));
}

core::Result<Incident> IncidentService::create(Incident incident, const std::string& actor,
                                               const std::string& note) {
  auto bad = [](const std::string& why) { return core::fail(core::Error{"bad_request", why}); };
  if (incident.location.empty() || bad_text(incident.location, 500)) {
    return bad("location: 1 to 500 characters");
  }
  if (incident.pollutant.empty() || bad_text(incident.pollutant, 200)) {
    return bad("pollutant: 1 to 200 characters");
  }
  if (bad_text(incident.title, 200)) return bad("title: at most 200 characters");
  if (bad_text(note, 4000)) return bad("note: at most 4000 characters");
  if (incident.sites.empty() || incident.sites.size() > 200) return bad("sites: 1 to 200 codes");
  for (const auto& s : incident.sites) {
    if (s.empty() || s.size() > 64 || s.find('\n') != std::string::npos) return bad("bad site");
  }
  if (incident.title.empty()) incident.title = incident.pollutant + " — " + incident.location;
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  incident.id = 0;
  incident.state = "open";
  incident.opened_ms = I.clock_.now_ms();
  incident.opened_by = actor;
  incident.closed_ms.reset();
  incident.closed_by.clear();
  if (!I.exec("BEGIN IMMEDIATE")) return core::fail(db_error(I.db_.get(), "begin"));
  auto fail = [&](core::Error e) -> core::Result<Incident> {
    I.exec("ROLLBACK");
    return core::fail(std::move(e));
  };
  {
    Stmt q(I.db_.get(),
           "INSERT INTO incidents(title, location, pollutant, sites, state, opened_ms, opened_by, "
           "rtd_interval_s) VALUES(?,?,?,?,?,?,?,?)");
    q.bind(incident.title).bind(incident.location).bind(incident.pollutant);
    q.bind(join_lines(incident.sites)).bind(incident.state).bind(incident.opened_ms);
    q.bind(incident.opened_by).bind(incident.rtd_interval_s);
    if (q.step() != SQLITE_DONE) return fail(db_error(I.db_.get(), "incident"));
  }
  incident.id = sqlite3_last_insert_rowid(I.db_.get());
  TimelineEntry e;
  e.at_ms = incident.opened_ms;
  e.actor = actor;
  e.kind = "opened";
  e.text = note;
  if (auto r = I.insert_entry(incident.id, e); !r) return fail(r.error());
  if (!I.exec("COMMIT")) return fail(db_error(I.db_.get(), "commit"));
  return incident;
}

core::Result<TimelineEntry> IncidentService::add_entry(std::int64_t id, TimelineEntry entry) {
  if (entry.kind != "action" && entry.kind != "command") {
    return core::fail(core::Error{"bad_request", "an entry is an action or a command"});
  }
  if (entry.text.empty() || bad_text(entry.text, 4000)) {
    return core::fail(core::Error{"bad_request", "text: 1 to 4000 characters"});
  }
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  auto inc = I.get(id);
  if (!inc) return core::fail(inc.error());
  if (!*inc) return core::fail(core::Error{"not_found", "no incident " + std::to_string(id)});
  if ((*inc)->state != "open") {
    return core::fail(core::Error{"illegal", "incident " + std::to_string(id) + " is closed"});
  }
  entry.at_ms = I.clock_.now_ms();
  return I.insert_entry(id, std::move(entry));
}

core::Result<Incident> IncidentService::close(std::int64_t id, const std::string& actor,
                                              const std::string& note) {
  if (bad_text(note, 4000)) return core::fail(core::Error{"bad_request", "note: too long"});
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  auto inc = I.get(id);
  if (!inc) return core::fail(inc.error());
  if (!*inc) return core::fail(core::Error{"not_found", "no incident " + std::to_string(id)});
  if ((*inc)->state != "open") {
    return core::fail(core::Error{"illegal", "incident " + std::to_string(id) + " is closed"});
  }
  const std::int64_t now = I.clock_.now_ms();
  if (!I.exec("BEGIN IMMEDIATE")) return core::fail(db_error(I.db_.get(), "begin"));
  auto fail = [&](core::Error e) -> core::Result<Incident> {
    I.exec("ROLLBACK");
    return core::fail(std::move(e));
  };
  {
    Stmt q(I.db_.get(), "UPDATE incidents SET state='closed', closed_ms=?, closed_by=? WHERE id=?");
    q.bind(now).bind(actor).bind(id);
    if (q.step() != SQLITE_DONE) return fail(db_error(I.db_.get(), "incident close"));
  }
  TimelineEntry e;
  e.at_ms = now;
  e.actor = actor;
  e.kind = "closed";
  e.text = note;
  if (auto r = I.insert_entry(id, e); !r) return fail(r.error());
  if (!I.exec("COMMIT")) return fail(db_error(I.db_.get(), "commit"));
  Incident out = **inc;
  out.state = "closed";
  out.closed_ms = now;
  out.closed_by = actor;
  return out;
}

core::Result<std::vector<Incident>> IncidentService::list(std::size_t limit) {
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  Stmt q(I.db_.get(), (std::string(kColumns) + "ORDER BY id DESC LIMIT ?").c_str());
  q.bind(static_cast<std::int64_t>(limit));
  std::vector<Incident> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back(read_incident(q));
  if (rc != SQLITE_DONE) return core::fail(db_error(I.db_.get(), "incidents"));
  return out;
}

core::Result<std::optional<Incident>> IncidentService::get(std::int64_t id) {
  std::lock_guard lock(impl_->mu_);
  return impl_->get(id);
}

core::Result<std::vector<TimelineEntry>> IncidentService::timeline(std::int64_t id) {
  auto& I = *impl_;
  std::lock_guard lock(I.mu_);
  Stmt q(I.db_.get(),
         "SELECT id, at_ms, actor, kind, text, mn, outcome FROM incident_timeline WHERE "
         "incident_id=? ORDER BY id");
  q.bind(id);
  std::vector<TimelineEntry> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    out.push_back(TimelineEntry{q.integer(0), q.integer(1), q.text(2), q.text(3), q.text(4),
                                q.text(5), q.text(6)});
  }
  if (rc != SQLITE_DONE) return core::fail(db_error(I.db_.get(), "incident timeline"));
  return out;
}

}  // namespace ecomon::alarm
