# One command per job, the same locally and in CI. See README.md.
SHELL := /bin/bash
JOBS ?= 2
FUZZ_SECONDS ?= 60
CAPTURE := data/hj212_capture_2016-08-24/hj212-2005-capture-2016-08-24.txt.gz

WEB_SOURCES := $(shell find web/src web/console web/index.html web/vite.config.js web/package.json web/package-lock.json -type f 2>/dev/null)

.PHONY: deps web build demo demo-hj212 test check format format-check layers bench fuzz clean

deps:
	@bash scripts/install-deps.sh

# Release binary at build/release/ecomon.
build: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target ecomon

# The web front-end (web/dist: portal at /, dashboard at /console/), served by `ecomon serve`.
# npm ci only when package-lock.json changed; Vite only when a source changed.
web: deps web/dist/index.html

web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

# The platform on ./var with the Guangyuan registry, fed by the simulator through HJ 212.
demo: build web
	bash scripts/demo.sh

# The codec over one day of real traffic (176,515 frames, 2016-08-24): a summary.
demo-hj212: build
	gzip -dc $(CAPTURE) | build/release/ecomon hj212 summary

# Sanitizer (ASan + UBSan) build and every test, including the fuzz corpus replay and the
# browser tests of web/ (web.e2e).
test: deps web
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)
	ctest --preset dev -j $(JOBS)

check: format-check layers test

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

format-check:
	git ls-files '*.cpp' '*.h' | xargs clang-format --dry-run --Werror

layers:
	python3 scripts/check_layers.py src

bench: deps web
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target hj212_bench standards_bench storage_bench alarm_bench derived_bench
	build/release/bench/hj212_bench --capture $(CAPTURE)
	build/release/bench/standards_bench
	build/release/bench/storage_bench
	build/release/bench/alarm_bench
	build/release/bench/derived_bench
	cmake --build --preset release -j $(JOBS) --target ecomon
	bash scripts/bench_ingest.sh
	ECOMON=build/release/ecomon python3 scripts/bench_alarm_latency.py
	ECOMON=build/release/ecomon python3 scripts/bench_auth.py
	ECOMON=build/release/ecomon python3 scripts/bench_backfill.py
	$(MAKE) web
	cd web && ECOMON=../build/release/ecomon npx --no-install playwright test -c bench.config.ts --reporter=line

# libFuzzer for FUZZ_SECONDS per target; new crashes land in build/fuzz/crashes/.
fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS) --target hj212_fuzz
	mkdir -p build/fuzz/corpus build/fuzz/crashes
	build/fuzz/fuzz/hj212_fuzz -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/crashes/ \
	  -dict=fuzz/hj212.dict \
	  -max_len=4096 build/fuzz/corpus testdata/hj212/corpus testdata/hj212/corpus-2025 testdata/hj212/regressions

clean:
	rm -rf build
