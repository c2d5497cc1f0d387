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
    println!("{r}");
    Ok(0)
}
