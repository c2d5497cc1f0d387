#!/usr/bin/env bash
# Portability: the WASI backend must build for Windows and macOS. `cargo check` with Debian's
# Rust (rustc-web, std source from rust-web-src) and -Zbuild-std, for
#  * x86_64-pc-windows-msvc (no C is built for it: ring is not used on Windows, and wasmtime
#    needs no C helper there). The Windows build itself is built and run by .ci/windows.sh.
#  * aarch64-apple-darwin: build scripts compile a little C for it (wasmtime's helpers.c, ring),
#    with clang (`--target`, which cc-rs passes) and llvm-ar. There is no Apple SDK here, so
#    SDKROOT points at .ci/macos-sdk, a few stand-in headers that are enough to compile those
#    files: `cargo check` links nothing, so the objects are never used.
set -euo pipefail
cd "$(dirname "$0")/.."
need=(rustc-web cargo-web rust-web-src clang llvm)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1
export CC_aarch64_apple_darwin=clang AR_aarch64_apple_darwin=llvm-ar SDKROOT="$PWD/.ci/macos-sdk"
target_dir=${CARGO_TARGET_DIR:-target}/portability
for target in x86_64-pc-windows-msvc aarch64-apple-darwin; do
  echo "portability: cargo check --target $target"
  cargo check --quiet --lib --bins --target "$target" -Zbuild-std=std,panic_abort --target-dir "$target_dir"
done
echo "portability: ok"
