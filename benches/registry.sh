#!/usr/bin/env bash
# Benchmark: push and pull of a ~50 MB image (real files from /usr/lib, one layer) to a local
# registry (Debian's docker-registry, the distribution server 2.8, on 127.0.0.1, fresh storage
# for every push), skiff against `skopeo copy` (and podman when installed) on the same
# registry and image. Prints medians side by side. Target (issue 13): skiff <= 1.2x skopeo.
#   benches/registry.sh [N]      (N runs each, default 5)
# skopeo pushes from skiff's own store (an OCI layout) and compresses the layer as skiff does;
# its pull writes the compressed blobs to an OCI layout, while skiff's pull also decompresses,
# verifies the diff ID and extracts the files: skiff does more work per pull.
# Each pull's CPU time (user + sys of the tool's processes, from the shell's `times`; the
# registry's own CPU is left out of both) is printed too: on a machine shared with other busy
# sessions, wall time follows CPU time more than parallelism (the kernel's autogroup shares
# the cores per session), so the two show where a difference comes from.
# Run it with nothing big deleted on this filesystem in the last few minutes (an earlier run's
# clean-up included): see the note above the pulls. Right after one, skiff's pull came out
# ~1.3x skopeo; after a 3-minute pause, 1.07-1.11x.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-5}"
for t in docker-registry skopeo; do
  command -v "$t" >/dev/null || { apt-get install -y -q "$t" >/dev/null 2>&1 || { echo "needs $t"; exit 1; }; }
done
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/skiff"
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host="127.0.0.1:$port"
export SKIFF_ROOT="$work/root" SKIFF_CONFIG="$work/config"
unset SKIFF_MODULE_CACHE

# A registry with empty storage, restarted (its start-up is not timed).
fresh_registry() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
  rm -rf "$work/data"
  cat > "$work/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: $host
YML
  docker-registry serve "$work/registry.yml" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 200); do curl -s -o /dev/null "http://$host/v2/" && return; sleep 0.05; done
  echo "registry did not start"; exit 1
}

# ~50 MB of real files (libraries compress about 3:1), as one layer.
python3 - "$work/files.tar" <<'PY'
import os, sys, tarfile
total, out = 0, tarfile.open(sys.argv[1], "w")
for d, _, fs in sorted(os.walk("/usr/lib")):
    for f in sorted(fs):
        p = os.path.join(d, f)
        if os.path.islink(p) or not os.path.isfile(p): continue
        s = os.path.getsize(p)
        if s > 8 << 20: continue
        out.add(p, arcname=p.lstrip("/"), recursive=False)
        total += s
        if total >= 50 << 20: break
    if total >= 50 << 20: break
out.close()
PY
"$bin" import "$work/files.tar" bench/files:v1 >/dev/null
size=$("$bin" images --format '{{.Size}}' bench/files:v1)
echo "image: one layer, $size uncompressed"

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.0f", m}'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# CPU ms of the shell's children between two `times` outputs (GNU format: "0m1.234s 0m0.045s").
cpu_between() {
  awk 'FNR==2 {s=0; for (i=1;i<=2;i++) {split($i,a,/[ms]/); s+=a[1]*60000+a[2]*1000}; v[NR==FNR]=s}
       END {printf "%.0f", v[0]-v[1]}' "$1" "$2"
}

"$bin" tag bench/files:v1 "$host/bench/files:v1"

# push: a fresh registry every run, and skiff forgets what it pushed (so it compresses and sends).
skiff_push=(); skopeo_push=()
for _ in $(seq "$n"); do
  fresh_registry; rm -rf "$SKIFF_ROOT/meta/distribution"
  t0=$(now_ms); "$bin" push "$host/bench/files:v1" >/dev/null; t1=$(now_ms); skiff_push+=($((t1 - t0)))
  fresh_registry
  t0=$(now_ms)
  skopeo copy --quiet --dest-tls-verify=false "oci:$SKIFF_ROOT/oci:docker.io/bench/files:v1" "docker://$host/bench/files:v1"
  t1=$(now_ms); skopeo_push+=($((t1 - t0)))
done

# pull: what skiff pushed, into an empty store / an empty OCI layout every run. Each run's store
# and layout stay until the end (the trap removes them): this machine's ext4 has no journal, and
# then it skips inodes deleted in the last 5-10 s when it creates files (`recently_deleted`),
# so deleting the last pull's 137 MB right before the next timed one charged that pull with
# ~0.1 s of kernel time (skiff: ~200 files; skopeo: a few), the bench's clean-up, not the pull.
fresh_registry; rm -rf "$SKIFF_ROOT/meta/distribution"; "$bin" push "$host/bench/files:v1" >/dev/null
sync # the set-up's and the pushes' writes go out now, not during a timed pull
skiff_pull=(); skopeo_pull=(); podman_pull=(); skiff_cpu=(); skopeo_cpu=()
for i in $(seq "$n"); do
  t0=$(now_ms); times > "$work/cpu0"
  SKIFF_ROOT="$work/pull-$i" "$bin" pull "$host/bench/files:v1" >/dev/null
  times > "$work/cpu1"; t1=$(now_ms)
  skiff_pull+=($((t1 - t0))); skiff_cpu+=("$(cpu_between "$work/cpu0" "$work/cpu1")")
  t0=$(now_ms); times > "$work/cpu0"
  skopeo copy --quiet --src-tls-verify=false "docker://$host/bench/files:v1" "oci:$work/layout-$i:v1"
  times > "$work/cpu1"; t1=$(now_ms)
  skopeo_pull+=($((t1 - t0))); skopeo_cpu+=("$(cpu_between "$work/cpu0" "$work/cpu1")")
done
# podman after the others, its storage removed only at the end too (same reason as above).
if command -v podman >/dev/null; then
  for i in $(seq "$n"); do
    # Its own empty storage each run (vfs: no kernel overlay needed), never the machine's.
    pod=(podman --root "$work/podman-$i" --runroot "$work/podman-run-$i" --storage-driver vfs)
    t0=$(now_ms); "${pod[@]}" pull -q --tls-verify=false "$host/bench/files:v1" >/dev/null; t1=$(now_ms)
    podman_pull+=($((t1 - t0)))
  done
  for i in $(seq "$n"); do
    podman --root "$work/podman-$i" --runroot "$work/podman-run-$i" --storage-driver vfs system reset -f >/dev/null 2>&1 || true
  done
fi

row() { # name skiff-times... -- peer-times...
  local name=$1; shift; local a=() b=(); while [ "$1" != -- ]; do a+=("$1"); shift; done; shift; b=("$@")
  local ma mb; ma=$(printf '%s\n' "${a[@]}" | median); mb=$(printf '%s\n' "${b[@]}" | median)
  printf '%-34s %8s ms %8s ms   %s\n' "$name" "$ma" "$mb" "$(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.2fx", a/b}')"
}
echo "medians over $n runs (127.0.0.1 registry, 2-core machine)"
printf '%-34s %11s %11s   %s\n' "" "skiff" "skopeo" "skiff/skopeo"
row "push (compress + upload)" "${skiff_push[@]}" -- "${skopeo_push[@]}"
row "pull (download + verify)" "${skiff_pull[@]}" -- "${skopeo_pull[@]}"
row "pull, CPU time (user + sys)" "${skiff_cpu[@]}" -- "${skopeo_cpu[@]}"
if [ ${#podman_pull[@]} -gt 0 ]; then
  printf 'podman pull (download, verify, extract, like skiff): median %s ms\n' "$(printf '%s\n' "${podman_pull[@]}" | median)"
fi
