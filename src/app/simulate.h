// `ecomon simulate`: HJ 212 data loggers for demos, tests and load benchmarks. Speaks the protocol
// like a real logger: CRC, waits for the 9014 acknowledgement (up to `window` frames in flight),
// resends on timeout and after a reconnect, until every frame is acknowledged.
#pragma once

#include <cstdint>
#include <string>

namespace ecomon::app {

struct SimulateOptions {
  std::string to = "127.0.0.1:9212";
  int devices = 1;                // connections, one device each
  double rate = 1.0;              // frames per second per device; 0 = as fast as the window allows
  int frames = 10;                // frames per device; 0 = until stopped
  int values = 10;                // values per generated frame
  int window = 1;                 // frames in flight per device (a real logger waits: 1)
  int version = 2017;             // 2005 | 2017 | 2025
  std::string mn_prefix = "SIM";  // generated MNs: SIM000001, ...
  std::string registry_dir;       // with --replay: devices and sites from the registry
  std::string replay_csv;         // hourly station data (time,station_code,pm25,...) to replay
  // With --replay: a surface-water snapshot (section_name, ph, do_mgl, ...); registered water
  // sections with a device get hourly values around their snapshot values, and registered air
  // sites without rows in the replay data get values generated like the others' — all through
  // HJ 212, over the same hours as the replay.
  std::string snapshot_csv;
  bool shift_to_now = true;  // replayed data is shifted so its last hour is the current hour
  bool loop = false;         // replay again when the data ends
  std::int64_t ack_timeout_ms = 5000;
  std::string password = "123456";
};

// Runs until every frame is acknowledged (or forever with frames = 0 / loop); prints a summary
// (frames, acknowledgements, resends, ack latency p50/p99, values/s) and returns 0 when all frames
// were acknowledged.
int run_simulate(const SimulateOptions& options);

}  // namespace ecomon::app
