// Backup and restore of the SQLite store (storage/sqlite/backup.h): what a backup holds comes back
// whole, a backup taken during writes is a snapshot of whole batches, and every file that is not a
// good backup is refused with its reason before anything in the target is touched.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/sqlite/backup.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store.h"
#include "test_util.h"

namespace ecomon::storage {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
constexpr std::int64_t kHour = 3'600'000;

// Creates its directory under the given prefix (ecomon::test::TempDir).
struct TempDir : test::TempDir {
  TempDir() : test::TempDir("ecomon-backup") {}
};
using test::describe;
using test::ok;

void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void run_sql(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK) << message;
  sqlite3_free(message);
  sqlite3_close(db);
}

std::vector<std::string> table_names(const fs::path& file) {
  sqlite3* db = nullptr;
  std::vector<std::string> out;
  EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(
      sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
                         -1, &s, nullptr),
      SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

Value make_value(const std::string& mn, const std::string& factor, std::int64_t measured_ms,
                 const std::string& text) {
  Value v;
  v.site = "S-" + mn;
  v.mn = mn;
  v.factor = factor;
  v.field = "Avg";
  v.kind = DataKind::kHour;
  v.measured_ms = measured_ms;
  v.received_ms = measured_ms + 60'000;
  v.text = text;
  v.number = std::stod(text);
  v.flag = "N";
  return v;
}

FrameWrite make_frame(const std::string& mn, std::vector<Value> values) {
  FrameWrite fw;
  fw.frame.mn = mn;
  fw.frame.cn = "2061";
  fw.frame.peer = "203.0.113.7:50412";
  fw.frame.received_ms = values.front().received_ms;
  fw.frame.outcome = "stored";
  fw.frame.bytes = "##0000QN=1;ST=22;CN=2061;MN=" + mn + ";CP=&&&&0000\r\n";
  fw.values = std::move(values);
  return fw;
}

// One frame of `values_per_frame` values of device `mn` at hour `hour`.
std::vector<FrameWrite> batch_of(const std::string& mn, int hour, int values_per_frame,
                                 const std::string& text = "1.5") {
  std::vector<Value> values;
  for (int f = 0; f < values_per_frame; ++f) {
    values.push_back(make_value(mn, "a3400" + std::to_string(f), kT0 + hour * kHour, text));
  }
  std::vector<FrameWrite> batch;
  batch.push_back(make_frame(mn, std::move(values)));
  return batch;
}

// Everything a store holds that a reader can see, one line per value version and frame.
std::vector<std::string> contents(Store& store) {
  std::vector<std::string> out;
  for (const auto& c : ok(store.changes(0, 1'000'000))) {
    const Value& v = c.value;
    out.push_back(std::to_string(c.sequence) + " " + v.mn + " " + std::string(kind_name(v.kind)) +
                  " " + std::to_string(v.measured_ms) + " " + v.factor + "-" + v.field + " v" +
                  std::to_string(v.version) + " " + v.text + " " + v.flag + " @" + v.site + " q" +
                  std::to_string(v.quality) + " f" + std::to_string(v.frame_id) + " r" +
                  std::to_string(v.received_ms));
  }
  const auto frames = ok(store.frame_count());
  for (std::uint64_t id = 1; id <= frames; ++id) {
    const auto f = ok(store.frame(id));
    if (f) out.push_back("frame " + std::to_string(f->id) + " " + f->mn + " " + f->bytes);
  }
  return out;
}

// A data directory: var/ecomon.db and var/registry/.
struct DataDir {
  explicit DataDir(fs::path dir) : root(std::move(dir)) {}
  fs::path root;
  fs::path store() const { return root / "ecomon.db"; }
  BackupLayout layout() const {
    return BackupLayout{store().string(), root.string(), {"registry"}};
  }
};

BackupOptions backup_options(bool force = false) {
  BackupOptions o;
  o.force = force;
  o.now_ms = kT0;
  o.ecomon_version = "test";
  return o;
}

// A store with a few devices, a second version of some values, an extra table (as the auth
// tables are), and registry edits including a nested, binary file.
void fill(const DataDir& d) {
  fs::create_directories(d.root);
  auto store = ok(open_sqlite_store(d.store().string()));
  ASSERT_NE(store, nullptr);
  for (const std::string mn : {"MN001", "MN002", "MN003"}) {
    for (int hour = 0; hour < 40; ++hour) {
      auto batch = batch_of(mn, hour, 4);
      ok(store->write(batch));
    }
    auto changed = batch_of(mn, 7, 4, "2.5");  // new versions
    ok(store->write(changed));
  }
  run_sql(d.store(),
          "CREATE TABLE users(name TEXT PRIMARY KEY, role TEXT); "
          "INSERT INTO users VALUES('wang', 'admin');");
  write_file(d.root / "registry" / "sites.csv", "code,name\n2526A,监测站\n");
  write_file(d.root / "registry" / "devices.csv", "mn,st\nMN001,22\n");
  write_file(d.root / "registry" / "extra" / "blob.bin", std::string("a\0b\r\n", 5));
}

TEST(StorageBackup, RestoreGivesBackEveryValueFrameTableAndRegistryFile) {
  TempDir tmp;
  const DataDir source(tmp.path() / "var");
  fill(source);
  const auto file = tmp.path() / "backup.db";

  const auto info = ok(backup_sqlite(source.layout(), file.string(), backup_options()));
  EXPECT_EQ(info.format_version, kBackupFormatVersion);
  EXPECT_EQ(info.created_at, "2024-01-01T08:00:00+08:00");
  EXPECT_EQ(info.value_count, 3u * (40 * 4 + 4));
  EXPECT_EQ(info.frame_count, 3u * 41);
  EXPECT_EQ(info.file_count, 3u);
  EXPECT_EQ(info.bytes, fs::file_size(file));
  EXPECT_FALSE(fs::exists(file.string() + ".tmp"));
  EXPECT_FALSE(fs::exists(file.string() + "-wal"));  // a single file, rollback-journal mode
  EXPECT_TRUE(contains(table_names(file), "ecomon_backup_meta"));
  // It holds password and key hashes: the owner's alone.
  EXPECT_EQ(fs::status(file).permissions() & (fs::perms::group_all | fs::perms::others_all),
            fs::perms::none);

  const DataDir target(tmp.path() / "restored");
  const auto restored = ok(restore_sqlite(file.string(), target.layout(), {}));
  EXPECT_EQ(restored.value_count, info.value_count);
  EXPECT_EQ(restored.created_at, info.created_at);
  EXPECT_EQ(restored.ecomon_version, "test");
  EXPECT_EQ(restored.source, fs::absolute(source.store()).lexically_normal().string());

  EXPECT_FALSE(fs::exists(target.store().string() + ".restore-tmp"));
  EXPECT_FALSE(fs::exists(target.store().string() + "-wal"));
  // The store's own tables and the extra one; none of the backup's.
  const auto tables = table_names(target.store());
  EXPECT_TRUE(contains(tables, "users"));
  EXPECT_TRUE(contains(tables, "value_versions"));
  EXPECT_FALSE(contains(tables, "ecomon_backup_meta"));
  EXPECT_FALSE(contains(tables, "ecomon_backup_files"));

  auto before = ok(open_sqlite_store(source.store().string()));
  auto after = ok(open_sqlite_store(target.store().string()));
  ASSERT_NE(after, nullptr);
  const auto want = contents(*before);
  EXPECT_EQ(want.size(), info.value_count + info.frame_count);
  EXPECT_EQ(contents(*after), want);
  EXPECT_EQ(ok(after->latest("S-MN002")).size(), 4u);
  // The restored store takes writes where the old one left off.
  auto more = batch_of("MN001", 100, 1);
  EXPECT_EQ(ok(after->write(more)).last_sequence, info.value_count + 1);

  for (const char* name : {"sites.csv", "devices.csv", "extra/blob.bin"}) {
    EXPECT_EQ(read_file(target.root / "registry" / name),
              read_file(source.root / "registry" / name))
        << name;
  }
}

TEST(StorageBackup, ABackupDuringWritesHoldsEveryBatchCommittedBeforeItAndOnlyWholeBatches) {
  TempDir tmp;
  const DataDir source(tmp.path() / "var");
  fs::create_directories(source.root);
  constexpr int kValuesPerFrame = 7;
  std::atomic<std::uint64_t> committed{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  // Another connection (as `ecomon serve` is another process) writes as fast as it can.
  auto writer_store = ok(open_sqlite_store(source.store().string()));
  ASSERT_NE(writer_store, nullptr);
  std::thread writer([&] {
    for (int hour = 0; !stop; ++hour) {
      auto batch = batch_of("MN-LOAD", hour, kValuesPerFrame);
      auto r = writer_store->write(batch);
      if (!r.ok()) {
        failed = true;
        return;
      }
      committed = r->last_sequence;
    }
  });
  while (committed < 200 * kValuesPerFrame)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));

  const auto file = tmp.path() / "backup.db";
  const std::uint64_t before_backup = committed;
  const auto info = ok(backup_sqlite(source.layout(), file.string(), backup_options()));
  stop = true;
  writer.join();
  ASSERT_FALSE(failed);

  EXPECT_GE(info.value_count, before_backup);
  EXPECT_EQ(info.value_count % kValuesPerFrame, 0u) << "a batch was split";
  const DataDir target(tmp.path() / "restored");
  ok(restore_sqlite(file.string(), target.layout(), {}));
  auto restored = ok(open_sqlite_store(target.store().string()));
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(ok(restored->value_count()), info.value_count);
  const auto changes = ok(restored->changes(0, 10'000'000));
  ASSERT_EQ(changes.size(), info.value_count);
  for (std::uint64_t i = 0; i < changes.size(); ++i) {
    ASSERT_EQ(changes[i].sequence, i + 1);
    ASSERT_EQ(changes[i].value.measured_ms,
              kT0 + static_cast<std::int64_t>(i / kValuesPerFrame) * kHour);
  }
}

TEST(StorageBackup, AnExistingBackupFileIsReplacedOnlyWithForce) {
  TempDir tmp;
  const DataDir source(tmp.path() / "var");
  fill(source);
  const auto file = tmp.path() / "backup.db";
  write_file(file, "keep me");
  auto r = backup_sqlite(source.layout(), file.string(), backup_options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "exists") << describe(r.error());
  EXPECT_NE(r.error().detail.find("--force"), std::string::npos);
  EXPECT_EQ(read_file(file), "keep me");
  ok(backup_sqlite(source.layout(), file.string(), backup_options(true)));
  EXPECT_TRUE(contains(table_names(file), "ecomon_backup_files"));
}

TEST(StorageBackup, BackupRefusesWhatIsNotAStoreAndTargetsInsideTheData) {
  TempDir tmp;
  const DataDir d(tmp.path() / "var");
  const auto file = (tmp.path() / "backup.db").string();
  auto r = backup_sqlite(d.layout(), file, backup_options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "no_store") << describe(r.error());

  write_file(d.store(), std::string(8192, 'z'));
  r = backup_sqlite(d.layout(), file, backup_options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "not_a_store") << describe(r.error());

  fs::remove(d.store());
  run_sql(d.store(), "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
  r = backup_sqlite(d.layout(), file, backup_options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "not_a_store") << describe(r.error());
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(fs::exists(file + ".tmp"));

  fs::remove(d.store());
  fill(d);
  for (const auto& inside :
       {d.store(), fs::path(d.store().string() + "-wal"), d.root / "registry" / "backup.db"}) {
    r = backup_sqlite(d.layout(), inside.string(), backup_options(true));
    ASSERT_FALSE(r.ok()) << inside;
    EXPECT_EQ(r.error().reason, "bad_target") << describe(r.error());
  }
}

TEST(StorageBackup, RestoreReplacesAnExistingStoreAndRegistryOnlyWithForce) {
  TempDir tmp;
  const DataDir source(tmp.path() / "var");
  fill(source);
  const auto file = tmp.path() / "backup.db";
  const auto info = ok(backup_sqlite(source.layout(), file.string(), backup_options()));

  // A target with a store of its own, a stale -wal and a registry edit the backup does not have.
  const DataDir target(tmp.path() / "other");
  fs::create_directories(target.root);
  {
    auto store = ok(open_sqlite_store(target.store().string()));
    auto batch = batch_of("OTHER", 0, 3);
    ok(store->write(batch));
  }
  write_file(target.root / "registry" / "stale.csv", "x\n");
  const auto old_store = read_file(target.store());

  auto r = restore_sqlite(file.string(), target.layout(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "exists") << describe(r.error());
  EXPECT_NE(r.error().detail.find("ecomon.db"), std::string::npos);
  EXPECT_EQ(read_file(target.store()), old_store);

  // Only the registry: refused too (it would be replaced).
  fs::remove(target.store());
  r = restore_sqlite(file.string(), target.layout(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "exists") << describe(r.error());
  EXPECT_NE(r.error().detail.find("registry"), std::string::npos);

  write_file(target.store(), old_store);
  write_file(target.store().string() + "-wal", std::string(4096, 'w'));
  ok(restore_sqlite(file.string(), target.layout(), {true}));
  auto restored = ok(open_sqlite_store(target.store().string()));
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(ok(restored->value_count()), info.value_count);
  RecordQuery q;
  q.mn = "OTHER";
  EXPECT_TRUE(ok(restored->records(q)).empty());
  EXPECT_FALSE(fs::exists(target.root / "registry" / "stale.csv"));
  EXPECT_TRUE(fs::exists(target.root / "registry" / "sites.csv"));
  EXPECT_FALSE(fs::exists(target.root / "registry.restore-old"));
  EXPECT_FALSE(fs::exists(target.root / "registry.restore-tmp"));
}

TEST(StorageBackup, ABackupWithoutRegistryEditsRemovesTheTargetsOnForce) {
  TempDir tmp;
  const DataDir source(tmp.path() / "var");
  fill(source);
  fs::remove_all(source.root / "registry");
  const auto file = tmp.path() / "backup.db";
  EXPECT_EQ(ok(backup_sqlite(source.layout(), file.string(), backup_options())).file_count, 0u);
  const DataDir target(tmp.path() / "other");
  write_file(target.root / "registry" / "sites.csv", "edited later\n");
  ok(restore_sqlite(file.string(), target.layout(), {true}));
  EXPECT_FALSE(fs::exists(target.root / "registry"));  // the shipped registry applies, as it did
}

// Each case makes a file from a good backup; restore must refuse it with the reason, touch
// nothing in the target, and leave the file as it was.
struct BadFile {
  std::string name;
  std::string reason;
  std::string says;  // part of the detail
  std::function<void(const fs::path& good, const fs::path& bad)> make;
};

void PrintTo(const BadFile& b, std::ostream* os) { *os << b.name; }

void copy_then_sql(const fs::path& good, const fs::path& bad, const std::string& sql) {
  fs::copy_file(good, bad);
  run_sql(bad, sql);
}

class StorageBackupRefuses : public ::testing::TestWithParam<BadFile> {};

TEST_P(StorageBackupRefuses, TheFileWithItsReason) {
  TempDir tmp;
  const DataDir source(tmp.path() / "var");
  fill(source);
  const auto good = tmp.path() / "good.db";
  ok(backup_sqlite(source.layout(), good.string(), backup_options()));
  const auto bad = tmp.path() / "bad.db";
  GetParam().make(good, bad);
  const auto bytes = read_file(bad);

  const DataDir target(tmp.path() / "target");
  fs::create_directories(target.root);
  auto r = restore_sqlite(bad.string(), target.layout(), {true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, GetParam().reason) << describe(r.error());
  EXPECT_NE(r.error().detail.find(GetParam().says), std::string::npos) << describe(r.error());
  EXPECT_EQ(r.error().detail.find('\n'), std::string::npos);  // one line
  EXPECT_EQ(read_file(bad), bytes);
  std::vector<std::string> left;
  for (const auto& e : fs::recursive_directory_iterator(tmp.path())) {
    const auto rel = e.path().lexically_relative(tmp.path()).generic_string();
    if (rel.rfind("var", 0) != 0 && rel != "good.db" && rel.rfind("bad.db", 0) != 0)
      left.push_back(rel);
  }
  EXPECT_EQ(left, (std::vector<std::string>{"target"}));
}

std::string random_bytes(std::size_t n) {
  std::mt19937 random(42);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(random());
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Files, StorageBackupRefuses,
    ::testing::Values(
        BadFile{"Missing", "not_found", "no such backup file",
                [](const fs::path&, const fs::path&) {}},
        BadFile{"RandomBytes", "not_a_backup", "not an SQLite database",
                [](const fs::path&, const fs::path& bad) { write_file(bad, random_bytes(65536)); }},
        BadFile{"Empty", "not_a_backup", "empty",
                [](const fs::path&, const fs::path& bad) { write_file(bad, ""); }},
        BadFile{"OtherApplication", "not_a_backup", "another application",
                [](const fs::path&, const fs::path& bad) {
                  run_sql(bad, "CREATE TABLE t(x); INSERT INTO t VALUES(1);");
                }},
        BadFile{"AStoreNotABackup", "not_a_backup", "ecomon store",
                [](const fs::path&, const fs::path& bad) {
                  ok(open_sqlite_store(bad.string()));
                  ASSERT_FALSE(fs::exists(bad.string() + "-wal"));
                }},
        BadFile{"TruncatedToHalf", "corrupt", "damaged or truncated",
                [](const fs::path& good, const fs::path& bad) {
                  const auto bytes = read_file(good);
                  write_file(bad, bytes.substr(0, bytes.size() / 2));
                }},
        BadFile{"TruncatedToOnePage", "corrupt", "damaged or truncated",
                [](const fs::path& good, const fs::path& bad) {
                  write_file(bad, read_file(good).substr(0, 4096));
                }},
        BadFile{"APageOverwritten", "corrupt", "damaged or truncated",
                [](const fs::path& good, const fs::path& bad) {
                  auto bytes = read_file(good);
                  for (std::size_t i = 4096 * 3; i < 4096 * 4 && i < bytes.size(); ++i)
                    bytes[i] = 'x';
                  write_file(bad, bytes);
                }},
        BadFile{"NewerFormat", "backup_too_new", "newer ecomon",
                [](const fs::path& good, const fs::path& bad) {
                  copy_then_sql(good, bad,
                                "UPDATE ecomon_backup_meta SET value = '99' WHERE key = "
                                "'format_version'");
                }},
        BadFile{"NewerStoreSchema", "schema_too_new", "newer ecomon",
                [](const fs::path& good, const fs::path& bad) {
                  copy_then_sql(good, bad,
                                "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
                }},
        BadFile{"MetaWithoutFormat", "not_a_backup", "format_version",
                [](const fs::path& good, const fs::path& bad) {
                  copy_then_sql(good, bad,
                                "DELETE FROM ecomon_backup_meta WHERE key = 'format_version'");
                }},
        BadFile{"ValuesMissing", "corrupt", "value versions",
                [](const fs::path& good, const fs::path& bad) {
                  copy_then_sql(good, bad,
                                "DELETE FROM value_versions WHERE sequence = (SELECT max(sequence) "
                                "FROM value_versions)");
                }},
        BadFile{"APathOutsideTheRegistry", "not_a_backup", "../../evil",
                [](const fs::path& good, const fs::path& bad) {
                  copy_then_sql(good, bad,
                                "UPDATE ecomon_backup_files SET path = 'registry/../../evil' "
                                "WHERE path = 'registry/sites.csv'");
                }},
        BadFile{"AnAbsolutePath", "not_a_backup", "/tmp/evil",
                [](const fs::path& good, const fs::path& bad) {
                  copy_then_sql(good, bad,
                                "UPDATE ecomon_backup_files SET path = '/tmp/evil' WHERE path = "
                                "'registry/sites.csv'");
                }},
        BadFile{"AFileThatIsAlsoAFolder", "not_a_backup", "both a file and a folder",
                [](const fs::path& good, const fs::path& bad) {
                  copy_then_sql(good, bad,
                                "INSERT INTO ecomon_backup_files VALUES('registry/sites.csv/x', "
                                "'y'); UPDATE ecomon_backup_meta SET value = '4' WHERE key = "
                                "'file_count'");
                }}),
    [](const ::testing::TestParamInfo<BadFile>& param) { return param.param.name; });

}  // namespace
}  // namespace ecomon::storage
