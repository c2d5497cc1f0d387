//! `skiff top CONTAINER` and `skiff stats`: the processes of a running container (as the
//! skiff processes that hold them publish them) and what those use of the host, as the
//! backend measures it (`Backend::stats`: CPU, memory, PIDs, network and block I/O). `stats`
//! streams a sample a second (redrawing the table on a terminal) until interrupted, or
//! prints one with `--no-stream`.

use crate::container::{self, Container};
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

pub fn top(a: TopArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let c = container::find(&store, &a.container)?;
    if !c.state.is_alive() {
        anyhow::bail!("Container {} is not running", c.id);
    }
    let mut rows = Vec::new();
    for p in c.backend(&store)?.processes(&c.spec(&store)?)? {
        let stime = chrono::DateTime::parse_from_rfc3339(&p.started)
            .map(|t| t.with_timezone(&chrono::Local).format("%H:%M:%S").to_string())
            .unwrap_or_default();
        let user = if p.uid == 0 { "root".to_string() } else { p.uid.to_string() };
        rows.push(vec![user, p.pid.to_string(), p.ppid.to_string(), p.host_pid.to_string(), stime, p.argv.join(" ")]);
    }
    print!("{}", super::table::render(&["UID", "PID", "PPID", "HOST PID", "STIME", "CMD"], &rows));
    Ok(0)
}

pub fn stats(a: StatsArgs) -> anyhow::Result<i32> {
    use std::io::{IsTerminal, Write};
    let store = super::open_store()?;
    let named = !a.containers.is_empty();
    let pick = |store: &Store| -> anyhow::Result<Vec<Container>> {
        let mut list: Vec<Container> = if named {
            a.containers.iter().map(|n| container::find(store, n)).collect::<Result<_, _>>()?
        } else {
            container::list(store)?.into_iter().filter(|c| a.all || c.state.is_alive()).collect()
        };
        if !named {
            list.reverse();
        }
        Ok(list)
    };
    let interval = std::time::Duration::from_millis(if a.no_stream { 500 } else { 1000 });
    // CPU: two samples of the container's CPU time an interval apart, as a share of one CPU.
    let mut list = pick(&store)?;
    let mut before = sample(&store, &list);
    let terminal = std::io::stdout().is_terminal();
    loop {
        std::thread::sleep(interval);
        let now = sample(&store, &list);
        let text = render(&list, &before, &now, interval, a.format.as_deref())?;
        let mut out = std::io::stdout().lock();
        let shown = if a.no_stream {
            write!(out, "{text}")
        } else if terminal {
            // Redraw in place, as Docker does on a terminal.
            write!(out, "\x1b[2J\x1b[H{text}")
        } else {
            write!(out, "{text}")
        };
        if shown.and_then(|_| out.flush()).is_err() || a.no_stream {
            return Ok(0);
        }
        // Containers that start or go are picked up (by name: those named stay listed).
        let next = pick(&store)?;
        before =
            next.iter().map(|c| list.iter().position(|o| o.id == c.id).map(|i| now[i]).unwrap_or_default()).collect();
        list = next;
    }
}

/// One sample of `list` as Docker's table (or `--format` lines).
fn render(
    list: &[Container],
    first: &[crate::runtime::Usage],
    second: &[crate::runtime::Usage],
    interval: std::time::Duration,
    format: Option<&str>,
) -> anyhow::Result<String> {
    use crate::units::human_size;
    let total = crate::hostproc::host_memory();
    let mut rows = super::listing::Listing::new(FIELDS, DEFAULT);
    for (i, c) in list.iter().enumerate() {
        let u = second[i];
        let (mem, pids) = (u.memory, u.pids);
        let cpu = u.cpu_ns.saturating_sub(first[i].cpu_ns) as f64 / 1e9 / interval.as_secs_f64() * 100.0;
        let limit = if c.memory > 0 { c.memory } else { total };
        let alive = c.state.is_alive();
        rows.push([
            ("ID", c.short_id().to_string()),
            ("Container", c.short_id().to_string()),
            ("Name", c.name.clone()),
            ("CPUPerc", if alive { format!("{cpu:.2}%") } else { "0.00%".into() }),
            (
                "MemUsage",
                format!(
                    "{} / {}",
                    crate::units::binary_size(mem),
                    crate::units::binary_size(if alive { limit } else { 0 })
                ),
            ),
            ("MemPerc", format!("{:.2}%", if limit > 0 { mem as f64 / limit as f64 * 100.0 } else { 0.0 })),
            ("NetIO", format!("{} / {}", human_size(u.net_rx), human_size(u.net_tx))),
            ("BlockIO", format!("{} / {}", human_size(u.block_read), human_size(u.block_write))),
            ("PIDs", pids.to_string()),
        ]);
    }
    rows.render(format)
}

/// What each running container uses now (zeros for one that is not running).
fn sample(store: &Store, list: &[Container]) -> Vec<crate::runtime::Usage> {
    list.iter()
        .map(|c| {
            if !c.state.is_alive() {
                return Default::default();
            }
            let usage = || -> crate::Result<crate::runtime::Usage> { c.backend(store)?.stats(&c.spec(store)?) };
            usage().unwrap_or_default()
        })
        .collect()
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
