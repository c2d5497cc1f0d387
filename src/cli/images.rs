//! `skiff images` / `image ls`: REPOSITORY TAG IMAGE ID CREATED SIZE.

use super::listing::Listing;
use super::table::{ago, go_time};
use crate::spec::Digest;
use crate::units::human_size;
use clap::Args;
use std::collections::BTreeSet;

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short, long)]
    all: bool,
    /// Only show image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Show digests
    #[arg(long)]
    digests: bool,
    /// Pretty-print images using a Go template
    #[arg(long, value_name = "string")]
    format: Option<String>,
    /// Filter output based on conditions provided (dangling=true|false)
    #[arg(short, long = "filter", value_name = "filter")]
    filter: Vec<String>,
    /// Only images of this repository (and tag)
    #[arg(value_name = "REPOSITORY[:TAG]")]
    repository: Option<String>,
}

/// The fields `--format` may name, with their column titles.
const FIELDS: &[(&str, &str)] = &[
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("ID", "IMAGE ID"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("VirtualSize", "VIRTUAL SIZE"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
    ("Containers", "CONTAINERS"),
];
const DEFAULT: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const DEFAULT_DIGESTS: &str = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

pub fn exec(a: ImagesArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let filter = a.repository.as_deref().map(crate::reference::Reference::parse).transpose()?;
    let mut dangling: Option<bool> = None;
    let mut labels: Vec<(String, Option<String>)> = Vec::new();
    let mut references: Vec<String> = Vec::new();
    for f in &a.filter {
        match f.split_once('=') {
            Some(("dangling", v)) => {
                dangling = Some(v.parse().map_err(|_| anyhow::anyhow!("invalid filter 'dangling={v}'"))?)
            }
            Some(("label", v)) => labels.push(match v.split_once('=') {
                Some((k, val)) => (k.to_string(), Some(val.to_string())),
                None => (v.to_string(), None),
            }),
            Some(("reference", v)) => references.push(v.to_string()),
            _ => anyhow::bail!("invalid filter '{f}'"),
        }
    }
    let mut list = Listing::new(FIELDS, if a.digests { DEFAULT_DIGESTS } else { DEFAULT });
    let mut seen_ids = Vec::new();
    // As Docker: an untagged image that another image was made from is an intermediate
    // image (a build step, a committed container's base), shown only with `-a`.
    let parents: BTreeSet<Digest> = store.parent_links()?.into_iter().map(|(_, p)| p).collect();
    for img in store.list_images()? {
        if !a.all && img.tags.is_empty() && parents.contains(&img.id) {
            continue;
        }
        if dangling.is_some_and(|d| d != img.tags.is_empty()) {
            continue;
        }
        if !labels.is_empty() {
            let image_labels = store
                .image_by_manifest(&img.manifest_digest, img.tags.clone())
                .ok()
                .and_then(|i| i.config.config.and_then(|c| c.labels))
                .unwrap_or_default();
            if !labels.iter().all(|(k, v)| image_labels.get(k).is_some_and(|x| v.as_ref().is_none_or(|v| v == x))) {
                continue;
            }
        }
        let id = if a.no_trunc { img.id.to_string() } else { img.id.short().to_string() };
        let created = img.created.as_deref().map(ago).unwrap_or_else(|| "N/A".into());
        let created_at = img.created.as_deref().map(go_time).unwrap_or_default();
        let size = human_size(img.size);
        let mut tags = img.tags.clone();
        tags.sort_by_key(|t| std::cmp::Reverse(t.familiar()));
        let names: Vec<(String, String)> = if tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            tags.iter()
                .filter(|t| {
                    filter.as_ref().is_none_or(|f| {
                        f.full_name() == t.full_name() && f.tag.as_ref().is_none_or(|ft| Some(ft) == t.tag.as_ref())
                    })
                })
                .filter(|t| references.is_empty() || references.iter().any(|r| reference_matches(r, t)))
                .map(|t| (t.familiar_name(), t.tag.clone().unwrap_or_else(|| "<none>".into())))
                .collect()
        };
        if (filter.is_some() || !references.is_empty()) && (tags.is_empty() || names.is_empty()) {
            continue;
        }
        let repo_digests = store.repo_digests(&img.id).digests;
        for (repo, tag) in names {
            // The digest a push or pull recorded for this repository.
            let digest = repo_digests
                .iter()
                .filter_map(|d| d.split_once('@'))
                .find(|(r, _)| crate::reference::Reference::parse(r).is_ok_and(|r| r.familiar_name() == repo))
                .map(|(_, d)| d.to_string())
                .unwrap_or_else(|| "<none>".to_string());
            if a.quiet {
                if !seen_ids.contains(&id) {
                    println!("{id}");
                    seen_ids.push(id.clone());
                }
                continue;
            }
            list.push([
                ("Repository", repo),
                ("Tag", tag),
                ("Digest", digest),
                ("ID", id.clone()),
                ("CreatedSince", created.clone()),
                ("CreatedAt", created_at.clone()),
                ("Size", size.clone()),
                ("VirtualSize", size.clone()),
                ("SharedSize", "N/A".to_string()),
                ("UniqueSize", "N/A".to_string()),
                ("Containers", "N/A".to_string()),
            ]);
        }
    }
    if !a.quiet {
        list.print(a.format.as_deref())?;
    }
    Ok(0)
}

/// `--filter reference=PATTERN`: Docker matches the familiar name (`busybox`, `me/app`) and
/// name:tag against a shell pattern (`*` within a path component, `?`).
fn reference_matches(pattern: &str, t: &crate::reference::Reference) -> bool {
    let name = t.familiar_name();
    let with_tag = format!("{name}:{}", t.tag.as_deref().unwrap_or(""));
    glob(pattern.as_bytes(), name.as_bytes()) || glob(pattern.as_bytes(), with_tag.as_bytes())
}

/// Go's `path.Match` for `*` (not across `/`) and `?`.
fn glob(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && s[0] != b'/' && glob(p, &s[1..])),
        (Some(b'?'), Some(c)) if *c != b'/' => glob(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reference_patterns_like_go() {
        let r = crate::reference::Reference::parse("me/app:v1").unwrap();
        assert!(super::reference_matches("me/*", &r));
        assert!(super::reference_matches("me/app:v?", &r));
        assert!(!super::reference_matches("*", &r), "* does not cross /");
        assert!(!super::reference_matches("me/app:v2", &r));
    }
}
