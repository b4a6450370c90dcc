# The two commands of the README's Quick start. Both install what they need first (once).
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/node_modules/.bin:$(PATH)
# The browser tests serve the release build under this sub-path, as GitHub Pages does.
E2E_PUBLIC_URL := /causeway/

.PHONY: serve test setup test-native test-wasm test-browser build-e2e lint bench bench-infer

setup:
	@scripts/setup.sh

## Build the release site and serve it on http://127.0.0.1:8080/ (rebuilds on change).
serve: setup
	trunk serve --release

## Every test: native, wasm (in Node) and browser (Chromium on the release build under a sub-path).
test: setup test-native test-wasm test-browser

test-native:
	cargo test --all-targets

test-wasm:
	cargo test --target wasm32-unknown-unknown --no-default-features --test wasm

build-e2e:
	trunk build --release --public-url $(E2E_PUBLIC_URL) --dist target/e2e-dist

test-browser: build-e2e
	E2E_DIST=target/e2e-dist E2E_PUBLIC_URL=$(E2E_PUBLIC_URL) node --test --test-concurrency=1 tests/e2e/

## fmt + clippy for the native and wasm32 targets.
lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib --bins -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --no-default-features --test wasm -- -D warnings
# (Unit tests, with their proptests, run natively; proptest's getrandom has no wasm32 backend.)

## The six learners timed three ways (Python references, native Rust, the page in Chromium) → BENCHMARKS.md.
## Knobs: BENCH_LEARNERS, BENCH_DATASETS, BENCH_REPEATS, BENCH_REF_TIMEOUT, ... (see bench/run.sh).
bench: setup build-e2e
	bench/run.sh

## NUTS on eight schools: bulk ESS per second in Chromium vs PyMC → BENCHMARKS.md.
bench-infer: setup build-e2e
	bench/infer.sh
