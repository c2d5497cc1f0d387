//! What happened to skiff's objects, as `skiff events` shows it: container create, start, die,
//! stop, kill, destroy, rename, exec_start, health_status, attach, pause, unpause; image pull,
//! tag, untag, delete, build, import, load, save, push; network create, connect, disconnect,
//! destroy; volume create, mount, destroy.
//!
//! There is no daemon to hear them, so whichever skiff process acts records the event itself:
//! one JSON line (Docker's event message: `Type`, `Action`, `Actor`, `time`, `timeNano`)
//! appended to `$SKIFF_ROOT/events.jsonl`. Each append holds an exclusive lock on the file
//! while it takes the time and writes the whole line in one write, so lines from concurrent
//! processes never interleave and their times rise in file order. Readers take no lock: they
//! read whole lines (a line still being written has no newline yet) and follow the file by
//! offset, as `logs -f` follows a log. When the file passes [`ROTATE_AT`] bytes the writer
//! moves it to `events.1.jsonl` (keeping one older generation, as Docker keeps a bounded
//! buffer) and a follower notices that the file it read is gone and starts on the new one.

use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The events file moves aside past this size (the newest ~1 MiB stay readable).
pub const ROTATE_AT: u64 = 1 << 20;

/// One event, serialised as Docker's API sends it (`docker events --format '{{json .}}'`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// `container`, `image`, `network`, `volume`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// `start`, `die`, `exec_start: sh -c …`, `health_status: healthy`, …
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    #[serde(default = "local")]
    pub scope: String,
    /// Unix seconds and nanoseconds.
    pub time: i64,
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

fn local() -> String {
    "local".into()
}

/// What the event is about: its ID (a container ID, an image ID or reference, a network ID,
/// a volume name) and attributes (`name`, `image`, `exitCode`, …), sorted by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

impl Event {
    pub fn new(kind: &str, action: &str, id: &str, attributes: &[(&str, &str)]) -> Event {
        Event {
            kind: kind.to_string(),
            action: action.to_string(),
            actor: Actor {
                id: id.to_string(),
                attributes: attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            },
            scope: local(),
            time: 0,
            time_nano: 0,
        }
    }

    /// The line `skiff events` prints: `2026-11-23T17:06:35.697713331Z container start <id>
    /// (image=nginx, name=web)`, the time in the local zone as Docker prints it.
    pub fn line(&self) -> String {
        let attrs: Vec<String> = self.actor.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut s = format!("{} {} {} {}", rfc3339_local(self.time_nano), self.kind, self.action, self.actor.id);
        if !attrs.is_empty() {
            s.push_str(&format!(" ({})", attrs.join(", ")));
        }
        s
    }

    /// The object `--format` templates see: the fields of Docker's Go `events.Message`,
    /// including the old `status`/`id`/`from` of container and image events.
    pub fn template_data(&self) -> serde_json::Value {
        let (status, id, from) = match self.kind.as_str() {
            "container" | "image" => (
                self.action.clone(),
                self.actor.id.clone(),
                self.actor.attributes.get("image").cloned().unwrap_or_default(),
            ),
            _ => (String::new(), String::new(), String::new()),
        };
        serde_json::json!({
            "Status": status,
            "ID": id,
            "From": from,
            "Type": self.kind,
            "Action": self.action,
            "Actor": { "ID": self.actor.id, "Attributes": self.actor.attributes },
            "Scope": self.scope,
            "Time": self.time,
            "TimeNano": self.time_nano,
        })
    }
}

/// Go's `2006-01-02T15:04:05.000000000Z07:00` of a Unix time in nanoseconds, in local time.
pub fn rfc3339_local(nanos: i64) -> String {
    let t = chrono::DateTime::from_timestamp(nanos.div_euclid(1_000_000_000), nanos.rem_euclid(1_000_000_000) as u32)
        .unwrap_or_default()
        .with_timezone(&chrono::Local);
    let s = t.format("%Y-%m-%dT%H:%M:%S%.9f%:z").to_string();
    match s.strip_suffix("+00:00") {
        Some(utc) => format!("{utc}Z"),
        None => s,
    }
}

/// The events file of `store`.
pub fn path(store: &Store) -> PathBuf {
    store.root().join("events.jsonl")
}

fn rotated(store: &Store) -> PathBuf {
    store.root().join("events.1.jsonl")
}

/// Record `e` now. Failing to record never fails the command that acted: events are a view
/// of what happened, not part of it.
pub fn record(store: &Store, e: Event) {
    let _ = try_record(store, e);
}

/// Record a container event with Docker's attributes (`image`, `name`, then `extra`).
pub fn container(store: &Store, c: &crate::container::Container, action: &str, extra: &[(&str, &str)]) {
    let mut attrs = vec![("image", c.config.image.as_str()), ("name", c.name.as_str())];
    attrs.extend_from_slice(extra);
    record(store, Event::new("container", action, &c.id, &attrs));
}

fn try_record(store: &Store, mut e: Event) -> std::io::Result<()> {
    let p = path(store);
    let mut f = OpenOptions::new().create(true).append(true).open(&p)?;
    f.lock()?;
    // Under the lock: the time is taken in file order, so the file's order is time order.
    let now = chrono::Utc::now();
    e.time = now.timestamp();
    e.time_nano = now.timestamp_nanos_opt().unwrap_or(0);
    let mut line = serde_json::to_vec(&e).map_err(std::io::Error::other)?;
    line.push(b'\n');
    // The file may have been rotated between our open and our lock: append to the new one.
    let current = std::fs::metadata(&p).ok();
    let mine = f.metadata()?;
    if current.as_ref().is_none_or(|m| !same_file(m, &mine)) {
        drop(f);
        return try_record_unrotated(store, e);
    }
    f.write_all(&line)?;
    if mine.len() + line.len() as u64 > ROTATE_AT {
        std::fs::rename(&p, rotated(store))?;
    }
    Ok(())
}

/// The retry after losing a race with a rotation (one retry is enough: a rotation needs a
/// full megabyte of appends after it).
fn try_record_unrotated(store: &Store, e: Event) -> std::io::Result<()> {
    let p = path(store);
    let mut f = OpenOptions::new().create(true).append(true).open(&p)?;
    f.lock()?;
    let mut line = serde_json::to_vec(&e).map_err(std::io::Error::other)?;
    line.push(b'\n');
    f.write_all(&line)
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.ino() == b.ino() && a.dev() == b.dev()
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.len() >= b.len() && a.created().ok() == b.created().ok()
}

/// Which events to show (`--filter`, repeated keys are alternatives, different keys all
/// must hold; `--since`/`--until` as Unix nanoseconds).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// key → accepted values: `type`, `event`, `container`, `image`, `network`, `volume`,
    /// `label`.
    pub terms: BTreeMap<String, Vec<String>>,
}

impl Filter {
    /// Add one `--filter key=value`.
    pub fn add(&mut self, term: &str) -> crate::Result<()> {
        let (k, v) = term
            .split_once('=')
            .ok_or_else(|| crate::Error::Other("bad format of filter (expected name=value)".to_string()))?;
        let k = k.trim().to_ascii_lowercase();
        if !["type", "event", "container", "image", "network", "volume", "label", "scope"].contains(&k.as_str()) {
            return Err(crate::Error::Other(format!("invalid filter '{k}'")));
        }
        self.terms.entry(k).or_default().push(v.to_string());
        Ok(())
    }

    pub fn matches(&self, e: &Event) -> bool {
        if self.since.is_some_and(|s| e.time_nano < s) || self.until.is_some_and(|u| e.time_nano > u) {
            return false;
        }
        let name = e.actor.attributes.get("name").map(String::as_str).unwrap_or("");
        self.terms.iter().all(|(k, values)| {
            values.iter().any(|v| match k.as_str() {
                "type" => e.kind == *v,
                // `event=exec_start` matches `exec_start: sh -c …`, as Docker's does.
                "event" => e.action == *v || e.action.split(':').next() == Some(v.as_str()),
                "scope" => e.scope == *v,
                "container" => {
                    e.kind == "container" && (name == v || (!v.is_empty() && e.actor.id.starts_with(v.as_str())))
                        || e.actor.attributes.get("container").is_some_and(|c| c.starts_with(v.as_str()))
                }
                "image" => {
                    let image = e.actor.attributes.get("image").map(String::as_str).unwrap_or("");
                    (e.kind == "image" && (e.actor.id == *v || name == v || e.actor.id.contains(v.as_str())))
                        || image == v
                        || image.split(':').next() == Some(v.as_str())
                }
                "network" => e.kind == "network" && (name == v || e.actor.id.starts_with(v.as_str())),
                "volume" => e.kind == "volume" && e.actor.id == *v,
                "label" => match v.split_once('=') {
                    Some((lk, lv)) => e.actor.attributes.get(lk).is_some_and(|x| x == lv),
                    None => e.actor.attributes.contains_key(v.as_str()),
                },
                _ => false,
            })
        })
    }
}

/// The events of the older generation (moved aside by a rotation), oldest first.
pub fn read_rotated(store: &Store) -> std::io::Result<Vec<Event>> {
    let mut out = Vec::new();
    read_from(&rotated(store), 0, &mut out)?;
    Ok(out)
}

/// Every recorded event (the rotated generation first), oldest first.
pub fn read_all(store: &Store) -> std::io::Result<Vec<Event>> {
    let mut out = Vec::new();
    read_from(&rotated(store), 0, &mut out)?;
    read_from(&path(store), 0, &mut out)?;
    Ok(out)
}

/// Whole lines of `p` from `offset`, appended to `out`; returns the offset read up to. A
/// missing file reads as empty.
pub fn read_from(p: &Path, offset: u64, out: &mut Vec<Event>) -> std::io::Result<u64> {
    let mut f = match File::open(p) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(offset),
        Err(e) => return Err(e),
    };
    f.seek(SeekFrom::Start(offset))?;
    let mut r = BufReader::new(f);
    let mut offset = offset;
    let mut line = String::new();
    while r.read_line(&mut line)? > 0 {
        if !line.ends_with('\n') {
            break; // being written: the next read gets it whole
        }
        offset += line.len() as u64;
        if let Ok(e) = serde_json::from_str::<Event>(&line) {
            out.push(e);
        }
        line.clear();
    }
    Ok(offset)
}

/// Follows the events file: [`Follower::poll`] returns the events appended since the last
/// call, across a rotation.
pub struct Follower {
    path: PathBuf,
    rotated: PathBuf,
    offset: u64,
    file_id: Option<std::fs::Metadata>,
}

impl Follower {
    /// Start at the current end of the file (only what happens from now on).
    pub fn at_end(store: &Store) -> Follower {
        let path = path(store);
        let meta = std::fs::metadata(&path).ok();
        Follower { offset: meta.as_ref().map_or(0, |m| m.len()), file_id: meta, rotated: rotated(store), path }
    }

    /// Start after the first `offset` bytes of the current file.
    pub fn at(store: &Store, offset: u64) -> Follower {
        let path = path(store);
        Follower { offset, file_id: std::fs::metadata(&path).ok(), rotated: rotated(store), path }
    }

    pub fn poll(&mut self) -> std::io::Result<Vec<Event>> {
        let mut out = Vec::new();
        let now = std::fs::metadata(&self.path).ok();
        let replaced = match (&self.file_id, &now) {
            (Some(old), Some(new)) => !same_file(old, new),
            (Some(_), None) => true,
            _ => false,
        };
        if replaced {
            // The file we read moved to the rotated name: finish it, then start the new one.
            read_from(&self.rotated, self.offset, &mut out)?;
            self.offset = 0;
        }
        if self.file_id.is_none() || replaced {
            self.file_id = now;
        }
        self.offset = read_from(&self.path, self.offset, &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_look_like_dockers() {
        let mut e = Event::new("container", "start", "abc", &[("name", "web"), ("image", "nginx")]);
        e.time_nano = 1_700_000_000_123_456_789;
        let line = e.line();
        assert!(line.ends_with(" container start abc (image=nginx, name=web)"), "{line}");
        assert!(line.starts_with("2023-11-1"), "{line}");
        let time = line.split(' ').next().unwrap();
        let frac = time.split('.').nth(1).unwrap();
        assert!(frac[..9].bytes().all(|b| b.is_ascii_digit()), "{time}");
        assert!(frac[9..] == *"Z" || frac[9..].len() == 6, "{time}");
    }

    #[test]
    fn filters_combine_like_dockers() {
        let mut f = Filter::default();
        f.add("type=container").unwrap();
        f.add("event=start").unwrap();
        f.add("event=die").unwrap();
        let start = Event::new("container", "start", "abc", &[("name", "web")]);
        let exec = Event::new("container", "exec_start: sh -c true", "abc", &[("name", "web")]);
        let pull = Event::new("image", "pull", "busybox:latest", &[("name", "busybox")]);
        assert!(f.matches(&start) && !f.matches(&exec) && !f.matches(&pull));
        let mut g = Filter::default();
        g.add("event=exec_start").unwrap();
        g.add("container=web").unwrap();
        assert!(g.matches(&exec) && !g.matches(&start));
        assert!(Filter::default().add("colour=red").is_err());
    }

    #[test]
    fn records_and_follows_across_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut follow = Follower::at_end(&store);
        record(&store, Event::new("volume", "create", "v1", &[("driver", "local")]));
        let got = follow.poll().unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].actor.id, "v1");
        // Fill past the rotation size: the follower reads every event once, in order.
        let big = "x".repeat(4096);
        let n = (ROTATE_AT / 4096) as usize + 5;
        let mut seen = Vec::new();
        for i in 0..n {
            record(&store, Event::new("volume", "create", &format!("v{i}"), &[("pad", big.as_str())]));
            if i % 50 == 0 {
                seen.extend(follow.poll().unwrap());
            }
        }
        seen.extend(follow.poll().unwrap());
        let ids: Vec<String> = seen.iter().map(|e| e.actor.id.clone()).collect();
        let want: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
        assert_eq!(ids, want);
        assert!(rotated(&store).exists());
        let times: Vec<i64> = seen.iter().map(|e| e.time_nano).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }
}
