#!/usr/bin/env bash
# Benchmark: start-to-exit time of a native Linux container, `skiff run --rm IMG true`, where IMG
# is a linux image imported from Debian's busybox-static (as tutorial 06 makes it), beside
#   * a bare `crun run` of the same root filesystem (a bundle from `crun spec`: its own network
#     namespace with only `lo`, which is what `--network none` gives), the floor;
#   * `docker run --rm --network none IMG true`, where a Docker daemon answers, or `dockerd` is
#     installed (this script then starts one of its own, and stops it at the end); the same
#     root filesystem, `docker import`ed: no registry needed.
# Also shown: skiff on the default bridge (veth pair over rtnetlink, embedded DNS) and the WASI busybox.
# Rounds are interleaved (one run of each command per round), so a machine busy with other work
# slows every command alike; prints the median wall time of each, and its median CPU time (user +
# system, child processes included), which a busy machine disturbs less.
# Targets (native backend): skiff --network none within 2x of bare crun; >= 5x faster than Docker.
#   benches/native.sh [N]        (N rounds, default 30; Linux, as root)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-30}"
[ "$(id -u)" = 0 ] || { echo "native containers need root" >&2; exit 1; }
need() { # binary package
  command -v "$1" >/dev/null && return 0
  echo "installing $2" >&2
  apt-get install -y -q "$2" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "$2" >/dev/null; }
}
need crun crun
need busybox busybox-static
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/skiff"
work="$(mktemp -d)"
export SKIFF_ROOT="$work/skiff-root"
unset SKIFF_MODULE_CACHE
docker_ok=""
dockerd_pid=""
cleanup() {
  [ -n "$docker_ok" ] && docker rmi -f skiff-bench-busybox >/dev/null 2>&1 || true
  if [ -n "$dockerd_pid" ]; then # the daemon this script started
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

# The root filesystem: busybox-static and one link per applet (tutorial 06's, without passwd).
rootfs="$work/bundle/rootfs"
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/root"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for a in $("$rootfs/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
echo 'root:x:0:' > "$rootfs/etc/group"
tar -C "$rootfs" -cf "$work/rootfs.tar" .
"$bin" import "$work/rootfs.tar" linuxbox >/dev/null
"$bin" pull -q busybox >/dev/null
"$bin" run --rm linuxbox true # the first native use extracts the layer in overlay form
"$bin" run --rm busybox true  # and the first WASI use compiles the guest

# The bare crun bundle: crun's default spec, not a terminal, running `true`.
(cd "$work/bundle" && crun spec)
python3 - "$work/bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["true"]
json.dump(c, open(p, "w"), indent=1)
PY
crun_root="$work/crun-state"
mkdir -p "$crun_root"

# Docker: the daemon that answers, else one started here for the bench (`dockerd` installed,
# e.g. Debian's docker.io): its own socket, data and exec roots in the work dir, log in
# $work/dockerd.log, no bridge and no iptables rules (the bench's containers have no network),
# stopped at the end.
if command -v docker >/dev/null && ! timeout 10 docker info >/dev/null 2>&1 && command -v dockerd >/dev/null; then
  mkdir -p "$work/docker"
  export DOCKER_HOST="unix://$work/docker/docker.sock"
  dockerd --host "$DOCKER_HOST" --data-root "$work/docker/data" --exec-root "$work/docker/exec" \
    --pidfile "$work/docker/dockerd.pid" --bridge none --iptables=false --ip-forward=false --ip-masq=false \
    >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 150); do
    timeout 5 docker info >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.2
  done
  timeout 5 docker info >/dev/null 2>&1 || echo "dockerd did not answer (log: $(tail -n 1 "$work/dockerd.log"))" >&2
fi
if command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; then
  docker import "$work/rootfs.tar" skiff-bench-busybox >/dev/null && docker_ok=1
  docker run --rm --network none skiff-bench-busybox true >/dev/null 2>&1 || docker_ok="" # warm, and works?
fi

names=(crun skiff_none skiff_bridge skiff_wasi)
cmds=(
  "crun --root $crun_root run --bundle $work/bundle bench-crun"
  "$bin run --rm --network none linuxbox true"
  "$bin run --rm linuxbox true"
  "$bin run --rm busybox true"
)
if [ -n "$docker_ok" ]; then
  names+=(docker)
  cmds+=("docker run --rm --network none skiff-bench-busybox true")
fi
for i in "${!names[@]}"; do : >"$work/${names[$i]}.wall"; : >"$work/${names[$i]}.cpu"; done

TIMEFORMAT='%R %U %S'
for _ in $(seq "$n"); do
  for i in "${!names[@]}"; do
    # shellcheck disable=SC2086
    t=$({ time ${cmds[$i]} >/dev/null 2>&1; } 2>&1 | tail -n 1)
    read -r real user sys <<<"$t"
    awk -v r="$real" 'BEGIN {printf "%.3f\n", r * 1000}' >>"$work/${names[$i]}.wall"
    awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.3f\n", (u + s) * 1000}' >>"$work/${names[$i]}.cpu"
  done
done

median() { sort -n "$1" | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }
declare -A wall cpu
for k in "${names[@]}"; do wall[$k]=$(median "$work/$k.wall"); cpu[$k]=$(median "$work/$k.cpu"); done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo "native container start to exit, $n interleaved rounds (medians; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '  %-58s %8s ms wall %8s ms CPU\n' "crun run (bare bundle, own netns with lo only)" "${wall[crun]}" "${cpu[crun]}"
printf '  %-58s %8s ms wall %8s ms CPU\n' "skiff run --rm --network none linuxbox true" "${wall[skiff_none]}" "${cpu[skiff_none]}"
printf '  %-58s %8s ms wall %8s ms CPU\n' "skiff run --rm linuxbox true (default bridge)" "${wall[skiff_bridge]}" "${cpu[skiff_bridge]}"
printf '  %-58s %8s ms wall %8s ms CPU\n' "skiff run --rm busybox true (WASI, for comparison)" "${wall[skiff_wasi]}" "${cpu[skiff_wasi]}"
if [ -n "$docker_ok" ]; then
  printf '  %-58s %8s ms wall %8s ms CPU\n' "docker run --rm --network none (same rootfs)" "${wall[docker]}" "${cpu[docker]}"
fi
r=$(ratio "${wall[skiff_none]}" "${wall[crun]}")
rc=$(ratio "${cpu[skiff_none]}" "${cpu[crun]}")
ok=$(awk -v r="$r" 'BEGIN {print (r <= 2) ? "met" : "NOT met"}')
echo "  skiff --network none / bare crun: ${r}x wall, ${rc}x CPU (target <= 2x wall: $ok)"
if [ -n "$docker_ok" ]; then
  d=$(ratio "${wall[docker]}" "${wall[skiff_none]}")
  ok=$(awk -v r="$d" 'BEGIN {print (r >= 5) ? "met" : "NOT met"}')
  echo "  docker / skiff --network none: ${d}x (target >= 5x: $ok)"
else
  echo "  docker: no Docker daemon answers here (and none could be started), not measured"
fi
