//! Link-time settings for the `skiff` binary.
//!
//! On Linux, pack relative relocations (DT_RELR): the binary carries wasmtime and cranelift,
//! and applying ~22,000 classic RELA relocations costs about a millisecond at every start —
//! a tenth of the budget of `skiff run` (target: 10 ms). glibc >= 2.36 and binutils >= 2.38
//! support it (Debian 12 has both).
//!
//! The tutorials ship inside the binary: `tutorials/*.md` and `tutorials/zh-CN/*.md` become
//! `include_str!`s in `$OUT_DIR/tutorials.rs` (used by `src/tutorial/library.rs`), so
//! `skiff tutorial` works after `cargo install` with no checkout.

use std::fmt::Write as _;
use std::path::Path;

/// `(language, file name, include_str!(path))` for every tutorial file of `dir`, sorted.
fn embed(code: &mut String, lang: &str, dir: &Path) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "md"))
        .filter(|p| !p.file_stem().is_some_and(|s| s.eq_ignore_ascii_case("readme")))
        .collect();
    files.sort();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        writeln!(code, "    ({lang:?}, {name:?}, include_str!({:?})),", f.display().to_string()).unwrap();
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let mut code = String::from("/// (language, file name, markdown) of the tutorials built in.\npub static BUILTIN: &[(&str, &str, &str)] = &[\n");
    embed(&mut code, "en", &manifest.join("tutorials"));
    embed(&mut code, "zh-CN", &manifest.join("tutorials").join("zh-CN"));
    code.push_str("];\n");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("tutorials.rs");
    std::fs::write(out, code).unwrap();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
