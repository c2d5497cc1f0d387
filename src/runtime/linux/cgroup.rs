//! Reading a native container's cgroup (the OCI runtime creates and limits it from
//! `linux.resources`; skiff only reads it): memory, CPU, PIDs, the OOM killer's count, its
//! processes. cgroup v2 (one unified tree, most machines) and v1 (one tree per controller,
//! this project's CI machines run a hybrid of both) are both read.

use std::path::{Path, PathBuf};

const ROOT: &str = "/sys/fs/cgroup";

/// The cgroup path skiff asks the runtime to use for container `id` (`linux.cgroupsPath`).
pub fn path_for(id: &str) -> String {
    format!("/skiff/{id}")
}

/// Whether the host runs the unified (v2) hierarchy with controllers in it.
pub fn is_v2() -> bool {
    Path::new(ROOT).join("cgroup.controllers").is_file()
}

/// A v1 controller's directory for the container (None on v2 or if absent).
fn v1_dir(controller: &str, id: &str) -> Option<PathBuf> {
    let d = Path::new(ROOT).join(controller).join(path_for(id).trim_start_matches('/'));
    d.is_dir().then_some(d)
}

fn v2_dir(id: &str) -> Option<PathBuf> {
    let d = Path::new(ROOT).join(path_for(id).trim_start_matches('/'));
    d.is_dir().then_some(d)
}

fn read_u64(p: PathBuf) -> Option<u64> {
    std::fs::read_to_string(p).ok()?.trim().parse().ok()
}

/// `key value` lines (memory.stat, memory.events, cpu.stat, memory.oom_control).
fn keyed(p: PathBuf, key: &str) -> Option<u64> {
    std::fs::read_to_string(p)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

/// How often the OOM killer killed a process of the container.
pub fn oom_kills(id: &str) -> u64 {
    if is_v2() {
        return v2_dir(id).and_then(|d| keyed(d.join("memory.events"), "oom_kill")).unwrap_or(0);
    }
    v1_dir("memory", id).and_then(|d| keyed(d.join("memory.oom_control"), "oom_kill")).unwrap_or(0)
}

/// Memory in use (bytes, without the page cache, as `docker stats` shows it).
pub fn memory(id: &str) -> u64 {
    if is_v2() {
        let Some(d) = v2_dir(id) else { return 0 };
        let used = read_u64(d.join("memory.current")).unwrap_or(0);
        return used.saturating_sub(keyed(d.join("memory.stat"), "inactive_file").unwrap_or(0));
    }
    let Some(d) = v1_dir("memory", id) else { return 0 };
    let used = read_u64(d.join("memory.usage_in_bytes")).unwrap_or(0);
    used.saturating_sub(keyed(d.join("memory.stat"), "total_inactive_file").unwrap_or(0))
}

/// CPU time used, nanoseconds.
pub fn cpu_ns(id: &str) -> u64 {
    if is_v2() {
        return v2_dir(id).and_then(|d| keyed(d.join("cpu.stat"), "usage_usec")).unwrap_or(0) * 1000;
    }
    v1_dir("cpuacct", id).and_then(|d| read_u64(d.join("cpuacct.usage"))).unwrap_or(0)
}

/// Host PIDs of every process in the container.
pub fn pids(id: &str) -> Vec<u32> {
    let dir = if is_v2() { v2_dir(id) } else { v1_dir("pids", id).or_else(|| v1_dir("memory", id)) };
    let Some(d) = dir else { return vec![] };
    std::fs::read_to_string(d.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Bytes read and written by the container's processes (blkio / io.stat).
pub fn block_io(id: &str) -> (u64, u64) {
    if is_v2() {
        let Some(d) = v2_dir(id) else { return (0, 0) };
        let text = std::fs::read_to_string(d.join("io.stat")).unwrap_or_default();
        let (mut r, mut w) = (0, 0);
        for field in text.split_whitespace() {
            if let Some(v) = field.strip_prefix("rbytes=") {
                r += v.parse::<u64>().unwrap_or(0);
            } else if let Some(v) = field.strip_prefix("wbytes=") {
                w += v.parse::<u64>().unwrap_or(0);
            }
        }
        return (r, w);
    }
    let Some(d) = v1_dir("blkio", id) else { return (0, 0) };
    let text = std::fs::read_to_string(d.join("blkio.throttle.io_service_bytes")).unwrap_or_default();
    let (mut r, mut w) = (0, 0);
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        match f.as_slice() {
            [_, "Read", v] => r += v.parse::<u64>().unwrap_or(0),
            [_, "Write", v] => w += v.parse::<u64>().unwrap_or(0),
            _ => {}
        }
    }
    (r, w)
}

/// Remove the container's cgroups if the runtime left them (a killed supervisor).
pub fn remove(id: &str) {
    let rel = path_for(id);
    let rel = rel.trim_start_matches('/');
    if is_v2() {
        let _ = std::fs::remove_dir(Path::new(ROOT).join(rel));
        return;
    }
    for e in std::fs::read_dir(ROOT).into_iter().flatten().flatten() {
        let _ = std::fs::remove_dir(e.path().join(rel));
    }
}

/// crun refuses a hybrid host (v1 controllers, and a cgroup2 mount at `unified`) while any
/// controller the kernel offers is not mounted in v1 — here `hugetlb`, which distributions
/// leave unmounted: "cgroups in hybrid mode not supported, drop all controllers from
/// cgroupv2". Mount the missing v1 controllers (what `/etc/fstab` would do), once.
pub fn fix_hybrid() {
    if is_v2() || !Path::new(ROOT).join("unified").is_dir() {
        return;
    }
    let Ok(all) = std::fs::read_to_string("/proc/cgroups") else { return };
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for l in all.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (Some(name), Some(enabled)) = (f.first(), f.get(3)) else { continue };
        if *enabled != "1" {
            continue;
        }
        let mounted = mounts.lines().any(|m| {
            m.contains(" - cgroup ") && m.rsplit(' ').next().is_some_and(|o| o.split(',').any(|x| x == *name))
        });
        if mounted {
            continue;
        }
        let dir = Path::new(ROOT).join(name);
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = super::sys::mount("cgroup", &dir, "cgroup", name);
        }
    }
}
