//! `skiff pull NAME[:TAG]`: fetch an image into the store (built-in images need no network).

use crate::builtin;
use crate::error::Error;
use crate::reference::Reference;
use crate::runtime::wasi::WasiRuntime;
use crate::store::{Image, Store};
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
    import(&store, &r, &mut *out)?;
    println!("{r}");
    Ok(0)
}

/// Import `r` from the built-in library, or explain why it cannot be had.
pub fn import(store: &Store, r: &Reference, out: &mut dyn Write) -> anyhow::Result<Image> {
    if !builtin::is_builtin(r) {
        let names: Vec<&str> = builtin::CATALOG.iter().map(|(n, _, _)| *n).collect();
        anyhow::bail!(
            "No such image: {} (not in the store, and not one of skiff's built-in images: {})",
            r.familiar(),
            names.join(", ")
        );
    }
    let rt = WasiRuntime::new(store)?;
    Ok(builtin::import(store, &rt, r, out)?)
}

/// The image `name`, importing a built-in one on first use (`Unable to find image … locally`).
pub fn get_or_import(store: &Store, name: &str, out: &mut dyn Write) -> anyhow::Result<Image> {
    match store.find_image(name) {
        Ok(img) => Ok(img),
        Err(Error::NoSuchImage(_)) => {
            let r = Reference::parse(name)?.with_default_tag();
            let _ = writeln!(out, "Unable to find image '{}' locally", r.familiar());
            import(store, &r, out)
        }
        Err(e) => Err(e.into()),
    }
}
