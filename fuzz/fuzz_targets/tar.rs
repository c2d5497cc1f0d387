//! libFuzzer target: `skiff::fuzz::tar` (see src/fuzz.rs for what it checks).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    skiff::fuzz::run("tar", data);
});
