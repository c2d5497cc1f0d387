//! `skiff top CONTAINER` and `skiff stats --no-stream`: the processes of a running container
//! (as the skiff processes that hold them publish them) and what those use of the host.

use crate::container::{self, Container};
use crate::runtime::wasi::process::ProcEntry;
use crate::store::Store;
use clap::Args;

#[derive(Debug, Args)]
pub struct TopArgs {
    container: String,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    all: bool,
    /// Disable streaming stats and only pull the first result
    #[arg(long)]
    no_stream: bool,
    /// Pretty-print stats using a Go template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    containers: Vec<String>,
}

/// The live skiff processes holding a container's guests (its supervisor, `exec`s), each
/// with the guest processes it runs.
fn owners(store: &Store, c: &Container) -> Vec<(u32, Vec<ProcEntry>)> {
    let dir = c.dir(store).join("procs");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_suffix(".json").and_then(|p| p.parse::<u32>().ok()) else { continue };
        if !container::process_alive(pid) {
            let _ = std::fs::remove_file(e.path()); // its owner is gone
            continue;
        }
        // Rewritten in place as processes come and go: a torn read is retried.
        let read = || std::fs::read(e.path()).ok().and_then(|d| serde_json::from_slice::<Vec<ProcEntry>>(&d).ok());
        let procs = (0..5)
            .find_map(|_| {
                read().or_else(|| {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                    None
                })
            })
            .unwrap_or_default();
        if !procs.is_empty() {
            out.push((pid, procs));
        }
    }
    // The supervisor (the container's own PID) first.
    out.sort_by_key(|(pid, _)| (*pid != c.state.pid, *pid));
    out
}

pub fn top(a: TopArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let c = container::find(&store, &a.container)?;
    if !c.state.is_alive() {
        anyhow::bail!("Container {} is not running", c.id);
    }
    let mut rows = Vec::new();
    for (host, procs) in owners(&store, &c) {
        for p in procs {
            let stime = chrono::DateTime::parse_from_rfc3339(&p.started)
                .map(|t| t.format("%H:%M:%S").to_string())
                .unwrap_or_default();
            rows.push(vec![
                "root".into(),
                p.pid.to_string(),
                p.ppid.to_string(),
                host.to_string(),
                stime,
                p.argv.join(" "),
            ]);
        }
    }
    print!("{}", super::table::render(&["UID", "PID", "PPID", "HOST PID", "STIME", "CMD"], &rows));
    Ok(0)
}

/// Resident memory (bytes) and CPU time (clock ticks) of a host process, from /proc.
fn usage(pid: u32) -> (u64, u64) {
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024;
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            Some(rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    (rss, ticks)
}

fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}

pub fn stats(a: StatsArgs) -> anyhow::Result<i32> {
    if !a.no_stream {
        anyhow::bail!("skiff stats streams nothing yet: use --no-stream");
    }
    let store = super::open_store()?;
    let mut list: Vec<Container> = if a.containers.is_empty() {
        container::list(&store)?.into_iter().filter(|c| a.all || c.state.is_alive()).collect()
    } else {
        a.containers.iter().map(|n| container::find(&store, n)).collect::<Result<_, _>>()?
    };
    list.reverse();
    // CPU: two samples of the owners' CPU time, 500 ms apart, as a share of one CPU.
    let sample = |list: &[Container]| -> Vec<(u64, u64, usize)> {
        list.iter()
            .map(|c| {
                let owners = owners(&store, c);
                let procs = owners.iter().map(|(_, p)| p.len()).sum();
                let (mut mem, mut cpu) = (0, 0);
                for (pid, _) in &owners {
                    let (m, t) = usage(*pid);
                    mem += m;
                    cpu += t;
                }
                (mem, cpu, procs)
            })
            .collect()
    };
    let first = sample(&list);
    let interval = std::time::Duration::from_millis(500);
    std::thread::sleep(interval);
    let second = sample(&list);
    let ticks_per_sec = 100.0; // Linux's USER_HZ
    let total = host_memory();
    let mut rows = super::listing::Listing::new(FIELDS, DEFAULT);
    for (i, c) in list.iter().enumerate() {
        let (mem, t1, pids) = second[i];
        let cpu = (t1.saturating_sub(first[i].1)) as f64 / ticks_per_sec / interval.as_secs_f64() * 100.0;
        let limit = if c.memory > 0 { c.memory } else { total };
        rows.push([
            ("ID", c.short_id().to_string()),
            ("Container", c.short_id().to_string()),
            ("Name", c.name.clone()),
            ("CPUPerc", format!("{cpu:.2}%")),
            ("MemUsage", format!("{} / {}", binary_size(mem), binary_size(limit))),
            ("MemPerc", format!("{:.2}%", if limit > 0 { mem as f64 / limit as f64 * 100.0 } else { 0.0 })),
            ("NetIO", "0B / 0B".to_string()),
            ("BlockIO", "0B / 0B".to_string()),
            ("PIDs", pids.to_string()),
        ]);
    }
    rows.print(a.format.as_deref())?;
    Ok(0)
}

const FIELDS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Container", "CONTAINER"),
    ("Name", "NAME"),
    ("CPUPerc", "CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET I/O"),
    ("BlockIO", "BLOCK I/O"),
    ("PIDs", "PIDS"),
];
const DEFAULT: &str =
    "table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}\\t{{.NetIO}}\\t{{.BlockIO}}\\t{{.PIDs}}";

/// Docker's `units.BytesSize`: binary units with 3 significant digits (`9.58MiB`).
fn binary_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{}{}", if s.len() > 4 { &s[..4] } else { s }.trim_end_matches('.'), UNITS[i])
}
