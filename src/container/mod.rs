//! Containers: the record (`containers/<id>/container.json`), the writable layer
//! (`containers/<id>/upper/`), lookup by name or ID, creation and removal.

pub mod attach;
pub mod commit;
pub mod copy_out;
pub mod health;
mod links;
pub mod logs;
mod names;
pub mod records;
pub mod signal;
pub mod state;
pub mod supervisor;

pub use links::Link;
pub use names::valid_name;
pub use state::{State, Status, Verb};

use crate::error::{Error, IoContext, Result};
use crate::network::ports::PortMap;
use crate::runtime::{self, ContainerSpec, Lower};
use crate::spec::Digest;
use crate::store::{atomic_write, Image, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::sync::Arc;

/// What a container runs and how (Docker's `Config`, the parts skiff uses).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Config {
    pub hostname: String,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub working_dir: String,
    pub image: String,
    pub tty: bool,
    pub open_stdin: bool,
    /// `--user` / the image's `USER` (empty: root).
    #[serde(default)]
    pub user: String,
    /// `run -i` without `-d`: the first attached client's end of input closes stdin.
    #[serde(default)]
    pub stdin_once: bool,
    /// The image's labels with `--label`s over them.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The health check (Docker's `Healthcheck`: `Test`, `Interval`, `Timeout`, `StartPeriod`
    /// in nanoseconds, `Retries`): the image's with `--health-*` flags over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
}

/// A container record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Container {
    pub id: String,
    pub name: String,
    pub created: String,
    /// The program and its arguments (entrypoint + cmd).
    pub path: String,
    pub args: Vec<String>,
    /// The image ID (`sha256:…`).
    pub image: Digest,
    /// Chain IDs of the image's layers, bottom first.
    pub layers: Vec<Digest>,
    pub config: Config,
    pub state: State,
    pub auto_remove: bool,
    /// Volumes and bind mounts.
    #[serde(default)]
    pub mounts: Vec<crate::volume::MountPoint>,
    /// `--restart`, and how often the supervisor restarted the main process.
    #[serde(default)]
    pub restart_policy: RestartPolicy,
    #[serde(default)]
    pub restart_count: u32,
    /// `--memory` in bytes (0: no limit).
    #[serde(default)]
    pub memory: u64,
    /// The networks the container is on, by network name.
    #[serde(default)]
    pub networks: BTreeMap<String, crate::network::Endpoint>,
    /// Ports: exposed (the image's `EXPOSE`, `--expose`, `-p`'s), asked for (`-p`, `-P`) and
    /// bound on the host while the container runs.
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    #[serde(default)]
    pub port_bindings: PortMap,
    #[serde(default)]
    pub publish_all: bool,
    #[serde(default)]
    pub ports: PortMap,
    /// `--link name:alias` (the default bridge's way to give a container a name).
    #[serde(default)]
    pub links: Vec<Link>,
    /// Which backend runs it (chosen by the image's platform when it was created).
    #[serde(default)]
    pub backend: runtime::Kind,
    /// `--read-only`, `--cpus`, `--pids-limit`.
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub cpus: f64,
    #[serde(default)]
    pub pids_limit: i64,
    /// `--log-opt`: the json-file log's rotation (records from before it get the default).
    #[serde(default)]
    pub log_config: logs::LogConfig,
    /// `--init`: the supervisor is the container's init (it forwards signals and reaps).
    #[serde(default)]
    pub init: bool,
}

/// Docker's restart policy: `no`, `always`, `unless-stopped`, `on-failure[:N]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicy {
    pub name: String,
    pub maximum_retry_count: u32,
}

impl RestartPolicy {
    /// Parse `--restart`.
    pub fn parse(s: &str) -> Result<RestartPolicy> {
        let (name, n) = s.split_once(':').unwrap_or((s, ""));
        let max = if n.is_empty() {
            0
        } else {
            n.parse().map_err(|_| {
                Error::Other(format!("invalid restart policy format: maximum retry count must be an integer: {s}"))
            })?
        };
        match name {
            "no" | "always" | "unless-stopped" if n.is_empty() => {
                Ok(RestartPolicy { name: name.into(), maximum_retry_count: 0 })
            }
            "on-failure" => Ok(RestartPolicy { name: name.into(), maximum_retry_count: max }),
            "no" | "always" | "unless-stopped" => Err(Error::Other(format!(
                "invalid restart policy format: maximum retry count cannot be used with restart policy '{name}'"
            ))),
            _ => Err(Error::Other(format!("invalid restart policy format: unknown policy '{name}'"))),
        }
    }

    /// Whether a main process that exited with `code` after `count` restarts goes again.
    pub fn restarts(&self, code: i32, count: u32) -> bool {
        match self.name.as_str() {
            "always" | "unless-stopped" => true,
            "on-failure" => code != 0 && (self.maximum_retry_count == 0 || count < self.maximum_retry_count),
            _ => false,
        }
    }
}

/// Settings for a new container (from `run`/`create` flags).
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub name: Option<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub entrypoint: Option<String>,
    pub cmd: Vec<String>,
    pub hostname: Option<String>,
    pub tty: bool,
    pub interactive: bool,
    /// Stdin is attached once (`run -i` in the foreground), not held for later clients.
    pub stdin_once: bool,
    pub auto_remove: bool,
    /// Run exactly this (a build step), instead of the image's entrypoint and cmd.
    pub argv: Option<Vec<String>>,
    /// `-v` / `--mount`, parsed (named volumes already exist).
    pub mounts: Vec<crate::volume::MountPoint>,
    /// Give the image's VOLUMEs no anonymous volumes (a build step's container).
    pub skip_image_volumes: bool,
    pub restart_policy: RestartPolicy,
    /// `--memory` in bytes (0: no limit).
    pub memory: u64,
    /// `--network` (default `bridge`) and `--network-alias`.
    pub network: Option<String>,
    pub aliases: Vec<String>,
    /// `-p` (parsed), `-P`, `--expose`, `--link name[:alias]`.
    pub publish: PortMap,
    pub publish_all: bool,
    pub expose: Vec<String>,
    pub links: Vec<String>,
    /// Record the container as already running, owned by this process (`run` in the
    /// foreground): saves a second write on the hot path.
    pub start_now: bool,
    /// `--runtime`: the backend, instead of the one the image's platform chooses.
    pub runtime: Option<runtime::Kind>,
    /// `--user`, `--read-only`, `--cpus`, `--pids-limit`.
    pub user: Option<String>,
    pub read_only: bool,
    pub cpus: f64,
    pub pids_limit: i64,
    /// `--log-opt key=value` (json-file's `max-size`, `max-file`).
    pub log_opts: Vec<String>,
    /// `--label`, `--init`.
    pub labels: BTreeMap<String, String>,
    pub init: bool,
    /// `--health-*` flags (merged over the image's check) or `--no-healthcheck`.
    pub health: HealthOptions,
}

/// The `--health-*` flags: each set one replaces the image's value (durations in
/// nanoseconds); `disable` is `--no-healthcheck`.
#[derive(Debug, Clone, Default)]
pub struct HealthOptions {
    pub cmd: Option<String>,
    pub interval: Option<i64>,
    pub timeout: Option<i64>,
    pub start_period: Option<i64>,
    pub retries: Option<u32>,
    pub disable: bool,
}

impl HealthOptions {
    /// The container's health check: the image's `image` with these flags over it (Docker's
    /// merge); `None` when there is none or it is disabled.
    pub fn merge(&self, image: Option<&serde_json::Value>) -> Option<serde_json::Value> {
        if self.disable {
            return Some(serde_json::json!({ "Test": ["NONE"] }));
        }
        let mut v = image.cloned().unwrap_or_else(|| serde_json::json!({}));
        if let Some(cmd) = &self.cmd {
            v["Test"] = serde_json::json!(["CMD-SHELL", cmd]);
        }
        for (key, value) in [("Interval", self.interval), ("Timeout", self.timeout), ("StartPeriod", self.start_period)]
        {
            if let Some(n) = value {
                v[key] = serde_json::json!(n);
            }
        }
        if let Some(r) = self.retries {
            v["Retries"] = serde_json::json!(r);
        }
        v.get("Test").is_some().then_some(v)
    }
}

/// RFC 3339 with nanoseconds, as Docker writes times.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

impl Container {
    pub fn dir(&self, store: &Store) -> PathBuf {
        store.root().join("containers").join(&self.id)
    }

    pub fn upper(&self, store: &Store) -> PathBuf {
        self.dir(store).join("upper")
    }

    pub fn short_id(&self) -> &str {
        &self.id[..12]
    }

    /// Save the record atomically.
    pub fn save(&self, store: &Store) -> Result<()> {
        let data = serde_json::to_vec_pretty(self).expect("record serialises");
        atomic_write(&self.dir(store).join("container.json"), &data)
    }

    /// What a backend needs to run the container: its image's layers under its upper dir,
    /// its mounts (with its own `/etc/hostname` and `/etc/hosts`), limits and network.
    pub fn spec(&self, store: &Store) -> Result<ContainerSpec> {
        let mut lowers = Vec::with_capacity(self.layers.len());
        for chain in self.layers.iter().rev() {
            let meta = store.layer_meta(chain)?;
            lowers.push(Lower { chain_id: chain.clone(), dir: store.layer_diff_dir(chain), wasm: meta.wasm });
        }
        let mut mounts: Vec<runtime::Mount> = self
            .mounts
            .iter()
            .map(|m| runtime::Mount {
                target: m.destination.clone(),
                source: PathBuf::from(&m.source),
                readonly: !m.rw,
            })
            .collect();
        // As Docker: the container's own /etc/hostname and /etc/hosts, files skiff keeps
        // beside its record, mounted over the image's.
        for name in ["hostname", "hosts"] {
            let source = self.dir(store).join(name);
            if source.is_file() && !mounts.iter().any(|m| m.target == format!("/etc/{name}")) {
                mounts.push(runtime::Mount { target: format!("/etc/{name}"), source, readonly: false });
            }
        }
        Ok(ContainerSpec {
            id: self.id.clone(),
            name: self.name.clone(),
            dir: self.dir(store),
            lowers,
            upper: self.upper(store),
            mounts,
            limits: runtime::Limits { memory: self.memory, cpus: self.cpus, pids: self.pids_limit },
            hostname: self.config.hostname.clone(),
            readonly_rootfs: self.read_only,
            auto_remove: self.auto_remove,
            owner: if self.state.is_alive() { self.state.pid } else { 0 },
            network: Some(runtime::NetworkSpec { directory: Arc::new(records::Records::new(store)) }),
        })
    }

    /// The container's root as skiff's userspace union view shows it: its image's layers
    /// under its writable layer, with its mounts (`cp`, `diff`, `export` read and write it).
    pub fn view(&self, store: &Store) -> Result<crate::unionfs::UnionFs> {
        let spec = self.spec(store)?;
        let lowers = spec.lowers.iter().map(|l| l.dir.clone()).collect();
        let mounts = spec
            .mounts
            .iter()
            .map(|m| crate::unionfs::Mount { target: m.target.clone(), source: m.source.clone(), readonly: m.readonly })
            .collect();
        let fs = crate::unionfs::UnionFs::new(lowers, spec.upper.clone()).at(&spec.upper)?;
        fs.with_mounts(mounts).at(&spec.upper)
    }

    /// The image's extracted layers, top first.
    pub fn lower_dirs(&self, store: &Store) -> Vec<PathBuf> {
        self.layers.iter().rev().map(|c| store.layer_diff_dir(c)).collect()
    }

    /// The backend that runs this container.
    pub fn backend(&self, store: &Store) -> Result<Box<dyn runtime::Backend>> {
        runtime::open(store, self.backend)
    }

    /// The argv of the container's first process.
    pub fn argv(&self) -> Vec<String> {
        let mut v = vec![self.path.clone()];
        v.extend(self.args.iter().cloned());
        v
    }

    /// `"sh -c 'echo hi'"` as `ps` shows it (quoted, 20 characters with `…`).
    pub fn command_line(&self) -> String {
        self.argv().join(" ")
    }
}

/// Create a container from `image`: its record and an empty writable layer. Fails if the name
/// is taken or invalid, or the image gives nothing to run. Takes the store lock.
pub fn create(store: &Store, image: &Image, image_name: &str, opts: &CreateOptions) -> Result<Container> {
    let cfg = image.config.config.clone().unwrap_or_default();
    let mut entrypoint = cfg.entrypoint.clone().unwrap_or_default();
    let mut cmd = cfg.cmd.clone().unwrap_or_default();
    if let Some(ep) = &opts.entrypoint {
        entrypoint = if ep.is_empty() { vec![] } else { vec![ep.clone()] };
        cmd = vec![]; // as Docker: --entrypoint resets the image's CMD
    }
    if !opts.cmd.is_empty() {
        cmd = opts.cmd.clone();
    }
    if let Some(argv) = &opts.argv {
        (entrypoint, cmd) = (vec![], argv.clone());
    }
    let mut argv = entrypoint.clone();
    argv.extend(cmd.iter().cloned());
    if argv.is_empty() {
        return Err(Error::Other("no command specified".into()));
    }
    // Refused as Docker refuses them, before anything is made.
    for e in &opts.env {
        if e.starts_with('=') || e.is_empty() {
            return Err(Error::Other(format!(
                "invalid argument \"{e}\" for \"-e, --env\" flag: invalid environment variable: {e}"
            )));
        }
    }
    let log_config = logs::LogConfig::from_opts(&opts.log_opts)?;
    let backend = match opts.runtime {
        Some(k) => k,
        None => runtime::Kind::for_platform(&image.config.os, &image.config.architecture)?,
    };
    let id = random_id();
    let hostname = opts.hostname.clone().unwrap_or_else(|| id[..12].to_string());
    let env = merge_env(cfg.env.clone().unwrap_or_default(), &opts.env, &hostname, opts.tty);
    let working_dir =
        opts.workdir.clone().or(cfg.working_dir.clone()).filter(|w| !w.is_empty()).unwrap_or_else(|| "/".into());
    if !working_dir.starts_with('/') {
        return Err(Error::Other(format!(
            "the working directory '{working_dir}' is invalid, it needs to be an absolute path"
        )));
    }
    // The image's VOLUMEs that no -v covers get anonymous volumes.
    let mut mounts = opts.mounts.clone();
    let image_volumes = if opts.skip_image_volumes {
        vec![]
    } else {
        cfg.volumes.as_ref().map(|v| v.keys().cloned().collect::<Vec<_>>()).unwrap_or_default()
    };
    let mut targets = std::collections::BTreeSet::new();
    for m in &mounts {
        let t = m.destination.trim_end_matches('/');
        if !targets.insert(if t.is_empty() { "/" } else { t }) {
            return Err(Error::Other(format!("Duplicate mount point: {}", m.destination)));
        }
    }
    for path in image_volumes {
        if !mounts.iter().any(|m| m.destination == path) {
            mounts.push(crate::volume::parse_volume_flag(store, &path)?);
        }
    }
    let network = crate::network::find(store, opts.network.as_deref().unwrap_or("bridge"))
        .map_err(|_| Error::Other(format!("network {} not found", opts.network.as_deref().unwrap_or("bridge"))))?;
    if !opts.aliases.is_empty() && ["bridge", "host", "none"].contains(&network.name.as_str()) {
        return Err(Error::Other(
            "network-scoped alias is supported only for containers in user defined networks".into(),
        ));
    }
    let mut exposed_ports: Vec<String> =
        cfg.exposed_ports.as_ref().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    for p in opts.expose.iter().chain(opts.publish.keys()) {
        let (key, _) = crate::network::ports::port_key(p)?;
        if !exposed_ports.contains(&key) {
            exposed_ports.push(key);
        }
    }
    let mut port_bindings = opts.publish.clone();
    let mut publish_all = opts.publish_all;
    if network.name == "host" && (!port_bindings.is_empty() || publish_all) {
        eprintln!("WARNING: Published ports are discarded when using host network mode");
        port_bindings.clear();
        publish_all = false;
    }
    let _lock = store.lock()?;
    // The image was found before the lock was taken: an `rmi` may have removed it since.
    // Under the lock, its layers cannot go away until the container holds them.
    if let Some(missing) = image.chain_ids().iter().find(|c| !store.has_layer(c)) {
        return Err(Error::NoSuchImage(format!("{image_name} (layer {missing} was removed)")));
    }
    // Every other container, read once: names and addresses must not clash with theirs.
    let others = list(store)?;
    let name = match &opts.name {
        Some(n) => {
            if !names::valid_name(n) {
                return Err(Error::InvalidName(n.clone()));
            }
            let n = n.trim_start_matches('/').to_string();
            if let Some(other) = others.iter().find(|c| c.name == n) {
                return Err(Error::NameInUse { name: n, id: other.id.clone() });
            }
            n
        }
        None => {
            let mut n = names::random_name();
            while others.iter().any(|c| c.name == n) {
                n = names::random_name();
            }
            n
        }
    };
    let endpoint = crate::network::allocate(&network, &addresses_on(&others, &network.name), opts.aliases.clone())?;
    let linked = links::resolve(&others, &opts.links)?;
    let mut env = env;
    let own_name = name.clone();
    for (l, t) in &linked {
        env.extend(links::env(&own_name, l, t, &network.name));
    }
    let c = Container {
        id,
        name,
        created: now(),
        path: argv[0].clone(),
        args: argv[1..].to_vec(),
        image: image.id.clone(),
        layers: image.chain_ids(),
        config: Config {
            hostname,
            env,
            cmd,
            entrypoint,
            working_dir,
            image: image_name.to_string(),
            tty: opts.tty,
            open_stdin: opts.interactive,
            user: opts.user.clone().or(cfg.user.clone()).unwrap_or_default(),
            stdin_once: opts.interactive && opts.stdin_once,
            labels: {
                let mut l = cfg.labels.clone().unwrap_or_default();
                l.extend(opts.labels.clone());
                l
            },
            healthcheck: opts.health.merge(cfg.healthcheck.as_ref()),
        },
        state: State::default(),
        auto_remove: opts.auto_remove,
        mounts,
        restart_policy: opts.restart_policy.clone(),
        restart_count: 0,
        memory: opts.memory,
        networks: BTreeMap::from([(network.name.clone(), endpoint)]),
        exposed_ports,
        port_bindings,
        publish_all,
        ports: PortMap::new(),
        links: linked.iter().map(|(l, _)| l.clone()).collect(),
        backend,
        read_only: opts.read_only,
        cpus: opts.cpus,
        pids_limit: opts.pids_limit,
        log_config,
        init: opts.init,
    };
    let mut c = c;
    if opts.start_now {
        c.state.set_running(std::process::id(), now());
    }
    // Build the container's directory aside and rename it in: it appears whole or not at all.
    let tmp = tempfile::Builder::new().prefix("ctr-").tempdir_in(store.scratch_dir()).at(store.scratch_dir())?;
    fs::create_dir(tmp.path().join("upper")).at(tmp.path())?;
    fs::create_dir(tmp.path().join("procs")).at(tmp.path())?;
    atomic_write(&tmp.path().join("hostname"), format!("{}\n", c.config.hostname).as_bytes())?;
    atomic_write(&tmp.path().join("hosts"), c.hosts_file(&links::hosts_lines(&linked, &network.name)).as_bytes())?;
    atomic_write(&tmp.path().join("resolv.conf"), resolv_conf(&network.name).as_bytes())?;
    atomic_write(&tmp.path().join("container.json"), &serde_json::to_vec_pretty(&c).unwrap())?;
    let tmp_path = tmp.keep();
    crate::store::crash::point("container-create");
    fs::rename(&tmp_path, c.dir(store)).at(c.dir(store))?;
    // A volume that is still empty gets the image's files at its mount point, as Docker's.
    let image_view = || crate::unionfs::UnionFs::new(c.lower_dirs(store), c.upper(store));
    for m in c.mounts.iter().filter(|m| m.kind == "volume") {
        if let Err(e) = image_view().at(c.upper(store)).and_then(|v| crate::volume::populate(store, m, &v)) {
            let _ = remove(store, &c, true);
            return Err(e);
        }
    }
    crate::events::container(store, &c, "create", &[]);
    Ok(c)
}

/// The `resolv.conf` Docker would give a container on `network` (what `inspect` names as
/// `ResolvConfPath`): the embedded DNS server on user-defined networks, the host's
/// resolvers (without loopback ones) on the default bridge. skiff resolves names by its own
/// rules (`network/`), so the file is for looking at.
fn resolv_conf(network: &str) -> String {
    if !["bridge", "host", "none"].contains(&network) {
        return "nameserver 127.0.0.11\noptions ndots:0\n".into();
    }
    let host = fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let kept: Vec<&str> = host
        .lines()
        .filter(|l| !(l.starts_with("nameserver") && (l.contains(" 127.") || l.contains(" ::1"))))
        .collect();
    if kept.iter().any(|l| l.starts_with("nameserver")) {
        kept.join("\n") + "\n"
    } else {
        // Docker's fallback when the host has only local resolvers.
        "nameserver 8.8.8.8\nnameserver 8.8.4.4\n".into()
    }
}

/// Image env, then `-e` values (`KEY=V` sets, bare `KEY` takes the caller's value), then the
/// variables Docker always sets.
fn merge_env(image_env: Vec<String>, user: &[String], hostname: &str, tty: bool) -> Vec<String> {
    // Later values replace earlier ones in place; keys are found through an index, so an
    // image with thousands of ENV entries (a long build) costs linear time, not quadratic.
    let mut env: Vec<Option<String>> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut set = |kv: String| {
        let key = kv.split('=').next().unwrap_or("").to_string();
        if let Some(i) = at.remove(&key) {
            env[i] = None; // as before: a replaced variable moves to the end
        }
        at.insert(key, env.len());
        env.push(Some(kv));
    };
    if !image_env.iter().any(|e| e.starts_with("PATH=")) {
        set(format!("PATH={}", runtime::DEFAULT_PATH));
    }
    for e in image_env {
        set(e);
    }
    for e in user {
        if e.contains('=') {
            set(e.clone());
        } else if let Ok(v) = std::env::var(e) {
            set(format!("{e}={v}"));
        }
    }
    let env: Vec<String> = env.into_iter().flatten().collect();
    let mut out = vec![format!("HOSTNAME={hostname}")];
    out.extend(env);
    if tty && !out.iter().any(|e| e.starts_with("TERM=")) {
        out.push("TERM=xterm".into());
    }
    if !out.iter().any(|e| e.starts_with("HOME=")) {
        out.push("HOME=/root".into());
    }
    out
}

fn random_id() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// One container's record by its full ID, read directly (no listing).
pub fn load(store: &Store, id: &str) -> Result<Container> {
    let p = store.root().join("containers").join(id).join("container.json");
    let data = fs::read(&p).map_err(|_| Error::NoSuchContainer(id.to_string()))?;
    let mut c = parse_record(&p, &data)?;
    c.state.reconcile(process_alive);
    Ok(c)
}

/// A record's bytes as read from `p` (named in the error), its state as its owner left it.
pub fn parse_record(p: &std::path::Path, data: &[u8]) -> Result<Container> {
    serde_json::from_slice(data).map_err(|err| Error::Other(format!("{}: {err}", p.display())))
}

/// Every container, newest first, with stale "running" states corrected.
pub fn list(store: &Store) -> Result<Vec<Container>> {
    let dir = store.root().join("containers");
    let mut out = Vec::new();
    for e in fs::read_dir(&dir).at(&dir)? {
        let e = e.at(&dir)?;
        let p = e.path().join("container.json");
        let Ok(data) = fs::read(&p) else { continue };
        let mut c = parse_record(&p, &data)?;
        c.state.reconcile(process_alive);
        out.push(c);
    }
    out.sort_by(|a, b| b.created.cmp(&a.created));
    Ok(out)
}

/// Find a container by name, full ID or unique ID prefix.
pub fn find(store: &Store, key: &str) -> Result<Container> {
    let all = list(store)?;
    let key_name = key.trim_start_matches('/');
    if let Some(c) = all.iter().find(|c| c.id == key || c.name == key_name) {
        return Ok(c.clone());
    }
    let matches: Vec<&Container> = all.iter().filter(|c| !key.is_empty() && c.id.starts_with(key)).collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::NoSuchContainer(key.to_string())),
        _ => Err(Error::Other(format!("multiple IDs found with provided prefix: {key}"))),
    }
}

/// The addresses containers already hold on network `name`.
pub fn taken_addresses(store: &Store, name: &str) -> Result<Vec<std::net::Ipv4Addr>> {
    Ok(addresses_on(&list(store)?, name))
}

fn addresses_on(containers: &[Container], network: &str) -> Vec<std::net::Ipv4Addr> {
    containers.iter().filter_map(|c| c.networks.get(network)).filter_map(|e| e.ip_address.parse().ok()).collect()
}

impl Container {
    /// `/etc/hosts` as Docker writes it: loopback names, the links (address, names), then
    /// the container's own address.
    pub fn hosts_file(&self, links: &[(String, String)]) -> String {
        let mut s = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
        for (ip, names) in links.iter().filter(|(ip, _)| !ip.is_empty()) {
            s.push_str(&format!("{ip}\t{names}\n"));
        }
        if let Some((_, e)) =
            crate::network::in_join_order(&self.networks).into_iter().find(|(_, e)| !e.ip_address.is_empty())
        {
            s.push_str(&format!("{}\t{}\n", e.ip_address, self.config.hostname));
        }
        s
    }
}

/// Remove the anonymous volumes a container had (`rm -v`, `run --rm`); named ones stay.
pub fn remove_anonymous_volumes(store: &Store, c: &Container) -> Result<()> {
    for m in c.mounts.iter().filter(|m| m.kind == "volume") {
        if crate::volume::get(store, &m.name).is_ok_and(|v| v.anonymous) {
            crate::volume::remove(store, &m.name)?;
        }
    }
    Ok(())
}

/// Give a container a new name (`rename`), unique as at creation.
pub fn rename(store: &Store, key: &str, new_name: &str) -> Result<()> {
    let _lock = store.lock()?;
    let mut c = find(store, key)?;
    if !names::valid_name(new_name) {
        return Err(Error::InvalidName(new_name.to_string()));
    }
    let n = new_name.trim_start_matches('/').to_string();
    if let Some(other) = list(store)?.into_iter().find(|o| o.name == n) {
        return Err(Error::NameInUse { name: n, id: other.id });
    }
    let old = std::mem::replace(&mut c.name, n);
    c.save(store)?;
    crate::events::container(store, &c, "rename", &[("oldName", &format!("/{old}"))]);
    Ok(())
}

/// Remove a container's record and writable layer. Refused while running unless `force`.
pub fn remove(store: &Store, c: &Container, force: bool) -> Result<()> {
    if !c.state.can_remove() && !force {
        return Err(Error::RemoveRunning(c.id.clone()));
    }
    signal::cleanup(store, c);
    let _lock = store.lock()?;
    let dir = c.dir(store);
    let trash = store.scratch_dir().join(format!("rm-{}", c.id));
    fs::rename(&dir, &trash).at(&dir)?;
    crate::store::crash::point("container-trash");
    // The container is gone once renamed. What cannot be deleted yet stays in this process's
    // scratch space, removed when the process ends (or by the next writer): Windows keeps a
    // directory whose files are still open (an attached `run --rm` removes its container
    // with its own log open). A directory without its owner's write bit (a guest's `chmod`)
    // refuses removal unless skiff runs as root: then the tree is made writable (one more
    // walk over it, so only then) and removed again.
    let removed = fs::remove_dir_all(&trash).or_else(|e| {
        if e.kind() != std::io::ErrorKind::PermissionDenied {
            return Err(e);
        }
        crate::store::make_writable(&trash);
        fs::remove_dir_all(&trash)
    });
    if let Err(e) = removed {
        if cfg!(unix) {
            return Err(crate::error::Error::io(&trash, e));
        }
    }
    crate::events::container(store, c, "destroy", &[]);
    Ok(())
}

/// Whether the host process `pid` exists (a container's owner).
pub fn process_alive(pid: u32) -> bool {
    crate::hostproc::alive(pid)
}
