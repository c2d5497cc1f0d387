//! `skiff rm [-f] CONTAINER...`: remove containers and their writable layers.

use crate::container;
use clap::Args;

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of a running container
    #[arg(short, long)]
    force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short, long)]
    volumes: bool,
    /// Containers to remove
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

pub fn exec(a: RmArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let remove = |_: &str, c: container::Container| -> anyhow::Result<()> {
        if a.force && c.state.is_alive() {
            // As Docker: `rm -f` kills a running container first.
            container::signal::kill_now(&store, &c);
        }
        container::remove(&store, &c, a.force)?;
        if a.volumes {
            container::remove_anonymous_volumes(&store, &c)?;
        }
        Ok(())
    };
    // As Docker: `rm -f` of a missing container reports it but succeeds.
    let missing_ok = |e: &anyhow::Error| {
        a.force && matches!(e.downcast_ref::<crate::error::Error>(), Some(crate::error::Error::NoSuchContainer(_)))
    };
    Ok(super::each::for_each_tolerant(&a.containers, |n| Ok(container::find(&store, n)?), remove, missing_ok))
}
