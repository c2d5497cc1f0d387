//! The classic builder's cache: a step hits when an image made from the same parent by the
//! same step (its `CREATED BY` line, which for `COPY`/`ADD` carries the files' checksum)
//! exists; on a miss, why — what changed since the step was last built on that parent.

use crate::error::Result;
use crate::spec::Digest;
use crate::store::{Image, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a build step recorded about itself, to be found again (`meta/build/<id>.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// The cache key: the step's `CREATED BY` line.
    pub key: String,
    /// The image's manifest (to read it back without searching the index).
    #[serde(default)]
    pub manifest: Option<Digest>,
    /// The instruction as written (before expansion), to tell "it changed" from "its inputs
    /// changed".
    pub instruction: String,
    /// Which Dockerfile and step made it (`Dockerfile:5`): a changed instruction is only
    /// told apart from an unrelated one built on the same base by this.
    #[serde(default)]
    pub origin: String,
    /// For COPY/ADD: each copied file (destination path) and its checksum.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
}

/// Images a build step made directly on `parent` (`None`: on nothing, `FROM scratch`), with
/// their records.
fn candidates(store: &Store, parent: Option<&Digest>) -> Result<Vec<(Digest, Record)>> {
    let ids: Vec<Digest> = match parent {
        Some(p) => store.children(p)?,
        None => {
            let linked: Vec<Digest> = store.parent_links()?.into_iter().map(|(c, _)| c).collect();
            store.image_ids()?.into_iter().filter(|i| !linked.contains(i)).collect()
        }
    };
    Ok(ids
        .into_iter()
        .filter_map(|id| {
            let rec = serde_json::from_slice(&store.build_record(&id)?).ok()?;
            Some((id, rec))
        })
        .collect())
}

/// The cached image for this step, if any.
pub fn lookup(store: &Store, parent: Option<&Digest>, key: &str) -> Result<Option<Image>> {
    for (id, rec) in candidates(store, parent)? {
        if rec.key == key {
            let found = match &rec.manifest {
                Some(m) => store.image_by_manifest(m, vec![]).ok().filter(|img| img.id == id),
                None => store.find_image(&id.to_string()).ok(),
            };
            if found.is_some() {
                return Ok(found);
            }
        }
    }
    Ok(None)
}

/// Why this step missed, told against the steps built on the same parent before; `None`
/// when nothing was ever built there (a first build says nothing).
pub fn why_missed(store: &Store, parent: Option<&Digest>, now: &Record) -> Result<Option<String>> {
    let before = candidates(store, parent)?;
    if before.is_empty() {
        return Ok(None);
    }
    let Some((_, old)) = before.iter().find(|(_, r)| r.instruction == now.instruction) else {
        if before.iter().any(|(_, r)| r.origin == now.origin) {
            return Ok(Some("the instruction changed".into()));
        }
        return Ok(None); // other builds used this base, never this step
    };
    if old.files != now.files {
        return Ok(Some(describe_files(&old.files, &now.files)));
    }
    Ok(Some("the build arguments or environment it uses changed".into()))
}

/// `app.sh changed`, `a.txt and b.txt changed`, `new.txt added`, `3 files changed`.
fn describe_files(old: &BTreeMap<String, String>, new: &BTreeMap<String, String>) -> String {
    let name = |p: &str| p.trim_start_matches('/').to_string();
    let mut parts = Vec::new();
    let changed: Vec<String> =
        new.iter().filter(|(k, v)| old.get(*k).is_some_and(|o| o != *v)).map(|(k, _)| name(k)).collect();
    let added: Vec<String> = new.keys().filter(|k| !old.contains_key(*k)).map(|k| name(k)).collect();
    let removed: Vec<String> = old.keys().filter(|k| !new.contains_key(*k)).map(|k| name(k)).collect();
    for (list, verb) in [(changed, "changed"), (added, "added"), (removed, "removed")] {
        match list.len() {
            0 => {}
            1 => parts.push(format!("{} {verb}", list[0])),
            2 => parts.push(format!("{} and {} {verb}", list[0], list[1])),
            n => parts.push(format!("{n} files {verb}")),
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_changes_are_named() {
        let m = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<BTreeMap<_, _>>();
        assert_eq!(describe_files(&m(&[("/app/app.sh", "1")]), &m(&[("/app/app.sh", "2")])), "app/app.sh changed");
        assert_eq!(describe_files(&m(&[("/a", "1")]), &m(&[("/a", "1"), ("/b", "2")])), "b added");
        assert_eq!(
            describe_files(&m(&[("/a", "1"), ("/b", "1"), ("/c", "1")]), &m(&[("/a", "2"), ("/b", "2"), ("/c", "2")])),
            "3 files changed"
        );
        assert_eq!(describe_files(&m(&[("/a", "1"), ("/b", "1")]), &m(&[("/a", "2")])), "a changed, b removed");
    }
}
