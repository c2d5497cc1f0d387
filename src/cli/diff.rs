//! `skiff diff CONTAINER`: the container's writable layer as A/C/D lines.

use crate::container;
use crate::unionfs;
use clap::Args;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The container
    container: String,
}

pub fn exec(a: DiffArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let c = container::find(&store, &a.container)?;
    let root = c.root_spec(&store)?;
    let lowers: Vec<_> = root.lowers.iter().map(|l| l.dir.clone()).collect();
    for change in unionfs::diff(&root.upper, &lowers)? {
        println!("{change}");
    }
    Ok(0)
}
