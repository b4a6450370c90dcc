#!/usr/bin/env bash
# `make bench`: the six structure learners timed three ways (their Python references, native Rust
# release, the page in Chromium on the release site) on the same generated datasets; writes
# BENCHMARKS.md. Runs from the repository root after `make build-e2e` (the Makefile target
# depends on it).
#
# Knobs (environment variables):
#   BENCH_LEARNERS      learners to run (default: notears dagma sdcd pc ges xges)
#   BENCH_DATASETS      datasets to run (default: er10 er20 er50 sf10 sf20 sf50 nl20)
#   BENCH_DATASETS_<ID> datasets for one learner, overriding BENCH_DATASETS (e.g. BENCH_DATASETS_SDCD="er10 nl20")
#   BENCH_PARTS         which contenders run (default: "reference native browser")
#   BENCH_REPEATS       native and browser repeats, median reported (default 3); jobs whose median is
#                       under 20 ms run 15 times natively and BENCH_SHORT_RUNS (default 7) times in the page
#   BENCH_SEEDS         seeds of the stochastic learner (SDCD), each run by every contender (default "0 1 2";
#                       the reference's own seed is 0); times are the median over seeds, SHD and F1 the mean
#   BENCH_REF_REPEATS   reference repeats (default 1); fits under 1 s run BENCH_SHORT_RUNS_REF (default 3) times
#   BENCH_REF_TIMEOUT   seconds per reference run; a run over it is reported as "> timeout" (default 600)
#   BENCH_BROWSER_TIMEOUT  seconds per browser run (default 1800)
#   BENCH_REF_THREADS   BLAS/OpenMP/torch threads of the references (default 1: a job runs in one worker)
#   BENCH_WORKERS       workers of a job that splits (SDCD's first stage): the page uses one per core, at
#                       most 2, so the default is min(nproc, 2); native SDCD runs on as many threads
#   BENCH_REF_THREADS_SDCD  torch threads of the SDCD reference (default BENCH_WORKERS, as the page's SDCD)
#   BENCH_NOTEARS_POLY  1 to also time gCastle's NOTEARS port as shipped (polynomial h)
#   BENCH_ORDER         "interleaved" (default): each dataset (and seed) run by every contender in turn,
#                       in BENCH_PARTS order; "parts": each contender's whole part, one after another
#   BENCH_SETTLE_LOAD, BENCH_SETTLE_MAX  before the runs (before each part with BENCH_ORDER=parts), wait
#                       up to MAX seconds (default 180) for the 1-minute load average to fall below LOAD
#                       (default 1.5)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

OUT=target/bench
DATA=$OUT/data
RAW=$OUT/raw
VENV=$OUT/venv
VENV_TORCH=$OUT/venv-torch
GCASTLE_VERSION=1.0.4
ALL_LEARNERS="notears dagma sdcd pc ges xges"
ALL_DATASETS="er10 er20 er50 sf10 sf20 sf50 nl20"
read -r -a LEARNERS <<< "${BENCH_LEARNERS:-$ALL_LEARNERS}"
DATASETS=${BENCH_DATASETS:-$ALL_DATASETS}
PARTS=" ${BENCH_PARTS:-reference native browser} "
REPEATS=${BENCH_REPEATS:-3}
read -r -a SEEDS <<< "${BENCH_SEEDS:-0 1 2}"
REF_REPEATS=${BENCH_REF_REPEATS:-1}
REF_TIMEOUT=${BENCH_REF_TIMEOUT:-600}
BROWSER_TIMEOUT=${BENCH_BROWSER_TIMEOUT:-1800}
REF_THREADS=${BENCH_REF_THREADS:-1}
WORKERS=${BENCH_WORKERS:-$(( $(nproc) < 2 ? $(nproc) : 2 ))}
REF_THREADS_SDCD=${BENCH_REF_THREADS_SDCD:-$WORKERS}
E2E_DIST=${E2E_DIST:-target/e2e-dist}
ORDER=${BENCH_ORDER:-interleaved}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
datasets_for() { # the datasets of one learner
  local var="BENCH_DATASETS_${1^^}"
  echo "${!var:-$DATASETS}"
}
uses() { [[ " ${LEARNERS[*]} " == *" $1 "* ]]; }
# The seed arguments of one learner's runs: one run per seed for the stochastic SDCD, else one
# unseeded run. Prints "-" for the unseeded run.
seeds_for() { if [ "$1" = sdcd ]; then echo "${SEEDS[*]}"; else echo "-"; fi; }
seed_args() { if [ "$1" != - ]; then echo "--seed $1"; fi; }
# The native runs of a learner that splits across workers use as many threads as the page's workers.
worker_args() { if [ "$1" = sdcd ]; then echo "--workers $WORKERS"; fi; }

for tool in cargo node python3; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
[[ $ORDER == interleaved || $ORDER == parts ]] || die "BENCH_ORDER must be 'interleaved' or 'parts', not '$ORDER'"
for l in "${LEARNERS[@]}"; do
  [[ " $ALL_LEARNERS " == *" $l "* ]] || die "unknown learner '$l' in BENCH_LEARNERS (known: $ALL_LEARNERS)"
done
if [[ $PARTS == *" browser "* ]]; then
  [ -f "$E2E_DIST/index.html" ] || die "$E2E_DIST has no release build; run 'make build-e2e' (or 'make bench', which does)"
fi
mkdir -p "$OUT" "$RAW"
rm -f "$RAW"/*.jsonl "$OUT"/results.jsonl "$OUT"/reference-env*.json

machine_field() { node -e 'const fs=require("fs");const p=process.argv[1];const m=JSON.parse(fs.readFileSync(p));m[process.argv[2]]=process.argv[3];fs.writeFileSync(p,JSON.stringify(m,null,1));' "$OUT/machine.json" "$1" "$2"; }
load_mark() { machine_field "load_$1" "$(date -u '+%H:%M:%S') $(cut -d' ' -f1-3 /proc/loadavg)"; }
# Before each part, wait (up to BENCH_SETTLE_MAX seconds) for the 1-minute load average to fall
# below BENCH_SETTLE_LOAD: Chromium's processes linger after the browser part, and at 09:30 on
# 2026-12-03 the references started at load 3.9, which slows them and flatters Causeway's ratios.
SETTLE_LOAD=${BENCH_SETTLE_LOAD:-1.5}
SETTLE_MAX=${BENCH_SETTLE_MAX:-180}
settle() {
  local waited=0
  until awk -v t="$SETTLE_LOAD" '{ exit !($1 < t) }' /proc/loadavg || [ "$waited" -ge "$SETTLE_MAX" ]; do
    sleep 5; waited=$((waited + 5))
  done
  [ "$waited" -gt 0 ] && say "waited ${waited} s for the load average to settle ($(cut -d' ' -f1 /proc/loadavg))"
  return 0
}
echo '{}' > "$OUT/machine.json"
machine_field date "$(date -u '+%Y-%m-%d %H:%M UTC')"
machine_field cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
machine_field nproc "$(nproc)"
machine_field mem "$(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
machine_field os "$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || uname -s) ($(uname -r))"
machine_field rustc "$(rustc --version)"
machine_field node "$(node --version)"
machine_field chromium "$( ("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null || echo unknown) | head -1)"
machine_field learners "${LEARNERS[*]}"
machine_field parts "${PARTS# }"
for l in "${LEARNERS[@]}"; do machine_field "datasets_$l" "$(datasets_for "$l")"; done
machine_field seeds "${SEEDS[*]}"
machine_field order "$ORDER"
machine_field settings "native and browser: median of $REPEATS run(s) (of 15 natively and 7 in the page for jobs whose median is under 20 ms); reference: median of $REF_REPEATS run(s) (of 3 for fits under 1 s), timeout $REF_TIMEOUT s per run, $REF_THREADS BLAS/OpenMP/torch thread(s) ($REF_THREADS_SDCD for SDCD); SDCD's first stage on $WORKERS worker(s) in the page and as many threads natively; browser timeout $BROWSER_TIMEOUT s per run"

# One venv per set of compatible pins: sdcd needs torch 2.3.1 and numpy<2.
make_venv() { # DIR REQUIREMENTS [extra no-deps package]
  local dir=$1 req=$2 extra=${3:-} stamp="$1/.bench-stamp" want
  want="$(cat "$req") $extra"
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "Python reference environment $dir (from PyPI; once)"
    rm -rf "$dir"
    python3 -m venv "$dir" || die "python3 -m venv failed; on Debian: apt-get install python3-venv"
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$req" || die "pip could not install $req"
    if [ -n "$extra" ]; then
      "$dir/bin/pip" install -q --disable-pip-version-check --no-deps "$extra" || die "pip could not install $extra"
    fi
    printf '%s' "$want" > "$stamp"
  fi
}
if [[ $PARTS == *" reference "* ]]; then
  if uses notears || uses pc || uses ges || uses xges; then
    make_venv "$VENV" bench/requirements.txt "gcastle==$GCASTLE_VERSION"
  fi
  if uses sdcd || uses dagma; then
    make_venv "$VENV_TORCH" bench/requirements-torch.txt
  fi
fi

say "building the bench examples (release)"
cargo build -q --release --example bench_data --example bench_learners

say "generating the datasets into $DATA"
cargo run -q --release --example bench_data -- "$DATA"
load_mark start

# One contender on one learner's datasets (and one seed of SDCD's), appending to its raw file.
run_native() { # LEARNER SEED DATASET...
  local l=$1 seed=$2; shift 2
  say "native $l ($REPEATS run(s) each$([ "$seed" = - ] || echo ", seed $seed")): $*"
  # shellcheck disable=SC2046
  cargo run -q --release --example bench_learners -- "$DATA" --learner "$l" --repeats "$REPEATS" $(seed_args "$seed") $(worker_args "$l") "$@" \
    >> "$RAW/native-$l.jsonl" || say "warning: native $l failed; its results are incomplete"
}
run_browser() { # LEARNER SEED DATASET...
  local l=$1 seed=$2; shift 2
  say "$l in Chromium ($REPEATS run(s) each$([ "$seed" = - ] || echo ", seed $seed"), release build in $E2E_DIST): $*"
  # shellcheck disable=SC2046
  E2E_DIST=$E2E_DIST E2E_PUBLIC_URL=${E2E_PUBLIC_URL:-/causeway/} BENCH_PAGE_QUERY="?workers=$WORKERS" \
    node bench/browser.mjs "$DATA" --learners "$l" --repeats "$REPEATS" --timeout "$BROWSER_TIMEOUT" $(seed_args "$seed") "$@" \
    >> "$RAW/browser-$l.jsonl" || say "warning: browser $l reported a failure; see above"
}
# These may be set on this machine and slow numpy down; the thread count is fixed.
REF_ENV=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$REF_THREADS"
  OMP_NUM_THREADS="$REF_THREADS" MKL_NUM_THREADS="$REF_THREADS" BENCH_REF_THREADS="$REF_THREADS")
REF_ENV_SDCD=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$REF_THREADS_SDCD"
  OMP_NUM_THREADS="$REF_THREADS_SDCD" MKL_NUM_THREADS="$REF_THREADS_SDCD" BENCH_REF_THREADS="$REF_THREADS_SDCD")
run_reference() { # LEARNER SEED DATASET...
  local l=$1 seed=$2; shift 2
  local raw="$RAW/reference-$l.jsonl"
  case $l in
    notears)
      say "reference $l (timeout $REF_TIMEOUT s per run): $*"
      "${REF_ENV[@]}" "$VENV/bin/python" bench/reference.py "$DATA" --variant expm \
        --timeout "$REF_TIMEOUT" --repeats "$REF_REPEATS" "$@" >> "$raw" || say "warning: reference $l failed"
      if [ "${BENCH_NOTEARS_POLY:-0}" = 1 ]; then
        "${REF_ENV[@]}" "$VENV/bin/python" bench/reference.py "$DATA" --variant poly \
          --timeout "$REF_TIMEOUT" --repeats "$REF_REPEATS" "$@" >> "$RAW/gcastle-$l.jsonl" || say "warning: gCastle as shipped failed"
      fi ;;
    sdcd)
      say "reference sdcd, seed $seed ($REF_THREADS_SDCD torch thread(s), timeout $REF_TIMEOUT s per run): $*"
      "${REF_ENV_SDCD[@]}" "$VENV_TORCH/bin/python" bench/reference_learners.py "$DATA" --learner "$l" --seed "$seed" \
        --timeout "$REF_TIMEOUT" --repeats "$REF_REPEATS" "$@" >> "$raw" || say "warning: reference $l failed" ;;
    dagma)
      say "reference $l (timeout $REF_TIMEOUT s per run): $*"
      "${REF_ENV[@]}" "$VENV_TORCH/bin/python" bench/reference_learners.py "$DATA" --learner "$l" \
        --timeout "$REF_TIMEOUT" --repeats "$REF_REPEATS" "$@" >> "$raw" || say "warning: reference $l failed" ;;
    *)
      say "reference $l (timeout $REF_TIMEOUT s per run): $*"
      "${REF_ENV[@]}" "$VENV/bin/python" bench/reference_learners.py "$DATA" --learner "$l" \
        --timeout "$REF_TIMEOUT" --repeats "$REF_REPEATS" "$@" >> "$raw" || say "warning: reference $l failed" ;;
  esac
}
run_part() { # PART LEARNER SEED DATASET...
  case $1 in
    native) shift; run_native "$@" ;;
    browser) shift; run_browser "$@" ;;
    reference) shift; run_reference "$@" ;;
  esac
}

for part in $PARTS; do
  for l in "${LEARNERS[@]}"; do : > "$RAW/$part-$l.jsonl"; done
done
if [[ $PARTS == *" reference "* ]]; then
  [ -x "$VENV/bin/python" ] && "${REF_ENV[@]}" "$VENV/bin/python" bench/reference_learners.py --env > "$OUT/reference-env.json"
  [ -x "$VENV_TORCH/bin/python" ] && "${REF_ENV[@]}" "$VENV_TORCH/bin/python" bench/reference_learners.py --env > "$OUT/reference-env-torch.json"
fi
if [ "$ORDER" = interleaved ]; then
  # Each dataset (and seed) by every contender in turn, so that the ratios compare runs minutes
  # apart: on this shared machine the references' speed moved by 2× between the morning and the
  # evening of 2026-12-03, far more than within one dataset's runs.
  settle
  load_mark contenders
  for l in "${LEARNERS[@]}"; do
    read -r -a names <<< "$(datasets_for "$l")"
    for ds in "${names[@]}"; do
      for seed in $(seeds_for "$l"); do
        for part in $PARTS; do
          run_part "$part" "$l" "$seed" "$ds"
          # Let the browser's processes exit before the next contender starts.
          sleep 2
        done
      done
    done
  done
else
  for part in $PARTS; do
    settle
    load_mark "$part"
    for l in "${LEARNERS[@]}"; do
      read -r -a names <<< "$(datasets_for "$l")"
      for seed in $(seeds_for "$l"); do
        run_part "$part" "$l" "$seed" "${names[@]}"
      done
    done
  done
fi

load_mark end
say "scoring every contender's graphs with causeway::metrics"
shopt -s nullglob
raw_files=("$RAW"/*.jsonl)
cargo run -q --release --example bench_learners -- --score "$DATA" "${raw_files[@]}" > "$OUT/results.jsonl"
say "writing BENCHMARKS.md"
node bench/report.mjs "$OUT" BENCHMARKS.md
say "done: BENCHMARKS.md (raw results in $RAW, scored in $OUT/results.jsonl)"
