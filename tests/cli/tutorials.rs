//! Every tutorial is a test: run through the same engine `skiff tutorial` uses.
//! `SKIFF_TUTORIAL=overwrite` rewrites expectations from the real output instead.

use super::util::{require_tool, shared_module_cache, skiff_bin};
use std::path::PathBuf;

#[test]
fn tutorials_pass() {
    std::env::set_var("SKIFF_MODULE_CACHE", shared_module_cache());
    // The networks tutorial reaches a published port from the host, as a learner would.
    require_tool("curl", "curl");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tutorials");
    let files = skiff::tutorial::find(&dir).unwrap();
    assert!(!files.is_empty(), "no tutorials in {}", dir.display());
    let mut failures = Vec::new();
    for f in &files {
        if let Err(e) = skiff::tutorial::verify(f, &skiff_bin()) {
            failures.push(format!("{e:#}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
