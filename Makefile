# Echo Lab's front door. `make help` lists the targets.

BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
WERROR     ?= ON
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
GENERATOR  := $(if $(shell command -v ninja 2>/dev/null),-G Ninja,)
CMAKE_ARGS := $(GENERATOR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DECHO_LAB_WERROR=$(WERROR)
PYTEST     ?= python3 -m pytest
CXX_FILES   = $(shell git ls-files -co --exclude-standard -- 'cpp/*.cpp' 'cpp/*.hpp' 2>/dev/null)

.PHONY: all build test test-cpp test-asan test-tsan test-peers peers bootstrap format format-check clean help conformance

all: build

bootstrap:
	@scripts/bootstrap --quiet

build: bootstrap
	cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

## test: every test: C++ (plain, ASan+UBSan, TSan for the threaded code), the peers, the harness
test: format-check test-cpp test-asan test-tsan test-peers
	@echo "make test: all passed"

test-cpp: build
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -j $(JOBS)

test-asan: bootstrap
	cmake -S . -B $(BUILD)/asan $(CMAKE_ARGS) -DECHO_LAB_SANITIZE=address,undefined >/dev/null
	cmake --build $(BUILD)/asan -j $(JOBS)
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ctest --output-on-failure --no-tests=error -j $(JOBS)

test-tsan: bootstrap
	cmake -S . -B $(BUILD)/tsan $(CMAKE_ARGS) -DECHO_LAB_SANITIZE=thread >/dev/null
	cmake --build $(BUILD)/tsan -j $(JOBS) --target tsan_tests
	cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure --no-tests=error -j $(JOBS) -L tsan

## peers: build every peer whose toolchain is present; say which were skipped and why
peers: bootstrap
	@scripts/build-peers

test-peers: build peers
	$(PYTEST) -q conformance/tests

## conformance: every case over every program and every client x server pair; prints the matrix,
## writes build/conformance/{report.json,report.html,junit.xml}. CONFORMANCE_ARGS="--seed N" replays a run.
conformance: build peers
	python3 -m conformance matrix $(CONFORMANCE_ARGS)

format: bootstrap
	clang-format -i $(CXX_FILES)

format-check: bootstrap
	@clang-format --dry-run -Werror $(CXX_FILES) || { echo "run 'make format' to fix the formatting above"; exit 1; }

clean:
	rm -rf $(BUILD)

help:
	@echo "Echo Lab"
	@echo "  make               build the C++ programs into $(BUILD)/bin/"
	@echo "  make test          run every test: C++ (plain, ASan+UBSan, TSan), peers, harness"
	@echo "  make peers         build the peers whose toolchains are present"
	@echo "  make conformance   every case, every program, every client x server pair: the matrix"
	@echo "  make bench         every server side by side: JSON, table and chart in $(BUILD)/bench/"
	@echo "  make bench-smoke   a short bench run that proves the load generator checks every byte"
	@echo "  make format        clang-format the C++ sources"
	@echo "  make clean         remove $(BUILD)/"
	@echo "Options: BUILD=dir BUILD_TYPE=Debug WERROR=OFF JOBS=n"

# --- Performance: echo_bench against every server (lab-guides/performance.md) -----------------
.PHONY: bench bench-smoke

## bench: every server side by side, each pinned to one core; JSON, table and chart in build/bench/
bench: build peers
	scripts/bench

## bench-smoke: a short run of the C++ servers: proves echo_bench works and every byte verifies
bench-smoke: build
	scripts/bench --smoke

test: bench-smoke
