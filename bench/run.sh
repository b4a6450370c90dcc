#!/usr/bin/env bash
# `make bench`: NOTEARS timed three ways on the same generated datasets, written to BENCHMARKS.md.
# Runs from the repository root after `make build-e2e` (the Makefile target depends on it).
# Knobs: BENCH_REPEATS (3), BENCH_REF_REPEATS (1), BENCH_REF_TIMEOUT (600 s per reference run),
# BENCH_REF_THREADS (unset: BLAS default), BENCH_DATASETS (subset of names, space-separated).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

OUT=target/bench
DATA=$OUT/data
VENV=$OUT/venv
GCASTLE_VERSION=1.0.4
REPEATS=${BENCH_REPEATS:-3}
REF_REPEATS=${BENCH_REF_REPEATS:-1}
REF_TIMEOUT=${BENCH_REF_TIMEOUT:-600}
read -r -a NAMES <<< "${BENCH_DATASETS:-}"
E2E_DIST=${E2E_DIST:-target/e2e-dist}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

for tool in cargo node python3; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
[ -f "$E2E_DIST/index.html" ] || die "$E2E_DIST has no release build; run 'make build-e2e' (or 'make bench', which does)"
mkdir -p "$OUT"
rm -f "$OUT"/{native,browser,reference,gcastle}.jsonl "$OUT/reference-env.json"

machine_field() { node -e 'const fs=require("fs");const p=process.argv[1];const m=JSON.parse(fs.readFileSync(p));m[process.argv[2]]=process.argv[3];fs.writeFileSync(p,JSON.stringify(m,null,1));' "$OUT/machine.json" "$1" "$2"; }
echo '{}' > "$OUT/machine.json"
machine_field date "$(date -u '+%Y-%m-%d %H:%M UTC')"
machine_field cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
machine_field nproc "$(nproc)"
machine_field mem "$(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
machine_field os "$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || uname -s) ($(uname -r))"
machine_field load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
machine_field rustc "$(rustc --version)"
machine_field node "$(node --version)"
machine_field chromium "$( ("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null || echo unknown) | head -1)"
machine_field settings "native and browser: median of $REPEATS runs; reference: median of $REF_REPEATS run(s), timeout $REF_TIMEOUT s per run, BLAS threads ${BENCH_REF_THREADS:-default}"

say "Python reference environment ($VENV)"
STAMP=$VENV/.bench-stamp
WANT="$(cat bench/requirements.txt) gcastle==$GCASTLE_VERSION"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 -m venv failed; on Debian: apt-get install python3-venv"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt || die "pip could not install bench/requirements.txt"
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps "gcastle==$GCASTLE_VERSION" || die "pip could not install gcastle==$GCASTLE_VERSION"
  printf '%s' "$WANT" > "$STAMP"
fi

say "building the bench examples (release)"
cargo build --release --example bench_data --example bench_notears

say "generating the datasets into $DATA"
cargo run -q --release --example bench_data -- "$DATA"

say "native NOTEARS ($REPEATS runs each)"
cargo run -q --release --example bench_notears -- "$DATA" --repeats "$REPEATS" "${NAMES[@]}" > "$OUT/native.jsonl"

say "NOTEARS in Chromium ($REPEATS runs each, release build in $E2E_DIST)"
E2E_DIST=$E2E_DIST E2E_PUBLIC_URL=${E2E_PUBLIC_URL:-/causeway/} \
  node bench/browser.mjs "$DATA" --repeats "$REPEATS" "${NAMES[@]}" > "$OUT/browser.jsonl"

# The reference's command only: these may be set on this machine and slow numpy down.
REF_ENV=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
if [ -n "${BENCH_REF_THREADS:-}" ]; then
  REF_ENV+=(OPENBLAS_NUM_THREADS="$BENCH_REF_THREADS" OMP_NUM_THREADS="$BENCH_REF_THREADS")
fi
"${REF_ENV[@]}" "$VENV/bin/python" bench/reference.py --env > "$OUT/reference-env.json"

say "reference: linear.py via gCastle's port with linear.py's expm h (timeout $REF_TIMEOUT s per run)"
"${REF_ENV[@]}" "$VENV/bin/python" bench/reference.py "$DATA" --variant expm \
  --timeout "$REF_TIMEOUT" --repeats "$REF_REPEATS" "${NAMES[@]}" > "$OUT/reference.jsonl"

say "gCastle's port as shipped (polynomial h), for comparison"
"${REF_ENV[@]}" "$VENV/bin/python" bench/reference.py "$DATA" --variant poly \
  --timeout "$REF_TIMEOUT" --repeats "$REF_REPEATS" "${NAMES[@]}" > "$OUT/gcastle.jsonl"

machine_field load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
say "writing BENCHMARKS.md"
node bench/report.mjs "$OUT" BENCHMARKS.md
say "done: BENCHMARKS.md (raw results in $OUT/*.jsonl)"
