#!/usr/bin/env bash
# Benchmark: `skiff build` of a 6-step Dockerfile (3 RUN, 1 COPY, 2 metadata steps), with
# --no-cache and fully cached. Prints medians. Targets (issue #4): <= 150 ms no-cache,
# <= 25 ms cached, on a 2-core machine (Docker's classic builder here: 1.37-1.57 s / 69-75 ms).
#   benches/build.sh [N]      (N runs each, default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-20}"
cargo build --release --quiet
bin="$PWD/target/release/skiff"
root="$(mktemp -d)"
ctx="$(mktemp -d)"
trap 'rm -rf "$root" "$ctx"' EXIT
export SKIFF_ROOT="$root"
unset SKIFF_MODULE_CACHE
"$bin" pull busybox >/dev/null
printf '#!/bin/sh\necho hello from app\n' > "$ctx/app.sh"
cat > "$ctx/Dockerfile" <<'EOF'
FROM busybox
ENV APP_HOME=/app
COPY app.sh /app/
RUN chmod +x /app/app.sh
RUN echo "built" > /app/build-info.txt
RUN ls /app > /app/listing.txt
CMD ["/app/app.sh"]
EOF
"$bin" build -q "$ctx" >/dev/null # compiles nothing new, but warms the page cache

median_ms() { # command... -> median wall time in ms over $n runs
  local times=()
  for _ in $(seq "$n"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1000}'
}

nocache=$(median_ms "$bin" build --no-cache -q "$ctx")
echo "skiff build --no-cache (6 steps: 3 RUN, 1 COPY, 2 metadata): median ${nocache} ms over $n runs"
cached=$(median_ms "$bin" build -q "$ctx")
echo "skiff build, fully cached: median ${cached} ms over $n runs"
images=$("$bin" images -a -q | wc -l)
echo "(the store now holds $images images: every --no-cache build adds its intermediates)"
