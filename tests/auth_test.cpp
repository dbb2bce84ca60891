// The auth service on a real SQLite file with a fake clock: users, lockout, sessions, API keys,
// scopes, and the hash-chained audit trail (issue #7).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "api/http_api.h"
#include "api/routes.h"
#include "auth/secret_box.h"
#include "auth/service.h"
#include "registry/registry.h"
#include "storage/sqlite/sqlite_store.h"
#include "test_util.h"

namespace ecomon::auth {
namespace {

class FakeClock final : public core::Clock {
 public:
  std::int64_t now_ms() const override { return now; }
  std::int64_t now = 1'780'000'000'000;  // 2026-05-28
};

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (dir_ / "ecomon.db").string();
    ASSERT_TRUE(storage::open_sqlite_store(path_).ok());
    AuthOptions o;
    // The cheapest argon2id the library allows: the tests check behaviour, not cost.
    o.pwhash_opslimit = 1;
    o.pwhash_memlimit = 8192;
    auto s = AuthService::open(path_, clock_, o);
    ASSERT_TRUE(s.ok()) << s.error().detail;
    auth_ = std::move(*s);
  }
  void TearDown() override { auth_.reset(); }

  void add(const std::string& name, const std::string& role, const std::string& scope = "city") {
    auto scopes = parse_scopes(scope);
    ASSERT_TRUE(scopes.ok());
    auto r = auth_->add_user(name, role, *scopes, kPassword, "test", "cli");
    ASSERT_TRUE(r.ok()) << r.error().detail;
  }

  // Runs SQL on the database as an intruder with file access would.
  void tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }

  static constexpr const char* kPassword = "Gy-station-2026";
  FakeClock clock_;
  test::TempDir tmp_{"ecomon-auth"};
  std::filesystem::path dir_ = tmp_.path();
  std::string path_;
  std::unique_ptr<AuthService> auth_;
};

TEST(PasswordPolicy, RefusesShortSimpleAndNameContainingPasswords) {
  EXPECT_TRUE(password_problem("li", "Short-1"));
  EXPECT_TRUE(password_problem("li", "alllowercaseletters"));
  EXPECT_TRUE(password_problem("li", "lowercase1234"));  // two classes only
  EXPECT_TRUE(password_problem("zhangwei", "Zhangwei-2026!"));
  EXPECT_FALSE(password_problem("li", "lowercase-1234"));
  EXPECT_FALSE(password_problem("li", "Gy-station-2026"));
}

TEST(Scopes, ParseAndFormatRoundTrip) {
  auto s = parse_scopes("site:2523A, 2524A");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ(format_scopes(*s), "site:2523A;site:2524A");
  auto back = parse_scope_list("county:510802;site:2523A;city");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), 3u);
  EXPECT_TRUE(unrestricted(*back));
  EXPECT_FALSE(parse_scopes("county").ok());
  EXPECT_FALSE(parse_scopes("planet:earth").ok());
  EXPECT_FALSE(parse_scopes("site:").ok());
}

TEST(Scopes, SiteMembershipByCountyDepartmentSiteAndEnterprise) {
  registry::Registry reg;
  registry::Site a;
  a.code = "A";
  a.place.county_code = "510802";
  a.place.city_code = "510800";
  a.department = "环境监测站";
  registry::Site b;
  b.code = "B";
  b.place.county_code = "510812";
  b.place.city_code = "510800";
  reg.mutable_sites() = {a, b};
  registry::Device d;
  d.mn = "MN1";
  d.enterprise = "E1";
  reg.mutable_devices() = {d};
  reg.mutable_assignments() = {registry::Assignment{"MN1", "B"}};
  reg.reindex();
  auto in = [&](const char* scope, const registry::Site& s) {
    return site_in_scope(*parse_scopes(scope), reg, s);
  };
  EXPECT_TRUE(in("county:510802", a));
  EXPECT_FALSE(in("county:510802", b));
  EXPECT_TRUE(in("city:510800", b));
  EXPECT_FALSE(in("city:510100", b));
  EXPECT_TRUE(in("department:环境监测站", a));
  EXPECT_FALSE(in("department:环境监测站", b));
  EXPECT_TRUE(in("enterprise:E1", b));
  EXPECT_FALSE(in("enterprise:E1", a));
  EXPECT_FALSE(in("enterprise:E2", b));
  EXPECT_TRUE(in("site:A", a));
  EXPECT_FALSE(in("site:A", b));
}

TEST(Roles, GrantsFollowTheTable) {
  EXPECT_TRUE(role_allows("admin", Action::kUserAdmin));
  EXPECT_FALSE(role_allows("analyst", Action::kUserAdmin));
  EXPECT_TRUE(role_allows("analyst", Action::kDataReview));
  EXPECT_TRUE(role_allows("reviewer", Action::kDataApprove));
  EXPECT_FALSE(role_allows("analyst", Action::kDataApprove));
  EXPECT_FALSE(role_allows("viewer", Action::kRegistryWrite));
  EXPECT_TRUE(role_allows("operator", Action::kRegistryWrite));
  EXPECT_FALSE(role_allows("enterprise", Action::kDeviceRead));
  EXPECT_FALSE(role_allows("nobody", Action::kDataRead));
  EXPECT_EQ(role_names().size(), 8u);
}

TEST_F(AuthTest, LoginGivesASessionThatEndsAtItsExpiryAndAtLogout) {
  add("wang", "analyst", "county:510802");
  auto ok = auth_->login("wang", kPassword, "127.0.0.1");
  ASSERT_TRUE(ok.ok()) << ok.error().detail;
  auto who = auth_->authenticate(ok->token);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->name, "wang");
  EXPECT_EQ(who->role, "analyst");
  ASSERT_EQ(who->scopes.size(), 1u);
  EXPECT_EQ(who->scopes[0], (Scope{"county", "510802"}));

  clock_.now += AuthOptions{}.session_ttl_ms + 1;
  EXPECT_FALSE(auth_->authenticate(ok->token));

  auto again = auth_->login("wang", kPassword, "127.0.0.1");
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(auth_->logout(again->token, "127.0.0.1").ok());
  EXPECT_FALSE(auth_->authenticate(again->token));
  EXPECT_FALSE(auth_->authenticate("es_not-a-token-at-all"));
}

TEST_F(AuthTest, ASessionUnusedFor30MinutesEnds) {
  add("wang", "viewer");
  auto ok = auth_->login("wang", kPassword, "127.0.0.1");
  ASSERT_TRUE(ok.ok());
  ASSERT_TRUE(auth_->authenticate(ok->token));
  clock_.now += 29 * 60 * 1000;  // used within the idle limit: stays
  ASSERT_TRUE(auth_->authenticate(ok->token));
  clock_.now += 29 * 60 * 1000;
  ASSERT_TRUE(auth_->authenticate(ok->token));
  clock_.now += 30 * 60 * 1000 + 1;  // then idle beyond it: ended, also for later use
  EXPECT_FALSE(auth_->authenticate(ok->token));
  clock_.now += 1;
  EXPECT_FALSE(auth_->authenticate(ok->token));
}

TEST_F(AuthTest, WrongPasswordAndUnknownUserGetTheSameAnswer) {
  add("wang", "viewer");
  auto wrong = auth_->login("wang", "Wrong-password-1", "10.0.0.1");
  auto unknown = auth_->login("nobody", kPassword, "10.0.0.1");
  ASSERT_FALSE(wrong.ok());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(wrong.error().reason, "bad_credentials");
  EXPECT_EQ(unknown.error().reason, "bad_credentials");
  EXPECT_EQ(wrong.error().detail, unknown.error().detail);
}

TEST_F(AuthTest, FiveFailuresLockTheAccountWithGrowingBackOff) {
  add("wang", "viewer");
  for (int i = 0; i < 5; ++i) {
    auto r = auth_->login("wang", "Wrong-password-1", "10.0.0.1");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "bad_credentials") << i;
  }
  // The sixth attempt is refused even with the right password, without checking it.
  std::int64_t wait = 0;
  auto locked = auth_->login("wang", kPassword, "10.0.0.1", &wait);
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.error().reason, "locked");
  EXPECT_EQ(wait, 60'000);

  clock_.now += 60'001;
  auto wrong = auth_->login("wang", "Wrong-password-1", "10.0.0.1");  // 6th failure: 2 minutes
  EXPECT_EQ(wrong.error().reason, "bad_credentials");
  auto locked2 = auth_->login("wang", kPassword, "10.0.0.1", &wait);
  EXPECT_EQ(locked2.error().reason, "locked");
  EXPECT_EQ(wait, 120'000);

  clock_.now += 120'001;
  ASSERT_TRUE(auth_->login("wang", kPassword, "10.0.0.1").ok());  // success resets the count
  auto after = auth_->login("wang", "Wrong-password-1", "10.0.0.1");
  EXPECT_EQ(after.error().reason, "bad_credentials");
  EXPECT_TRUE(auth_->login("wang", kPassword, "10.0.0.1").ok());
}

TEST_F(AuthTest, DisabledUsersLoseTheirSessionsAndCannotLogIn) {
  add("wang", "viewer");
  auto ok = auth_->login("wang", kPassword, "10.0.0.1");
  ASSERT_TRUE(ok.ok());
  ASSERT_TRUE(auth_->set_disabled("wang", true, "admin", "cli").ok());
  EXPECT_FALSE(auth_->authenticate(ok->token));
  EXPECT_EQ(auth_->login("wang", kPassword, "10.0.0.1").error().reason, "bad_credentials");
}

TEST_F(AuthTest, AddUserRefusesBadInputAndDuplicates) {
  add("wang", "viewer");
  auto city = *parse_scopes("city");
  EXPECT_EQ(auth_->add_user("wang", "viewer", city, kPassword, "t", "cli").error().reason,
            "exists");
  EXPECT_EQ(auth_->add_user("li", "king", city, kPassword, "t", "cli").error().reason, "bad_role");
  EXPECT_EQ(auth_->add_user("li", "viewer", city, "weak", "t", "cli").error().reason,
            "weak_password");
  EXPECT_EQ(auth_->add_user("li si", "viewer", city, kPassword, "t", "cli").error().reason,
            "bad_name");
  EXPECT_EQ(auth_->add_user("corp", "enterprise", city, kPassword, "t", "cli").error().reason,
            "bad_scope");
}

TEST_F(AuthTest, ApiKeysAuthenticateUntilRevokedAndAreStoredOnlyAsHashes) {
  auto created =
      auth_->create_api_key("scraper", "viewer", *parse_scopes("county:510802"), "t", "cli");
  ASSERT_TRUE(created.ok());
  const std::string key = created->second;
  EXPECT_EQ(key.rfind("ek_" + created->first.id + "_", 0), 0u);
  auto who = auth_->authenticate(key);
  ASSERT_TRUE(who);
  EXPECT_TRUE(who->api_key);
  EXPECT_EQ(who->role, "viewer");
  EXPECT_FALSE(auth_->authenticate(key + "x"));

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT count(*) FROM auth_api_keys WHERE key_hash=?1 OR label=?1", -1,
                         &st, nullptr),
      SQLITE_OK);
  sqlite3_bind_text(st, 1, key.c_str(), -1, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 0);  // the key itself is nowhere
  sqlite3_finalize(st);
  sqlite3_close(db);

  ASSERT_TRUE(auth_->revoke_api_key(created->first.id, "t", "cli").ok());
  EXPECT_FALSE(auth_->authenticate(key));
  EXPECT_EQ(auth_->revoke_api_key(created->first.id, "t", "cli").error().reason, "not_found");
}

TEST_F(AuthTest, EveryChangeAndLoginIsInTheAuditTrailAndTheChainVerifies) {
  add("wang", "viewer");
  ASSERT_FALSE(auth_->login("wang", "Wrong-password-1", "10.0.0.9").ok());
  ASSERT_TRUE(auth_->login("wang", kPassword, "10.0.0.9").ok());
  ASSERT_TRUE(auth_->create_api_key("", "viewer", *parse_scopes("city"), "wang", "10.0.0.9").ok());
  ASSERT_TRUE(auth_->audit("wang", "site.edit", "2523A", "{\"name\":\"x\"}", "10.0.0.9").ok());
  auto entries = auth_->audit_entries(AuditQuery{});
  ASSERT_TRUE(entries.ok());
  std::vector<std::string> actions;
  for (auto it = entries->rbegin(); it != entries->rend(); ++it) actions.push_back(it->action);
  EXPECT_EQ(actions, (std::vector<std::string>{"user.add", "login.failed", "login", "apikey.create",
                                               "site.edit"}));
  auto v = auth_->verify_audit();
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->entries, 5);
  EXPECT_FALSE(v->first_broken);
}

TEST_F(AuthTest, VerifyNamesTheFirstTamperedEntry) {
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(auth_->audit("a", "x", std::to_string(i), "", "c").ok());
  tamper("UPDATE audit_log SET target='changed' WHERE seq=4");
  auto v = auth_->verify_audit();
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v->first_broken);
  EXPECT_EQ(*v->first_broken, 4);
}

TEST_F(AuthTest, VerifyNamesARecomputedHashByItsBrokenSuccessor) {
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(auth_->audit("a", "x", std::to_string(i), "", "c").ok());
  // An intruder who also recomputes the row's own hash breaks the next entry's link.
  auto entries = *auth_->audit_entries(AuditQuery{});
  AuditEntry e3;
  for (const auto& e : entries) {
    if (e.seq == 3) e3 = e;
  }
  e3.detail = "forged";
  tamper("UPDATE audit_log SET detail='forged', hash='" + audit_hash(e3) + "' WHERE seq=3");
  auto v = auth_->verify_audit();
  ASSERT_TRUE(v->first_broken);
  EXPECT_EQ(*v->first_broken, 4);
}

TEST_F(AuthTest, VerifyNoticesThatTheNewestEntriesWereRemoved) {
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(auth_->audit("a", "x", std::to_string(i), "", "c").ok());
  ASSERT_TRUE(auth_->verify_audit()->head_checked);
  // The shorter chain still links; the head file remembers that it reached entry 6.
  tamper("DELETE FROM audit_log WHERE seq>=5");
  auto v = auth_->verify_audit();
  ASSERT_TRUE(v->first_broken);
  EXPECT_EQ(*v->first_broken, 5);
  EXPECT_NE(v->reason.find("are missing"), std::string::npos) << v->reason;
}

TEST_F(AuthTest, VerifyNamesADeletedEntry) {
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(auth_->audit("a", "x", std::to_string(i), "", "c").ok());
  tamper("DELETE FROM audit_log WHERE seq=2");
  auto v = auth_->verify_audit();
  ASSERT_TRUE(v->first_broken);
  EXPECT_EQ(*v->first_broken, 3);
}

}  // namespace
}  // namespace ecomon::auth

namespace ecomon::auth {
namespace {

class SecretBoxTest : public ::testing::Test {
 protected:
  test::TempDir tmp_{"ecomon-secret"};
  std::filesystem::path dir_ = tmp_.path();
};

TEST_F(SecretBoxTest, SealsAndOpensWithTheSameMasterKeyOnly) {
  const std::string file = (dir_ / "secret.key").string();
  auto box = SecretBox::open_or_create(file);
  ASSERT_TRUE(box.ok()) << box.error().detail;
  EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string key = "0123456789ABCDEF0123456789ABCDEF";
  const std::string sealed = box->seal(key);
  EXPECT_TRUE(SecretBox::is_sealed(sealed));
  EXPECT_EQ(sealed.find(key), std::string::npos);
  EXPECT_NE(sealed, box->seal(key));  // a fresh nonce every time
  EXPECT_EQ(*box->open(sealed), key);
  auto again = SecretBox::open_or_create(file);  // the same file: the same master key
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again->open(sealed), key);

  auto other = SecretBox::open_or_create((dir_ / "other.key").string());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->open(sealed).error().reason, "bad_secret");
  std::string tampered = sealed;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(box->open(tampered).error().reason, "bad_secret");
  EXPECT_EQ(box->open("enc:v1:!!").error().reason, "bad_secret");
  EXPECT_EQ(box->open(key).error().reason, "not_sealed");
}

TEST_F(SecretBoxTest, RefusesAKeyFileOfTheWrongSize) {
  const std::string file = (dir_ / "secret.key").string();
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    std::fputs("short", f);
    std::fclose(f);
  }
  EXPECT_EQ(SecretBox::open_or_create(file).error().reason, "bad_key_file");
}

TEST_F(SecretBoxTest, RegistryFilesHoldSm4KeysSealedAndLoadThemBack) {
  auto box = *SecretBox::open_or_create((dir_ / "secret.key").string());
  const registry::SecretCodec codec{[&](std::string_view p) { return box.seal(p); },
                                    [&](std::string_view s) { return box.open(s); },
                                    [](std::string_view t) { return SecretBox::is_sealed(t); }};
  auto reg = registry::load_registry(ECOMON_TESTDATA_DIR "/../config/registry");
  ASSERT_TRUE(reg.ok()) << reg.error().detail;
  registry::Device d;
  d.mn = "GY2025SM4000001";
  d.st = "22";
  d.password = "123456";
  d.profile.version = 2025;
  d.profile.sm4_key_hex = "0123456789ABCDEF0123456789ABCDEF";
  auto edited = reg->with_device(d);
  ASSERT_TRUE(edited.ok()) << edited.error().detail;
  const std::string out = (dir_ / "registry").string();
  ASSERT_TRUE(registry::save_registry(*edited, out, codec).ok());
  std::ifstream in(out + "/devices.csv");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("0123456789ABCDEF0123456789ABCDEF"), std::string::npos);
  EXPECT_NE(text.find("enc:v1:"), std::string::npos);
  auto back = registry::load_registry(out, codec);
  ASSERT_TRUE(back.ok()) << back.error().detail;
  EXPECT_EQ(back->find_device("GY2025SM4000001")->profile.sm4_key_hex,
            "0123456789ABCDEF0123456789ABCDEF");
  // Without the master key the file does not load: a sealed cell is not a key.
  EXPECT_FALSE(registry::load_registry(out).ok());
  auto other = *SecretBox::open_or_create((dir_ / "other.key").string());
  const registry::SecretCodec wrong{nullptr, [&](std::string_view s) { return other.open(s); },
                                    [](std::string_view t) { return SecretBox::is_sealed(t); }};
  auto refused = registry::load_registry(out, wrong);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().detail.find("sm4_key_hex"), std::string::npos);
}

}  // namespace
}  // namespace ecomon::auth
