//! `skiff ps` / `container ls`: the containers table (Docker's columns and status wording).

use super::listing::Listing;
use super::table::{ago, ellipsis, go_time, human_duration, seconds_since};
use crate::container::{self, Container, Status};
use clap::Args;

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    all: bool,
    /// Only display container IDs
    #[arg(short, long)]
    quiet: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Show the latest created container (includes all states)
    #[arg(short, long)]
    latest: bool,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long, value_name = "int")]
    last: Option<usize>,
    /// Pretty-print containers using a Go template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    /// Filter output based on conditions provided (status=…, name=…, id=…)
    #[arg(short, long = "filter", value_name = "filter")]
    filter: Vec<String>,
}

/// The fields `--format` may name, with their column titles.
const FIELDS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("Networks", "NETWORKS"),
];
const DEFAULT: &str = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

pub fn exec(a: PsArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let mut list = container::list(&store)?;
    let limit = if a.latest { Some(1) } else { a.last };
    if !a.all && limit.is_none() {
        list.retain(|c| c.state.is_alive());
    }
    for f in &a.filter {
        let (k, v) = f.split_once('=').ok_or_else(|| anyhow::anyhow!("bad format of filter (expected name=value)"))?;
        match k {
            "status" => list.retain(|c| status_word(c) == v),
            "name" => list.retain(|c| c.name.contains(v)),
            "id" => list.retain(|c| c.id.starts_with(v)),
            "health" => {
                if !["starting", "healthy", "unhealthy", "none"].contains(&v) {
                    anyhow::bail!("Unrecognised filter value for health: {v}");
                }
                list.retain(|c| c.state.health.as_ref().map_or("none", |h| h.status.as_str()) == v)
            }
            "label" => list.retain(|c| match v.split_once('=') {
                Some((lk, lv)) => c.config.labels.get(lk).is_some_and(|x| x == lv),
                None => c.config.labels.contains_key(v),
            }),
            "ancestor" => {
                // The image named, or any image made from it (by ID, name or short ID).
                let ancestor = store.find_image(v).ok().map(|i| i.id);
                list.retain(|c| {
                    c.config.image == v
                        || c.image.hex().starts_with(v.trim_start_matches("sha256:"))
                        || ancestor.as_ref().is_some_and(|a| *a == c.image || descends(&store, &c.image, a))
                })
            }
            "exited" => {
                let code: i32 = v.parse().map_err(|_| anyhow::anyhow!("invalid filter 'exited={v}'"))?;
                list.retain(|c| c.state.status == Status::Exited && c.state.exit_code == code)
            }
            "network" => list.retain(|c| {
                c.networks.contains_key(v) || c.networks.values().any(|e| e.network_id.starts_with(v) && !v.is_empty())
            }),
            "publish" | "expose" => {
                let (key, _) = crate::network::ports::port_key(v)?;
                list.retain(
                    |c| if k == "publish" { c.ports.contains_key(&key) } else { c.exposed_ports.contains(&key) },
                );
            }
            _ => anyhow::bail!("invalid filter '{k}'"),
        }
    }
    if let Some(n) = limit {
        list.truncate(n);
    }
    if a.quiet {
        for c in &list {
            println!("{}", if a.no_trunc { c.id.as_str() } else { c.short_id() });
        }
        return Ok(0);
    }
    let mut rows = Listing::new(FIELDS, DEFAULT);
    for c in &list {
        let cmd = quote_command(c);
        rows.push([
            ("ID", if a.no_trunc { c.id.clone() } else { c.short_id().to_string() }),
            ("Image", c.config.image.clone()),
            ("Command", format!("{:?}", if a.no_trunc { cmd } else { ellipsis(&cmd, 20) }).replace("\\'", "'")),
            ("CreatedAt", go_time(&c.created)),
            ("RunningFor", ago(&c.created)),
            (
                "Ports",
                if c.state.is_alive() {
                    crate::network::ports::describe(&c.ports, &c.exposed_ports)
                } else {
                    String::new()
                },
            ),
            ("State", status_word(c).to_string()),
            ("Status", status_text(c)),
            ("Size", String::new()),
            ("Names", c.name.clone()),
            ("Labels", c.config.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")),
            ("Mounts", String::new()),
            ("Networks", c.networks.keys().cloned().collect::<Vec<_>>().join(",")),
        ]);
    }
    rows.print(a.format.as_deref())?;
    Ok(0)
}

/// `created`, `running`, `exited` (the words `-f status=` takes).
fn status_word(c: &Container) -> &'static str {
    match c.state.status {
        Status::Created => "created",
        Status::Running => "running",
        Status::Paused => "paused",
        Status::Restarting => "restarting",
        Status::Exited => "exited",
    }
}

/// `Up 7 seconds`, `Exited (0) 2 minutes ago`, `Created`.
pub fn status_text(c: &Container) -> String {
    match c.state.status {
        Status::Created => "Created".into(),
        Status::Running => {
            let health = match c.state.health.as_ref().map(|h| h.status.as_str()) {
                Some("starting") => " (health: starting)".to_string(),
                Some(s) => format!(" ({s})"),
                None => String::new(),
            };
            format!("Up {}{health}", human_duration(seconds_since(&c.state.started_at)))
        }
        Status::Paused => format!("Up {} (Paused)", human_duration(seconds_since(&c.state.started_at))),
        Status::Restarting => format!("Restarting ({}) {}", c.state.exit_code, ago(&c.state.finished_at)),
        Status::Exited => format!("Exited ({}) {}", c.state.exit_code, ago(&c.state.finished_at)),
    }
}

/// The command as Docker shows it: arguments with spaces in single quotes.
fn quote_command(c: &Container) -> String {
    c.argv()
        .iter()
        .map(|a| if a.is_empty() || a.contains(char::is_whitespace) { format!("'{a}'") } else { a.clone() })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether image `id` was made from `ancestor` (through the parent links of builds and commits).
fn descends(store: &crate::store::Store, id: &crate::spec::Digest, ancestor: &crate::spec::Digest) -> bool {
    let mut cur = store.parent(id);
    while let Some(p) = cur {
        if p == *ancestor {
            return true;
        }
        cur = store.parent(&p);
    }
    false
}
