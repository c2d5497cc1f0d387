//! `skiff push [OPTIONS] NAME[:TAG]`: an image (or, with `-a`, every local tag of a
//! repository) to its registry, with Docker 20.10's output: `The push refers to repository
//! […]`, one line per layer, then `TAG: digest: sha256:… size: N`.

use crate::reference::Reference;
use crate::registry::{self, Progress};
use clap::Args;
use std::io::{IsTerminal, Write};

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Push all tagged images in the repository
    #[arg(short, long)]
    all_tags: bool,
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
    /// Skip image signing (accepted; skiff does not sign)
    #[arg(long, hide = true)]
    disable_content_trust: bool,
    /// NAME[:TAG]
    name: String,
}

pub fn exec(a: PushArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let mut r = Reference::parse(&a.name)?;
    let mut stdout = std::io::stdout();
    let mut sink = std::io::sink();
    let tty = !a.quiet && std::io::stdout().is_terminal();
    let out: &mut dyn Write = if a.quiet { &mut sink } else { &mut stdout };
    if a.all_tags && (r.tag.is_some() || r.digest.is_some()) {
        anyhow::bail!("tag can't be used with --all-tags/-a");
    }
    if r.digest.is_some() {
        anyhow::bail!("cannot push a digest reference");
    }
    if !a.all_tags && r.tag.is_none() {
        let _ = writeln!(out, "Using default tag: latest");
        r = r.with_default_tag();
    }
    // The images to push: this tag, or every local tag of the repository.
    let mut todo = Vec::new();
    if a.all_tags {
        let mut seen = Vec::new();
        for s in store.list_images()? {
            for t in s.tags.iter().filter(|t| t.domain == r.domain && t.path == r.path) {
                if !seen.contains(t) {
                    seen.push(t.clone());
                    todo.push((t.clone(), store.image_by_manifest(&s.manifest_digest, s.tags.clone())?));
                }
            }
        }
        todo.sort_by(|a, b| a.0.tag.cmp(&b.0.tag));
    } else if let Some(m) = store.lookup_tag(&r)? {
        todo.push((r.clone(), store.image_by_manifest(&m, vec![r.clone()])?));
    }
    if todo.is_empty() {
        anyhow::bail!("An image does not exist locally with the tag: {}", r.familiar_name());
    }
    let mut p = Progress::new(out, tty);
    p.line(&format!("The push refers to repository [{}]", r.full_name()));
    let c = registry::client_for(&r);
    for (tr, img) in &todo {
        let pushed = registry::push(&store, &c, img, tr, &mut p)?;
        p.line(&format!("{}: digest: {} size: {}", tr.tag.as_deref().unwrap_or("latest"), pushed.digest, pushed.size));
    }
    if a.quiet {
        println!("{r}");
    }
    Ok(0)
}
