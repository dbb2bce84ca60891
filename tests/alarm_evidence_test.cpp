// Evidence files (alarm/evidence.h) on a real SQLite file and directory: names, types, limits,
// storage by hash, reading back, and the refusal counters.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "alarm/evidence.h"
#include "storage/sqlite/sqlite_store.h"

namespace ecomon::alarm {
namespace {

class FixedClock final : public core::Clock {
 public:
  std::int64_t now_ms() const override { return 1'780'000'000'000; }
};

TEST(EvidenceNames, HostileNamesBecomeLabels) {
  EXPECT_EQ(sanitise_name("../../etc/passwd"), "passwd");
  EXPECT_EQ(sanitise_name("C:\\Users\\x\\photo.jpg"), "photo.jpg");
  EXPECT_EQ(sanitise_name("a\r\nb\"c;d<e>f|g?h*i:j.png"), "abcdefghij.png");
  EXPECT_EQ(sanitise_name(" ..hidden "), "hidden");
  EXPECT_EQ(sanitise_name(""), "evidence");
  EXPECT_EQ(sanitise_name("\x01\x02"), "evidence");
  EXPECT_EQ(sanitise_name("现场照片.jpg"), "现场照片.jpg");
  // 41 three-byte characters: cut at 120 bytes, never inside a character.
  std::string long_name;
  for (int i = 0; i < 41; ++i) long_name += "长";
  EXPECT_EQ(sanitise_name(long_name).size(), 120u);
  EXPECT_EQ(sanitise_name("\xff\xfe"
                          "abc.pdf"),
            "abc.pdf");  // invalid UTF-8: ASCII kept
}

TEST(EvidenceTypes, Whitelist) {
  EXPECT_TRUE(evidence_type_allowed("image/jpeg"));
  EXPECT_TRUE(evidence_type_allowed("Application/PDF; charset=binary"));
  EXPECT_TRUE(evidence_type_allowed("text/csv;charset=utf-8"));
  EXPECT_FALSE(evidence_type_allowed("text/html"));
  EXPECT_FALSE(evidence_type_allowed("image/svg+xml"));  // can carry script
  EXPECT_FALSE(evidence_type_allowed("application/octet-stream"));
}

class EvidenceServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ecomon-evidence-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    // The store creates the file; the service adds its table to it (as in `ecomon serve`).
    auto store = storage::open_sqlite_store((dir_ / "ecomon.db").string());
    ASSERT_TRUE(store.ok()) << store.error().detail;
    store_ = std::move(*store);
    EvidenceOptions o;
    o.max_bytes = 1000;
    o.max_per_alarm = 3;
    auto s = EvidenceService::open((dir_ / "ecomon.db").string(), (dir_ / "evidence").string(),
                                   clock_, o);
    ASSERT_TRUE(s.ok()) << s.error().detail;
    svc_ = std::move(*s);
  }
  void TearDown() override {
    svc_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  FixedClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<EvidenceService> svc_;
};

const std::string kPdf = "%PDF-1.4\n%%EOF\n";

TEST_F(EvidenceServiceTest, StoresOnceByHashAndReadsBack) {
  auto a = svc_->add(7, "alice", "lab.pdf", "application/pdf", kPdf);
  ASSERT_TRUE(a.ok()) << a.error().detail;
  // SHA-256 of the bytes, checked with the sha256sum command's answer for the same 15 bytes.
  EXPECT_EQ(a->sha256, "14bcd090baf31edba64e9cbd8cdfc15f943344aa72cb3675ad8e91bfcbce03ad");
  EXPECT_EQ(a->size, static_cast<std::int64_t>(kPdf.size()));
  auto b = svc_->add(8, "bob", "copy.pdf", "application/pdf", kPdf);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->sha256, b->sha256);
  std::size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_ / "evidence")) {
    files += e.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(files, 1u);  // one content, one file
  auto back = svc_->read(7, a->id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->second, kPdf);
  EXPECT_EQ(back->first.uploader, "alice");
  EXPECT_EQ(svc_->read(8, a->id).error().reason, "not_found");  // another alarm's file
  EXPECT_EQ(svc_->list(7)->size(), 1u);
  // A damaged file on disk is reported, not served.
  {
    std::ofstream f(dir_ / "evidence" / a->sha256.substr(0, 2) / a->sha256, std::ios::trunc);
    f << "%PDF-tampered";
  }
  EXPECT_EQ(svc_->read(7, a->id).error().reason, "io_error");
}

TEST_F(EvidenceServiceTest, RefusesWithReasonsAndCounts) {
  EXPECT_EQ(svc_->add(1, "u", "x", "image/png", "").error().reason, "empty");
  EXPECT_EQ(svc_->add(1, "u", "x", "image/png", std::string(1001, 'x')).error().reason,
            "too_large");
  EXPECT_EQ(svc_->add(1, "u", "x", "text/html", "<script>").error().reason, "bad_type");
  EXPECT_EQ(svc_->add(1, "u", "x", "image/jpeg", kPdf).error().reason, "type_mismatch");
  EXPECT_EQ(svc_->add(1, "u", "x", "text/plain", std::string("a\0b", 3)).error().reason,
            "type_mismatch");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(svc_->add(1, "u", "x", "text/plain", "note").ok());
  EXPECT_EQ(svc_->add(1, "u", "x", "text/plain", "note").error().reason, "too_many");
  const auto refused = svc_->refused();
  EXPECT_EQ(refused.at("type_mismatch"), 2u);
  EXPECT_EQ(refused.at("too_many"), 1u);
  EXPECT_EQ(refused.at("bad_type"), 1u);
  EXPECT_TRUE(svc_->list(2)->empty());
}

}  // namespace
}  // namespace ecomon::alarm
