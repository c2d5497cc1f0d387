#!/usr/bin/env bash
# Benchmark: whole-process time of `skiff run --rm busybox true`, warm (compiled modules
# cached) and cold (module cache cleared, so the first run compiles). Prints medians.
# Target (issue #2): <= 10 ms warm on a 2-core machine; docker run of the same takes ~300 ms.
#   benches/run.sh [N]        (N runs, default 30; uses hyperfine if installed)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-30}"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/skiff"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
export SKIFF_ROOT="$root"
unset SKIFF_MODULE_CACHE
"$bin" pull busybox >/dev/null

median_ms() { # command... -> median wall time in ms over $n runs
  local times=()
  for _ in $(seq "$n"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1000}'
}

warm=$(median_ms "$bin" run --rm busybox true)
echo "skiff run --rm busybox true (warm module cache): median ${warm} ms over $n runs"

cold_runs=$(( n < 5 ? n : 5 ))
times=()
for _ in $(seq "$cold_runs"); do
  rm -rf "$root/modules"
  t0=$(date +%s%N); "$bin" run --rm busybox true >/dev/null 2>&1; t1=$(date +%s%N)
  times+=($(( (t1 - t0) / 1000 )))
done
cold=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}')
echo "skiff run --rm busybox true (module cache cleared): median ${cold} ms over $cold_runs runs"

sh_pipe=$(median_ms "$bin" run --rm busybox sh -c 'echo a | cat | wc -c')
echo "skiff run --rm busybox sh -c 'echo a | cat | wc -c' (3 processes): median ${sh_pipe} ms over $n runs"
