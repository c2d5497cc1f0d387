//! The host processes holding a WASI container's guests: its supervisor (or the attached
//! `run`) and each `exec`. Each publishes its guest processes in
//! `containers/<id>/procs/<host pid>.json`; `top`, `stats`, `pause` and the end of the
//! container go through that list.

use super::process::ProcEntry;
use std::path::Path;

/// The live holders of a container (`dir` is `containers/<id>/`), each with the guest
/// processes it runs; stale files (their holder is gone) are removed. `owner` (the
/// supervisor) comes first.
pub fn list(dir: &Path, owner: u32) -> Vec<(u32, Vec<ProcEntry>)> {
    let procs = dir.join("procs");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&procs).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_suffix(".json").and_then(|p| p.parse::<u32>().ok()) else { continue };
        if !crate::hostproc::alive(pid) {
            // Its holder is gone: its table and control port file go too.
            let _ = std::fs::remove_file(e.path());
            let _ = std::fs::remove_file(procs.join(format!("{pid}.ctl")));
            continue;
        }
        // Rewritten in place as processes come and go: a torn read is retried.
        let read = || std::fs::read(e.path()).ok().and_then(|d| serde_json::from_slice::<Vec<ProcEntry>>(&d).ok());
        let entries = (0..5)
            .find_map(|_| {
                read().or_else(|| {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    None
                })
            })
            .unwrap_or_default();
        out.push((pid, entries));
    }
    out.sort_by_key(|(pid, _)| (*pid != owner, *pid));
    out
}

/// Host PIDs of the holders other than `except` (this process, or the supervisor).
pub fn others(dir: &Path, except: u32) -> Vec<u32> {
    list(dir, except).into_iter().map(|(pid, _)| pid).filter(|p| *p != except).collect()
}
