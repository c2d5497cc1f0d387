//! `skiff volume create|ls|inspect|rm|prune`: named volumes, whose data outlives containers.

use super::listing::Listing;
use crate::container;
use crate::volume;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove all unused local volumes
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    name: Option<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display volume names
    #[arg(short, long)]
    quiet: bool,
    /// Provide filter values (dangling=true)
    #[arg(short, long = "filter", value_name = "filter")]
    filter: Vec<String>,
    /// Pretty-print volumes using a Go template
    #[arg(long, value_name = "string")]
    format: Option<String>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Format the output using the given Go template
    #[arg(short, long, value_name = "string")]
    format: Option<String>,
    #[arg(required = true, value_name = "VOLUME")]
    volumes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of one or more volumes
    #[arg(short, long)]
    force: bool,
    #[arg(required = true, value_name = "VOLUME")]
    volumes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

pub fn exec(cmd: VolumeCommand) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    match cmd {
        VolumeCommand::Create(a) => {
            let v = volume::create(&store, a.name.as_deref(), false).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", v.name);
            Ok(0)
        }
        VolumeCommand::Ls(a) => {
            let users = users(&store)?;
            let mut list = Listing::new(
                &[("Driver", "DRIVER"), ("Name", "VOLUME NAME"), ("Mountpoint", "MOUNTPOINT"), ("Scope", "SCOPE")],
                "table {{.Driver}}\\t{{.Name}}",
            );
            for v in volume::list(&store)? {
                for f in &a.filter {
                    match f.as_str() {
                        "dangling=true" if users.iter().any(|(n, _)| *n == v.name) => continue,
                        "dangling=false" if !users.iter().any(|(n, _)| *n == v.name) => continue,
                        "dangling=true" | "dangling=false" => {}
                        _ => anyhow::bail!("invalid filter '{f}'"),
                    }
                }
                if a.quiet {
                    println!("{}", v.name);
                    continue;
                }
                list.push([
                    ("Driver", v.driver.clone()),
                    ("Name", v.name.clone()),
                    ("Mountpoint", v.mountpoint.clone()),
                    ("Scope", v.scope.clone()),
                ]);
            }
            if !a.quiet {
                list.print(a.format.as_deref())?;
            }
            Ok(0)
        }
        VolumeCommand::Inspect(a) => {
            let template = super::inspect::parse_format(a.format.as_deref())?;
            let mut found = Vec::new();
            let mut missing = Vec::new();
            for n in &a.volumes {
                match volume::get(&store, n) {
                    Ok(v) => found.push(serde_json::to_value(&v)?),
                    Err(e) => missing.push(e.to_string()),
                }
            }
            super::inspect::print_objects(found, &missing, template.as_ref())
        }
        VolumeCommand::Rm(a) => {
            let users = users(&store)?;
            Ok(super::each::for_each(
                &a.volumes,
                |n| Ok(n.to_string()),
                |n, _| {
                    let using: Vec<&str> = users.iter().filter(|(v, _)| v == n).map(|(_, c)| c.as_str()).collect();
                    if !using.is_empty() {
                        anyhow::bail!("remove {n}: volume is in use - [{}]", using.join(", "));
                    }
                    Ok(volume::remove(&store, n)?)
                },
            ))
        }
        VolumeCommand::Prune(a) => {
            if !a.force
                && !super::confirm("WARNING! This will remove all local volumes not used by at least one container.")?
            {
                println!("Total reclaimed space: 0B");
                return Ok(0);
            }
            super::each::report(&[super::prune::volumes(&store)?]);
            Ok(0)
        }
    }
}

/// (volume name, container ID) for every volume a container (any state) mounts.
pub fn users(store: &crate::store::Store) -> anyhow::Result<Vec<(String, String)>> {
    Ok(container::list(store)?
        .into_iter()
        .flat_map(|c| {
            c.mounts.iter().filter(|m| m.kind == "volume").map(|m| (m.name.clone(), c.id.clone())).collect::<Vec<_>>()
        })
        .collect())
}
