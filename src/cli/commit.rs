//! `skiff commit [-m] [-a] [-c INSTR] CONTAINER [REPO[:TAG]]`: the container's writable layer,
//! whiteouts and all, becomes a new layer on top of its image.

use crate::build::layer::layer_from_dir_owned;
use crate::container;
use crate::reference::Reference;
use crate::spec::{to_json, History};
use clap::Args;
use std::collections::BTreeMap;

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Commit message
    #[arg(short, long, value_name = "string")]
    message: Option<String>,
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short, long, value_name = "string")]
    author: Option<String>,
    /// Apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, ENV, WORKDIR, USER, EXPOSE, LABEL)
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
    let base = store.find_image(&c.image.to_string())?;
    let config = base.config.clone();
    let mut run = config.config.clone().unwrap_or_default();
    // As Docker: the new image runs what the container ran, with the container's environment.
    let image_env = run.env.clone().unwrap_or_default();
    let env: Vec<String> = c
        .config
        .env
        .iter()
        .filter(|e| !e.starts_with("HOSTNAME="))
        .filter(|e| !(e.starts_with("HOME=") || e.starts_with("TERM=")) || image_env.contains(e))
        .cloned()
        .collect();
    run.env = Some(env);
    run.cmd = Some(c.config.cmd.clone()).filter(|v| !v.is_empty());
    run.entrypoint = Some(c.config.entrypoint.clone()).filter(|v| !v.is_empty());
    for change in &a.change {
        apply_change(&mut run, change)?;
    }
    // The layer: the upper dir as a deterministic tar (OCI whiteouts are plain files there).
    let _lock = store.lock()?;
    let owners = c.backend(&store)?.layer_owners();
    // All or nothing: a commit that fails keeps no blob, layer or image.
    let id = store.all_or_nothing(|| -> anyhow::Result<_> {
        let (desc, _) = layer_from_dir_owned(&store, &c.upper(&store), base.chain_ids().last(), owners)?;
        commit_image(&store, &c, &base, config, run, desc, &a, target.as_ref())
    })?;
    println!("{id}");
    Ok(0)
}

/// Store the committed image: its config (history, author, run settings) over `base`, the
/// new layer, the parent link and the tag.
#[allow(clippy::too_many_arguments)]
fn commit_image(
    store: &crate::store::Store,
    c: &container::Container,
    base: &crate::store::Image,
    mut config: crate::spec::ImageConfig,
    run: crate::spec::ContainerConfig,
    desc: crate::spec::Descriptor,
    a: &CommitArgs,
    target: Option<&Reference>,
) -> anyhow::Result<crate::spec::Digest> {
    let now = container::now();
    config.created = Some(now.clone());
    if let Some(author) = &a.author {
        config.author = Some(author.clone());
    }
    config.config = Some(run);
    config.rootfs.diff_ids.push(desc.digest.clone());
    config.history.push(History {
        created: Some(now),
        created_by: Some(c.argv().join(" ")),
        author: a.author.clone(),
        comment: a.message.clone(),
        empty_layer: false,
    });
    let mut layers = base.manifest.layers.clone();
    layers.push(desc);
    crate::store::crash::point("commit-image");
    let (id, manifest) = store.put_image(&to_json(&config), layers)?;
    store.set_parent(&id, &base.id)?;
    if let Some(t) = target {
        store.tag_image(&manifest, t)?;
    }
    store.drop_leases();
    Ok(id)
}

/// Apply one Dockerfile instruction given with `-c`.
fn apply_change(run: &mut crate::spec::ContainerConfig, change: &str) -> anyhow::Result<()> {
    let (instr, rest) = change.trim().split_once(char::is_whitespace).unwrap_or((change.trim(), ""));
    let rest = rest.trim();
    let words = || -> Vec<String> {
        match serde_json::from_str::<Vec<String>>(rest) {
            Ok(v) => v,
            Err(_) => vec!["/bin/sh".into(), "-c".into(), rest.into()],
        }
    };
    match instr.to_ascii_uppercase().as_str() {
        "CMD" => run.cmd = Some(words()),
        "ENTRYPOINT" => run.entrypoint = Some(words()),
        "ENV" => {
            let (k, v) = rest
                .split_once('=')
                .or_else(|| rest.split_once(' '))
                .ok_or_else(|| anyhow::anyhow!("ENV needs KEY=VALUE: {change}"))?;
            let env = run.env.get_or_insert_with(Vec::new);
            env.retain(|e| e.split('=').next() != Some(k));
            env.push(format!("{k}={}", v.trim()));
        }
        "WORKDIR" => run.working_dir = Some(rest.to_string()),
        "USER" => run.user = Some(rest.to_string()),
        "EXPOSE" => {
            let ports = run.exposed_ports.get_or_insert_with(BTreeMap::new);
            for p in rest.split_whitespace() {
                let p = if p.contains('/') { p.to_string() } else { format!("{p}/tcp") };
                ports.insert(p, serde_json::json!({}));
            }
        }
        "LABEL" => {
            let (k, v) = rest.split_once('=').ok_or_else(|| anyhow::anyhow!("LABEL needs key=value: {change}"))?;
            run.labels.get_or_insert_with(BTreeMap::new).insert(k.trim_matches('"').into(), v.trim_matches('"').into());
        }
        other => anyhow::bail!("{other} is not a valid change command"),
    }
    Ok(())
}
