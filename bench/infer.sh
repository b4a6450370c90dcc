#!/usr/bin/env bash
# `make bench-infer`: NUTS on non-centred eight schools (4 chains × 1000 + 1000), bulk ESS per
# second in Chromium (release site, one worker per chain) vs PyMC's NUTS on this machine, and the
# cost of one gradient evaluation in the page's wasm vs native Rust, written
# into the "Bayesian inference" section of BENCHMARKS.md. Knob: BENCH_INFER_SEEDS ("1 2 3").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
OUT=target/bench
VENV=$OUT/venv-pymc
E2E_DIST=${E2E_DIST:-target/e2e-dist}
read -r -a SEEDS <<< "${BENCH_INFER_SEEDS:-1 2 3}"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
[ -f "$E2E_DIST/index.html" ] || { echo "bench-infer: run 'make build-e2e' first" >&2; exit 1; }
mkdir -p "$OUT"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import pymc, arviz' 2>/dev/null; then
  say "PyMC environment ($VENV)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check pymc==5.28.5 arviz==0.23.4
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "Causeway in Chromium (seeds ${SEEDS[*]})"
E2E_DIST=$E2E_DIST E2E_PUBLIC_URL=${E2E_PUBLIC_URL:-/causeway/} node bench/infer_browser.mjs "${SEEDS[@]}" > "$OUT/infer-browser.jsonl"
say "PyMC (seeds ${SEEDS[*]}, one thread)"
: > "$OUT/infer-pymc.jsonl"
for seed in "${SEEDS[@]}"; do
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
    "$VENV/bin/python" bench/infer_pymc.py "$seed" >> "$OUT/infer-pymc.jsonl"
done
say "native gradient cost (cargo run --release --example bench_gradient)"
cargo run --quiet --release --example bench_gradient -- eight-schools-noncentered "${SEEDS[@]}" > "$OUT/infer-gradient-native.jsonl"
# The same timing in wasm at steady state (0.5 s warm-up, 1 s timed): tests/wasm.rs's ignored
# `gradient_cost`, in Node and in Chromium (webdriver: no DevTools session attached).
wasm_gradient() {
  cargo test --release --target wasm32-unknown-unknown --no-default-features --test wasm \
    -- --include-ignored gradient_cost --nocapture 2>&1 | grep '^{"contender"' | sed "s/\"wasm-test\"/\"$1\"/"
}
say "wasm gradient cost in Node and in Chromium (wasm-bindgen-test)"
wasm_gradient wasm-node > "$OUT/infer-gradient-wasm.jsonl"
printf '%s\n' '{"goog:chromeOptions":{"binary":"/usr/bin/chromium","args":["--headless","--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync"]}}' > webdriver.json
trap 'rm -f webdriver.json' EXIT
CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_USE_BROWSER=1 wasm_gradient wasm-chromium >> "$OUT/infer-gradient-wasm.jsonl"
rm -f webdriver.json
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
say "writing the Bayesian inference section of BENCHMARKS.md"
node bench/infer_report.mjs "$OUT" BENCHMARKS.md "$(date -u '+%Y-%m-%d %H:%M UTC')" "$LOAD_START" "$LOAD_END"
