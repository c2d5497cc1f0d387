//! `skiff image inspect IMAGE...`: Docker's JSON for images (`Id`, `RepoTags`, `Config`,
//! `RootFS`, …), with skiff's own storage facts under `GraphDriver`.

use crate::store::{Image, Store};
use clap::Args;
use serde_json::{json, Value};

#[derive(Debug, Args)]
pub struct ImageInspectArgs {
    /// Images (names or IDs)
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

pub fn exec(a: ImageInspectArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for name in &a.images {
        match store.find_image(name) {
            Ok(img) => out.push(image_json(&store, &img)?),
            Err(crate::error::Error::NoSuchImage(_)) => missing.push(name.clone()),
            Err(e) => return Err(e.into()),
        }
    }
    println!("{}", serde_json::to_string_pretty(&Value::Array(out))?.replace("  ", "    "));
    for m in &missing {
        eprintln!("Error: No such image: {m}");
    }
    Ok(if missing.is_empty() { 0 } else { 1 })
}

/// One image as `docker image inspect` shows it.
pub fn image_json(store: &Store, img: &Image) -> anyhow::Result<Value> {
    let cfg = img.config.config.clone().unwrap_or_default();
    let mut tags: Vec<String> = img.tags.iter().map(|t| t.familiar()).collect();
    tags.sort();
    let mut size = 0;
    let mut lower_dirs = Vec::new();
    for chain in img.chain_ids().iter().rev() {
        size += store.layer_meta(chain).map(|m| m.size).unwrap_or(0);
        lower_dirs.push(store.layer_diff_dir(chain).display().to_string());
    }
    Ok(json!({
        "Id": img.id.to_string(),
        "RepoTags": tags,
        "RepoDigests": [],
        "Parent": store.parent(&img.id).map(|p| p.to_string()).unwrap_or_default(),
        "Comment": img.config.history.last().and_then(|h| h.comment.clone()).unwrap_or_default(),
        "Created": img.config.created.clone().unwrap_or_default(),
        "Author": img.config.author.clone().unwrap_or_default(),
        "Config": {
            "Hostname": "",
            "Domainname": "",
            "User": cfg.user.clone().unwrap_or_default(),
            "AttachStdin": false,
            "AttachStdout": false,
            "AttachStderr": false,
            "ExposedPorts": cfg.exposed_ports,
            "Tty": false,
            "OpenStdin": false,
            "StdinOnce": false,
            "Env": cfg.env,
            "Cmd": cfg.cmd,
            "Image": "",
            "Volumes": cfg.volumes,
            "WorkingDir": cfg.working_dir.clone().unwrap_or_default(),
            "Entrypoint": cfg.entrypoint,
            "OnBuild": cfg.on_build,
            "Labels": cfg.labels,
            "StopSignal": cfg.stop_signal,
        },
        "Architecture": img.config.architecture,
        "Os": img.config.os,
        "Size": size,
        "VirtualSize": size,
        "GraphDriver": {
            "Data": { "LowerDir": lower_dirs.join(":") },
            "Name": "skiff-userspace-union",
        },
        "RootFS": {
            "Type": img.config.rootfs.kind,
            "Layers": img.config.rootfs.diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        },
        "Metadata": { "LastTagTime": "0001-01-01T00:00:00Z" },
    }))
}
