#!/usr/bin/env bash
# Benchmark: requests per second of a keep-alive HTTP load (wrk, 2 threads, 16 connections)
#   1. against skiff's `nginx` through a published port (-p): the path a browser takes;
#   2. container to container through the virtual network: `ab -k` in one container
#      against `nginx` in another, by name;
#   3. against a native Rust server on loopback (examples/native_http.rs): the ceiling;
# and, on Linux as root, the same for native containers (the linux backend: crun/runc, a real
# bridge, veth pairs, the embedded DNS server; -p from the host goes through the kernel's DNAT):
#   4. the same Rust server inside a native container (an image of its binary and the libraries
#      it loads), from `wrk` in another native container, by name on a user network;
#   5. that server through a published port, from wrk on the host.
# Prints each median and its share of the loopback ceiling. Target (issue #6): published port
# >= 50% of native.
#   benches/network.sh [SECONDS] [RUNS]     (default 5 s, 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
runs="${2:-3}"
command -v wrk >/dev/null || { echo "installing wrk" >&2; apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }; }
cargo build --release --quiet
cargo build --release --quiet --example native_http
target="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$target/release/skiff"
root="$(mktemp -d)"
export SKIFF_ROOT="$root"
unset SKIFF_MODULE_CACHE
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
web_port=$(free_port)
native_port=$(free_port)
native_pid=""
cleanup() {
  "$bin" rm -f bench-web bench-nsrv >/dev/null 2>&1 || true
  "$bin" network rm bench-native >/dev/null 2>&1 || true
  [ -n "$native_pid" ] && kill "$native_pid" 2>/dev/null || true
  rm -rf "$root"
}
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {printf "%.0f", (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
wrk_rps() { # url -> requests/sec (one run)
  wrk -t2 -c16 -d"${secs}s" "$1" | awk '/Requests\/sec/ {print $2}'
}
wait_http() { for _ in $(seq 100); do curl -s -o /dev/null "$1" 2>/dev/null && return 0; python3 - "$1" <<'PY' 2>/dev/null && return 0
import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)
PY
sleep 0.05; done; echo "no answer from $1" >&2; exit 1; }

"$bin" network create bench-net >/dev/null
"$bin" run -d --name bench-web --network bench-net -p "$web_port:80" nginx >/dev/null 2>&1
wait_http "http://127.0.0.1:$web_port/"
"$target/release/examples/native_http" "$native_port" >/dev/null &
native_pid=$!
wait_http "http://127.0.0.1:$native_port/"

published=$(for _ in $(seq "$runs"); do wrk_rps "http://127.0.0.1:$web_port/"; done | median)
native=$(for _ in $(seq "$runs"); do wrk_rps "http://127.0.0.1:$native_port/"; done | median)
c2c=$(for _ in $(seq "$runs"); do
  "$bin" run --rm --network bench-net httpd ab -k -c 16 -t "$secs" -n 10000000 http://bench-web/ 2>/dev/null | awk '/Requests per second/ {print $4}'
done | median)

echo "keep-alive HTTP, 16 connections, ${secs}s x $runs runs (medians):"
echo "  native Rust server on loopback (ceiling):   $native req/s"
echo "  skiff nginx through a published port:       $published req/s ($(( published * 100 / native ))% of native; target >= 50%)"
echo "  container to container (ab -k in httpd):    $c2c req/s ($(( c2c * 100 / native ))% of native)"

# Native containers: Linux, root, an OCI runtime and nft.
native_skip=""
if [ "$(uname -s)" != Linux ]; then
  native_skip="native containers need Linux"
elif [ "$(id -u)" != 0 ]; then
  native_skip="native containers need root"
else
  for need in crun:crun nft:nftables; do
    tool="${need%%:*}" pkg="${need#*:}"
    if ! command -v "$tool" >/dev/null && [ ! -x "$tool" ]; then
      echo "installing $pkg" >&2
      apt-get install -y -q "$pkg" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "$pkg" >/dev/null; }
    fi
  done
fi
if [ -n "$native_skip" ]; then
  echo "native containers: skipped ($native_skip)"
  exit 0
fi

native_image() { # NAME BINARY... : a linux image of the binaries and the shared libraries they load
  local name="$1" dir="$root/image-$1"
  shift
  mkdir -p "$dir"
  for b in "$@"; do
    cp --parents -L "$b" "$dir"
    ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
      cp --parents -L "$lib" "$dir"
    done
  done
  tar -C "$dir" -c . | "$bin" import - "$name" >/dev/null
}
server="$root/native_http"
cp "$target/release/examples/native_http" "$server"
native_image bench-server "$server"
native_image bench-wrk "$(command -v wrk)"
nsrv_port=$(free_port)
"$bin" network create bench-native >/dev/null
"$bin" run -d --name bench-nsrv --network bench-native -p "127.0.0.1:$nsrv_port:8080" bench-server "$server" 8080 0.0.0.0 >/dev/null
wait_http "http://127.0.0.1:$nsrv_port/"
n_published=$(for _ in $(seq "$runs"); do wrk_rps "http://127.0.0.1:$nsrv_port/"; done | median)
n_c2c=$(for _ in $(seq "$runs"); do
  "$bin" run --rm --network bench-native bench-wrk "$(command -v wrk)" -t2 -c16 -d"${secs}s" http://bench-nsrv:8080/ | awk '/Requests\/sec/ {print $2}'
done | median)
echo "native containers ($(basename "$(command -v crun || command -v runc)")), the same Rust server in a linux image:"
echo "  container to container, by name (wrk in another container): $n_c2c req/s ($(( n_c2c * 100 / native ))% of loopback)"
echo "  through a published port (from the host: kernel DNAT):      $n_published req/s ($(( n_published * 100 / native ))% of loopback)"
