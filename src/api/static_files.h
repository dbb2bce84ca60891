// The web front-end (issue #8): the built files of web/ (Vite's `dist/`) served from a directory.
//
//   /                 → index.html (the public portal)
//   /console, /console/…  → the file if it exists, else console/index.html (the dashboard is a
//                       single-page app: its routes are paths under /console/)
//   /assets/…         → the file; hashed names, so cached for a year (immutable)
//   anything else that is a file of the directory → the file; otherwise not ours (nullopt)
//
// A file with a gzip copy beside it (`NAME.gz`, written by the web build) is answered with the
// copy to a client that accepts gzip (Content-Encoding: gzip, Vary: Accept-Encoding).
//
// Paths are checked before they touch the file system: a segment that is empty, starts with a
// dot (`..`, hidden files) or holds a backslash or NUL is refused, so nothing outside the
// directory can be named. Files are read per request (the front-end is a handful of files and
// the OS caches them).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "api/http_api.h"

namespace ecomon::api {

// The answer for a GET/HEAD of `segments` (the decoded path split at '/'), or nullopt when the
// path is not the front-end's (the API's own 404 then applies). `root` empty: the front-end is
// not installed; `/` then answers a short page saying how to build it.
std::optional<Response> serve_static(const std::string& root,
                                     const std::vector<std::string>& segments,
                                     bool accepts_gzip = false);

// True when an Accept-Encoding header value accepts gzip (a `gzip` token without `q=0`).
bool accepts_gzip(const std::string& accept_encoding);

// The content type of a file name by its extension ("application/octet-stream" if unknown).
std::string content_type_of(const std::string& name);

}  // namespace ecomon::api
