//! `skiff logs [-f] [--tail N] [-t] [--since T] CONTAINER`: what the container wrote, from
//! its json-file log; `-f` follows until the container stops (or Ctrl-C).

use crate::container::{self, logs};
use clap::Args;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    follow: bool,
    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long, value_name = "string")]
    tail: Option<String>,
    /// Show timestamps
    #[arg(short, long)]
    timestamps: bool,
    /// Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(long, value_name = "string")]
    since: Option<String>,
    container: String,
}

pub fn exec(a: LogsArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let c = container::find(&store, &a.container)?;
    let tail = match a.tail.as_deref() {
        None | Some("all") => None,
        Some(n) => Some(n.parse::<usize>().map_err(|_| anyhow::anyhow!("invalid value for \"tail\": {n}"))?),
    };
    let since = a.since.as_deref().map(parse_since).transpose()?;
    let opts = logs::Options { tail, timestamps: a.timestamps, since };
    let path = logs::path(&c.dir(&store), &c.id);
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let mut offset = logs::print(&path, &opts, &mut out, &mut err)?;
    if a.follow {
        loop {
            let running = container::find(&store, &c.id).map(|c| c.state.is_alive()).unwrap_or(false);
            if path.exists() {
                offset = logs::follow_from(&path, offset, &opts, &mut out, &mut err)?;
            }
            if !running {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(0)
}

/// `--since`: an RFC 3339 time, a Unix time, or a duration back from now (`10m`, `1h30m`).
fn parse_since(s: &str) -> anyhow::Result<String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true));
    }
    if let Ok(secs) = s.parse::<i64>() {
        if let Some(t) = chrono::DateTime::from_timestamp(secs, 0) {
            return Ok(t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true));
        }
    }
    let nanos = crate::build::dockerfile::go_duration_nanos(s)
        .map_err(|_| anyhow::anyhow!("invalid value for \"since\": {s}"))?;
    let t = chrono::Utc::now() - chrono::Duration::nanoseconds(nanos);
    Ok(t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
}
