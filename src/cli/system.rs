//! `skiff system df [-v]`, `system prune [-a] [--volumes] [-f]`, `system info`, `system events`:
//! what the state root holds and uses, and cleaning it up in one go.

use super::each::{report, Pruned};
use super::table::{ago, ellipsis, render};
use crate::container::{self, Status};
use crate::spec::Digest;
use crate::units::{human_size, human_size_precision};
use clap::{Args, Subcommand};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Show docker disk usage
    Df(DfArgs),
    /// Get real time events from the server
    Events(super::events::EventsArgs),
    /// Display system-wide information
    Info,
    /// Remove unused data
    Prune(PruneArgs),
    /// Verify the state root: blobs, images, layers, containers, networks, volumes, leftovers
    Check(super::check::CheckArgs),
}

#[derive(Debug, Args)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused images not just dangling ones
    #[arg(short, long)]
    all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
    /// Prune volumes
    #[arg(long)]
    volumes: bool,
}

pub fn exec(cmd: SystemCommand) -> anyhow::Result<i32> {
    match cmd {
        SystemCommand::Df(a) => df(a),
        SystemCommand::Events(a) => super::events::exec(a),
        SystemCommand::Info => super::info::info(),
        SystemCommand::Prune(a) => prune(a),
        SystemCommand::Check(a) => super::check::exec(a),
    }
}

/// One image as `df` counts it.
struct ImageUse {
    repo: String,
    tag: String,
    id: Digest,
    created: Option<String>,
    layers: Vec<Digest>,
    size: u64,
    shared: u64,
    containers: usize,
}

fn df(a: DfArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let containers = container::list(&store)?;
    let layer_size = |c: &Digest| store.layer_meta(c).map(|m| m.size).unwrap_or(0);
    // Images, with the layers each has and how many images have each layer.
    let mut images = Vec::new();
    let mut users_of: BTreeMap<Digest, usize> = BTreeMap::new();
    for s in store.list_images()? {
        let img = store.image_by_manifest(&s.manifest_digest, s.tags.clone())?;
        let layers = img.chain_ids();
        for l in &layers {
            *users_of.entry(l.clone()).or_default() += 1;
        }
        let (repo, tag) = s
            .tags
            .first()
            .map(|t| (t.familiar_name(), t.tag.clone().unwrap_or_else(|| "<none>".into())))
            .unwrap_or_else(|| ("<none>".into(), "<none>".into()));
        images.push(ImageUse {
            repo,
            tag,
            id: s.id.clone(),
            created: s.created.clone(),
            size: layers.iter().map(layer_size).sum(),
            layers,
            shared: 0,
            containers: containers.iter().filter(|c| c.image == s.id).count(),
        });
    }
    for i in &mut images {
        i.shared = i.layers.iter().filter(|l| users_of.get(*l).copied().unwrap_or(0) > 1).map(layer_size).sum();
    }
    let total_layers: u64 = users_of.keys().map(layer_size).sum();
    let used: BTreeSet<&Digest> = images.iter().filter(|i| i.containers > 0).flat_map(|i| i.layers.iter()).collect();
    let used_size: u64 = used.iter().map(|l| layer_size(l)).sum();
    let ctr_size = |c: &container::Container| crate::hostfs::dir_size(&c.upper(&store));
    let volume_users = super::volume::users(&store)?;
    let volumes: Vec<(String, usize, u64)> = crate::volume::list(&store)?
        .into_iter()
        .map(|v| {
            let links = volume_users.iter().filter(|(n, _)| *n == v.name).count();
            let size = crate::volume::size(&store, &v.name);
            (v.name, links, size)
        })
        .collect();
    if !a.verbose {
        let reclaimable = |part: u64, total: u64| {
            if total > 0 {
                format!("{} ({}%)", human_size_precision(part, 4), part * 100 / total)
            } else {
                human_size_precision(part, 4)
            }
        };
        let ctr_total: u64 = containers.iter().map(ctr_size).sum();
        let ctr_idle: u64 = containers.iter().filter(|c| c.state.status != Status::Running).map(ctr_size).sum();
        let vol_total: u64 = volumes.iter().map(|v| v.2).sum();
        let vol_idle: u64 = volumes.iter().filter(|v| v.1 == 0).map(|v| v.2).sum();
        let rows = vec![
            vec![
                "Images".to_string(),
                images.len().to_string(),
                images.iter().filter(|i| i.containers > 0).count().to_string(),
                human_size_precision(total_layers, 4),
                reclaimable(total_layers - used_size, total_layers),
            ],
            vec![
                "Containers".to_string(),
                containers.len().to_string(),
                containers.iter().filter(|c| c.state.status == Status::Running).count().to_string(),
                human_size_precision(ctr_total, 4),
                reclaimable(ctr_idle, ctr_total),
            ],
            vec![
                "Local Volumes".to_string(),
                volumes.len().to_string(),
                volumes.iter().filter(|v| v.1 > 0).count().to_string(),
                human_size_precision(vol_total, 4),
                reclaimable(vol_idle, vol_total),
            ],
            vec!["Build Cache".into(), "0".into(), "0".into(), "0B".into(), "0B".into()],
        ];
        print!("{}", render(&["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], &rows));
        return Ok(0);
    }
    println!("Images space usage:\n");
    let rows: Vec<Vec<String>> = images
        .iter()
        .map(|i| {
            vec![
                i.repo.clone(),
                i.tag.clone(),
                i.id.short().to_string(),
                i.created.as_deref().map(ago).unwrap_or_else(|| "N/A".into()),
                human_size(i.size),
                human_size(i.shared),
                human_size(i.size - i.shared),
                i.containers.to_string(),
            ]
        })
        .collect();
    let header = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"];
    print!("{}", render(&header, &rows));
    println!("\nContainers space usage:\n");
    let rows: Vec<Vec<String>> = containers
        .iter()
        .map(|c| {
            vec![
                c.short_id().to_string(),
                c.config.image.clone(),
                format!("{:?}", ellipsis(&c.command_line(), 20)),
                c.mounts.iter().filter(|m| m.kind == "volume").count().to_string(),
                human_size(ctr_size(c)),
                ago(&c.created),
                super::ps::status_text(c),
                c.name.clone(),
            ]
        })
        .collect();
    let header = ["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"];
    print!("{}", render(&header, &rows));
    println!("\nLocal Volumes space usage:\n");
    let rows: Vec<Vec<String>> =
        volumes.iter().map(|(n, links, size)| vec![n.clone(), links.to_string(), human_size(*size)]).collect();
    print!("{}", render(&["VOLUME NAME", "LINKS", "SIZE"], &rows));
    println!("\nBuild cache usage: 0B\n");
    print!("{}", render(&["CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"], &[]));
    Ok(0)
}

fn prune(a: PruneArgs) -> anyhow::Result<i32> {
    if !a.force {
        let mut warning = String::from("WARNING! This will remove:\n  - all stopped containers\n");
        warning.push_str("  - all networks not used by at least one container\n");
        if a.volumes {
            warning.push_str("  - all volumes not used by at least one container\n");
        }
        if a.all {
            warning.push_str("  - all images without at least one container associated to them\n  - all build cache\n");
        } else {
            warning.push_str("  - all dangling images\n  - all dangling build cache\n");
        }
        if !super::confirm(&warning)? {
            return Ok(0);
        }
    }
    let store = super::open_store()?;
    let mut sections: Vec<Pruned> = vec![super::prune::containers(&store)?, super::prune::networks(&store)?];
    if a.volumes {
        sections.push(super::prune::volumes(&store)?);
    }
    sections.push(super::prune::images(&store, a.all)?);
    report(&sections);
    Ok(0)
}
