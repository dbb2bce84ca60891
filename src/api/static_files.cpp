#include "api/static_files.h"

#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>

namespace ecomon::api {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes{{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".geojson", "application/geo+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff", "font/woff"},
    {".woff2", "font/woff2"},
    {".ttf", "font/ttf"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
}};

bool safe_segment(const std::string& s) {
  if (s.empty() || s.front() == '.') return false;
  return s.find_first_of(std::string_view("/\\\0", 3)) == std::string::npos;
}

std::optional<std::string> read_file(const fs::path& p) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

Response file_response(const fs::path& p, std::string body, bool immutable, bool gzipped) {
  Response r{200, content_type_of(p.filename().string()), std::move(body), {}};
  if (gzipped) r.headers.emplace_back("Content-Encoding", "gzip");
  r.headers.emplace_back("Vary", "Accept-Encoding");
  // Hashed asset names never change their content; pages are checked on every load so a new
  // build is seen at once.
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return r;
}

constexpr std::string_view kNotBuilt =
    "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>ecomon</title>"
    "<p>网页界面尚未构建 — the web front-end is not built. Run <code>make web</code> "
    "(or <code>ecomon serve --web-root DIR</code>). The API is at <code>/api/</code>.</p></html>";

// The file, or its gzip copy when the client takes one and it exists.
std::optional<Response> answer(const fs::path& p, bool immutable, bool gzip) {
  if (gzip) {
    fs::path gz = p;
    gz += ".gz";
    if (auto body = read_file(gz)) return file_response(p, std::move(*body), immutable, true);
  }
  if (auto body = read_file(p)) return file_response(p, std::move(*body), immutable, false);
  return std::nullopt;
}

}  // namespace

bool accepts_gzip(const std::string& accept_encoding) {
  std::string_view rest(accept_encoding);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    const auto semi = item.find(';');
    std::string_view token = item.substr(0, semi);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token != "gzip" && token != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = item.substr(semi + 1);
    const auto q = params.find("q=");
    if (q == std::string_view::npos) return true;
    double v = 1;
    std::string_view num = params.substr(q + 2);
    const auto r = std::from_chars(num.data(), num.data() + num.size(), v);
    return r.ec != std::errc() || v > 0;
  }
  return false;
}

std::string content_type_of(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot != std::string::npos) {
    const std::string_view ext = std::string_view(name).substr(dot);
    for (const auto& [e, type] : kTypes) {
      if (e == ext) return std::string(type);
    }
  }
  return "application/octet-stream";
}

std::optional<Response> serve_static(const std::string& root,
                                     const std::vector<std::string>& segments, bool gzip) {
  const bool console = !segments.empty() && segments.front() == "console";
  if (root.empty()) {
    if (segments.empty() || console) {
      return Response{200, "text/html; charset=utf-8", std::string(kNotBuilt), {}};
    }
    return std::nullopt;
  }
  for (const auto& s : segments) {
    if (!safe_segment(s)) return std::nullopt;
  }
  fs::path p(root);
  for (const auto& s : segments) p /= s;
  if (segments.empty()) p /= "index.html";
  const bool immutable = segments.size() >= 2 && segments.front() == "assets";
  if (auto r = answer(p, immutable, gzip)) return r;
  if (console) {
    // A route of the dashboard (/console/sites/2526A): the app's page, which routes itself.
    return answer(fs::path(root) / "console" / "index.html", false, gzip);
  }
  return std::nullopt;
}

}  // namespace ecomon::api
