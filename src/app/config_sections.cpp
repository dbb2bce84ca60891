#include "app/config_sections.h"

#include <set>
#include <string>

namespace ecomon::app {
namespace {

namespace scr = analytics::screening;

core::Unexpected<core::Error> bad(const toml::node& at, const std::string& what) {
  return core::fail(
      core::Error{"bad_config", "line " + std::to_string(at.source().begin.line) + ": " + what});
}

std::optional<double> number_of(const toml::node& n) {
  if (auto i = n.value_exact<std::int64_t>()) return static_cast<double>(*i);
  if (auto d = n.value_exact<double>()) return *d;
  return std::nullopt;
}

// Reads a number ≥ min (or > min when `strict`) into `target`.
template <class T>
core::Result<void> read_number(const toml::node& n, const std::string& name, T& target, double min,
                               bool strict = false, std::optional<double> max = std::nullopt) {
  const auto v = number_of(n);
  if (!v) return bad(n, name + " must be a number");
  if (strict ? !(*v > min) : !(*v >= min)) {
    return bad(n, name + " must be " + (strict ? "> " : ">= ") + std::to_string(min));
  }
  if (max && *v > *max) return bad(n, name + " must be <= " + std::to_string(*max));
  if constexpr (std::is_integral_v<T>) {
    if (*v != static_cast<double>(static_cast<std::int64_t>(*v))) {
      return bad(n, name + " must be a whole number");
    }
  }
  target = static_cast<T>(*v);
  return {};
}

core::Result<void> read_factor(const std::string& code, const toml::table& t,
                               scr::FactorLimits& f) {
  const std::string p = "screening.factors." + code + ".";
  for (const auto& [key, node] : t) {
    const std::string k(key.str());
    auto optional = [&](std::optional<double>& target) -> core::Result<void> {
      if (auto b = node.value_exact<bool>()) {
        if (*b) return bad(node, p + k + " must be a number or false (off)");
        target.reset();
        return {};
      }
      double v = 0;
      if (auto r = read_number(node, p + k, v, 0); !r) return r;
      target = v;
      return {};
    };
    core::Result<void> r;
    if (k == "range_min") {
      const auto v = number_of(node);
      if (!v) return bad(node, p + k + " must be a number");
      f.range_min = *v;
    } else if (k == "range_max") {
      const auto v = number_of(node);
      if (!v) return bad(node, p + k + " must be a number");
      f.range_max = *v;
    } else if (k == "constant_min_s") {
      r = read_number(node, p + k, f.constant_min_s, 0);
    } else if (k == "low_variation_cv") {
      r = read_number(node, p + k, f.low_variation_cv, 0, false, 1.0);
    } else if (k == "jump_floor") {
      r = optional(f.jump_floor);
    } else if (k == "flag_cover_limit") {
      r = optional(f.flag_cover_limit);
    } else if (k == "detection_limit") {
      r = optional(f.detection_limit);
    } else if (k == "hour_tolerance") {
      r = optional(f.hour_tolerance);
    } else if (k == "concentration") {
      const auto b = node.value_exact<bool>();
      if (!b) return bad(node, p + k + " must be true or false");
      f.concentration = *b;
    } else {
      return bad(node, "unknown key " + p + k);
    }
    if (!r) return r;
  }
  if (f.range_max < f.range_min || (f.range_max == f.range_min && f.range_max != 0)) {
    return bad(t, p + "range_max must be above range_min (both 0: no range check)");
  }
  return {};
}

core::Result<void> read_sum(const toml::table& t, scr::SumRule& rule) {
  const toml::array* weights = nullptr;
  for (const auto& [key, node] : t) {
    const std::string k(key.str());
    const std::string p = "screening.sums." + k;
    core::Result<void> r;
    if (k == "total") {
      const auto v = node.value_exact<std::string>();
      if (!v || v->empty()) return bad(node, p + " must be a factor code");
      rule.total = *v;
    } else if (k == "parts") {
      const toml::array* a = node.as_array();
      if (!a || a->empty()) return bad(node, p + " must be a non-empty list of factor codes");
      for (const auto& part : *a) {
        const auto v = part.value_exact<std::string>();
        if (!v || v->empty()) return bad(part, p + " must hold factor codes");
        rule.parts.emplace_back(*v, 1.0);
      }
    } else if (k == "weights") {
      weights = node.as_array();
      if (!weights) return bad(node, p + " must be a list of numbers");
    } else if (k == "tolerance") {
      r = read_number(node, p, rule.tolerance, 0);
    } else if (k == "tolerance_fraction") {
      r = read_number(node, p, rule.tolerance_fraction, 0, false, 1.0);
    } else {
      return bad(node, "unknown key " + p);
    }
    if (!r) return r;
  }
  if (rule.total.empty() || rule.parts.empty()) {
    return bad(t, "a [[screening.sums]] rule needs total and parts");
  }
  if (weights) {
    if (weights->size() != rule.parts.size()) {
      return bad(*weights, "screening.sums.weights must have one weight per part");
    }
    for (std::size_t i = 0; i < weights->size(); ++i) {
      if (auto r =
              read_number((*weights)[i], "screening.sums.weights", rule.parts[i].second, 0, true);
          !r) {
        return r;
      }
    }
  }
  return {};
}

}  // namespace

core::Result<void> apply_screening_section(const toml::table& section, scr::ScreeningConfig& c,
                                           derive::ScreeningOptions& service) {
  bool sums_given = false;
  std::vector<scr::SumRule> sums;
  for (const auto& [key, node] : section) {
    const std::string k(key.str());
    const std::string p = "screening." + k;
    core::Result<void> r;
    std::int64_t seconds = 0;
    auto duration_ms = [&](std::int64_t& target_ms, bool positive) -> core::Result<void> {
      if (auto rr = read_number(node, p, seconds, 0, positive); !rr) return rr;
      target_ms = seconds * 1000;
      return {};
    };
    if (k == "stored") {
      const auto b = node.value_exact<bool>();
      if (!b) return bad(node, p + " must be true or false");
      service.stored = *b;
    } else if (k == "batch_limit") {
      r = read_number(node, p, service.batch_limit, 1);
    } else if (k == "max_windows") {
      r = read_number(node, p, service.max_windows, 1);
    } else if (k == "disabled") {
      const toml::array* a = node.as_array();
      if (!a) return bad(node, p + " must be a list of rule names");
      c.disabled.clear();
      for (const auto& name : *a) {
        const auto v = name.value_exact<std::string>();
        const auto rule = v ? scr::rule_from_name(*v) : std::nullopt;
        if (!rule) {
          return bad(name, p + ": unknown rule " + (v ? "\"" + *v + "\"" : "(not a string)"));
        }
        c.disabled.push_back(*rule);
      }
    } else if (k == "factors") {
      const toml::table* factors = node.as_table();
      if (!factors) return bad(node, p + " must be a table of factor codes");
      for (const auto& [code, limits] : *factors) {
        const toml::table* t = limits.as_table();
        if (!t) return bad(limits, p + "." + std::string(code.str()) + " must be a table");
        scr::FactorLimits& f = c.factors[std::string(code.str())];
        if (auto rr = read_factor(std::string(code.str()), *t, f); !rr) return rr;
      }
    } else if (k == "sums") {
      const toml::array* a = node.as_array();
      if (!a) return bad(node, p + " must be an array of tables ([[screening.sums]])");
      sums_given = true;
      for (const auto& entry : *a) {
        const toml::table* t = entry.as_table();
        if (!t) return bad(entry, p + " must be an array of tables ([[screening.sums]])");
        scr::SumRule rule;
        rule.tolerance_fraction = 0.10;
        if (auto rr = read_sum(*t, rule); !rr) return rr;
        sums.push_back(std::move(rule));
      }
    } else if (k == "low_variation_window_s") {
      r = read_number(node, p, c.low_variation_window_s, 0, true);
    } else if (k == "low_variation_min_coverage") {
      r = read_number(node, p, c.low_variation_min_coverage, 0, true, 1.0);
    } else if (k == "low_variation_range_fraction") {
      r = read_number(node, p, c.low_variation_range_fraction, 0, false, 1.0);
    } else if (k == "jump_k") {
      r = read_number(node, p, c.jump_k, 0, true);
    } else if (k == "pm_tolerance_ugm3") {
      r = read_number(node, p, c.pm_tolerance_ugm3, 0);
    } else if (k == "pm_tolerance_fraction") {
      r = read_number(node, p, c.pm_tolerance_fraction, 0, false, 1.0);
    } else if (k == "identical_min_intervals") {
      r = read_number(node, p, c.identical_min_intervals, 2);
    } else if (k == "identical_min_distinct") {
      r = read_number(node, p, c.identical_min_distinct, 1);
    } else if (k == "future_tolerance_s") {
      r = duration_ms(c.future_tolerance_ms, false);
    } else if (k == "detection_limit_multiple") {
      r = read_number(node, p, c.detection_limit_multiple, 0, true);
    } else if (k == "detection_limit_share") {
      r = read_number(node, p, c.detection_limit_share, 0, true, 1.0);
    } else if (k == "jitter_window_s") {
      r = read_number(node, p, c.jitter_window_s, 0, true);
    } else if (k == "jitter_min_coverage") {
      r = read_number(node, p, c.jitter_min_coverage, 0, true, 1.0);
    } else if (k == "jitter_fraction") {
      r = read_number(node, p, c.jitter_fraction, 0, false, 1.0);
    } else if (k == "clock_drift_window_s") {
      r = read_number(node, p, c.clock_drift_window_s, 0, true);
    } else if (k == "clock_drift_max_s") {
      r = duration_ms(c.clock_drift_max_ms, true);
    } else if (k == "clock_drift_on_time_s") {
      r = duration_ms(c.clock_drift_on_time_ms, true);
    } else if (k == "clock_drift_min_values") {
      r = read_number(node, p, c.clock_drift_min_values, 1);
    } else if (k == "missing_min_intervals") {
      r = read_number(node, p, c.missing_min_intervals, 1);
    } else if (k == "hour_min_minutes") {
      r = read_number(node, p, c.hour_min_minutes, 1, false, 60.0);
    } else if (k == "hour_tolerance_fraction") {
      r = read_number(node, p, c.hour_tolerance_fraction, 0, false, 1.0);
    } else {
      return bad(node, "unknown key " + p);
    }
    if (!r) return r;
  }
  if (sums_given) c.sums = std::move(sums);
  return {};
}

core::Result<void> apply_backfill_section(const toml::table& section, derive::BackfillOptions& o) {
  for (const auto& [key, node] : section) {
    const std::string k(key.str());
    const std::string p = "backfill." + k;
    core::Result<void> r;
    std::int64_t seconds = 0;
    auto duration_ms = [&](std::int64_t& target_ms, double min) -> core::Result<void> {
      if (auto rr = read_number(node, p, seconds, min); !rr) return rr;
      target_ms = seconds * 1000;
      return {};
    };
    if (k == "enabled") {
      const auto b = node.value_exact<bool>();
      if (!b) return bad(node, p + " must be true or false");
      o.enabled = *b;
    } else if (k == "scan_interval_s") {
      r = duration_ms(o.scan_interval_ms, 1);
    } else if (k == "lookback_s") {
      r = duration_ms(o.lookback_ms, 60);
    } else if (k == "day_lookback_s") {
      r = duration_ms(o.day_lookback_ms, 86400);
    } else if (k == "repeat_after_s") {
      r = duration_ms(o.repeat_after_ms, 0);
    } else if (k == "max_in_flight") {
      r = read_number(node, p, o.max_in_flight, 1);
    } else if (k == "max_per_device_per_hour") {
      r = read_number(node, p, o.max_per_device_per_hour, 1);
    } else if (k == "max_range_s") {
      r = duration_ms(o.max_range_ms, 60);
    } else if (k == "settle_s") {
      r = duration_ms(o.settle_ms, 0);
    } else if (k == "timeout_s") {
      r = duration_ms(o.timeout_ms, 1);
    } else {
      return bad(node, "unknown key " + p);
    }
    if (!r) return r;
  }
  return {};
}

namespace {

core::Result<void> read_strings(const toml::node& n, const std::string& name,
                                std::set<std::string>& out) {
  const toml::array* a = n.as_array();
  if (!a) return bad(n, name + " must be a list of strings");
  for (const auto& e : *a) {
    const auto v = e.value_exact<std::string>();
    if (!v || v->empty()) return bad(e, name + " must hold non-empty strings");
    out.insert(*v);
  }
  return {};
}

core::Result<void> read_forward(const toml::table& t, forward::ForwardOptions& o) {
  bool has_port = false;
  for (const auto& [key, node] : t) {
    const std::string k(key.str());
    const std::string p = "forward." + k;
    core::Result<void> r;
    auto text = [&](std::string& target) -> core::Result<void> {
      const auto v = node.value_exact<std::string>();
      if (!v) return bad(node, p + " must be a string");
      target = *v;
      return {};
    };
    auto seconds = [&](std::int64_t& target_ms, double min) -> core::Result<void> {
      double s = 0;
      if (auto rr = read_number(node, p, s, min, true); !rr) return rr;
      target_ms = static_cast<std::int64_t>(s * 1000);
      if (target_ms < 1) return bad(node, p + " must be at least 0.001");
      return {};
    };
    if (k == "name") {
      r = text(o.name);
      if (r && (o.name.empty() || o.name.size() > 64 ||
                o.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789-_") != std::string::npos)) {
        return bad(node, p + " must be 1..64 letters, digits, '-' or '_'");
      }
    } else if (k == "host") {
      r = text(o.host);
      if (r && o.host.empty()) return bad(node, p + " must not be empty");
    } else if (k == "port") {
      r = read_number(node, p, o.port, 1, false, 65535.0);
      has_port = true;
    } else if (k == "version") {
      const auto v = number_of(node);
      if (v && *v == 2017) {
        o.version = protocol::hj212::Version::k2017;
      } else if (v && *v == 2025) {
        o.version = protocol::hj212::Version::k2025;
      } else {
        return bad(node, p + " must be 2017 or 2025");
      }
    } else if (k == "pw") {
      r = text(o.pw);
      if (r && o.pw.find_first_of(";,&=") != std::string::npos) {
        return bad(node, p + " must not contain ; , & or =");
      }
    } else if (k == "kinds") {
      std::set<std::string> names;
      r = read_strings(node, p, names);
      for (const auto& name : names) {
        const auto kind = storage::parse_kind(name);
        if (!kind || *kind == storage::DataKind::kOther) {
          return bad(node, p + ": unknown kind '" + name + "' (rtd, minute, hour, day)");
        }
        o.selection.kinds.insert(*kind);
      }
    } else if (k == "sites") {
      r = read_strings(node, p, o.selection.sites);
    } else if (k == "devices") {
      r = read_strings(node, p, o.selection.devices);
    } else if (k == "mn_map") {
      const toml::table* m = node.as_table();
      if (!m) return bad(node, p + " must be a table of our MN = the upstream's MN");
      for (const auto& [local, up] : *m) {
        const auto v = up.value_exact<std::string>();
        if (!v || v->empty() || v->find_first_of(";,&=") != std::string::npos) {
          return bad(up, p + "." + std::string(local.str()) + " must be an MN");
        }
        o.selection.mn_map[std::string(local.str())] = *v;
      }
    } else if (k == "from") {
      std::string from;
      r = text(from);
      if (r && from != "now" && from != "beginning") {
        return bad(node, p + " must be \"now\" or \"beginning\"");
      }
      o.from_beginning = from == "beginning";
    } else if (k == "ack_timeout_s") {
      r = seconds(o.ack_timeout_ms, 0);
    } else if (k == "max_in_flight") {
      r = read_number(node, p, o.max_in_flight, 1, false, 64.0);
    } else if (k == "retry_min_s") {
      r = seconds(o.retry_min_ms, 0);
    } else if (k == "retry_max_s") {
      r = seconds(o.retry_max_ms, 0);
    } else if (k == "ledger_keep_days") {
      r = read_number(node, p, o.ledger_keep_days, 0);
    } else {
      return bad(node, "unknown key " + p);
    }
    if (!r) return r;
  }
  if (o.name.empty() || o.host.empty() || !has_port) {
    return bad(t, "a [[forward]] table needs name, host and port");
  }
  if (o.retry_max_ms < o.retry_min_ms) {
    return bad(t, "forward.retry_max_s must be >= retry_min_s");
  }
  return {};
}

}  // namespace

core::Result<void> apply_forward_sections(const toml::array& list,
                                          std::vector<forward::ForwardOptions>& out) {
  std::set<std::string> names;
  for (const toml::node& n : list) {
    const toml::table* t = n.as_table();
    if (!t) return bad(n, "forward must be [[forward]] tables");
    forward::ForwardOptions o;
    if (auto r = read_forward(*t, o); !r) return r;
    if (!names.insert(o.name).second) return bad(n, "a second forward upstream named " + o.name);
    out.push_back(std::move(o));
  }
  return {};
}

}  // namespace ecomon::app
