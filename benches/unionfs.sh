#!/usr/bin/env bash
# Benchmark (issue 15, "Big trees fast"): the union view over a big image tree, against the host
# on the same files. A tar of /usr/share (or $TREE) is ADDed to busybox (`FROM busybox` +
# `ADD tree.tar /tree/`), and a host copy is extracted from the same tar. Prints medians of wall
# time and of CPU time (user+sys, steadier on a shared machine) for:
#   start  skiff run --rm IMG true                  (reported; subtracted from find and cat: "net")
#   find   skiff run --rm IMG find /tree            vs  find DIR
#   cat    skiff run -i --rm IMG sh -c 'cd /tree && xargs cat >/dev/null' < LIST
#          vs  the same sh line on the host (LIST: 2000 regular files spread over the tree)
#   ADD    skiff build --no-cache (a fresh state root per run, busybox already there)
#          vs  tar -xf of the same tar into an empty dir
# Targets: find within 2x of the host, cat within 1.5x (both net of start), ADD within 1.5x.
#   benches/unionfs.sh [N]    (N runs of start/find/cat, default 10; BUILD_RUNS builds, default 3,
#                              0 skips the ADD part)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10}"
build_runs="${BUILD_RUNS:-3}"
tree="${TREE:-/usr/share}"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/skiff"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SKIFF_MODULE_CACHE="$work/modules"
export SKIFF_ROOT="$work/root"
mkdir -p "$work/ctx" "$work/host"

tar -C "$tree" -cf "$work/ctx/tree.tar" .
printf 'FROM busybox\nADD tree.tar /tree/\n' >"$work/ctx/Dockerfile"
tar -C "$work/host" -xf "$work/ctx/tree.tar"
"$bin" pull busybox >/dev/null
"$bin" build -q -t unionfs-tree "$work/ctx" >/dev/null
# 2000 regular files spread evenly over the tree, with names xargs takes as they are.
(cd "$work/host" && find . -type f | LC_ALL=C sort | grep -E '^[A-Za-z0-9._/+-]+$') >"$work/all"
awk -v total="$(wc -l <"$work/all")" 'BEGIN { k = int(total / 2000); if (k < 1) k = 1 }
  NR % k == 0 && c < 2000 { print; c++ }' "$work/all" >"$work/list"
files=$(wc -l <"$work/list")
entries=$(find "$work/host" | wc -l)
size=$(du -sh "$work/ctx/tree.tar" | cut -f1)

TIMEFORMAT='%3R %3U %3S'
# measure RUNS PREPARE COMMAND: runs PREPARE (untimed) then COMMAND (a shell line), RUNS times;
# prints "median-wall-ms median-cpu-ms".
measure() {
  local runs="$1" prepare="$2" cmd="$3" walls=() cpus=() t
  for _ in $(seq "$runs"); do
    eval "$prepare"
    t=$({ time eval "$cmd" >/dev/null 2>&1; } 2>&1)
    read -r real user sys <<<"$t"
    walls+=("$(awk -v r="$real" 'BEGIN { printf "%d", r * 1000 }')")
    cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1000 }')")
  done
  echo "$(median "${walls[@]}") $(median "${cpus[@]}")"
}
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.2fx" : "-"), a / b }'; }
report() { # name skiff-wall skiff-cpu host-wall host-cpu [start-wall start-cpu]
  local sw="$2" sc="$3" hw="$4" hc="$5" nw="$2" nc="$3"
  if [ $# -ge 7 ]; then nw=$((sw - $6)) nc=$((sc - $7)); fi
  printf '%-5s skiff %6d ms (cpu %6d)  net %6d ms (cpu %6d)  host %6d ms (cpu %6d)  ratio %s (cpu %s)\n' \
    "$1" "$sw" "$sc" "$nw" "$nc" "$hw" "$hc" "$(ratio "$nw" "$hw")" "$(ratio "$nc" "$hc")"
}

echo "tree: $tree as a $size tar, $entries entries; cat list: $files files; $n runs (ADD: $build_runs)"
img=unionfs-tree
read -r start_w start_c <<<"$(measure "$n" : "'$bin' run --rm $img true")"
echo "start skiff run --rm $img true: median $start_w ms (cpu $start_c ms)"
read -r fw fc <<<"$(measure "$n" : "'$bin' run --rm $img find /tree")"
read -r hfw hfc <<<"$(measure "$n" : "find '$work/host'")"
report find "$fw" "$fc" "$hfw" "$hfc" "$start_w" "$start_c"
read -r cw cc <<<"$(measure "$n" : "'$bin' run -i --rm $img sh -c 'cd /tree && xargs cat >/dev/null' <'$work/list'")"
read -r hcw hcc <<<"$(measure "$n" : "sh -c 'cd \"$work/host\" && xargs cat >/dev/null' <'$work/list'")"
report cat "$cw" "$cc" "$hcw" "$hcc" "$start_w" "$start_c"

[ "$build_runs" -gt 0 ] || exit 0
# ADD: every build gets a fresh state root (an existing layer is not extracted again) and every
# tar -x a fresh directory, alternately. Nothing is deleted until the end: for ~30 s after a
# mass deletion, ext4 allocates inodes slowly (it avoids recently freed ones), which would
# charge one command for another's deletions.
sleep 35
aws=() acs=() tws=() tcs=()
for i in $(seq "$build_runs"); do
  SKIFF_ROOT="$work/b$i" "$bin" pull busybox >/dev/null
  mkdir "$work/x$i"
  sync
  read -r aw ac <<<"$(measure 1 : "SKIFF_ROOT='$work/b$i' '$bin' build --no-cache -q '$work/ctx'")"
  sync
  read -r tw tc <<<"$(measure 1 : "tar -C '$work/x$i' -xf '$work/ctx/tree.tar'")"
  aws+=("$aw") acs+=("$ac") tws+=("$tw") tcs+=("$tc")
done
report ADD "$(median "${aws[@]}")" "$(median "${acs[@]}")" "$(median "${tws[@]}")" "$(median "${tcs[@]}")"
