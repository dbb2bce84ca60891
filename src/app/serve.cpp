#include "app/serve.h"

#include <toml++/toml.h>

#include <boost/asio.hpp>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "api/http_api.h"
#include "core/clock.h"
#include "gateway/gateway.h"
#include "ingest/ingestor.h"
#include "registry/holder.h"
#include "storage/sqlite/sqlite_store.h"

namespace ecomon::app {
namespace {

bool split_endpoint(const std::string& text, std::string& host, std::uint16_t& port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  try {
    const int p = std::stoi(text.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<std::uint16_t>(p);
  } catch (...) {
    return false;
  }
  return true;
}

}  // namespace

bool apply_serve_config(ServeOptions& o, const std::string& path) {
  try {
    const toml::table t = toml::parse_file(path);
    auto str = [&](const char* key, std::string& target) {
      if (auto v = t[key].value<std::string>()) target = *v;
    };
    auto num = [&](const char* key, std::int64_t& target) {
      if (auto v = t[key].value<std::int64_t>()) target = *v;
    };
    str("data", o.data_dir);
    str("registry", o.registry_dir);
    str("hj212_listen", o.hj212_listen);
    str("http_listen", o.http_listen);
    str("unknown_devices", o.unknown_devices);
    num("idle_timeout_s", o.idle_timeout_s);
    num("max_connections", o.max_connections);
    num("max_buffered_bytes", o.max_buffered_bytes);
    num("future_tolerance_s", o.future_tolerance_s);
  } catch (const toml::parse_error& e) {
    std::fprintf(stderr, "ecomon serve: %s line %u: %s\n", path.c_str(),
                 static_cast<unsigned>(e.source().begin.line), e.what());
    return false;
  }
  return true;
}

namespace {

std::string metrics_text(const gateway::GatewayCounters& g, const ingest::Ingestor::Counters& i,
                         std::uint64_t values, std::uint64_t frames, std::uint64_t http_requests) {
  std::ostringstream m;
  auto line = [&](const char* name, const char* help, const char* type, std::uint64_t v) {
    m << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
      << name << ' ' << v << '\n';
  };
  line("ecomon_connections_open", "Device connections open.", "gauge", g.connections_open);
  line("ecomon_connections_total", "Device connections accepted.", "counter", g.connections_total);
  line("ecomon_connections_refused_total", "Connections refused by max_connections.", "counter",
       g.connections_refused_limit);
  line("ecomon_idle_timeouts_total", "Connections closed by idle_timeout.", "counter",
       g.idle_timeouts);
  line("ecomon_buffer_overflows_total", "Connections closed by max_buffered_bytes.", "counter",
       g.buffer_overflows);
  line("ecomon_replies_sent_total", "HJ 212 replies sent (9013/9014).", "counter", g.replies_sent);
  line("ecomon_acks_withheld_total", "Acknowledgements withheld (commit failed or queue full).",
       "counter", g.acks_withheld);
  m << "# HELP ecomon_frames_total HJ 212 frames by outcome (stored or the rejection reason).\n"
       "# TYPE ecomon_frames_total counter\n";
  for (const auto& [outcome, n] : g.frames_by_outcome) {
    m << "ecomon_frames_total{outcome=\"" << outcome << "\"} " << n << '\n';
  }
  line("ecomon_values_stored_total", "Values stored (new keys).", "counter", i.values_stored);
  line("ecomon_value_versions_total", "New versions of known keys.", "counter", i.new_versions);
  line("ecomon_value_duplicates_total", "Values received again unchanged.", "counter",
       i.duplicates);
  line("ecomon_commits_total", "Store commits (group commits).", "counter", i.commits);
  line("ecomon_commit_failures_total", "Store commits that failed.", "counter", i.commit_failures);
  line("ecomon_ingest_queue_depth", "Frames waiting for a commit.", "gauge", i.queue_depth);
  line("ecomon_ingest_refused_total", "Frames refused because the queue was full.", "counter",
       i.refused_queue_full);
  line("ecomon_values", "Value versions in the store.", "gauge", values);
  line("ecomon_frames_archived", "Frames in the archive.", "gauge", frames);
  line("ecomon_http_requests_total", "HTTP requests served.", "counter", http_requests);
  m << "# HELP ecomon_commit_latency_ms Commit latency.\n# TYPE ecomon_commit_latency_ms "
       "histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < i.commit_latency.size(); ++b) {
    cumulative += i.commit_latency[b];
    const double bound = ingest::Ingestor::kLatencyBoundsMs[b];
    m << "ecomon_commit_latency_ms_bucket{le=\"" << (bound > 1e100 ? std::string("+Inf") : ([&] {
      std::ostringstream s;
      s << bound;
      return s.str();
    })())
      << "\"} " << cumulative << '\n';
  }
  m << "ecomon_commit_latency_ms_sum " << i.commit_seconds_sum * 1000 << '\n';
  m << "ecomon_commit_latency_ms_count " << cumulative << '\n';
  return m.str();
}

}  // namespace

int run_serve(ServeOptions o) {
  if (o.idle_timeout_s < 1 || o.max_connections < 1 || o.max_connections > 1000000 ||
      o.max_buffered_bytes < 1024 || o.max_buffered_bytes > (64 << 20) ||
      o.future_tolerance_s < 0) {
    std::fprintf(stderr,
                 "ecomon serve: limits out of range: idle timeout >= 1 s, 1 <= max connections <= "
                 "1000000, 1024 <= max buffered bytes <= 64 MiB, future tolerance >= 0\n");
    return 2;
  }
  const auto policy = gateway::parse_unknown_device_policy(o.unknown_devices);
  if (!policy) {
    std::fprintf(stderr, "ecomon serve: --unknown-devices must be reject, quarantine or accept\n");
    return 2;
  }
  std::string hj_host, http_host;
  std::uint16_t hj_port = 0, http_port = 0;
  if (!split_endpoint(o.hj212_listen, hj_host, hj_port) ||
      !split_endpoint(o.http_listen, http_host, http_port)) {
    std::fprintf(stderr, "ecomon serve: listen addresses are ADDR:PORT\n");
    return 2;
  }

  // Edits made through the API are saved in the data directory and win over the shipped files.
  const std::string edited_registry = o.data_dir + "/registry";
  std::error_code fs_ec;
  const bool has_edits = std::filesystem::exists(edited_registry + "/sites.csv", fs_ec);
  const std::string registry_dir = has_edits ? edited_registry : o.registry_dir;
  auto reg = registry::load_registry(registry_dir);
  if (!reg) {
    std::fprintf(stderr, "ecomon serve: registry %s: %s\n", registry_dir.c_str(),
                 reg.error().detail.c_str());
    return 2;
  }
  if (has_edits) {
    std::fprintf(stderr, "ecomon serve: registry from %s (edited through the API)\n",
                 registry_dir.c_str());
  }
  std::filesystem::create_directories(o.data_dir, fs_ec);
  const std::string db = o.data_dir + "/ecomon.db";
  auto store = storage::open_sqlite_store(db);
  if (!store) {
    std::fprintf(stderr, "ecomon serve: store %s: %s\n", db.c_str(), store.error().detail.c_str());
    return 2;
  }
  registry::RegistryHolder registry(std::move(*reg));
  core::SystemClock clock;
  ingest::Ingestor ingestor(**store);

  boost::asio::io_context io;
  gateway::GatewayOptions gopt;
  gopt.unknown_devices = *policy;
  gopt.idle_timeout_ms = o.idle_timeout_s * 1000;
  gopt.max_connections = static_cast<std::size_t>(o.max_connections);
  gopt.max_buffered_bytes = static_cast<std::size_t>(o.max_buffered_bytes);
  gopt.values.future_tolerance_ms = o.future_tolerance_s * 1000;
  gateway::Gateway gw(io, ingestor, registry, clock, gopt);

  api::HttpServer* http_ptr = nullptr;
  api::ApiSources sources;
  sources.registry = &registry;
  sources.store = store->get();
  sources.clock = &clock;
  sources.devices = [&gw] {
    std::vector<api::DeviceInfo> out;
    for (const auto& d : gw.devices()) {
      out.push_back(api::DeviceInfo{d.mn, d.online, d.last_seen_ms, d.peer, d.frames, d.rejected});
    }
    return out;
  };
  sources.save_registry = [edited_registry](const registry::Registry& r) {
    return registry::save_registry(r, edited_registry);
  };
  sources.metrics = [&] {
    const auto values = (*store)->value_count();
    const auto frames = (*store)->frame_count();
    return metrics_text(gw.counters(), ingestor.counters(), values ? *values : 0,
                        frames ? *frames : 0, http_ptr ? http_ptr->requests_served() : 0);
  };
  api::HttpServer http(io, sources, api::HttpOptions{});
  http_ptr = &http;

  auto hj = gw.listen(hj_host, hj_port);
  if (!hj) {
    std::fprintf(stderr, "ecomon serve: HJ 212: %s\n", hj.error().detail.c_str());
    return 2;
  }
  auto web = http.listen(http_host, http_port);
  if (!web) {
    std::fprintf(stderr, "ecomon serve: HTTP: %s\n", web.error().detail.c_str());
    return 2;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    std::fprintf(stderr, "ecomon serve: signal %d, stopping\n", sig);
    gw.stop();
    http.stop();
    io.stop();
  });
  std::fprintf(stderr,
               "ecomon serve: HJ 212 on %s:%u, HTTP on http://%s:%u/ (store %s, %zu sites, %zu "
               "devices, unknown devices: %s)\n",
               hj_host.c_str(), *hj, http_host.c_str(), *web, db.c_str(),
               registry.get()->sites().size(), registry.get()->devices().size(),
               o.unknown_devices.c_str());
  std::fflush(stderr);

  io.run();
  // Commit what is queued; the posted acknowledgements are dropped with the loop (the devices
  // re-send what they did not see acknowledged).
  ingestor.stop();
  std::fprintf(stderr, "ecomon serve: stopped\n");
  return 0;
}

}  // namespace ecomon::app
