#!/usr/bin/env bash
# Build skiff's WASI guests reproducibly with Debian's Rust and copy them to guests/bin/.
#   guests/build.sh          build, install the toolchain first if it is missing
#   guests/build.sh --check  build into a temporary place and compare with the committed
#                            bin/*.wasm; fail on a difference (when the recorded rustc is the
#                            one installed), or say so and keep the fresh ones (when it moved on)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

need=(rustc-web cargo-web rust-web-src wasi-libc lld)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "guests: installing ${missing[*]}" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

export PATH="/usr/bin:$PATH"
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_WASM32_WASIP1_LINKER=wasm-ld
export SOURCE_DATE_EPOCH=0
# No machine path may end up in a .wasm: remap this checkout, cargo's registry and std's source.
sysroot="$(rustc --print sysroot)"
export CARGO_TARGET_WASM32_WASIP1_RUSTFLAGS="-L /usr/lib/wasm32-wasi --remap-path-prefix=$here=/guests --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo --remap-path-prefix=$sysroot=/rust"
target_dir="${CARGO_TARGET_DIR:-$here/target}"

cargo build --release --locked -Zbuild-std=std,panic_abort --target wasm32-wasip1 \
  --target-dir "$target_dir" 2>&1 | grep -v '^\s*\(Compiling\|Finished\|Blocking\)' >&2 || true
test -f "$target_dir/wasm32-wasip1/release/sh.wasm" || { echo "guests: build failed" >&2; exit 1; }

programs=(sh box hello whoami httpd redis registry postgres)
# The compiler as recorded: rustc's version and Debian's package revision (a rebuilt package
# can give other bytes under the same `rustc -V`).
rustc_v="$(rustc -V); rustc-web $(dpkg-query -W -f='${Version}' rustc-web 2>/dev/null || echo unknown)"
if [ "${1:-}" = "--check" ]; then
  recorded="$(cat bin/RUSTC_VERSION 2>/dev/null || echo none)"
  diff=0
  for p in "${programs[@]}"; do
    cmp -s "$target_dir/wasm32-wasip1/release/$p.wasm" "bin/$p.wasm" || { echo "guests: bin/$p.wasm differs from a fresh build" >&2; diff=1; }
  done
  if [ $diff = 0 ]; then echo "guests: committed .wasm match a fresh build ($rustc_v)"; exit 0; fi
  if [ "$recorded" = "$rustc_v" ]; then
    echo "guests: the committed guests are not what their source builds to with $rustc_v: rebuild with guests/build.sh and commit" >&2
    exit 1
  fi
  echo "guests: committed guests were built with '$recorded', this machine has '$rustc_v';"
  echo "guests: bytes cannot be compared across compilers, so the tests run with the fresh guests"
  for p in "${programs[@]}"; do cp "$target_dir/wasm32-wasip1/release/$p.wasm" "bin/$p.wasm"; done
  exit 0
fi

for p in "${programs[@]}"; do cp "$target_dir/wasm32-wasip1/release/$p.wasm" "bin/$p.wasm"; done
echo "$rustc_v" > bin/RUSTC_VERSION
ls -l bin/*.wasm >&2
