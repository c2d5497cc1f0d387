//! `skiff events [--since T] [--until T] [--filter K=V] [--format T]` (also `system events`):
//! what skiff processes recorded in the state root (`crate::events`), oldest first; without
//! `--until` it then follows new events, like `logs -f`, until interrupted.

use super::template::Template;
use crate::events::{self, Filter, Follower};
use clap::Args;
use std::io::Write;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Filter output based on conditions provided (type=, event=, container=, image=, network=, volume=, label=)
    #[arg(short, long = "filter", value_name = "filter")]
    filter: Vec<String>,
    /// Format the output using the given Go template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    /// Show all events created since timestamp
    #[arg(long, value_name = "string")]
    since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long, value_name = "string")]
    until: Option<String>,
}

pub fn exec(a: EventsArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let mut filter = Filter::default();
    for f in &a.filter {
        filter.add(f)?;
    }
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
    filter.since = a.since.as_deref().map(|s| parse_time(s, now)).transpose()?;
    filter.until = a.until.as_deref().map(|s| parse_time(s, now)).transpose()?;
    let template = match a.format.as_deref() {
        Some(f) if f == "json" => Some(Template::parse("{{json .}}").map_err(|e| anyhow::anyhow!("{e}"))?),
        Some(f) => Some(Template::parse(f).map_err(|e| anyhow::anyhow!("Template parsing error: {e}"))?),
        None => None,
    };
    let mut out = std::io::stdout().lock();
    let mut show = |e: &events::Event| -> anyhow::Result<bool> {
        if !filter.matches(e) {
            return Ok(true);
        }
        let line = match &template {
            Some(t) => t.execute(&e.template_data()).map_err(|e| anyhow::anyhow!("{e}"))?,
            None => e.line(),
        };
        // A closed pipe (`skiff events | head`) ends the command quietly.
        Ok(writeln!(out, "{line}").and_then(|_| out.flush()).is_ok())
    };
    // What is recorded (the older generation, then the current file), then, with no
    // --until or one still to come, what comes next.
    for e in events::read_rotated(&store)? {
        if !show(&e)? {
            return Ok(0);
        }
    }
    let mut follow = Follower::at(&store, 0);
    loop {
        for e in follow.poll()? {
            if !show(&e)? {
                return Ok(0);
            }
        }
        if filter.until.is_some_and(|u| chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) >= u) {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `--since`/`--until`: an RFC 3339 time, a Unix time (`1700000000[.5]`), or a duration back
/// from now (`10m`, `1h30m`); Unix nanoseconds.
fn parse_time(s: &str, now: i64) -> anyhow::Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_nanos_opt().unwrap_or(0));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Ok(t.and_utc().timestamp_nanos_opt().unwrap_or(0));
    }
    if let Ok(secs) = s.parse::<f64>() {
        return Ok((secs * 1e9) as i64);
    }
    let back = crate::build::dockerfile::go_duration_nanos(s).map_err(|_| {
        anyhow::anyhow!("failed to parse value {s} as a time: use RFC 3339, a Unix time or a duration (10m)")
    })?;
    Ok(now - back)
}
