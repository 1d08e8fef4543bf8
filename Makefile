# Echo Lab's front door. `make help` lists the targets.

BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
WERROR     ?= ON
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
GENERATOR  := $(if $(shell command -v ninja 2>/dev/null),-G Ninja,)
CMAKE_ARGS := $(GENERATOR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DECHO_LAB_WERROR=$(WERROR)
PYTEST     ?= python3 -m pytest
CXX_FILES   = $(shell git ls-files -co --exclude-standard -- 'cpp/*.cpp' 'cpp/*.hpp' 2>/dev/null)

.PHONY: all build programs test test-cpp test-asan test-tsan test-peers peers bootstrap format format-check lint clean help conformance

all: build

bootstrap:
	@scripts/bootstrap --quiet

build: bootstrap
	cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# What the harness runs (the programs and the short-count shim), without the tests.
programs: bootstrap
	cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS) --target programs short_io_shim

## test: every test: C++ (plain, ASan+UBSan, TSan for the threaded code), the peers, the harness.
## The sanitized builds and the fuzz run (CPU-bound, niced) go on beside the pytest suites (which
## mostly wait on the programs they test); each side's failure is shown, and either fails the run.
SANITIZED = test-asan test-tsan fuzz-smoke
test: format-check lint test-cpp peers
	@mkdir -p $(BUILD)
	@echo "make test: $(SANITIZED) run beside the pytest suites, niced (log: $(BUILD)/sanitized.log)"
	@nice -n 15 $(MAKE) --no-print-directory $(SANITIZED) >$(BUILD)/sanitized.log 2>&1 & sanitized=$$!; \
	  trap 'kill $$sanitized 2>/dev/null' INT TERM; \
	  $(MAKE) --no-print-directory test-peers bench-smoke; status=$$?; \
	  wait $$sanitized; sanitized_status=$$?; \
	  grep -E '^(harness over|fuzz: |100% tests passed)' $(BUILD)/sanitized.log | sed 's/^/sanitized: /'; \
	  if [ $$sanitized_status -ne 0 ]; then tail -n 80 $(BUILD)/sanitized.log; \
	    echo "make test: $(SANITIZED) failed (the whole log: $(BUILD)/sanitized.log)"; fi; \
	  [ $$status -eq 0 ] && [ $$sanitized_status -eq 0 ] && echo "make test: all passed"

test-cpp: build
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -j $(JOBS)

test-asan: bootstrap
	cmake -S . -B $(BUILD)/asan $(CMAKE_ARGS) -DECHO_LAB_SANITIZE=address,undefined >/dev/null
	cmake --build $(BUILD)/asan -j $(JOBS)
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ctest --output-on-failure --no-tests=error -j $(JOBS)
	ECHO_LAB_BUILD=$(BUILD)/asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0 \
	  python3 -m conformance matrix --only 'cpp-*' --robustness none --out $(BUILD)/asan/conformance \
	  >$(BUILD)/asan/conformance.log 2>&1 \
	  && grep -E '^[0-9]+ results in' $(BUILD)/asan/conformance.log | sed 's/^/harness over the ASan+UBSan programs: /' \
	  || { tail -n 60 $(BUILD)/asan/conformance.log; echo "the harness over the ASan+UBSan programs failed: $(BUILD)/asan/conformance.log"; exit 1; }

test-tsan: bootstrap
	cmake -S . -B $(BUILD)/tsan $(CMAKE_ARGS) -DECHO_LAB_SANITIZE=thread >/dev/null
	cmake --build $(BUILD)/tsan -j $(JOBS) --target tsan_tests
	cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure --no-tests=error -j $(JOBS) -L tsan

## peers: build every peer whose toolchain is present; say which were skipped and why
peers: bootstrap
	@scripts/build-peers

# On PYTEST_WORKERS workers (pytest-xdist): most of the suites' time is spent waiting on the
# programs under test. Each test file keeps to one worker, in order (--dist loadfile): the guide
# checks use what earlier checks made, and a module's fixtures (the fresh error matrix) run once.
PYTEST_WORKERS ?= 4
test-peers: build peers
	$(PYTEST) -q -n $(PYTEST_WORKERS) --dist loadfile conformance/tests

## conformance: every case over every program and every client x server pair, then the bounded
## robustness cases over every server; prints the matrix and the robustness table, writes one report:
## build/conformance/{report.json,report.html,junit.xml,robustness.json,robustness.md}.
## CONFORMANCE_ARGS="--seed N" replays a run.
conformance: programs peers
	python3 -m conformance matrix $(CONFORMANCE_ARGS)

format: bootstrap
	clang-format -i $(CXX_FILES)

format-check: bootstrap
	@clang-format --dry-run -Werror $(CXX_FILES) || { echo "run 'make format' to fix the formatting above"; exit 1; }

## lint: flake8 over the harness, the scripts, and the Python peers, starters and fixtures (.flake8)
PY_SCRIPTS = scripts/bench scripts/build-peers scripts/sync-guides scripts/julia-toolchain
FLAKE8     = $(shell python3 -c 'import flake8' 2>/dev/null && echo python3 -m flake8 || echo flake8)
lint: bootstrap
	@$(FLAKE8) conformance reference lab-guides $(PY_SCRIPTS) && echo "lint: flake8 clean"

clean:
	rm -rf $(BUILD)

help:
	@echo "Echo Lab"
	@echo "  make               build the C++ programs into $(BUILD)/bin/"
	@echo "  make test          run every test: C++ (plain, ASan+UBSan, TSan), peers, harness"
	@echo "  make peers         build the peers whose toolchains are present"
	@echo "  make conformance   every case, every program, every pair, then the robustness cases: one report"
	@echo "  make bench         every server side by side: JSON, table and chart in $(BUILD)/bench/"
	@echo "  make bench-smoke   a short bench run that proves the load generator checks every byte"
	@echo "  make robustness    every server through the robustness cases, full size: the robustness table"
	@echo "  make errors        every program through network failures: lab-guides/error-matrix.{json,md}, error-styles.md"
	@echo "  make lint          flake8 over every Python file of the lab"
	@echo "  make fuzz          the event loop's connection logic under libFuzzer (FUZZ_SECONDS=300)"
	@echo "  make format        clang-format the C++ sources"
	@echo "  make clean         remove $(BUILD)/"
	@echo "Options: BUILD=dir BUILD_TYPE=Debug WERROR=OFF JOBS=n"

# --- Performance: echo_bench against every server (lab-guides/07-performance-and-robustness.md) ---
.PHONY: bench bench-smoke

## bench: every server side by side, each pinned to one core; JSON, table and chart in build/bench/.
## BENCH_ARGS=--record keeps the figures in lab-guides/bench-results.json and renders guide 07 from them
bench: build peers
	scripts/bench $(BENCH_ARGS)

## bench-smoke: a short run of the C++ servers: proves echo_bench works and every byte verifies
bench-smoke: build
	scripts/bench --smoke


# --- The error-handling matrix (lab-guides/error-matrix.md, linked from guide 03) ---------------
.PHONY: errors

## errors: every program through every network failure; rewrites lab-guides/error-matrix.json (the
## data), lab-guides/error-matrix.md (its page) and lab-guides/error-styles.md (the styles side by side)
errors: build peers
	python3 -m conformance errors --write --repeat 3 $(ERRORS_ARGS)

# --- Fuzzing: the event loop's connection state machine under libFuzzer (clang 14) -------------
.PHONY: fuzz fuzz-smoke fuzz-build
FUZZ_SECONDS       ?= 300
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_BUILD         := $(BUILD)/fuzz

fuzz-build: bootstrap
	cmake -S . -B $(FUZZ_BUILD) $(CMAKE_ARGS) -DECHO_LAB_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
	cmake --build $(FUZZ_BUILD) --target fuzz_echo_connection

# Seeds from cpp/fuzz/corpus; what the fuzzer finds goes to $(FUZZ_BUILD)/corpus, a crashing input
# to $(FUZZ_BUILD)/artifacts/. Prints the executions and the time; fails on any crash.
run_fuzzer = mkdir -p $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/artifacts && \
	$(FUZZ_BUILD)/bin/fuzz_echo_connection -max_total_time=$(1) -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/corpus cpp/fuzz/corpus \
	  > $(FUZZ_BUILD)/fuzz.log 2>&1 \
	  || { tail -n 30 $(FUZZ_BUILD)/fuzz.log; echo "fuzz: FAILED: the crashing input is in $(FUZZ_BUILD)/artifacts/"; exit 1; }; \
	grep -E '^Done [0-9]+ runs' $(FUZZ_BUILD)/fuzz.log | sed 's/^/fuzz: /'

## fuzz: the connection state machine under libFuzzer+ASan+UBSan for FUZZ_SECONDS (300)
fuzz: fuzz-build
	@$(call run_fuzzer,$(FUZZ_SECONDS))

## fuzz-smoke: the same for FUZZ_SMOKE_SECONDS (20); part of make test
fuzz-smoke: fuzz-build
	@$(call run_fuzzer,$(FUZZ_SMOKE_SECONDS))


# --- Robustness: every server through the robustness cases (conformance/MANIFESTS.md) -----------
.PHONY: robustness

## robustness: the robustness cases in their full form (1,000 clients x 1 MiB, 10,000 resets, ...) over
## every available server; prints the robustness table, writes build/conformance/robustness/. The
## bounded form runs in make test and make conformance. ROBUSTNESS_ARGS="--only 'cpp-*'"
robustness: build peers
	python3 -m conformance robustness --full $(ROBUSTNESS_ARGS)
