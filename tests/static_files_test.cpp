// The web front-end's files (api/static_files.h): the portal at /, the dashboard's single-page
// routes under /console/, cache headers, and hostile paths that must not leave the directory.
#include "api/static_files.h"

#include <gtest/gtest.h>

#include <fstream>

#include "api/routes_internal.h"
#include "test_util.h"

namespace ecomon::api {
namespace {

void write(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

std::string header(const Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "dist";
    write(root_ / "index.html", "portal");
    write(root_ / "console" / "index.html", "console");
    write(root_ / "assets" / "portal-abc123.js", "js");
    write(root_ / "assets" / "console-def456.css", "css");
    write(dir_.path() / "secret.txt", "secret");
    write(root_ / ".env", "hidden");
  }
  std::optional<Response> get(const std::string& target) {
    return serve_static(root_.string(), detail::parse_target(target).segments);
  }
  test::TempDir dir_;
  std::filesystem::path root_;
};

TEST_F(StaticFiles, RootIsThePortalAndIsRevalidated) {
  auto r = get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "portal");
  EXPECT_EQ(r->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(header(*r, "Cache-Control"), "no-cache");
}

TEST_F(StaticFiles, HashedAssetsAreCachedForAYear) {
  auto r = get("/assets/portal-abc123.js");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "js");
  EXPECT_EQ(r->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(header(*r, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(get("/assets/console-def456.css")->content_type, "text/css; charset=utf-8");
}

TEST_F(StaticFiles, DashboardRoutesAnswerTheDashboardPage) {
  for (const char* path : {"/console", "/console/", "/console/sites/2526A", "/console/audit?x=1"}) {
    auto r = get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->body, "console") << path;
  }
}

TEST_F(StaticFiles, UnknownFilesOutsideTheDashboardAreNotOurs) {
  EXPECT_FALSE(get("/favicon.ico"));
  EXPECT_FALSE(get("/assets/missing.js"));
}

TEST_F(StaticFiles, HostilePathsNeverLeaveTheDirectory) {
  for (const char* path :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt", "/.env",
        "/assets/%2e%2e/%2e%2e/secret.txt", "/..\\secret.txt", "/assets/%00portal-abc123.js"}) {
    auto r = get(path);
    EXPECT_FALSE(r && r->body == "secret") << path;
    EXPECT_FALSE(r && r->body == "hidden") << path;
    EXPECT_FALSE(r) << path;
  }
  // Under /console/ a refused path is still only the dashboard's page, never the file.
  auto r = get("/console/%2e%2e/%2e%2e/secret.txt");
  EXPECT_FALSE(r && r->body == "secret");
}

TEST_F(StaticFiles, WithoutABuiltFrontEndTheRootSaysHowToBuildIt) {
  auto r = serve_static("", {});
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("make web"), std::string::npos);
  EXPECT_FALSE(serve_static("", {"assets", "x.js"}));
}

TEST_F(StaticFiles, AGzipCopyGoesToClientsThatTakeIt) {
  write(root_ / "assets" / "portal-abc123.js.gz", "GZ");
  auto r = serve_static(root_.string(), {"assets", "portal-abc123.js"}, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "GZ");
  EXPECT_EQ(header(*r, "Content-Encoding"), "gzip");
  EXPECT_EQ(r->content_type, "text/javascript; charset=utf-8");  // the file's type, not gzip's
  EXPECT_EQ(header(*r, "Vary"), "Accept-Encoding");
  r = serve_static(root_.string(), {"assets", "portal-abc123.js"}, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "js");
  EXPECT_EQ(header(*r, "Content-Encoding"), "");
  // No copy: the plain file, even to a client that takes gzip.
  r = serve_static(root_.string(), {"assets", "console-def456.css"}, true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "css");
  EXPECT_EQ(header(*r, "Content-Encoding"), "");
}

TEST(AcceptsGzip, ReadsTheHeaderAsRfc9110Says) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br, zstd"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, gzip;q=0.8"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("x-gzip2"));
}

TEST(ContentType, ByExtension) {
  EXPECT_EQ(content_type_of("a.json"), "application/json");
  EXPECT_EQ(content_type_of("a.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_of("a.woff2"), "font/woff2");
  EXPECT_EQ(content_type_of("noext"), "application/octet-stream");
  EXPECT_EQ(content_type_of("a.exe"), "application/octet-stream");
}

}  // namespace
}  // namespace ecomon::api
