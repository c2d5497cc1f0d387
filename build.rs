//! Link-time settings for the `skiff` binary.
//!
//! On Linux, pack relative relocations (DT_RELR): the binary carries wasmtime and cranelift,
//! and applying ~22,000 classic RELA relocations costs about a millisecond at every start —
//! a tenth of the budget of `skiff run` (target: 10 ms). glibc >= 2.36 and binutils >= 2.38
//! support it (Debian 12 has both).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
