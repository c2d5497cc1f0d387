//! The guests' own unit tests (`guests/` is a separate workspace built for wasm32-wasip1; its
//! parsers and applets also build for the host), run from here so that `cargo test` covers
//! everything.

use std::process::Command;

#[test]
fn guest_unit_tests_pass() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/guests/Cargo.toml");
    let target = concat!(env!("CARGO_TARGET_TMPDIR"), "/guests-host");
    let out = Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--manifest-path", manifest, "--target-dir", target])
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "guest unit tests failed:\n{text}");
    assert!(text.contains("test result: ok"), "no guest tests ran:\n{text}");
}
