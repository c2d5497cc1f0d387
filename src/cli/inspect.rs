//! `skiff inspect`, `image inspect`, `container inspect`: Docker's JSON for images (`Id`,
//! `RepoTags`, `Config`, `RootFS`, …) and containers (`State`, `Config`, `Name`, …), with
//! skiff's own storage facts under `GraphDriver`, or one line per object through `-f`.

use super::template::Template;
use crate::container::{self, Container, Status};
use crate::error::Error;
use crate::store::{Image, Store};
use clap::{Args, ValueEnum};
use serde_json::{json, Value};

/// Flags every inspect verb shares.
#[derive(Debug, Args)]
pub struct FormatArg {
    /// Format the output using the given Go template
    #[arg(short, long, value_name = "string")]
    format: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImageInspectArgs {
    #[command(flatten)]
    format: FormatArg,
    /// Images (names or IDs)
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ContainerInspectArgs {
    #[command(flatten)]
    format: FormatArg,
    /// Containers (names or IDs)
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ObjectType {
    Container,
    Image,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    format: FormatArg,
    /// Return JSON for specified type
    #[arg(long = "type", value_name = "string")]
    kind: Option<ObjectType>,
    /// Names or IDs of containers or images
    #[arg(required = true, value_name = "NAME|ID")]
    names: Vec<String>,
}

pub fn exec_image(a: ImageInspectArgs) -> anyhow::Result<i32> {
    inspect_all(&a.images, a.format, Some(ObjectType::Image))
}

pub fn exec_container(a: ContainerInspectArgs) -> anyhow::Result<i32> {
    inspect_all(&a.containers, a.format, Some(ObjectType::Container))
}

pub fn exec(a: InspectArgs) -> anyhow::Result<i32> {
    inspect_all(&a.names, a.format, a.kind)
}

/// Look each name up (a container first, as Docker does, unless `kind` says), then print
/// the JSON array, or the template's output for each object; the misses go to stderr.
fn inspect_all(names: &[String], format: FormatArg, kind: Option<ObjectType>) -> anyhow::Result<i32> {
    let template = parse_format(format.format.as_deref())?;
    let store = super::open_store()?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match lookup(&store, name, kind)? {
            Some(v) => found.push(v),
            None => missing.push(match kind {
                Some(ObjectType::Container) => format!("No such container: {name}"),
                Some(ObjectType::Image) => format!("No such image: {name}"),
                None => format!("No such object: {name}"),
            }),
        }
    }
    print_objects(found, &missing, template.as_ref())
}

/// Print what an inspect verb found — Docker's JSON array (4-space indent), or one template
/// line per object — then `Error: …` for each miss; the exit code (1 if anything was missing).
pub fn print_objects(found: Vec<Value>, missing: &[String], template: Option<&Template>) -> anyhow::Result<i32> {
    let mut out = String::new();
    match template {
        Some(t) => {
            for v in &found {
                out.push_str(&t.execute(v).map_err(|e| anyhow::anyhow!("{e}"))?);
                out.push('\n');
            }
        }
        None => {
            use serde::Serialize;
            let mut buf = Vec::new();
            let mut ser = serde_json::Serializer::with_formatter(
                &mut buf,
                serde_json::ser::PrettyFormatter::with_indent(b"    "),
            );
            Value::Array(found).serialize(&mut ser)?;
            out = String::from_utf8(buf)?;
            out.push('\n');
        }
    }
    print!("{out}");
    for m in missing {
        eprintln!("Error: {m}");
    }
    Ok(if missing.is_empty() { 0 } else { 1 })
}

/// Parse an inspect verb's `-f` template (Docker's wording on a bad one).
pub fn parse_format(format: Option<&str>) -> anyhow::Result<Option<Template>> {
    format.map(Template::parse).transpose().map_err(|e| anyhow::anyhow!("Template parsing error: {e}"))
}

fn lookup(store: &Store, name: &str, kind: Option<ObjectType>) -> anyhow::Result<Option<Value>> {
    if kind != Some(ObjectType::Image) {
        match container::find(store, name) {
            Ok(c) => return Ok(Some(container_json(store, &c))),
            Err(Error::NoSuchContainer(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if kind != Some(ObjectType::Container) {
        match store.find_image(name) {
            Ok(img) => return Ok(Some(image_json(store, &img)?)),
            Err(Error::NoSuchImage(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

/// One container as `docker container inspect` shows it (the parts skiff has).
pub fn container_json(store: &Store, c: &Container) -> Value {
    // What the container inherited from its image and does not record itself.
    let image_cfg = store.find_image(&c.image.to_string()).ok().and_then(|i| i.config.config).unwrap_or_default();
    let s = &c.state;
    let lower: Vec<String> = c.layers.iter().rev().map(|l| store.layer_diff_dir(l).display().to_string()).collect();
    let mut v = json!({
        "Id": c.id,
        "Created": c.created,
        "Path": c.path,
        "Args": c.args,
        "State": {
            "Status": s.status,
            "Running": s.is_alive(),
            "Paused": s.status == Status::Paused,
            "Restarting": s.status == Status::Restarting,
            "OOMKilled": s.oom_killed,
            "Dead": false,
            "Pid": s.pid,
            "ExitCode": s.exit_code,
            "Error": "",
            "StartedAt": s.started_at,
            "FinishedAt": s.finished_at,
        },
        "Image": c.image.to_string(),
        "ResolvConfPath": file_in(store, c, "resolv.conf"),
        "HostnamePath": file_in(store, c, "hostname"),
        "HostsPath": file_in(store, c, "hosts"),
        "LogPath": crate::container::logs::path(&c.dir(store), &c.id).display().to_string(),
        "Name": format!("/{}", c.name),
        "RestartCount": c.restart_count,
        "Driver": "skiff-userspace-union",
        "Platform": c.backend.name(),
        "HostConfig": {
            "Binds": binds(c),
            "LogConfig": { "Type": "json-file", "Config": {} },
            "Init": if c.init { json!(true) } else { Value::Null },
            "ReadonlyRootfs": c.read_only,
            "AutoRemove": c.auto_remove,
            "NetworkMode": crate::network::in_join_order(&c.networks).first().map(|(n, _)| if n.as_str() == "bridge" { "default" } else { n.as_str() }).unwrap_or("default"),
            "RestartPolicy": { "Name": if c.restart_policy.name.is_empty() { "no" } else { c.restart_policy.name.as_str() }, "MaximumRetryCount": c.restart_policy.maximum_retry_count },
            "Memory": c.memory,
            "LogConfig": c.log_config,
            "PortBindings": c.port_bindings,
            "PublishAllPorts": c.publish_all,
            "Links": if c.links.is_empty() { Value::Null } else { json!(c.links.iter().map(|l| format!("/{}:/{}/{}", l.name, c.name, l.alias)).collect::<Vec<_>>()) },
        },
        "GraphDriver": {
            "Data": { "LowerDir": lower.join(":"), "UpperDir": c.upper(store).display().to_string() },
            "Name": "skiff-userspace-union",
        },
        "Mounts": c.mounts,
        "NetworkSettings": network_settings(c),
        "Config": {
            "Hostname": c.config.hostname,
            "Domainname": "",
            "User": c.config.user,
            "AttachStdin": c.config.open_stdin,
            "AttachStdout": true,
            "AttachStderr": true,
            "ExposedPorts": if c.exposed_ports.is_empty() { Value::Null } else { Value::Object(c.exposed_ports.iter().map(|k| (k.clone(), json!({}))).collect()) },
            "Tty": c.config.tty,
            "OpenStdin": c.config.open_stdin,
            "StdinOnce": c.config.stdin_once,
            "Env": c.config.env,
            "Cmd": Some(&c.config.cmd).filter(|v| !v.is_empty()),
            "Image": c.config.image,
            "Volumes": image_cfg.volumes,
            "WorkingDir": c.config.working_dir,
            "Entrypoint": Some(&c.config.entrypoint).filter(|v| !v.is_empty()),
            "OnBuild": null,
            "Labels": c.config.labels,
            "StopSignal": image_cfg.stop_signal,
        },
    });
    if let Some(h) = &c.config.healthcheck {
        v["Config"]["Healthcheck"] = h.clone();
    }
    if let Some(h) = &s.health {
        v["State"]["Health"] = serde_json::to_value(h).unwrap_or(Value::Null);
    }
    v
}

/// A file skiff keeps beside the record (`hosts`, `hostname`, `resolv.conf`), or "" if none.
fn file_in(store: &Store, c: &Container, name: &str) -> String {
    let p = c.dir(store).join(name);
    if p.is_file() {
        p.display().to_string()
    } else {
        String::new()
    }
}

/// `HostConfig.Binds`: the `-v` mounts as Docker lists them (`src:dst[:ro]`), null if none.
fn binds(c: &Container) -> Value {
    let list: Vec<String> = c
        .mounts
        .iter()
        .filter(|m| m.kind == "bind" || (m.kind == "volume" && !m.name.is_empty() && m.name.len() != 64))
        .map(|m| {
            let src = if m.kind == "bind" { m.source.clone() } else { m.name.clone() };
            if m.rw {
                format!("{src}:{}", m.destination)
            } else {
                format!("{src}:{}:ro", m.destination)
            }
        })
        .collect();
    if list.is_empty() {
        Value::Null
    } else {
        json!(list)
    }
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
    // `name@sha256:…` as Docker shows them (familiar names), from pushes and pulls.
    let mut repo_digests: Vec<String> = store
        .repo_digests(&img.id)
        .digests
        .iter()
        .map(|d| match d.split_once('@') {
            Some((r, dg)) => crate::reference::Reference::parse(r)
                .map(|r| format!("{}@{dg}", r.familiar_name()))
                .unwrap_or_else(|_| d.clone()),
            None => d.clone(),
        })
        .collect();
    repo_digests.sort();
    let mut v = json!({
        "Id": img.id.to_string(),
        "RepoTags": tags,
        "RepoDigests": repo_digests,
        "Parent": store.parent(&img.id).map(|p| p.to_string()).unwrap_or_default(),
        "Comment": img.config.history.last().and_then(|h| h.comment.clone()).unwrap_or_default(),
        "Created": img.config.created.clone().unwrap_or_default(),
        "Container": img.config.extra.get("container").cloned().unwrap_or(json!("")),
        "ContainerConfig": img.config.extra.get("container_config").cloned().unwrap_or_else(|| json!({
            "Hostname": "", "Domainname": "", "User": "", "AttachStdin": false, "AttachStdout": false,
            "AttachStderr": false, "Tty": false, "OpenStdin": false, "StdinOnce": false, "Env": null,
            "Cmd": null, "Image": "", "Volumes": null, "WorkingDir": "", "Entrypoint": null,
            "OnBuild": null, "Labels": null,
        })),
        "DockerVersion": img.config.extra.get("docker_version").cloned().unwrap_or(json!("")),
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
    });
    // Set only by some builds; Docker leaves them out otherwise.
    if let Some(h) = &cfg.healthcheck {
        v["Config"]["Healthcheck"] = h.clone();
    }
    if let Some(sh) = &cfg.shell {
        v["Config"]["Shell"] = json!(sh);
    }
    Ok(v)
}

/// `NetworkSettings`: the default bridge's address at the top (as Docker), every network's
/// endpoint under `Networks`.
fn network_settings(c: &Container) -> Value {
    let bridge = c.networks.get("bridge");
    let networks: serde_json::Map<String, Value> = c
        .networks
        .iter()
        .map(|(name, e)| {
            (
                name.clone(),
                json!({
                    "IPAMConfig": null,
                    "Links": null,
                    "Aliases": if e.aliases.is_empty() && ["bridge", "host", "none"].contains(&name.as_str()) { Value::Null } else {
                        let mut a = vec![c.short_id().to_string()];
                        a.extend(e.aliases.iter().cloned());
                        json!(a)
                    },
                    "NetworkID": e.network_id,
                    "EndpointID": e.endpoint_id,
                    "Gateway": e.gateway,
                    "IPAddress": e.ip_address,
                    "IPPrefixLen": e.ip_prefix_len,
                    "IPv6Gateway": "",
                    "GlobalIPv6Address": "",
                    "GlobalIPv6PrefixLen": 0,
                    "MacAddress": e.mac_address,
                    "DriverOpts": null,
                }),
            )
        })
        .collect();
    json!({
        "Bridge": "",
        "SandboxID": "",
        "HairpinMode": false,
        "Ports": if c.state.is_alive() {
            // Exposed ports not published show as null, as Docker's do.
            let mut m: serde_json::Map<String, Value> = c.exposed_ports.iter().map(|k| (k.clone(), Value::Null)).collect();
            for (k, list) in &c.ports {
                m.insert(k.clone(), json!(list));
            }
            Value::Object(m)
        } else {
            json!({})
        },
        "Gateway": bridge.map(|e| e.gateway.clone()).unwrap_or_default(),
        "IPAddress": bridge.map(|e| e.ip_address.clone()).unwrap_or_default(),
        "IPPrefixLen": bridge.map(|e| e.ip_prefix_len).unwrap_or(0),
        "MacAddress": bridge.map(|e| e.mac_address.clone()).unwrap_or_default(),
        "Networks": networks,
    })
}
