//! The OCI runtime bundle's `config.json` for a native container, with Docker's defaults:
//! namespaces pid, mount, uts, ipc and net; Docker's default capability set; the masked and
//! read-only `/proc` paths; `/dev` basics; resources from `--memory`, `--cpus`,
//! `--pids-limit`; volumes and bind mounts; the container's own `/etc/hosts`,
//! `/etc/hostname`, `/etc/resolv.conf`.
//!
//! The document is written with serde_json: it is a few dozen keys, and the `oci-spec`
//! crate's builders would add a dozen crates for no check skiff needs (the runtime
//! validates it).

use super::cgroup;
use crate::runtime::users::User;
use crate::runtime::{ContainerSpec, ProcessSpec};
use serde_json::{json, Value};

/// Docker 20.10's default capabilities.
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Docker's masked paths (hidden from the container) and read-only paths.
const MASKED: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
];
const READONLY: &[&str] = &["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/// How the container is networked.
#[derive(Debug, Clone)]
pub enum Net {
    /// The host's network namespace (`--network host`).
    Host,
    /// A new namespace with only `lo` (`--network none`).
    Isolated,
    /// A namespace skiff prepared (bind-mounted at this path).
    Path(String),
}

/// The process part of the config (`crun exec --process` takes it alone).
pub fn process(p: &ProcessSpec, user: &User, terminal: bool, nofile: u64) -> Value {
    let mut env = p.env.clone();
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", user.home));
    }
    let caps: Vec<&str> = DEFAULT_CAPS.to_vec();
    // As Docker: the primary group is among the supplementary ones (`id` lists it).
    let mut groups = vec![user.gid];
    groups.extend(user.groups.iter().filter(|g| **g != user.gid));
    // The caller's window size, so the program sees it from its first instruction.
    let (rows, cols) = crate::runtime::host_terminal_size().unwrap_or((24, 80));
    json!({
        "consoleSize": { "height": rows, "width": cols },
        "terminal": terminal,
        "user": { "uid": user.uid, "gid": user.gid, "additionalGids": groups },
        "args": p.argv,
        "env": env,
        "cwd": if p.cwd.is_empty() { "/" } else { &p.cwd },
        "capabilities": {
            "bounding": caps, "effective": caps, "permitted": caps, "inheritable": caps,
        },
        "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile }],
        "noNewPrivileges": false,
        "oomScoreAdj": 0,
    })
}

/// The whole config for `c` running `p`.
pub fn config(c: &ContainerSpec, p: &ProcessSpec, user: &User, terminal: bool, net: &Net) -> Value {
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}),
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}),
    ];
    for m in &c.mounts {
        let mut options = vec!["rbind", "rprivate"];
        options.push(if m.readonly { "ro" } else { "rw" });
        mounts.push(json!({"destination": m.target, "type": "bind", "source": m.source, "options": options}));
    }
    let resolv = c.dir.join("resolv.conf");
    if resolv.is_file() && !c.mounts.iter().any(|m| m.target == "/etc/resolv.conf") {
        mounts.push(json!({"destination": "/etc/resolv.conf", "type": "bind", "source": resolv, "options": ["rbind", "rprivate", "rw"]}));
    }
    let mut namespaces =
        vec![json!({"type": "pid"}), json!({"type": "mount"}), json!({"type": "ipc"}), json!({"type": "uts"})];
    match net {
        Net::Host => {}
        Net::Isolated => namespaces.push(json!({"type": "network"})),
        Net::Path(p) => namespaces.push(json!({"type": "network", "path": p})),
    }
    let mut resources = json!({
        "devices": [
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 7, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 8, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
            {"allow": true, "type": "c", "major": 5, "minor": 0, "access": "rwm"},
            {"allow": true, "type": "c", "major": 5, "minor": 1, "access": "rwm"},
            {"allow": true, "type": "c", "major": 5, "minor": 2, "access": "rwm"},
            {"allow": true, "type": "c", "major": 136, "access": "rwm"},
        ],
    });
    if c.limits.memory > 0 {
        // As Docker with only -m: swap as much again (here: none, so the limit is the limit).
        resources["memory"] = json!({"limit": c.limits.memory, "swap": c.limits.memory});
    }
    if c.limits.cpus > 0.0 {
        let period = 100_000u64;
        resources["cpu"] = json!({"quota": (c.limits.cpus * period as f64) as i64, "period": period});
    }
    if c.limits.pids != 0 {
        resources["pids"] = json!({"limit": c.limits.pids});
    }
    json!({
        "ociVersion": "1.0.2",
        "process": process(p, user, terminal, nofile_limit()),
        "root": {"path": "rootfs", "readonly": c.readonly_rootfs},
        "hostname": c.hostname,
        "mounts": mounts,
        "linux": {
            "namespaces": namespaces,
            "cgroupsPath": cgroup::path_for(&c.id),
            "resources": resources,
            "maskedPaths": MASKED,
            "readonlyPaths": READONLY,
        },
    })
}

/// The open-files limit for container processes: Docker's 1048576, but never above this
/// process's hard limit (raising it needs CAP_SYS_RESOURCE, which some hosts lack).
pub fn nofile_limit() -> u64 {
    // SAFETY: getrlimit fills a plain struct.
    let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
    let hard = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) } == 0 { rl.rlim_max } else { 1024 };
    (hard as u64).min(1_048_576)
}
