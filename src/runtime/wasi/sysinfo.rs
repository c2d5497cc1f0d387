//! What a WASI container's `free`, `uptime`, `df` and `top` see (`sysinfo` import): its
//! uptime since its first process started, its memory (the `--memory` limit, else the
//! host's) and what its guests use, the host's load averages (as a Linux container sees
//! them), and the disk holding its writable layer.

use super::process::Shared;
use std::sync::atomic::Ordering;

/// `procs/boot`: when the container's first process started (ms since the epoch), written by
/// the supervisor so every holder reports the same uptime.
pub fn boot_file(procs: &std::path::Path) -> std::path::PathBuf {
    procs.join("boot")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The `KEY VALUE` lines of `sysinfo`.
pub fn text(shared: &Shared) -> String {
    let boot = shared
        .procs_dir
        .as_ref()
        .and_then(|d| std::fs::read_to_string(boot_file(d)).ok())
        .and_then(|t| t.trim().parse::<i64>().ok())
        .unwrap_or_else(|| {
            shared.started.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
        });
    let host = crate::hostproc::host_memory() / 1024;
    let total = if shared.memory_limit > 0 { (shared.memory_limit / 1024).min(host.max(1)) } else { host };
    let used: u64 = shared.states().iter().map(|s| s.mem.load(Ordering::Relaxed) / 1024).sum();
    let mut procs = shared.entries().len();
    if let Some(dir) = &shared.procs_dir {
        let container = dir.parent().unwrap_or(dir);
        procs += super::holders::list(container, 0)
            .into_iter()
            .filter(|(h, _)| *h != std::process::id())
            .map(|(_, e)| e.len())
            .sum::<usize>();
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut l = load.split_whitespace();
    let (l1, l5, l15) = (l.next().unwrap_or("0.00"), l.next().unwrap_or("0.00"), l.next().unwrap_or("0.00"));
    let (fs_total, fs_free) = disk(&shared.fs.upper_host());
    format!(
        "uptime_ms {}\nboot_ms {boot}\nmem_total_kb {total}\nmem_used_kb {used}\nmem_free_kb {}\nprocs {procs}\nload1 {l1}\nload5 {l5}\nload15 {l15}\nfs_total_kb {fs_total}\nfs_used_kb {}\nfs_free_kb {fs_free}\n",
        (now_ms() - boot).max(0),
        total.saturating_sub(used),
        fs_total.saturating_sub(fs_free),
    )
}

/// Total and free KiB of the filesystem holding `p`.
fn disk(p: &std::path::Path) -> (u64, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else { return (0, 0) };
        // SAFETY: statvfs fills a plain struct for a valid path.
        let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
        if unsafe { libc::statvfs(c.as_ptr(), &mut s) } == 0 {
            let bs = s.f_frsize as u64;
            return (s.f_blocks as u64 * bs / 1024, s.f_bavail as u64 * bs / 1024);
        }
    }
    let _ = p;
    (0, 0)
}
