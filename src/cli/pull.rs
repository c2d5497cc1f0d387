//! `skiff pull NAME[:TAG]`: fetch an image into the store (built-in images need no network).

use crate::builtin;
use crate::reference::Reference;
use clap::Args;
use std::io::Write;

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
    /// NAME[:TAG|@DIGEST]
    name: String,
}

pub fn exec(a: PullArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let mut r = Reference::parse(&a.name)?;
    let mut out: Box<dyn Write> = if a.quiet { Box::new(std::io::sink()) } else { Box::new(std::io::stdout()) };
    if r.tag.is_none() && r.digest.is_none() {
        let _ = writeln!(out, "Using default tag: latest");
        r = r.with_default_tag();
    }
    if let Some(m) = store.lookup_tag(&r)? {
        if store.image_by_manifest(&m, vec![r.clone()]).is_ok() {
            let _ = writeln!(out, "{}: Pulling from {}", r.tag.as_deref().unwrap_or("latest"), r.path);
            let _ = writeln!(out, "Digest: {m}");
            let _ = writeln!(out, "Status: Image is up to date for {}", r.familiar());
            println!("{r}");
            return Ok(0);
        }
    }
    builtin::pull(&store, &r, &mut *out)?;
    pulled(&store, &r);
    println!("{r}");
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
