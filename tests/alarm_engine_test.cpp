// The alarm engine on a real SQLite store with a fake clock and no threads: rules → one alarm per
// episode, hold-off, device flags, sustained and offline rules, late data, the lifecycle, the
// outbox across a reopen (issue #6).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "alarm/service.h"
#include "alarm/webhook.h"
#include "storage/sqlite/sqlite_store.h"

namespace ecomon::alarm {
namespace {

class FakeClock final : public core::Clock {
 public:
  std::int64_t now_ms() const override { return now; }
  std::int64_t now = 1'780'000'000'000;  // 2026-05-28
};

constexpr std::int64_t kMinute = 60 * 1000;
constexpr const char* kSite = "2526A";
constexpr const char* kMn = "AIR2526A0000001";

class AlarmEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ecomon-alarm-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "ecomon.db").string();
    auto st = storage::open_sqlite_store(path_);
    ASSERT_TRUE(st.ok()) << st.error().detail;
    store_ = std::move(*st);
    reopen();
  }
  void TearDown() override {
    alarms_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void reopen() {
    alarms_.reset();
    AlarmOptions o;
    o.webhook_secret = "s3cret";
    auto a = AlarmService::open(path_, *store_, clock_, o);
    ASSERT_TRUE(a.ok()) << a.error().detail;
    alarms_ = std::move(*a);
    alarms_->set_poster([this](const std::string& url, const std::string& body,
                               const Headers& headers) -> core::Result<int> {
      posts_.push_back(Post{url, body, headers});
      if (!receiver_up_) return core::fail(core::Error{"unreachable", "connection refused"});
      return 200;
    });
  }

  Rule threshold(double limit = 75) {
    Rule r;
    r.name = "PM2.5 high";
    r.kind = RuleKind::kThreshold;
    r.site = kSite;
    r.factor = "a34004";
    r.data_kind = storage::DataKind::kRealtime;
    r.op = Op::kGreater;
    r.limit = limit;
    return r;
  }

  Rule add(Rule r) {
    auto stored = alarms_->create_rule(std::move(r), "tester");
    EXPECT_TRUE(stored.ok()) << stored.error().detail;
    return stored.ok() ? *stored : Rule{};
  }

  storage::Value value(std::int64_t t, double x, const std::string& flag = "N") {
    storage::Value v;
    v.site = kSite;
    v.mn = kMn;
    v.factor = "a34004";
    v.field = "Rtd";
    v.kind = storage::DataKind::kRealtime;
    v.measured_ms = t;
    v.received_ms = clock_.now;
    v.number = x;
    v.text = std::to_string(x);
    v.flag = flag;
    return v;
  }

  void write(std::vector<storage::Value> values) {
    std::vector<storage::FrameWrite> batch(1);
    batch[0].frame.mn = kMn;
    batch[0].frame.cn = "2011";
    batch[0].frame.received_ms = clock_.now;
    batch[0].frame.outcome = "stored";
    batch[0].values = std::move(values);
    auto r = store_->write(batch);
    ASSERT_TRUE(r.ok()) << r.error().detail;
  }
  void write_one(std::int64_t t, double x, const std::string& flag = "N") {
    write({value(t, x, flag)});
  }

  void process() {
    auto r = alarms_->process_changes();
    ASSERT_TRUE(r.ok()) << r.error().detail;
  }

  std::vector<Alarm> all() {
    auto a = alarms_->alarms(AlarmQuery{});
    EXPECT_TRUE(a.ok());
    return a.ok() ? *a : std::vector<Alarm>{};
  }

  struct Post {
    std::string url, body;
    Headers headers;
  };

  FakeClock clock_;
  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<AlarmService> alarms_;
  std::vector<Post> posts_;
  bool receiver_up_ = true;
  const std::int64_t t0_ = 1'779'990'000'000;
};

TEST_F(AlarmEngineTest, ThresholdOpensOneAlarmPerEpisode) {
  add(threshold());
  write_one(t0_, 80);
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].state, State::kOpen);
  EXPECT_TRUE(a[0].active);
  EXPECT_EQ(a[0].count, 1);
  EXPECT_EQ(a[0].opened_ms, t0_);
  EXPECT_EQ(a[0].site, kSite);
  EXPECT_FALSE(a[0].retroactive);

  // 1,000 further exceeding values, in batches of different sizes: still one alarm.
  std::int64_t t = t0_;
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<storage::Value> vs;
    for (int i = 0; i < 100; ++i) {
      t += 1000;
      vs.push_back(value(t, 76 + (batch * 100 + i) % 50));
    }
    write(std::move(vs));
    if (batch % 3 == 0) process();
  }
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].count, 1001);
  EXPECT_EQ(*a[0].max_value, 125);
  EXPECT_EQ(a[0].last_ms, t);
  EXPECT_TRUE(a[0].active);

  // Back under the limit: cleared at that value's time, the alarm stays for its lifecycle.
  write_one(t + 1000, 50);
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].active);
  ASSERT_TRUE(a[0].cleared_ms);
  EXPECT_EQ(*a[0].cleared_ms, t + 1000);
  EXPECT_EQ(a[0].state, State::kOpen);
  auto counters = alarms_->counters();
  EXPECT_EQ(counters.alarms_open, 0u);

  // A new exceedance after the clearing (no hold-off): a second episode.
  write_one(t + 2000, 90);
  process();
  EXPECT_EQ(all().size(), 2u);
}

TEST_F(AlarmEngineTest, HoldOffSuppressesFlapping) {
  Rule r = threshold();
  r.hold_off_s = 600;
  add(r);
  write_one(t0_, 80);
  write_one(t0_ + kMinute, 70);      // clears
  write_one(t0_ + 2 * kMinute, 81);  // within hold-off: the same episode resumes
  write_one(t0_ + 3 * kMinute, 60);
  write_one(t0_ + 4 * kMinute, 82);
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0].active);
  EXPECT_EQ(a[0].count, 3);
  auto events = alarms_->events(a[0].id);
  ASSERT_TRUE(events.ok());
  int resumed = 0;
  for (const auto& e : *events) resumed += e.action == "resumed";
  EXPECT_EQ(resumed, 2);

  // Cleared, then quiet for longer than the hold-off: a new alarm.
  write_one(t0_ + 5 * kMinute, 10);
  write_one(t0_ + 16 * kMinute, 90);
  process();
  EXPECT_EQ(all().size(), 2u);
}

TEST_F(AlarmEngineTest, FlaggedAndQuarantinedValuesNeverCount) {
  add(threshold());
  std::int64_t t = t0_;
  for (const char* flag : {"M", "C", "D", "F", "B", "T", "S"}) write_one(t += 1000, 500, flag);
  auto quarantined = value(t += 1000, 500);
  quarantined.quality = storage::kQualityQuarantined;
  auto suspect = value(t += 1000, 500);
  suspect.quality = storage::kQualityClockSuspect;
  auto pending = value(t += 1000, 500);
  pending.quality = storage::kQualityPending;
  write({quarantined, suspect, pending});
  process();
  EXPECT_TRUE(all().empty());

  // Nor do they clear: an open episode stays open under a maintenance-flagged low value.
  write_one(t += 1000, 90);
  write_one(t += 1000, 10, "M");
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0].active);
  EXPECT_EQ(a[0].count, 1);
}

TEST_F(AlarmEngineTest, OtherSitesFactorsFieldsAndKindsDoNotMatch) {
  add(threshold());
  auto other_site = value(t0_, 500);
  other_site.site = "2527A";
  auto other_factor = value(t0_ + 1, 500);
  other_factor.factor = "a34002";
  auto other_field = value(t0_ + 2, 500);
  other_field.field = "Avg";
  auto other_kind = value(t0_ + 3, 500);
  other_kind.kind = storage::DataKind::kHour;
  write({other_site, other_factor, other_field, other_kind});
  process();
  EXPECT_TRUE(all().empty());
  // A rule without a site applies to every site: one alarm per site.
  Rule any = threshold();
  any.site.clear();
  add(any);
  auto a = value(t0_ + 10, 500);
  auto b = value(t0_ + 11, 500);
  b.site = "2527A";
  write({a, b});
  process();
  EXPECT_EQ(all().size(), 3u);  // the site rule, and the any-site rule at both sites
}

TEST_F(AlarmEngineTest, SustainedNeedsNConsecutiveValues) {
  Rule r = threshold();
  r.kind = RuleKind::kSustained;
  r.count = 3;
  add(r);
  write_one(t0_, 80);
  write_one(t0_ + kMinute, 80);
  write_one(t0_ + 2 * kMinute, 70);  // breaks the streak
  write_one(t0_ + 3 * kMinute, 80);
  write_one(t0_ + 4 * kMinute, 80);
  process();
  EXPECT_TRUE(all().empty());
  write_one(t0_ + 5 * kMinute, 85);
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].count, 3);
  EXPECT_EQ(a[0].opened_ms, t0_ + 3 * kMinute);  // the streak's first value
  write_one(t0_ + 6 * kMinute, 90);
  write_one(t0_ + 7 * kMinute, 20);
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].count, 4);
  EXPECT_FALSE(a[0].active);
}

TEST_F(AlarmEngineTest, RateOfChangeComparesConsecutiveValues) {
  Rule r = threshold(30);
  r.kind = RuleKind::kRateOfChange;
  add(r);
  write_one(t0_, 10);
  write_one(t0_ + kMinute, 30);  // +20
  process();
  EXPECT_TRUE(all().empty());
  write_one(t0_ + 2 * kMinute, 70);  // +40
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(*a[0].value, 40);
  write_one(t0_ + 3 * kMinute, 75);  // +5: clears
  process();
  EXPECT_FALSE(all()[0].active);
}

TEST_F(AlarmEngineTest, OfflineFiresAtIntervalTimesToleranceAndNotBefore) {
  std::int64_t last_seen = clock_.now;
  alarms_->set_devices([&] {
    return std::vector<DeviceSeen>{DeviceSeen{kMn, kSite, 60, last_seen},
                                   DeviceSeen{"OTHER", "2527A", 3600, last_seen}};
  });
  Rule r;
  r.name = "air station offline";
  r.kind = RuleKind::kOffline;
  r.site = kSite;
  add(r);  // tolerance 2 by default
  ASSERT_TRUE(alarms_->tick(last_seen + 119'999).ok());
  EXPECT_TRUE(all().empty());
  ASSERT_TRUE(alarms_->tick(last_seen + 120'000).ok());
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].mn, kMn);
  EXPECT_EQ(a[0].subject, std::string("device:") + kMn);
  EXPECT_EQ(a[0].opened_ms, last_seen + 120'000);
  EXPECT_EQ(a[0].kind, RuleKind::kOffline);
  ASSERT_TRUE(alarms_->tick(last_seen + 300'000).ok());
  EXPECT_EQ(all().size(), 1u);
  // Heard again: cleared at the time it was heard.
  last_seen += 310'000;
  ASSERT_TRUE(alarms_->tick(last_seen + 1000).ok());
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].active);
  EXPECT_EQ(*a[0].cleared_ms, last_seen);
}

TEST_F(AlarmEngineTest, OfflineCountsFromStartForDevicesNeverHeard) {
  const std::int64_t start = clock_.now;
  reopen();  // started at clock_.now
  alarms_->set_devices([&] { return std::vector<DeviceSeen>{DeviceSeen{kMn, kSite, 60, 0}}; });
  Rule r;
  r.name = "offline";
  r.kind = RuleKind::kOffline;
  r.tolerance = 3;
  add(r);
  ASSERT_TRUE(alarms_->tick(start + 179'999).ok());
  EXPECT_TRUE(all().empty());
  ASSERT_TRUE(alarms_->tick(start + 180'000).ok());
  EXPECT_EQ(all().size(), 1u);
}

TEST_F(AlarmEngineTest, LateDataOpensAndClearsRetroactively) {
  add(threshold());
  write_one(t0_, 20);
  write_one(t0_ + 10 * kMinute, 30);
  process();
  EXPECT_TRUE(all().empty());
  write_one(t0_ + 5 * kMinute, 99);  // arrives after the 10-minute value
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0].retroactive);
  EXPECT_EQ(a[0].opened_ms, t0_ + 5 * kMinute);
  ASSERT_TRUE(a[0].cleared_ms);
  EXPECT_EQ(*a[0].cleared_ms, t0_ + 10 * kMinute);
  // A late good value never clears an episode whose newer values exceed.
  write_one(t0_ + 20 * kMinute, 90);
  write_one(t0_ + 15 * kMinute, 10);
  process();
  a = all();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(a[0].active);
}

TEST_F(AlarmEngineTest, LifecycleRefusesIllegalTransitions) {
  add(threshold());
  write_one(t0_, 80);
  process();
  const std::int64_t id = all()[0].id;
  auto go = [&](const std::string& action, const std::string& department = "") {
    Transition t;
    t.action = action;
    t.actor = "li";
    t.note = "note for " + action;
    t.department = department;
    t.due_ms = clock_.now + 3600 * 1000;
    return alarms_->transition(id, t);
  };
  EXPECT_EQ(go("close").error().reason, "illegal");
  EXPECT_EQ(go("handle").error().reason, "illegal");
  EXPECT_EQ(go("frobnicate").error().reason, "bad_request");
  ASSERT_TRUE(go("ack").ok());
  EXPECT_EQ(go("ack").error().reason, "illegal");
  EXPECT_EQ(go("dispatch").error().reason, "bad_request");  // no department
  auto d = go("dispatch", "利州区环境执法大队");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->state, State::kDispatched);
  EXPECT_EQ(d->department, "利州区环境执法大队");
  EXPECT_EQ(go("ack").error().reason, "illegal");
  ASSERT_TRUE(go("handle").ok());
  EXPECT_EQ(go("dispatch", "x").error().reason, "illegal");
  EXPECT_EQ(go("close").error().reason, "still_active");  // the value still exceeds
  write_one(t0_ + kMinute, 10);
  process();
  auto closed = go("close");
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->state, State::kClosed);
  EXPECT_EQ(go("ack").error().reason, "illegal");
  EXPECT_EQ(alarms_->transition(999, Transition{"ack", "li", "", "", "", {}}).error().reason,
            "not_found");
  auto events = alarms_->events(id);
  ASSERT_TRUE(events.ok());
  std::vector<std::string> seen;
  for (const auto& e : *events) seen.push_back(e.action + ":" + e.from + ">" + e.to);
  EXPECT_EQ(seen,
            (std::vector<std::string>{
                "opened:>open", "ack:open>acknowledged", "dispatch:acknowledged>dispatched",
                "handle:dispatched>handled", "cleared:handled>handled", "close:handled>closed"}));
  EXPECT_EQ((*events)[1].actor, "li");
}

TEST_F(AlarmEngineTest, OverdueTaskIsEscalated) {
  add(threshold());
  write_one(t0_, 80);
  process();
  const std::int64_t id = all()[0].id;
  Transition t{"dispatch", "li", "", "执法大队", "王", clock_.now + 1000};
  ASSERT_TRUE(alarms_->transition(id, t).ok());
  ASSERT_TRUE(alarms_->tick(clock_.now + 999).ok());
  EXPECT_FALSE(all()[0].escalated);
  ASSERT_TRUE(alarms_->tick(clock_.now + 1000).ok());
  EXPECT_TRUE(all()[0].escalated);
  AlarmQuery tasks;
  tasks.tasks_only = true;
  EXPECT_EQ(alarms_->alarms(tasks)->size(), 1u);
}

TEST_F(AlarmEngineTest, OutboxSurvivesAnOutageAndAReopen) {
  Rule r = threshold();
  r.recipients = {"http://127.0.0.1:9/hook"};
  add(r);
  receiver_up_ = false;
  write_one(t0_, 80);
  write_one(t0_ + kMinute, 10);  // opened, then cleared: two notifications
  process();
  EXPECT_EQ(alarms_->counters().notifications_pending, 2u);
  auto d = alarms_->deliver_due(clock_.now);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, 0u);
  EXPECT_EQ(posts_.size(), 1u);  // the second waits behind the first (order per recipient)
  // Back-off: 1 s, then 2 s, then 4 s.
  EXPECT_EQ(*alarms_->deliver_due(clock_.now + 999), 0u);
  EXPECT_EQ(posts_.size(), 1u);
  EXPECT_EQ(*alarms_->deliver_due(clock_.now + 1000), 0u);
  EXPECT_EQ(posts_.size(), 2u);
  EXPECT_EQ(*alarms_->deliver_due(clock_.now + 1000 + 1999), 0u);
  EXPECT_EQ(posts_.size(), 2u);
  EXPECT_EQ(*alarms_->deliver_due(clock_.now + 3000), 0u);
  EXPECT_EQ(posts_.size(), 3u);
  EXPECT_EQ(alarms_->counters().notification_failures, 3u);

  reopen();  // a restart while the receiver is down
  receiver_up_ = true;
  posts_.clear();
  EXPECT_EQ(alarms_->counters().notifications_pending, 2u);
  auto delivered = alarms_->deliver_due(clock_.now + 3000 + 4000);
  ASSERT_TRUE(delivered.ok());
  EXPECT_EQ(*delivered, 2u);
  ASSERT_EQ(posts_.size(), 2u);
  EXPECT_NE(posts_[0].body.find("\"event\":\"opened\""), std::string::npos);
  EXPECT_NE(posts_[1].body.find("\"event\":\"cleared\""), std::string::npos);
  for (const auto& p : posts_) {
    bool signed_ok = false;
    for (const auto& [k, v] : p.headers) {
      if (k == "X-Ecomon-Signature") signed_ok = v == "sha256=" + hmac_sha256_hex("s3cret", p.body);
    }
    EXPECT_TRUE(signed_ok);
  }
  auto c = alarms_->counters();
  EXPECT_EQ(c.notifications_pending, 0u);
  EXPECT_EQ(c.notifications_delivered, 2u);
}

TEST_F(AlarmEngineTest, HmacMatchesRfc4231) {
  // RFC 4231 test case 2: key "Jefe".
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(parse_http_url("http://127.0.0.1:8081/hook?x=1")->port, "8081");
  EXPECT_EQ(parse_http_url("http://example.org")->target, "/");
  const auto https = parse_http_url("https://example.org/hook");
  ASSERT_TRUE(https.ok());
  EXPECT_TRUE(https->tls);
  EXPECT_EQ(https->port, "443");
  EXPECT_EQ(parse_http_url("https://[::1]:8443")->port, "8443");
  EXPECT_EQ(parse_http_url("ftp://example.org/").error().reason, "bad_url");
}

TEST_F(AlarmEngineTest, CursorAndEpisodesSurviveAReopen) {
  add(threshold());
  write_one(t0_, 80);
  process();
  reopen();
  auto again = alarms_->process_changes();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);  // nothing evaluated twice
  write_one(t0_ + kMinute, 85);
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].count, 2);
}

// A review action that changes the data behind an alarm (issue #5 §2: consumers see the
// revision) adds a data_revised event to that alarm — once, also across a reopen — and not to
// alarms of other factors, other sites, or outside its range; approvals change no data.
TEST_F(AlarmEngineTest, AReviewActionOnAnAlarmsDataIsOnItsTimelineOnce) {
  std::vector<DataRevision> feed;
  int calls = 0;
  auto wire = [&] {
    alarms_->set_revisions(
        [&](std::int64_t after, std::size_t limit) -> core::Result<std::vector<DataRevision>> {
          ++calls;
          std::vector<DataRevision> out;
          for (const auto& r : feed) {
            if (r.id > after && out.size() < limit) out.push_back(r);
          }
          return out;
        });
  };
  wire();
  add(threshold());
  write_one(t0_, 80);
  write_one(t0_ + kMinute, 90);
  write_one(t0_ + 2 * kMinute, 50);  // cleared at t0 + 2 min
  process();
  ASSERT_EQ(all().size(), 1u);
  const std::int64_t id = all()[0].id;
  auto revised = [&] {
    auto events = alarms_->events(id);
    EXPECT_TRUE(events.ok());
    std::vector<AlarmEvent> out;
    for (const auto& e : *events) {
      if (e.action == "data_revised") out.push_back(e);
    }
    return out;
  };

  auto rev = [&](std::int64_t rid, std::string site, std::string factor, std::int64_t from,
                 std::int64_t to, std::string action) {
    DataRevision r;
    r.id = rid;
    r.site = std::move(site);
    r.factor = std::move(factor);
    r.from_ms = from;
    r.to_ms = to;
    r.action = std::move(action);
    r.reason = "analyser drift";
    r.actor = "analyst";
    return r;
  };
  feed.push_back(rev(1, kSite, "a21026", t0_, t0_ + kMinute, "invalidate"));    // other factor
  feed.push_back(rev(2, "2527A", "a34004", t0_, t0_ + kMinute, "invalidate"));  // other site
  feed.push_back(rev(3, kSite, "a34004", t0_ + 2 * kMinute, t0_ + 3 * kMinute,
                     "invalidate"));                                       // after the clearing
  feed.push_back(rev(4, kSite, "a34004", t0_, t0_ + kMinute, "approve"));  // no data change
  process();
  EXPECT_TRUE(revised().empty());

  DataRevision correct = rev(5, kSite, "a34004", t0_ + kMinute, t0_ + 2 * kMinute, "correct");
  correct.value = 61.5;
  feed.push_back(correct);
  process();
  auto events = revised();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].actor, "system");
  EXPECT_EQ(events[0].from, "open");
  EXPECT_EQ(events[0].to, "open");
  EXPECT_NE(events[0].note.find("review action #5: correct a34004 → 61.5"), std::string::npos)
      << events[0].note;
  EXPECT_NE(events[0].note.find("analyser drift (analyst)"), std::string::npos);
  EXPECT_EQ(alarms_->counters().revision_cursor, 5u);
  EXPECT_EQ(alarms_->counters().revisions_noted, 1u);

  // The cursor is durable: a reopen reads no action twice; a new one is noted.
  reopen();
  wire();
  process();
  EXPECT_EQ(revised().size(), 1u);
  feed.push_back(rev(6, kSite, "", t0_ - kMinute, t0_ + kMinute, "invalidate"));  // every factor
  process();
  EXPECT_EQ(revised().size(), 2u);
  EXPECT_GT(calls, 0);
}

TEST_F(AlarmEngineTest, TwoEnginesOnOneFileRaiseOneAlarm) {
  add(threshold());
  AlarmOptions o;
  auto second = AlarmService::open(path_, *store_, clock_, o);
  ASSERT_TRUE(second.ok());
  write_one(t0_, 80);
  process();
  ASSERT_TRUE((*second)->process_changes().ok());  // rule loaded at its open; same episode
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].count, 1);
}

TEST_F(AlarmEngineTest, DisablingARuleClearsItsEpisodes) {
  Rule r = add(threshold());
  write_one(t0_, 80);
  process();
  auto disabled = alarms_->disable_rule(r.id, "admin");
  ASSERT_TRUE(disabled.ok());
  EXPECT_FALSE(disabled->enabled);
  EXPECT_FALSE(all()[0].active);
  write_one(t0_ + kMinute, 90);
  process();
  EXPECT_EQ(all().size(), 1u);
  EXPECT_EQ(alarms_->disable_rule(12345, "admin").error().reason, "not_found");
}

TEST_F(AlarmEngineTest, RulesAreChecked) {
  Rule r = threshold();
  r.factor.clear();
  EXPECT_EQ(alarms_->create_rule(r, "x").error().reason, "bad_rule");
  r = threshold();
  r.recipients = {"ftp://x"};
  EXPECT_EQ(alarms_->create_rule(r, "x").error().reason, "bad_rule");
  r = threshold();
  r.kind = RuleKind::kSustained;
  r.count = 1;
  EXPECT_EQ(alarms_->create_rule(r, "x").error().reason, "bad_rule");
  r = threshold();
  r.data_kind = storage::DataKind::kHour;
  auto ok = alarms_->create_rule(r, "x");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->field, "Avg");  // the default field of hourly data
  EXPECT_GT(ok->id, 0);
}

TEST_F(AlarmEngineTest, FactorMissingFiresForAnOnlineDeviceAndClearsWhenItComesBack) {
  const std::int64_t start = clock_.now;
  reopen();  // started at clock_.now
  std::int64_t last_seen = start;
  alarms_->set_devices([&] {
    // OTHER never sends anything: offline, so its missing factor is not this rule's business.
    return std::vector<DeviceSeen>{DeviceSeen{kMn, kSite, 60, last_seen},
                                   DeviceSeen{"OTHER", kSite, 60, 0}};
  });
  Rule r;
  r.name = "PM2.5 not reported";
  r.kind = RuleKind::kFactorMissing;
  r.site = kSite;
  r.factor = "a34004";
  r.data_kind = storage::DataKind::kRealtime;
  r.count = 3;  // 3 intervals of the device's 60 s
  const Rule rule = add(r);
  ASSERT_GT(rule.id, 0);
  clock_.now = start + 10'000;
  write_one(t0_, 12);  // the factor, received at start + 10 s
  process();
  // Frames keep arriving (last_seen moves), but without the factor.
  last_seen = start + 10'000 + 179'999;
  ASSERT_TRUE(alarms_->tick(last_seen).ok());
  EXPECT_TRUE(all().empty());
  last_seen = start + 10'000 + 180'000;
  ASSERT_TRUE(alarms_->tick(last_seen).ok());
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind, RuleKind::kFactorMissing);
  EXPECT_EQ(a[0].subject, std::string("device:") + kMn);
  EXPECT_EQ(a[0].factor, "a34004");
  EXPECT_EQ(a[0].data_kind, "rtd");
  EXPECT_EQ(a[0].opened_ms, start + 190'000);
  EXPECT_EQ(a[0].limit, 180);
  // Still missing: still one alarm.
  last_seen += 600'000;
  ASSERT_TRUE(alarms_->tick(last_seen).ok());
  EXPECT_EQ(all().size(), 1u);
  // A value of another factor does not clear it; the factor itself does (even flagged).
  clock_.now = last_seen + 1000;
  storage::Value other = value(t0_ + kMinute, 5);
  other.factor = "a21026";
  write({other});
  process();
  ASSERT_TRUE(alarms_->tick(clock_.now + 1).ok());
  EXPECT_TRUE(all()[0].active);
  write_one(t0_ + 2 * kMinute, 15, "M");
  process();
  ASSERT_TRUE(alarms_->tick(clock_.now + 2).ok());
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].active);
  EXPECT_EQ(*a[0].cleared_ms, clock_.now);
}

TEST_F(AlarmEngineTest, FactorMissingRulesAreChecked) {
  Rule r;
  r.name = "missing";
  r.kind = RuleKind::kFactorMissing;
  EXPECT_EQ(alarms_->create_rule(r, "x").error().reason, "bad_rule");  // no factor
  r.factor = "a34004";
  r.count = 0;
  EXPECT_EQ(alarms_->create_rule(r, "x").error().reason, "bad_rule");
  r.count = 2;
  r.field = "Rtd";
  EXPECT_EQ(alarms_->create_rule(r, "x").error().reason, "bad_rule");  // any field counts
  r.field.clear();
  r.device = kMn;
  EXPECT_TRUE(alarms_->create_rule(r, "x").ok());
}

TEST_F(AlarmEngineTest, ChangesAfterListsEveryTransitionInOrder) {
  auto last = alarms_->last_change_id();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 0);
  add(threshold());
  write_one(t0_, 80);
  process();
  write_one(t0_ + kMinute, 10);
  process();
  auto c = alarms_->changes_after(0, 100);
  ASSERT_TRUE(c.ok()) << c.error().detail;
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].action, "opened");
  EXPECT_EQ((*c)[1].action, "cleared");
  EXPECT_LT((*c)[0].event_id, (*c)[1].event_id);
  EXPECT_EQ((*c)[0].alarm.rule_name, "PM2.5 high");
  EXPECT_FALSE((*c)[0].alarm.active);  // the alarm as it is now
  last = alarms_->last_change_id();
  EXPECT_EQ(*last, (*c)[1].event_id);
  c = alarms_->changes_after((*c)[0].event_id, 100);
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].action, "cleared");
  EXPECT_TRUE(alarms_->changes_after(*last, 100)->empty());
}

// --- aqi_level and water_class (derived value rules) ---

constexpr std::int64_t kHour = 60 * kMinute;

// One hourly mean (data kind hour, field Avg) of `factor` at kSite.
storage::Value hourly(const std::string& factor, std::int64_t t, double x,
                      const std::string& flag = "N", const std::string& site = kSite) {
  storage::Value v;
  v.site = site;
  v.mn = kMn;
  v.factor = factor;
  v.field = "Avg";
  v.kind = storage::DataKind::kHour;
  v.measured_ms = t;
  v.received_ms = t + kHour;
  v.number = x;
  v.text = std::to_string(x);
  v.flag = flag;
  return v;
}

// The six hourly AQI items of one hour: PM2.5 as given, the others clean. Under HJ 633-2026 表3
// (breakpoints of the IAQI 0/50/100/150/200: SO2 1-h 0/150/500, NO2 1-h 0/100/200, CO 1-h
// 0/5/10 mg/m3, O3 1-h 0/160/200, PM10 0/50/120, PM2.5 0/35/60/115) the clean ones give
// SO2 10 → 4, NO2 40 → 20, CO 0.5 → 5, O3 100 → 32, PM10 40 → 40.
std::vector<storage::Value> air_hour(std::int64_t t, double pm25, const std::string& flag = "N",
                                     const std::string& site = kSite) {
  return {hourly("a21026", t, 10, flag, site),  hourly("a21004", t, 40, flag, site),
          hourly("a21005", t, 0.5, flag, site), hourly("a05024", t, 100, flag, site),
          hourly("a34002", t, 40, flag, site),  hourly("a34004", t, pm25, flag, site)};
}

Rule aqi_rule(double limit = 100) {
  Rule r;
  r.name = "AQI worse than 良";
  r.kind = RuleKind::kAqiLevel;
  r.site = kSite;
  r.op = Op::kGreater;
  r.limit = limit;
  return r;
}

TEST_F(AlarmEngineTest, AqiLevelOpensOneAlarmWithTheHandComputedAqiAndACleanHourClears) {
  add(aqi_rule());
  // 2026-05-28 is HJ 633-2026 data. PM2.5 80 µg/m3 lies in the 24-h row's 60..115 segment
  // (HJ 633-2026 表3, PM2.5 24小时平均; the hourly report uses the PM 24-h rows, §5.2):
  // IAQI = (150 − 100) / (115 − 60) × (80 − 60) + 100 = 118.18…, rounded up (§5.2.2) = 119,
  // the largest IAQI, so AQI = 119 (§5.2.3). (HJ 633-2012, breakpoint 75: 107.)
  write(air_hour(t0_, 80));
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind, RuleKind::kAqiLevel);
  EXPECT_EQ(a[0].subject, std::string("site:") + kSite);
  ASSERT_TRUE(a[0].value);
  EXPECT_EQ(*a[0].value, 119);
  EXPECT_EQ(a[0].limit, 100);
  EXPECT_EQ(a[0].opened_ms, t0_);
  EXPECT_EQ(a[0].count, 1);  // six items of one hour: one evaluation, not six

  // Two more exceeding hours: the same alarm. PM2.5 150 is the top of the 115..150 segment: 200.
  write(air_hour(t0_ + kHour, 90));
  write(air_hour(t0_ + 2 * kHour, 150));
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].count, 3);
  EXPECT_EQ(*a[0].value, 200);
  EXPECT_EQ(*a[0].max_value, 200);

  // A clean hour (PM2.5 30: 50 / 35 × 30 = 42.86 → 43; AQI 43) clears it at that hour.
  write(air_hour(t0_ + 3 * kHour, 30));
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].active);
  ASSERT_TRUE(a[0].cleared_ms);
  EXPECT_EQ(*a[0].cleared_ms, t0_ + 3 * kHour);
}

TEST_F(AlarmEngineTest, AqiLevelJudgesACorrectedHourAgain) {
  add(aqi_rule());
  write(air_hour(t0_, 80));
  process();
  ASSERT_EQ(all().size(), 1u);
  // A new version of the hour's PM2.5 (a correction): the hour's AQI is now 43, so it clears.
  write({hourly("a34004", t0_, 30)});
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].active);
  EXPECT_EQ(*a[0].cleared_ms, t0_);
}

TEST_F(AlarmEngineTest, AqiLevelNeverCountsFlaggedMeans) {
  add(aqi_rule());
  // The polluted PM2.5 is flagged M (maintenance): it is left out; HJ 633-2026 §5.3.1 then gives
  // NA (an item missing and the others ≤ 100), which neither opens nor clears.
  auto hour = air_hour(t0_, 80);
  hour.back().flag = "M";
  write(std::move(hour));
  process();
  EXPECT_TRUE(all().empty());
  // Every item flagged M: nothing either.
  write(air_hour(t0_ + kHour, 300, "M"));
  process();
  EXPECT_TRUE(all().empty());
  // An open episode is not cleared by a clean hour whose items are all flagged.
  write(air_hour(t0_ + 2 * kHour, 80));
  write(air_hour(t0_ + 3 * kHour, 10, "M"));
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0].active);
}

TEST_F(AlarmEngineTest, AqiLevelForEveryAirSiteSkipsOtherKinds) {
  alarms_->set_sites([](const std::string& site, std::int64_t) -> std::optional<SiteFacts> {
    if (site == "W01") return SiteFacts{"surface_water", "river", 3};
    return SiteFacts{"ambient_air", "", std::nullopt};
  });
  Rule r = aqi_rule();
  r.site.clear();
  add(r);
  write(air_hour(t0_, 80, "N", "W01"));
  write(air_hour(t0_ + kHour, 80, "N", "2527A"));  // another hour: the same device's new keys
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].site, "2527A");
}

Rule water_rule(double limit = 0) {
  Rule r;
  r.name = "worse than designated";
  r.kind = RuleKind::kWaterClass;
  r.site = "W01";
  r.limit = limit;
  return r;
}

// GB 3838-2002 表1 (river): DO 7.6 → I (≥ 7.5), CODMn 4 → II (≤ 4), TP 0.1 → II (≤ 0.1),
// NH3-N as given (I ≤ 0.15, II ≤ 0.5, III ≤ 1.0, IV ≤ 1.5, V ≤ 2.0).
std::vector<storage::Value> water_sample(std::int64_t t, double nh3n,
                                         const std::string& flag = "N") {
  return {hourly("w01009", t, 7.6, flag, "W01"), hourly("w01019", t, 4, flag, "W01"),
          hourly("w21011", t, 0.1, flag, "W01"), hourly("w21003", t, nh3n, flag, "W01")};
}

TEST_F(AlarmEngineTest, WaterClassOneClassWorseThanDesignatedOpens) {
  alarms_->set_sites([](const std::string&, std::int64_t) -> std::optional<SiteFacts> {
    return SiteFacts{"surface_water", "river", 3};  // designated III
  });
  add(water_rule());
  write(water_sample(t0_, 1.0));  // III: meets the designated class
  process();
  EXPECT_TRUE(all().empty());
  write(water_sample(t0_ + kHour, 1.2));  // NH3-N IV → the section is IV (single-factor: worst)
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind, RuleKind::kWaterClass);
  EXPECT_EQ(*a[0].value, 4);
  EXPECT_EQ(a[0].limit, 3);
  EXPECT_EQ(a[0].opened_ms, t0_ + kHour);
  // A flagged-M sample never counts: the NH3-N 3.0 (劣V) of maintenance is left out.
  write(water_sample(t0_ + 2 * kHour, 3.0, "M"));
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(*a[0].max_value, 4);
  write(water_sample(t0_ + 3 * kHour, 0.5));  // II: clears
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].active);
  EXPECT_EQ(*a[0].cleared_ms, t0_ + 3 * kHour);
}

TEST_F(AlarmEngineTest, WaterClassWithAnExplicitLimitAndWithoutADesignatedClass) {
  // No registry facts: a rule judging against the designated class judges nothing.
  add(water_rule());
  write(water_sample(t0_, 2.5));
  process();
  EXPECT_TRUE(all().empty());
  // limit 5 (V): NH3-N 2.5 is 劣V (6) → opens.
  add(water_rule(5));
  write(water_sample(t0_ + kHour, 2.5));
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(*a[0].value, 6);
}

TEST_F(AlarmEngineTest, AqiLevelAndWaterClassRulesAreChecked) {
  Rule r = aqi_rule(600);
  EXPECT_FALSE(alarms_->create_rule(r, "t").ok());
  r = aqi_rule();
  r.factor = "a34004";
  EXPECT_FALSE(alarms_->create_rule(r, "t").ok());
  EXPECT_FALSE(alarms_->create_rule(water_rule(7), "t").ok());
  EXPECT_FALSE(alarms_->create_rule(water_rule(2.5), "t").ok());
  auto ok = alarms_->create_rule(water_rule(3), "t");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->op, Op::kGreater);
  EXPECT_EQ(ok->field, "Avg");
}

TEST_F(AlarmEngineTest, ScreeningOpensOnANegativeOrOutOfRangeValueAndACleanOneClears) {
  Rule r;
  r.name = "PM2.5 screening";
  r.kind = RuleKind::kScreening;
  r.site = kSite;
  r.factor = "a34004";
  auto stored = alarms_->create_rule(r, "tester");
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  EXPECT_EQ(stored->field, "Avg");
  // Flagged M, a negative value never counts.
  write({hourly("a34004", t0_ - kHour, -5, "M")});
  process();
  EXPECT_TRUE(all().empty());
  write({hourly("a34004", t0_, -5)});  // negative
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind, RuleKind::kScreening);
  EXPECT_EQ(*a[0].value, -5);
  write({hourly("a34004", t0_ + kHour, 2000)});  // out_of_range: PM2.5 default range 0..1000
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].count, 2);
  write({hourly("a34004", t0_ + 2 * kHour, 30)});  // clean: clears
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].active);
  EXPECT_EQ(*a[0].cleared_ms, t0_ + 2 * kHour);
  // A value stamped 2 h ahead of the clock (the gateway marks it clock-suspect): future_time.
  auto future = hourly("a34004", clock_.now + 2 * kHour, 30);
  future.quality = storage::kQualityClockSuspect;
  write({future});
  process();
  a = all();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(a[0].active);
  auto events = alarms_->events(a[0].id);
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->front().note.rfind("future_time", 0), 0u) << events->front().note;
}

// --- drinking_water, radiation_dose, water_deteriorating; review actions in derived rules ---

Rule drinking_rule(const std::string& factor = "") {
  Rule r;
  r.name = "表2 supplementary item";
  r.kind = RuleKind::kDrinkingWater;
  r.factor = factor;
  return r;
}

TEST_F(AlarmEngineTest, DrinkingWaterOpensOneEpisodePerTable2ItemAtSourceSitesOnly) {
  alarms_->set_sites([](const std::string& site, std::int64_t) -> std::optional<SiteFacts> {
    if (site == "D01") return SiteFacts{"drinking_water_source", "reservoir", 2};
    return SiteFacts{"surface_water", "river", 3};
  });
  auto stored = alarms_->create_rule(drinking_rule(), "tester");
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  EXPECT_EQ(stored->field, "Avg");
  // GB 3838-2002 表2: sulfate ≤ 250 mg/L, iron ≤ 0.3 mg/L. A river section is not a source.
  write({hourly("w21038", t0_, 300, "N", "W01")});
  // At the source: sulfate exactly 250 meets the limit; iron 0.31 exceeds it.
  write({hourly("w21038", t0_, 250, "N", "D01"), hourly("w20125", t0_, 0.31, "N", "D01")});
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].subject, "site:D01/w20125");
  EXPECT_EQ(a[0].factor, "w20125");
  EXPECT_EQ(a[0].limit, 0.3);
  // Sulfate 260 opens its own episode; a flagged-M iron value neither clears nor counts.
  write({hourly("w21038", t0_ + kHour, 260, "N", "D01"),
         hourly("w20125", t0_ + kHour, 0.1, "M", "D01")});
  process();
  a = all();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].subject, "site:D01/w21038");
  EXPECT_EQ(a[0].limit, 250);
  EXPECT_TRUE(a[1].active);
  // Iron back within its limit clears iron only.
  write({hourly("w20125", t0_ + 2 * kHour, 0.2, "N", "D01")});
  process();
  a = all();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(a[0].active);  // sulfate
  EXPECT_FALSE(a[1].active);
  EXPECT_EQ(*a[1].cleared_ms, t0_ + 2 * kHour);
  auto events = alarms_->events(a[0].id);
  ASSERT_TRUE(events.ok());
  EXPECT_NE(events->front().note.find("GB 3838-2002 表2 第1项"), std::string::npos)
      << events->front().note;
}

TEST_F(AlarmEngineTest, DrinkingWaterRulesAreChecked) {
  EXPECT_FALSE(alarms_->create_rule(drinking_rule("w21003"), "t").ok());  // NH3-N: 表1
  auto one = alarms_->create_rule(drinking_rule("w20124"), "t");
  ASSERT_TRUE(one.ok());
  // Only manganese is watched by this rule: 0.2 mg/L manganese opens (表2 第5项 ≤ 0.1), sulfate
  // 300 does not.
  write({hourly("w20124", t0_, 0.2, "N", "D01"), hourly("w21038", t0_, 300, "N", "D01")});
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].factor, "w20124");
}

Rule radiation_rule(double k = 0) {
  Rule r;
  r.name = "γ dose rate above baseline";
  r.kind = RuleKind::kRadiationDose;
  r.site = "R01";
  r.factor = "rad001";
  r.limit = k;
  return r;
}

TEST_F(AlarmEngineTest, RadiationDoseAboveMeanPlusKSigmaOfTheSiteBaseline) {
  alarms_->set_sites([](const std::string& site, std::int64_t) -> std::optional<SiteFacts> {
    SiteFacts f{"radiation", "", std::nullopt};
    if (site == "R01") {
      f.radiation_mean_ngy_h = 100;
      f.radiation_sd_ngy_h = 5;
    }
    return f;
  });
  auto stored = alarms_->create_rule(radiation_rule(), "tester");
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  EXPECT_EQ(stored->limit, 3);  // k defaults to 3 (radiation.md §3: mean + 3σ)
  // Investigation level 100 + 3 × 5 = 115 nGy/h: 115 itself is not above it.
  write({hourly("rad001", t0_, 115, "N", "R01")});
  process();
  EXPECT_TRUE(all().empty());
  write({hourly("rad001", t0_ + kHour, 116, "N", "R01")});
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].limit, 115);
  EXPECT_EQ(*a[0].value, 116);
  auto events = alarms_->events(a[0].id);
  EXPECT_EQ(events->front().note.rfind("abnormal", 0), 0u) << events->front().note;
  // 250 > 2 × mean: the same episode, worst value kept.
  write({hourly("rad001", t0_ + 2 * kHour, 250, "N", "R01")});
  write({hourly("rad001", t0_ + 3 * kHour, 104, "N", "R01")});  // back within: clears
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(*a[0].max_value, 250);
  EXPECT_FALSE(a[0].active);
  EXPECT_EQ(*a[0].cleared_ms, t0_ + 3 * kHour);
}

TEST_F(AlarmEngineTest, RadiationDoseWithoutARegisteredBaselineIsNotJudged) {
  Rule r = radiation_rule(2);
  r.site.clear();
  ASSERT_TRUE(alarms_->create_rule(r, "t").ok());
  write({hourly("rad001", t0_, 5000, "N", "R02")});
  process();
  EXPECT_TRUE(all().empty());
  r.factor.clear();
  EXPECT_FALSE(alarms_->create_rule(r, "t").ok());  // factor required: HJ 212 has no code
}

Rule deteriorating_rule(double classes = 0) {
  Rule r;
  r.name = "water class deteriorating";
  r.kind = RuleKind::kWaterDeteriorating;
  r.site = "W01";
  r.limit = classes;
  return r;
}

TEST_F(AlarmEngineTest, WaterDeterioratingComparesWithThePreviousSampleAndHoldsItsReference) {
  auto stored = alarms_->create_rule(deteriorating_rule(), "tester");
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  EXPECT_EQ(stored->limit, 1);
  // water_sample's other items are I–II; NH3-N decides: 0.5 → II, 1.0 → III, 2.0 → V.
  write(water_sample(t0_, 0.5));  // II: the first sample, nothing to compare with
  process();
  EXPECT_TRUE(all().empty());
  write(water_sample(t0_ + kHour, 1.0));  // III, one worse than II → opens
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind, RuleKind::kWaterDeteriorating);
  EXPECT_EQ(*a[0].value, 3);
  EXPECT_EQ(a[0].opened_ms, t0_ + kHour);
  // Still III: still one class worse than the II before the drop → the episode holds.
  write(water_sample(t0_ + 2 * kHour, 1.0));
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(a[0].active);
  EXPECT_EQ(a[0].count, 2);
  // Back to II: recovered, clears.
  write(water_sample(t0_ + 3 * kHour, 0.5));
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].active);
  EXPECT_EQ(*a[0].cleared_ms, t0_ + 3 * kHour);
}

TEST_F(AlarmEngineTest, WaterDeterioratingByAtLeastNClasses) {
  ASSERT_TRUE(alarms_->create_rule(deteriorating_rule(2), "tester").ok());
  EXPECT_FALSE(alarms_->create_rule(deteriorating_rule(6), "t").ok());
  write(water_sample(t0_, 0.5));              // II
  write(water_sample(t0_ + kHour, 1.0));      // III: one worse, not two
  write(water_sample(t0_ + 2 * kHour, 2.0));  // V: two worse than III → opens
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(*a[0].value, 5);
  EXPECT_EQ(a[0].opened_ms, t0_ + 2 * kHour);
}

TEST_F(AlarmEngineTest, AqiLevelAppliesReviewActions) {
  // The applier stands for derive's review actions (the app wires the real one): PM2.5 of the
  // first hour invalidated, of the second corrected to 80, of the third corrected to 30.
  alarms_->set_review([this](std::vector<storage::Value>& values) {
    std::vector<storage::Value> kept;
    for (auto& v : values) {
      if (v.factor == "a34004" && v.measured_ms == t0_) continue;
      if (v.factor == "a34004" && v.measured_ms == t0_ + kHour) v.number = 80;
      if (v.factor == "a34004" && v.measured_ms == t0_ + 2 * kHour) v.number = 30;
      kept.push_back(v);
    }
    values = std::move(kept);
  });
  add(aqi_rule());
  // Hour 1: PM2.5 300 stored but invalidated → the other items give NA (HJ 633-2026 §5.3.1).
  write(air_hour(t0_, 300));
  process();
  EXPECT_TRUE(all().empty());
  // Hour 2: stored 20, corrected to 80 → AQI 119 (see above) opens.
  write(air_hour(t0_ + kHour, 20));
  process();
  auto a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(*a[0].value, 119);
  EXPECT_EQ(a[0].opened_ms, t0_ + kHour);
  // Hour 3: stored 200, corrected to 30 → AQI 43 clears.
  write(air_hour(t0_ + 2 * kHour, 200));
  process();
  a = all();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_FALSE(a[0].active);
  EXPECT_EQ(*a[0].max_value, 119);
}

// --- rules from the config file (sync_config_rules) ---

TEST_F(AlarmEngineTest, ConfigRulesAreIdempotentByNameUpdatedInPlaceAndDisabledWhenGone) {
  add(threshold(75));  // an API rule of the same name stays untouched throughout
  Rule pm = threshold(100);
  Rule aqi = aqi_rule();
  auto first = alarms_->sync_config_rules({pm, aqi}, "config");
  ASSERT_TRUE(first.ok()) << first.error().detail;
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0].action, "created");
  EXPECT_EQ((*first)[0].rule.source, "config");
  const std::int64_t pm_id = (*first)[0].rule.id;

  // The same file again: nothing changes.
  auto again = alarms_->sync_config_rules({pm, aqi}, "config");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[0].action, "unchanged");
  EXPECT_EQ((*again)[1].action, "unchanged");

  // An open episode of the config rule; then the file changes its limit: the same rule id,
  // updated, and the episode of the old condition is cleared.
  write_one(t0_, 120);
  process();
  AlarmQuery active;
  active.active = true;
  auto open_now = alarms_->alarms(active);
  ASSERT_EQ(open_now->size(), 2u);  // the API rule (75) and the config rule (100)
  pm.limit = 150;
  auto changed = alarms_->sync_config_rules({pm, aqi}, "config");
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ((*changed)[0].action, "updated");
  EXPECT_EQ((*changed)[0].rule.id, pm_id);
  EXPECT_EQ((*changed)[0].rule.limit, 150);
  AlarmQuery by_rule;
  by_rule.rule_id = pm_id;
  auto a = alarms_->alarms(by_rule);
  ASSERT_EQ(a->size(), 1u);
  EXPECT_FALSE((*a)[0].active);
  // The new limit judges the next value: 120 no longer exceeds.
  write_one(t0_ + kMinute, 120);
  process();
  EXPECT_EQ(alarms_->alarms(by_rule)->size(), 1u);

  // The AQI rule left the file: disabled; the API rule is not a config rule and stays.
  auto gone = alarms_->sync_config_rules({pm}, "config");
  ASSERT_TRUE(gone.ok());
  ASSERT_EQ(gone->size(), 2u);
  EXPECT_EQ((*gone)[1].action, "disabled");
  EXPECT_EQ((*gone)[1].rule.name, aqi.name);
  int enabled = 0;
  const auto after_gone = alarms_->rules();
  for (const auto& r : *after_gone) enabled += r.enabled ? 1 : 0;
  EXPECT_EQ(enabled, 2);
  // Back in the file: enabled again (the same rule).
  auto back = alarms_->sync_config_rules({pm, aqi}, "config");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[1].action, "updated");
  EXPECT_EQ((*back)[1].rule.id, (*first)[1].rule.id);
  EXPECT_TRUE((*back)[1].rule.enabled);
  // Survives a reopen with its source.
  reopen();
  const auto reopened = alarms_->rules();
  for (const auto& r : *reopened) {
    EXPECT_EQ(r.source, r.id == (*first)[1].rule.id || r.id == pm_id ? "config" : "api");
  }
}

TEST_F(AlarmEngineTest, ConfigRulesRefuseBadEntriesAndDuplicateNamesAndChangeNothing) {
  Rule bad = threshold();
  bad.factor.clear();
  auto r = alarms_->sync_config_rules({threshold(), bad}, "config");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "bad_rule");
  EXPECT_NE(r.error().detail.find("factor is required"), std::string::npos);
  r = alarms_->sync_config_rules({threshold(), threshold(90)}, "config");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().detail.find("two rules named"), std::string::npos);
  EXPECT_TRUE(alarms_->rules()->empty());
}

}  // namespace
}  // namespace ecomon::alarm
