//! The two ways an image is made outside a build: `commit` (a container's writable layer,
//! whiteouts and all, becomes a new layer on top of its image) and `import` (a root
//! filesystem tarball, such as `export` writes, becomes a one-layer image). Both take
//! Dockerfile instructions with `-c` (`CMD`, `ENTRYPOINT`, `ENV`, `EXPOSE`, `HEALTHCHECK`,
//! `LABEL`, `ONBUILD`, `STOPSIGNAL`, `USER`, `VOLUME`, `WORKDIR`), parsed by the builder's
//! Dockerfile parser.

use super::Container;
use crate::build::dockerfile::{self, Kind, ShellOrExec};
use crate::build::expand;
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::spec::{to_json, ContainerConfig, Descriptor, Digest, History, ImageConfig, RootFs, MEDIA_TYPE_LAYER};
use crate::store::Store;
use std::collections::BTreeMap;
use std::io::Read;

/// `commit`'s settings.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    pub message: Option<String>,
    pub author: Option<String>,
    /// `-c` instructions, as typed.
    pub changes: Vec<String>,
    pub target: Option<Reference>,
}

/// Make an image of `c`'s changes on top of its image; its ID. Takes the store lock.
pub fn commit(store: &Store, c: &Container, opts: &CommitOptions) -> Result<Digest> {
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
    apply_changes(&mut run, &opts.changes)?;
    // The layer: the upper dir as a deterministic tar (OCI whiteouts are plain files there).
    let _lock = store.lock()?;
    let owners = c.backend(store)?.layer_owners();
    // All or nothing: a commit that fails keeps no blob, layer or image.
    let id = store.all_or_nothing(|| -> Result<Digest> {
        let upper = c.upper(store);
        let (desc, _) = crate::build::layer::layer_from_dir_owned(store, &upper, base.chain_ids().last(), owners)?;
        commit_image(store, c, &base, config, run, desc, opts)
    })?;
    crate::events::record(
        store,
        crate::events::Event::new(
            "container",
            "commit",
            &c.id,
            &[
                ("comment", opts.message.as_deref().unwrap_or("")),
                ("imageID", &id.to_string()),
                ("imageRef", &opts.target.as_ref().map(|t| t.familiar()).unwrap_or_default()),
                ("name", c.name.as_str()),
            ],
        ),
    );
    if let Some(t) = &opts.target {
        tagged(store, &id, t);
    }
    Ok(id)
}

/// Store the committed image: its config (history, author, run settings) over `base`, the
/// new layer, the parent link and the tag. Caller holds the lock.
fn commit_image(
    store: &Store,
    c: &Container,
    base: &crate::store::Image,
    mut config: ImageConfig,
    run: ContainerConfig,
    desc: Descriptor,
    opts: &CommitOptions,
) -> Result<Digest> {
    let now = super::now();
    config.created = Some(now.clone());
    if let Some(author) = &opts.author {
        config.author = Some(author.clone());
    }
    config.config = Some(run);
    config.rootfs.diff_ids.push(desc.digest.clone());
    config.history.push(History {
        created: Some(now),
        created_by: Some(c.argv().join(" ")),
        author: opts.author.clone(),
        comment: opts.message.clone(),
        empty_layer: false,
    });
    let mut layers = base.manifest.layers.clone();
    layers.push(desc);
    crate::store::crash::point("commit-image");
    let (id, manifest) = store.put_image(&to_json(&config), layers)?;
    store.set_parent(&id, &base.id)?;
    if let Some(t) = &opts.target {
        store.tag_image(&manifest, t)?;
    }
    store.drop_leases();
    Ok(id)
}

/// `import`'s settings.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub message: Option<String>,
    pub changes: Vec<String>,
    /// `(os, architecture)`; `None`: by the programs in the tarball.
    pub platform: Option<(String, String)>,
    pub target: Option<Reference>,
    /// What the tarball was (`-` or a path), for the history's comment.
    pub source: String,
}

/// Make a one-layer image of the root filesystem tar (plain or gzip) read from `r`; its ID.
/// Takes the store lock.
pub fn import(store: &Store, r: Box<dyn Read>, opts: &ImportOptions) -> Result<Digest> {
    let mut run =
        ContainerConfig { env: Some(vec![format!("PATH={}", crate::runtime::DEFAULT_PATH)]), ..Default::default() };
    apply_changes(&mut run, &opts.changes)?;
    let mut reader = crate::archive::maybe_gunzip(r).map_err(|e| Error::Other(format!("{}: {e}", opts.source)))?;
    let _lock = store.lock()?;
    // All or nothing: a refused tarball keeps no blob, layer or image.
    let id = store.all_or_nothing(|| import_locked(store, &mut reader, run, opts))?;
    let name = opts.target.as_ref().map(|t| t.familiar()).unwrap_or_else(|| id.to_string());
    crate::events::record(store, crate::events::Event::new("image", "import", &id.to_string(), &[("name", &name)]));
    if let Some(t) = &opts.target {
        tagged(store, &id, t);
    }
    Ok(id)
}

/// `import` under the lock: the layer, the image, its tag.
fn import_locked(store: &Store, reader: &mut dyn Read, run: ContainerConfig, opts: &ImportOptions) -> Result<Digest> {
    let (diff, size) = store.put_blob_reader(reader)?;
    let meta = store.unpack_layer(&diff, None)?;
    let meta = crate::build::layer::precompile(store, meta, &mut std::io::stderr())?;
    let (os, architecture) = match &opts.platform {
        Some(p) => p.clone(),
        None => platform_of_layer(store, &meta),
    };
    let now = super::now();
    let config = ImageConfig {
        created: Some(now.clone()),
        author: None,
        architecture,
        os,
        config: Some(run),
        rootfs: RootFs::layers(vec![diff.clone()]),
        history: vec![History {
            created: Some(now),
            created_by: Some(String::new()),
            comment: Some(opts.message.clone().unwrap_or_else(|| format!("Imported from {}", opts.source))),
            ..Default::default()
        }],
        extra: Default::default(),
    };
    let (id, manifest) = store.put_image(&to_json(&config), vec![Descriptor::new(MEDIA_TYPE_LAYER, diff, size)])?;
    if let Some(t) = &opts.target {
        store.tag_image(&manifest, t)?;
    }
    store.drop_leases();
    Ok(id)
}

/// `image tag <id> (name=repo:tag)`.
pub fn tagged(store: &Store, id: &Digest, t: &Reference) {
    crate::events::record(
        store,
        crate::events::Event::new("image", "tag", &id.to_string(), &[("name", &t.familiar())]),
    );
}

/// What an imported root filesystem runs on, by its programs: wasm modules make it a WASI
/// image, ELF programs a Linux image of the host's architecture (as Docker records the host's
/// platform); a tar with neither is a WASI image, skiff's default.
fn platform_of_layer(store: &Store, meta: &crate::store::LayerMeta) -> (String, String) {
    let wasi = crate::runtime::Kind::default().platform();
    if !meta.wasm.is_empty() {
        return (wasi.0.into(), wasi.1.into());
    }
    if crate::hostfs::has_elf(&store.layer_diff_dir(&meta.chain_id), 20_000) {
        return ("linux".into(), crate::runtime::host_arch().into());
    }
    (wasi.0.into(), wasi.1.into())
}

/// Apply `-c` instructions to an image's run config, in order. Variables expand against the
/// environment as it stands (an earlier `ENV` counts), as the builder expands them.
pub fn apply_changes(run: &mut ContainerConfig, changes: &[String]) -> Result<()> {
    for change in changes {
        apply_change(run, change)?;
    }
    Ok(())
}

fn apply_change(run: &mut ContainerConfig, change: &str) -> Result<()> {
    let word = change.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
    const VALID: [&str; 11] = [
        "cmd",
        "entrypoint",
        "env",
        "expose",
        "healthcheck",
        "label",
        "onbuild",
        "stopsignal",
        "user",
        "volume",
        "workdir",
    ];
    if !VALID.contains(&word.as_str()) {
        return Err(Error::Other(format!("{} is not a valid change command", word.to_ascii_uppercase())));
    }
    let parsed =
        dockerfile::parse(change).map_err(|e| Error::Other(format!("invalid change {change:?}: {}", e.message)))?;
    let Some(instr) = parsed.instructions.into_iter().next() else {
        return Err(Error::Other(format!("invalid change {change:?}")));
    };
    let env = run.env.clone().unwrap_or_default();
    let lookup = move |k: &str| env.iter().find_map(|e| e.strip_prefix(&format!("{k}=")).map(String::from));
    let ex = |w: &str| expand::expand(w, &lookup, '\\').map_err(Error::Other);
    let words = |list: &[String]| -> Result<Vec<String>> {
        let mut out = Vec::new();
        for w in list {
            out.extend(expand::expand_words(w, &lookup, '\\').map_err(Error::Other)?);
        }
        Ok(out)
    };
    let argv = |c: &ShellOrExec, shell: &Option<Vec<String>>| match c {
        ShellOrExec::Exec(v) => v.clone(),
        ShellOrExec::Shell(s) => {
            let mut v = shell.clone().unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()]);
            v.push(s.clone());
            v
        }
    };
    match instr.kind {
        Kind::Cmd(c) => run.cmd = Some(argv(&c, &run.shell)),
        Kind::Entrypoint(c) => run.entrypoint = Some(argv(&c, &run.shell)),
        Kind::Env(pairs) => {
            let mut set = Vec::new();
            for (k, v) in pairs {
                set.push((ex(&k)?, ex(&v)?));
            }
            let env = run.env.get_or_insert_with(Vec::new);
            for (k, v) in set {
                env.retain(|e| e.split('=').next() != Some(k.as_str()));
                env.push(format!("{k}={v}"));
            }
        }
        Kind::Expose(list) => {
            let ports = run.exposed_ports.get_or_insert_with(BTreeMap::new);
            for p in words(&list)? {
                let p = if p.contains('/') { p } else { format!("{p}/tcp") };
                ports.insert(p, serde_json::json!({}));
            }
        }
        Kind::Label(pairs) => {
            let labels = run.labels.get_or_insert_with(BTreeMap::new);
            for (k, v) in pairs {
                labels.insert(ex(&k)?, ex(&v)?);
            }
        }
        Kind::Volume(list) => {
            let vols = run.volumes.get_or_insert_with(BTreeMap::new);
            for v in words(&list)? {
                vols.insert(v, serde_json::json!({}));
            }
        }
        Kind::Workdir(d) => {
            let d = ex(&d)?;
            run.working_dir = Some(if d.starts_with('/') {
                d
            } else {
                format!("{}/{d}", run.working_dir.clone().unwrap_or_default().trim_end_matches('/'))
            });
        }
        Kind::User(u) => run.user = Some(ex(&u)?),
        Kind::StopSignal(s) => run.stop_signal = Some(ex(&s)?),
        Kind::Onbuild(t) => run.on_build.get_or_insert_with(Vec::new).push(t.original.clone()),
        Kind::Healthcheck(None) => run.healthcheck = Some(serde_json::json!({ "Test": ["NONE"] })),
        Kind::Healthcheck(Some(h)) => {
            let mut v = serde_json::json!({ "Test": h.test });
            for (key, d) in [("Interval", &h.interval), ("Timeout", &h.timeout), ("StartPeriod", &h.start_period)] {
                if let Some(d) = d {
                    v[key] = serde_json::json!(dockerfile::go_duration_nanos(d).map_err(Error::Other)?);
                }
            }
            if let Some(r) = h.retries {
                v["Retries"] = serde_json::json!(r);
            }
            run.healthcheck = Some(v);
        }
        _ => return Err(Error::Other(format!("{} is not a valid change command", word.to_ascii_uppercase()))),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_dockerfile_instructions() {
        let mut run = ContainerConfig { env: Some(vec!["PATH=/bin".into()]), ..Default::default() };
        let changes: Vec<String> = [
            r#"CMD ["nginx", "-g", "daemon off;"]"#,
            "ENTRYPOINT echo hi",
            "ENV GREETING=\"hello world\" WHO=$PATH",
            "EXPOSE 80 53/udp",
            "LABEL maintainer=\"me\" version=2",
            "WORKDIR /app",
            "WORKDIR sub",
            "USER nobody",
            "VOLUME [\"/data\"]",
            "HEALTHCHECK --interval=5s CMD wget -q localhost",
            "STOPSIGNAL SIGQUIT",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        apply_changes(&mut run, &changes).unwrap();
        assert_eq!(run.cmd.unwrap(), ["nginx", "-g", "daemon off;"]);
        assert_eq!(run.entrypoint.unwrap(), ["/bin/sh", "-c", "echo hi"]);
        assert_eq!(run.env.unwrap(), ["PATH=/bin", "GREETING=hello world", "WHO=/bin"]);
        assert!(run.exposed_ports.as_ref().unwrap().contains_key("80/tcp"));
        assert!(run.exposed_ports.unwrap().contains_key("53/udp"));
        assert_eq!(run.labels.unwrap()["maintainer"], "me");
        assert_eq!(run.working_dir.unwrap(), "/app/sub");
        assert_eq!(run.user.unwrap(), "nobody");
        assert!(run.volumes.unwrap().contains_key("/data"));
        let h = run.healthcheck.unwrap();
        assert_eq!(h["Test"], serde_json::json!(["CMD-SHELL", "wget -q localhost"]));
        assert_eq!(h["Interval"], serde_json::json!(5_000_000_000i64));
        assert_eq!(run.stop_signal.unwrap(), "SIGQUIT");
        let e = apply_changes(&mut ContainerConfig::default(), &["RUN echo hi".into()]).unwrap_err();
        assert_eq!(e.to_string(), "RUN is not a valid change command");
    }
}
