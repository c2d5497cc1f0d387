#!/usr/bin/env bash
# Benchmark (issue #5): median time of each lifecycle step — `run -d`, `exec true`,
# `stop -t 0`, `rm` — and the memory of N idle detached busybox containers (`sleep`), as the
# resident set of their supervisors. Targets: <= 50 ms per step, <= 10 MiB per container.
#   benches/lifecycle.sh [RUNS] [IDLE]     (defaults 20 and 100)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
idle="${2:-100}"
cargo build --release --quiet
bin="$PWD/target/release/skiff"
root="$(mktemp -d)"
cleanup() { "$bin" ps -q | xargs -r "$bin" rm -f >/dev/null 2>&1 || true; rm -rf "$root"; }
trap cleanup EXIT
export SKIFF_ROOT="$root"
unset SKIFF_MODULE_CACHE
"$bin" pull busybox >/dev/null

ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000 )); }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1000}'; }

declare -a run_t exec_t stop_t rm_t
for i in $(seq "$runs"); do
  run_t+=("$(ms "$bin" run -d --name "b$i" busybox sleep 600)")
  exec_t+=("$(ms "$bin" exec "b$i" true)")
  stop_t+=("$(ms "$bin" stop -t 0 "b$i")")
  rm_t+=("$(ms "$bin" rm "b$i")")
done
echo "run -d:     median $(printf '%s\n' "${run_t[@]}" | median) ms over $runs"
echo "exec true:  median $(printf '%s\n' "${exec_t[@]}" | median) ms over $runs"
echo "stop -t 0:  median $(printf '%s\n' "${stop_t[@]}" | median) ms over $runs"
echo "rm:         median $(printf '%s\n' "${rm_t[@]}" | median) ms over $runs"

for i in $(seq "$idle"); do "$bin" run -d busybox sleep 600 >/dev/null; done
sleep 1
total_kb=0
for pid in $("$bin" ps --format '{{.ID}}' | xargs -r "$bin" inspect -f '{{.State.Pid}}'); do
  kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  total_kb=$(( total_kb + kb ))
done
echo "$idle idle containers: $(( total_kb / 1024 )) MiB resident in total, $(awk -v t="$total_kb" -v n="$idle" 'BEGIN {printf "%.1f", t/1024/n}') MiB each (supervisor + guest)"
