// Data review (derive/review.h) on a real SQLite file with a fake clock: checks before storing,
// later actions win, restore, levels, as-of, and the history surviving a reopen (issue #5 §5).
#include <gtest/gtest.h>

#include "derive/review.h"
#include "storage/sqlite/sqlite_store.h"
#include "test_util.h"

namespace ecomon::derive {
namespace {

using test::ok;

class FakeClock final : public core::Clock {
 public:
  std::int64_t now_ms() const override { return now; }
  std::int64_t now = 1'780'000'000'000;
};

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kT0 = 1'796'601'600'000;  // 2026-12-07T08:00:00+08:00

class ReviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_.path() / "ecomon.db").string();
    auto st = storage::open_sqlite_store(path_);  // the store's file, as serve opens it
    ASSERT_TRUE(st.ok()) << st.error().detail;
    store_ = std::move(*st);
    reopen();
  }
  void TearDown() override {
    reviews_.reset();
    store_.reset();
  }
  void reopen() {
    reviews_.reset();
    auto s = ReviewService::open(path_, clock_);
    ASSERT_TRUE(s.ok()) << s.error().detail;
    reviews_ = std::move(*s);
  }
  // An action on hours [from, to) of PM2.5 at 2526A, written one minute after the previous one.
  ReviewAction act(ReviewVerb verb, std::int64_t from, std::int64_t to,
                   std::optional<double> value = std::nullopt) {
    clock_.now += 60'000;
    ReviewAction a;
    a.site = "2526A";
    a.factor = "a34004";
    a.kind = "hour";
    a.from_ms = from;
    a.to_ms = to;
    a.verb = verb;
    a.value = value;
    a.reason = is_approval(verb) ? "" : "仪器故障";
    a.actor = "reviewer1";
    return ok(reviews_->record(a));
  }
  std::vector<ReviewAction> all(std::optional<std::int64_t> as_of = std::nullopt) {
    ReviewQuery q;
    q.site = "2526A";
    q.factor = "a34004";
    q.as_of_ms = as_of;
    return ok(reviews_->covering(q));
  }

  test::TempDir dir_{"ecomon-review"};
  FakeClock clock_;
  std::string path_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<ReviewService> reviews_;
};

TEST_F(ReviewTest, RefusesAnActionWithoutWhatItNeeds) {
  ReviewAction a;
  a.site = "2526A";
  a.factor = "a34004";
  a.from_ms = kT0;
  a.to_ms = kT0 + kHour;
  a.verb = ReviewVerb::kInvalidate;
  auto r = reviews_->record(a);  // no reason
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "bad_request");
  a.reason = "仪器故障";
  a.verb = ReviewVerb::kCorrect;
  EXPECT_FALSE(reviews_->record(a).ok());  // correct without a value
  a.value = 35.0;
  a.to_ms = a.from_ms;
  EXPECT_FALSE(reviews_->record(a).ok());  // from == to
  a.to_ms = kT0 + kHour;
  a.kind = "hourly";
  EXPECT_FALSE(reviews_->record(a).ok());  // not a data kind
  a.kind = "hour";
  a.verb = ReviewVerb::kInvalidate;
  EXPECT_FALSE(reviews_->record(a).ok());  // a value with invalidate
  a.value.reset();
  const auto stored = ok(reviews_->record(a));
  EXPECT_GT(stored.id, 0);
  EXPECT_EQ(stored.at_ms, clock_.now);
  // Approving needs no reason.
  a.verb = ReviewVerb::kApprove;
  a.reason.clear();
  EXPECT_TRUE(reviews_->record(a).ok());
  EXPECT_FALSE(parse_verb("delete"));
  EXPECT_EQ(parse_verb("finalize"), ReviewVerb::kFinalize);
}

TEST_F(ReviewTest, TheLaterActionWinsAndRestoreCancels) {
  act(ReviewVerb::kInvalidate, kT0, kT0 + 3 * kHour);             // hours 08, 09, 10
  act(ReviewVerb::kCorrect, kT0 + kHour, kT0 + 2 * kHour, 42.0);  // hour 09 corrected
  act(ReviewVerb::kRestore, kT0 + 2 * kHour, kT0 + 3 * kHour);    // hour 10 back to raw
  const auto actions = all();
  ASSERT_EQ(actions.size(), 3u);
  const auto h08 = review_state(actions, "hour", "Avg", kT0);
  EXPECT_TRUE(h08.invalid);
  EXPECT_EQ(h08.review(), "invalidated");
  const auto h09 = review_state(actions, "hour", "Avg", kT0 + kHour);
  EXPECT_FALSE(h09.invalid);
  EXPECT_EQ(h09.corrected, 42.0);
  EXPECT_EQ(h09.review(), "corrected");
  const auto h10 = review_state(actions, "hour", "Avg", kT0 + 2 * kHour);
  EXPECT_FALSE(h10.invalid);
  EXPECT_FALSE(h10.corrected);
  EXPECT_EQ(h10.review(), "");
  // Outside the range, another kind: untouched. to is exclusive.
  EXPECT_FALSE(review_state(actions, "hour", "Avg", kT0 + 3 * kHour).invalid);
  EXPECT_FALSE(review_state(actions, "minute", "Avg", kT0).invalid);
  // An invalidation after the correction wins over it.
  act(ReviewVerb::kInvalidate, kT0 + kHour, kT0 + 2 * kHour);
  const auto again = review_state(all(), "hour", "Avg", kT0 + kHour);
  EXPECT_TRUE(again.invalid);
  EXPECT_FALSE(again.corrected);
}

TEST_F(ReviewTest, LevelsRiseWithApprovalAndFallBackWhenDataChanges) {
  act(ReviewVerb::kCorrect, kT0, kT0 + kHour, 30.0);
  EXPECT_EQ(review_state(all(), "hour", "Avg", kT0).level, ReviewLevel::kRaw);
  act(ReviewVerb::kApprove, kT0, kT0 + 24 * kHour);
  auto s = review_state(all(), "hour", "Avg", kT0);
  EXPECT_EQ(s.level, ReviewLevel::kAudited);
  EXPECT_EQ(s.corrected, 30.0);  // approving keeps the correction
  act(ReviewVerb::kFinalize, kT0, kT0 + 24 * kHour);
  EXPECT_EQ(review_state(all(), "hour", "Avg", kT0).level, ReviewLevel::kFinal);
  EXPECT_EQ(level_name(ReviewLevel::kFinal), "final");
  // A change after the approval: the changed hour needs approving again, the others stay final.
  act(ReviewVerb::kInvalidate, kT0 + kHour, kT0 + 2 * kHour);
  EXPECT_EQ(review_state(all(), "hour", "Avg", kT0 + kHour).level, ReviewLevel::kRaw);
  EXPECT_EQ(review_state(all(), "hour", "Avg", kT0 + 2 * kHour).level, ReviewLevel::kFinal);
}

TEST_F(ReviewTest, AsOfShowsTheStateOfAnEarlierTime) {
  const auto first = act(ReviewVerb::kInvalidate, kT0, kT0 + kHour);
  const auto second = act(ReviewVerb::kRestore, kT0, kT0 + kHour);
  ASSERT_LT(first.at_ms, second.at_ms);
  EXPECT_FALSE(review_state(all(), "hour", "Avg", kT0).invalid);
  // As of the first action's time: only it counts, whether the service or the state filters.
  EXPECT_EQ(all(first.at_ms).size(), 1u);
  EXPECT_TRUE(review_state(all(first.at_ms), "hour", "Avg", kT0).invalid);
  EXPECT_TRUE(review_state(all(), "hour", "Avg", kT0, first.at_ms).invalid);
  EXPECT_FALSE(review_state(all(), "hour", "Avg", kT0, first.at_ms - 1).invalid);
}

TEST_F(ReviewTest, TheHistoryIsNewestFirstFilteredByRangeAndSurvivesAReopen) {
  act(ReviewVerb::kInvalidate, kT0, kT0 + kHour);
  act(ReviewVerb::kCorrect, kT0 + 5 * kHour, kT0 + 6 * kHour, 12.5);
  reopen();
  ReviewQuery q;
  q.site = "2526A";
  const auto history = ok(reviews_->list(q));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].verb, ReviewVerb::kCorrect);
  EXPECT_EQ(history[0].value, 12.5);
  EXPECT_EQ(history[0].actor, "reviewer1");
  EXPECT_EQ(history[0].reason, "仪器故障");
  EXPECT_EQ(history[1].verb, ReviewVerb::kInvalidate);
  q.from_ms = kT0 + kHour;  // overlaps only the correction
  q.to_ms = kT0 + 24 * kHour;
  EXPECT_EQ(ok(reviews_->list(q)).size(), 1u);
  q.site = "2525A";
  EXPECT_TRUE(ok(reviews_->list(q)).empty());
}

}  // namespace
}  // namespace ecomon::derive
