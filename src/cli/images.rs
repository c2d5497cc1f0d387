//! `skiff images` / `image ls`: REPOSITORY TAG IMAGE ID CREATED SIZE.

use super::table::{ago, human_size, render};
use crate::spec::Digest;
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
    /// Filter output based on conditions provided (dangling=true|false)
    #[arg(short, long = "filter", value_name = "filter")]
    filter: Vec<String>,
    /// Only images of this repository (and tag)
    #[arg(value_name = "REPOSITORY[:TAG]")]
    repository: Option<String>,
}

pub fn exec(a: ImagesArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let filter = a.repository.as_deref().map(crate::reference::Reference::parse).transpose()?;
    let mut dangling: Option<bool> = None;
    for f in &a.filter {
        match f.split_once('=') {
            Some(("dangling", v)) => dangling = Some(v.parse().map_err(|_| anyhow::anyhow!("invalid filter 'dangling={v}'"))?),
            _ => anyhow::bail!("invalid filter '{f}'"),
        }
    }
    let mut rows = Vec::new();
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
        let id = if a.no_trunc { img.id.to_string() } else { img.id.short().to_string() };
        let created = img.created.as_deref().map(ago).unwrap_or_else(|| "N/A".into());
        let size = human_size(img.size);
        let mut tags = img.tags.clone();
        tags.sort_by_key(|t| std::cmp::Reverse(t.familiar()));
        let names: Vec<(String, String)> = if tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            tags.iter()
                .filter(|t| filter.as_ref().is_none_or(|f| f.full_name() == t.full_name() && f.tag.as_ref().is_none_or(|ft| Some(ft) == t.tag.as_ref())))
                .map(|t| (t.familiar_name(), t.tag.clone().unwrap_or_else(|| "<none>".into())))
                .collect()
        };
        if filter.is_some() && tags.is_empty() {
            continue;
        }
        for (repo, tag) in names {
            if a.quiet {
                if !seen_ids.contains(&id) {
                    println!("{id}");
                    seen_ids.push(id.clone());
                }
                continue;
            }
            let mut row = vec![repo, tag];
            if a.digests {
                row.push("<none>".into());
            }
            row.extend([id.clone(), created.clone(), size.clone()]);
            rows.push(row);
        }
    }
    if !a.quiet {
        let header: &[&str] = if a.digests {
            &["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
        } else {
            &["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
        };
        print!("{}", render(header, &rows));
    }
    Ok(0)
}
