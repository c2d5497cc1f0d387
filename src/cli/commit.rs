//! `skiff commit [-m] [-a] [-c INSTR] CONTAINER [REPO[:TAG]]`: the container's changes become
//! an image (`container::commit`).

use crate::container::{self, commit::CommitOptions};
use crate::reference::Reference;
use clap::Args;

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Commit message
    #[arg(short, long, value_name = "string")]
    message: Option<String>,
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short, long, value_name = "string")]
    author: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short, long, value_name = "list")]
    change: Vec<String>,
    /// The container
    container: String,
    /// REPOSITORY[:TAG] for the new image
    repository: Option<String>,
}

pub fn exec(a: CommitArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let c = container::find(&store, &a.container)?;
    let target = a.repository.as_deref().map(Reference::parse).transpose()?.map(Reference::with_default_tag);
    let opts = CommitOptions { message: a.message, author: a.author, changes: a.change, target };
    let id = container::commit::commit(&store, &c, &opts)?;
    println!("{id}");
    Ok(0)
}
