#!/usr/bin/env bash
# Regenerates the golden reference results under tests/data/ from the reference implementations,
# each installed from PyPI at its pinned version into its own venv (target/goldens/venv-NAME), so
# that no golden number is typed by hand. Usage, from anywhere:
#   scripts/goldens/regenerate.sh [NAME ...] [-- ARGS for the script]
# NAME: pc_ges xges dagma sdcd diagnostics nuts_eight_schools (default: all but sdcd, which takes
# ~12 minutes and installs PyTorch). Each script's PROVENANCE.md says what it writes.
set -euo pipefail
cd "$(dirname "$0")/../.."
declare -A PACKAGES=(
  [pc_ges]="causal-learn==0.1.4.8 pandas"
  [xges]="xges==0.1.6"
  [dagma]="dagma==1.1.1"
  [sdcd]="torch==2.3.1 numpy<2 sdcd==0.1.4"
  [diagnostics]="arviz==0.23.4"
  [nuts_eight_schools]="pymc==5.28.5 arviz==0.23.4"
)
names=(); args=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; args=("$@"); break; fi
  names+=("$1"); shift
done
[ ${#names[@]} -gt 0 ] || names=(pc_ges xges dagma diagnostics nuts_eight_schools)
for name in "${names[@]}"; do
  [ -n "${PACKAGES[$name]+x}" ] || { echo "regenerate.sh: unknown golden '$name' (one of: ${!PACKAGES[*]})" >&2; exit 2; }
  venv=target/goldens/venv-$name
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    # shellcheck disable=SC2086  # the package list is split on purpose
    "$venv/bin/pip" install -q --disable-pip-version-check ${PACKAGES[$name]}
  fi
  printf '\033[1m==> %s (%s)\033[0m\n' "$name" "${PACKAGES[$name]}"
  # One BLAS/OpenMP/torch thread, as the references were run for the goldens and the bench.
  OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$venv/bin/python" "scripts/goldens/$name.py" "${args[@]}"
done
