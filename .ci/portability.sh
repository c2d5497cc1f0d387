#!/usr/bin/env bash
# Portability: the WASI backend must build for Windows and macOS. No cross C compiler exists
# here, so this is `cargo check` with Debian's Rust (rustc-web, std source from rust-web-src)
# and -Zbuild-std; C-building crates must stay out of the WASI path for this to pass.
# macOS (aarch64-apple-darwin) is not checked: wasmtime's build script compiles a C helper
# (src/runtime/vm/helpers.c) for every supported OS, and this machine has no C compiler for
# Apple targets (gcc rejects -mmacosx-version-min). Windows passes (cc-rs builds it here).
set -euo pipefail
cd "$(dirname "$0")/.."
need=(rustc-web cargo-web rust-web-src)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; fi
export PATH="/usr/bin:$PATH" RUSTC_BOOTSTRAP=1
for target in x86_64-pc-windows-msvc; do
  echo "portability: cargo check --target $target"
  cargo check --quiet --lib --bins --target "$target" -Zbuild-std=std,panic_abort --target-dir target/portability
done
echo "portability: ok"
