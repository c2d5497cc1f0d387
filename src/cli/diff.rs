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
    for change in unionfs::diff(&c.upper(&store), &c.lower_dirs(&store))? {
        println!("{}", crate::error::printable_name(&change.to_string()));
    }
    Ok(0)
}
