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
    let mut code = 0;
    for name in &a.containers {
        let result = container::find(&store, name).and_then(|c| {
            if a.force && c.state.is_alive() {
                // As Docker: `rm -f` kills a running container first.
                container::signal::kill_now(&store, &c);
            }
            container::remove(&store, &c, a.force)?;
            if a.volumes {
                container::remove_anonymous_volumes(&store, &c)?;
            }
            Ok(())
        });
        match result {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("Error: {e}");
                // As Docker: `rm -f` of a missing container reports it but succeeds.
                if !(a.force && matches!(e, crate::error::Error::NoSuchContainer(_))) {
                    code = 1;
                }
            }
        }
    }
    Ok(code)
}
