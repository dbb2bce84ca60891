// Emergency monitoring incidents (应急监测, issue #6 §5): where, which pollutant, the affected
// sites, and a timeline of what was done — actions noted by people, commands sent to the sites'
// devices (e.g. a higher real-time reporting frequency, HJ 212 CN 1062) with each device's
// answer. The alarms of the affected sites are not copied here: the API joins them in by site and
// time when it shows an incident.
//
// Tables, in the store's SQLite file through this service's own connection (busy timeout,
// synchronous=FULL), like AlarmService:
//   incidents           one row per incident; state open → closed
//   incident_timeline   its entries, in order: opened, action, command, closed
//
// Thread-safety: every method may be called from any thread (one mutex guards the connection).
// Errors (core::Error::reason): cannot_open, db_error, busy, bad_request, not_found, illegal.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace ecomon::alarm {

struct Incident {
  std::int64_t id = 0;
  std::string title;               // default: "<pollutant> — <location>"
  std::string location;            // free text: place, river section, coordinates
  std::string pollutant;           // free text or an HJ 212 factor code
  std::vector<std::string> sites;  // affected site codes
  std::string state = "open";      // open | closed
  std::int64_t opened_ms = 0;
  std::string opened_by;
  std::optional<std::int64_t> closed_ms;
  std::string closed_by;
  std::int64_t rtd_interval_s = 0;  // the reporting interval asked of the devices; 0: none
};

struct TimelineEntry {
  std::int64_t id = 0;
  std::int64_t at_ms = 0;
  std::string actor;    // user, apikey:<id>
  std::string kind;     // opened | action | command | closed
  std::string text;     // what happened (a note, the command sent and its outcome)
  std::string mn;       // command: the device
  std::string outcome;  // command: executed | refused | failed | timeout | offline | unavailable
};

class IncidentService {
 public:
  // Opens (and creates the tables in) the SQLite database at `path` (the store's file).
  static core::Result<std::unique_ptr<IncidentService>> open(const std::string& path,
                                                             const core::Clock& clock,
                                                             int busy_timeout_ms = 10000);
  ~IncidentService();
  IncidentService(const IncidentService&) = delete;
  IncidentService& operator=(const IncidentService&) = delete;

  // Stores a new open incident (location, pollutant and 1 … 200 sites required: bad_request) with
  // its "opened" entry carrying `note`, in one transaction.
  core::Result<Incident> create(Incident incident, const std::string& actor,
                                const std::string& note);
  // Appends an entry (kind action or command) at the clock's time: not_found; illegal when the
  // incident is closed.
  core::Result<TimelineEntry> add_entry(std::int64_t id, TimelineEntry entry);
  // Closes an open incident (illegal when already closed) with a "closed" entry.
  core::Result<Incident> close(std::int64_t id, const std::string& actor, const std::string& note);

  core::Result<std::vector<Incident>> list(std::size_t limit);  // newest first
  core::Result<std::optional<Incident>> get(std::int64_t id);
  core::Result<std::vector<TimelineEntry>> timeline(std::int64_t id);  // oldest first

  class Impl;

 private:
  explicit IncidentService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecomon::alarm
