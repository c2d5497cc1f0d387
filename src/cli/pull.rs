//! `skiff pull [OPTIONS] NAME[:TAG|@DIGEST]`: an image from its registry (built-in images of
//! Docker Hub's library come from skiff itself, offline). Docker 20.10's output and flags.

use crate::builtin;
use crate::reference::Reference;
use crate::registry::{self, Platform, Progress};
use clap::Args;
use std::io::{IsTerminal, Write};

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Download all tagged images in the repository
    #[arg(short, long)]
    all_tags: bool,
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
    /// Set platform if server is multi-platform capable
    #[arg(long, value_name = "string")]
    platform: Option<String>,
    /// Skip image verification (accepted; skiff always checks digests)
    #[arg(long, hide = true)]
    disable_content_trust: bool,
    /// NAME[:TAG|@DIGEST]
    name: String,
}

pub fn exec(a: PullArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let mut r = Reference::parse(&a.name)?;
    let platform = a.platform.as_deref().map(Platform::parse).transpose()?;
    let tty = !a.quiet && std::io::stdout().is_terminal();
    let mut stdout = std::io::stdout();
    let mut sink = std::io::sink();
    let out: &mut dyn Write = if a.quiet { &mut sink } else { &mut stdout };
    if a.all_tags {
        if r.tag.is_some() || r.digest.is_some() {
            anyhow::bail!("tag can't be used with --all-tags/-a");
        }
        return all_tags(&store, &r, platform.as_ref(), out, tty);
    }
    if r.tag.is_none() && r.digest.is_none() {
        let _ = writeln!(out, "Using default tag: latest");
        r = r.with_default_tag();
    }
    if builtin::is_builtin(&r) {
        if let Some(m) = store.lookup_tag(&r)? {
            if store.image_by_manifest(&m, vec![r.clone()]).is_ok() {
                let _ = writeln!(out, "{}: Pulling from {}", r.tag.as_deref().unwrap_or("latest"), r.path);
                let _ = writeln!(out, "Digest: {m}");
                let _ = writeln!(out, "Status: Image is up to date for {}", r.familiar());
                println!("{r}");
                return Ok(0);
            }
        }
        builtin::pull(&store, &r, out, tty)?;
    } else {
        let mut p = Progress::new(out, tty);
        let pulled =
            registry::pull(&store, &r, platform.as_ref(), &mut p).map_err(|e| builtin::with_hint(&r, e.into()))?;
        p.line(&registry::status_line(&pulled, &r.familiar()));
    }
    pulled(&store, &r);
    println!("{r}");
    Ok(0)
}

/// `pull -a`: every tag of the repository, then one status line for the repository.
fn all_tags(
    store: &crate::store::Store,
    r: &Reference,
    platform: Option<&Platform>,
    out: &mut dyn Write,
    tty: bool,
) -> anyhow::Result<i32> {
    let mut p = Progress::new(out, tty);
    let mut updated = false;
    if r.domain == crate::reference::DEFAULT_DOMAIN
        && builtin::CATALOG.iter().any(|(n, _, _)| r.path == format!("library/{n}"))
    {
        // A built-in repository: its built-in tags.
        let (_, tags, _) = builtin::CATALOG.iter().find(|(n, _, _)| r.path == format!("library/{n}")).expect("found");
        for t in tags.iter() {
            let tr = Reference { tag: Some(t.to_string()), ..r.clone() };
            if store.lookup_tag(&tr)?.is_none() {
                let mut buf = Vec::new();
                builtin::import(store, &tr, &mut buf)?;
                // Keep the layer lines, leave the per-tag status for the one below.
                for line in String::from_utf8_lossy(&buf).lines().filter(|l| !l.starts_with("Status: ")) {
                    p.line(line);
                }
                updated = true;
            }
        }
    } else {
        let c = registry::client_for(r);
        let tags = registry::list_tags(&c, &r.path)?;
        for t in tags {
            let tr = Reference { tag: Some(t), ..r.clone() };
            let pulled = registry::pull(store, &tr, platform, &mut p)?;
            updated |= pulled.updated;
        }
    }
    let name = r.familiar_name();
    p.line(&if updated {
        format!("Status: Downloaded newer image for {name}")
    } else {
        format!("Status: Image is up to date for {name}")
    });
    println!("{}", r.full_name());
    Ok(0)
}

/// Record an `image pull` event for `r`.
fn pulled(store: &crate::store::Store, r: &Reference) {
    let name = r.familiar();
    let repo = r.familiar_name();
    crate::events::record(store, crate::events::Event::new("image", "pull", &name, &[("name", repo.as_str())]));
}

/// The image `name` for `run`/`create`: from the store, or pulled (a built-in image on
/// first use, with Docker's `Unable to find image … locally` on stderr).
pub fn get_or_pull(store: &crate::store::Store, name: &str) -> anyhow::Result<crate::store::Image> {
    let had = store.find_image(name).is_ok();
    let image = builtin::get_or_pull(store, name, &mut std::io::stderr())?;
    if !had {
        if let Ok(r) = Reference::parse(name) {
            pulled(store, &r.with_default_tag());
        }
    }
    Ok(image)
}
