#!/usr/bin/env bash
# Installs every Debian package that ecomon's build, tests, benchmarks and demo need now.
# Idempotent: installs only what is missing, and runs `apt-get update` only when it must.
# Add a package here in the same commit as the feature that needs it.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config python3 curl
  clang-14 libclang-rt-14-dev clang-format   # fuzz preset (libFuzzer) and `make format`
  libgtest-dev libgmock-dev libbenchmark-dev # tests and `make bench`
  libcli11-dev                               # command-line parsing
  libboost1.81-dev                           # Boost.Asio and Boost.Beast: device TCP and HTTP
  libboost-json1.81-dev                      # Boost.JSON: request bodies of the API
  libsqlite3-dev                             # the embedded store
  libtomlplusplus-dev                        # `ecomon serve --config FILE` (TOML)
  libssl-dev                                 # SM4 for HJ 212-2025, HTTPS (OpenSSL 3)
  openssl                                    # the CLI: test certificates for HTTPS (test_tls.py)
  libsodium-dev                              # argon2id password hashes, random tokens, SHA-256
  chromium                                   # browser tests of web/ (Playwright drives it)
  fonts-wqy-microhei                         # CJK glyphs for the browser tests' screenshots
)
# Node.js and npm build web/ (`make web`: npm ci, Vite). Debian's own nodejs only when none is
# installed: the machines come with Node.js 20, which Vite 7 needs (Debian 12 has 18).
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}"; then
    $sudo apt-get update
    $sudo apt-get install -y --no-install-recommends "${missing[@]}"
  fi
fi

# Vite 7 needs Node.js 20.19 or newer; say so plainly rather than failing inside `make web`.
node_version=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
IFS=. read -r node_major node_minor _ <<<"$node_version"
if [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 19 ]; }; then
  echo "install-deps: Node.js $node_version found; web/ (Vite 7) needs 20.19 or newer (Debian 12's nodejs is 18): install a newer Node.js" >&2
  exit 1
fi
