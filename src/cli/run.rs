//! `skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]`: create a container and run it, in the
//! foreground (this process supervises it) or detached (`-d`: a supervisor process does).

use crate::container::supervisor::{self, Attach};
use crate::container::{self, CreateOptions};
use crate::error::Error;
use clap::Args;
use std::io::IsTerminal;

/// The flags `run` and `create` share: how the container is made.
#[derive(Debug, Args)]
pub struct ContainerFlags {
    /// Automatically remove the container when it exits
    #[arg(long)]
    rm: bool,
    /// Assign a name to the container
    #[arg(long)]
    name: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_name = "list")]
    env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file", value_name = "list")]
    env_file: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir", value_name = "string")]
    workdir: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long, value_name = "string")]
    entrypoint: Option<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    tty: bool,
    /// Bind mount a volume
    #[arg(short = 'v', long = "volume", value_name = "list")]
    volume: Vec<String>,
    /// Attach a filesystem mount to the container
    #[arg(long = "mount", value_name = "mount")]
    mount: Vec<String>,
    /// Restart policy to apply when a container exits (no, always, unless-stopped, on-failure[:N])
    #[arg(long, default_value = "no", value_name = "string")]
    restart: String,
    /// Memory limit (e.g. 64m, 1g)
    #[arg(short = 'm', long, value_name = "bytes")]
    memory: Option<String>,
    /// Connect a container to a network
    #[arg(long, alias = "net", value_name = "network")]
    network: Option<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", alias = "net-alias", value_name = "list")]
    network_alias: Vec<String>,
    /// Container host name
    #[arg(short = 'h', long, value_name = "string")]
    hostname: Option<String>,
    /// Publish a container's port(s) to the host ([ip:][hostPort:]containerPort[/tcp])
    #[arg(short = 'p', long = "publish", value_name = "list")]
    publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    publish_all: bool,
    /// Expose a port or a range of ports
    #[arg(long, value_name = "list")]
    expose: Vec<String>,
    /// Add link to another container (name[:alias])
    #[arg(long, value_name = "list")]
    link: Vec<String>,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label", value_name = "list")]
    label: Vec<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long, value_name = "string")]
    user: Option<String>,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    init: bool,
    /// Mount the container's root filesystem as read only
    #[arg(long)]
    read_only: bool,
    /// Number of CPUs
    #[arg(long, value_name = "decimal")]
    cpus: Option<f64>,
    /// Tune container pids limit (set -1 for unlimited)
    #[arg(long, value_name = "int", allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    /// Command to run to check health
    #[arg(long = "health-cmd", value_name = "string")]
    health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 0s)
    #[arg(long = "health-interval", value_name = "duration")]
    health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 0s)
    #[arg(long = "health-timeout", value_name = "duration")]
    health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy
    #[arg(long = "health-retries", value_name = "int")]
    health_retries: Option<u32>,
    /// Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)
    #[arg(long = "health-start-period", value_name = "duration")]
    health_start_period: Option<String>,
    /// Disable any container-specified HEALTHCHECK
    #[arg(long = "no-healthcheck")]
    no_healthcheck: bool,
    /// Runtime to use for this container: wasi or linux (default: by the image's platform)
    #[arg(long, value_name = "string")]
    runtime: Option<String>,
    /// Set platform if server is multi-platform capable (wasip1/wasm, linux/amd64)
    #[arg(long, value_name = "string")]
    platform: Option<String>,
    /// Log driver options (json-file: max-size, max-file)
    #[arg(long = "log-opt", value_name = "list")]
    log_opt: Vec<String>,
    /// The image to run
    image: String,
    /// The command and its arguments (default: the image's)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short, long)]
    detach: bool,
    #[command(flatten)]
    flags: ContainerFlags,
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    flags: ContainerFlags,
}

/// `create`: make the container (pulling its image if needed) and print its ID.
pub fn create(a: CreateArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let c = make(&store, a.flags, false)?;
    println!("{}", c.id);
    Ok(0)
}

pub fn exec(a: RunArgs) -> anyhow::Result<i32> {
    let f = &a.flags;
    if f.tty && f.interactive && !a.detach && !std::io::stdin().is_terminal() {
        eprintln!("the input device is not a TTY");
        return Ok(1);
    }
    if !a.detach {
        supervisor::block_signals();
    }
    let store = super::open_store()?;
    let c = make(&store, a.flags, !a.detach)?;
    // A host port in use fails the run before the container starts, and it is not kept
    // (a race with another process binding it just after fails the start the same way).
    if let Err(e) = supervisor::publish(&store, &c) {
        container::remove(&store, &c, true)?;
        container::remove_anonymous_volumes(&store, &c)?;
        return Err(e.into());
    }
    if a.detach {
        return Ok(match supervisor::spawn(&store, &c) {
            Ok(()) => {
                println!("{}", c.id);
                0
            }
            Err((msg, code)) => {
                eprintln!("Error: {msg}");
                code
            }
        });
    }
    let attach = Attach::Attached { stdin: c.config.open_stdin };
    crate::events::container(&store, &c, "attach", &[]);
    match supervisor::supervise(&store, c, attach, &mut |_| {}) {
        Ok(code) => Ok(code),
        Err(Error::ExecFormat(p)) => {
            eprintln!("exec {p}: exec format error");
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}

/// Check the flags, get the image (pulling a built-in one on first use) and create the
/// container; `foreground`: a `run` without `-d` (stdin is attached once).
fn make(store: &crate::store::Store, a: ContainerFlags, foreground: bool) -> anyhow::Result<container::Container> {
    crate::reference::Reference::parse(&a.image)?;
    for p in &a.publish {
        crate::network::ports::parse_publish(p)?; // bad input fails before any pull
    }
    let health = container::HealthOptions {
        cmd: a.health_cmd.clone(),
        interval: a.health_interval.as_deref().map(|d| health_duration("health-interval", d)).transpose()?,
        timeout: a.health_timeout.as_deref().map(|d| health_duration("health-timeout", d)).transpose()?,
        start_period: a
            .health_start_period
            .as_deref()
            .map(|d| health_duration("health-start-period", d))
            .transpose()?,
        retries: a.health_retries,
        disable: a.no_healthcheck,
    };
    if a.no_healthcheck && (health.cmd.is_some() || health.interval.is_some() || health.retries.is_some()) {
        anyhow::bail!("--no-healthcheck conflicts with --health-* options");
    }
    let mut labels = std::collections::BTreeMap::new();
    for l in &a.label {
        let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
        labels.insert(k.to_string(), v.to_string());
    }
    let image = super::pull::get_or_pull(store, &a.image)?;
    let restart_policy = crate::container::RestartPolicy::parse(&a.restart)?;
    if a.rm && restart_policy.name != "no" {
        anyhow::bail!("Conflicting options: --restart and --rm");
    }
    let memory = a.memory.as_deref().map(parse_bytes).transpose()?.unwrap_or(0);
    let runtime = match (&a.runtime, &a.platform) {
        (Some(r), _) => Some(crate::runtime::Kind::parse(r)?),
        (None, Some(p)) => {
            let (os, arch) = p.split_once('/').unwrap_or((p.as_str(), ""));
            Some(crate::runtime::Kind::for_platform(os, arch.split('/').next().unwrap_or(""))?)
        }
        (None, None) => None,
    };
    if let Some(c) = a.cpus {
        if c < 0.0 || !c.is_finite() {
            anyhow::bail!(
                "invalid argument {c:?} for \"--cpus\" flag: range of CPUs is from 0.01 to the number of CPUs"
            );
        }
    }
    let mut env = Vec::new();
    for f in &a.env_file {
        env.extend(read_env_file(f)?);
    }
    env.extend(a.env);
    let mut publish = crate::network::ports::PortMap::new();
    for p in &a.publish {
        let (key, binding) = crate::network::ports::parse_publish(p)?;
        publish.entry(key).or_default().push(binding);
    }
    let mut mounts = Vec::new();
    for v in &a.volume {
        mounts.push(crate::volume::parse_volume_flag(store, v)?);
    }
    for m in &a.mount {
        mounts.push(crate::volume::parse_mount_flag(store, m)?);
    }
    let opts = CreateOptions {
        name: a.name,
        env,
        workdir: a.workdir,
        entrypoint: a.entrypoint,
        cmd: a.command,
        hostname: a.hostname,
        tty: a.tty,
        interactive: a.interactive,
        stdin_once: foreground,
        auto_remove: a.rm,
        start_now: false,
        argv: None,
        mounts,
        skip_image_volumes: false,
        restart_policy,
        memory,
        network: a.network,
        aliases: a.network_alias,
        publish,
        publish_all: a.publish_all,
        expose: a.expose,
        links: a.link,
        runtime,
        user: a.user,
        read_only: a.read_only,
        cpus: a.cpus.unwrap_or(0.0),
        pids_limit: a.pids_limit.unwrap_or(0),
        log_opts: a.log_opt,
        labels,
        init: a.init,
        health,
    };
    Ok(container::create(store, &image, &a.image, &opts)?)
}

/// A `--health-*` duration: Go's syntax, 0 or at least 1ms, as nanoseconds.
fn health_duration(flag: &str, d: &str) -> anyhow::Result<i64> {
    let n = crate::build::dockerfile::go_duration_nanos(d)
        .map_err(|e| anyhow::anyhow!("invalid argument {d:?} for \"--{flag}\" flag: {e}"))?;
    if n < 0 {
        anyhow::bail!("{flag} cannot be negative");
    }
    if n != 0 && n < 1_000_000 {
        anyhow::bail!("{flag} cannot be less than 1ms");
    }
    Ok(n)
}

/// `--env-file`: `KEY=VALUE` lines (a bare `KEY` takes this process's value); `#` comments
/// and blank lines are skipped, as Docker's.
pub fn read_env_file(path: &str) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("open {path}: {e}"))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, _) = line.split_once('=').unwrap_or((line, ""));
        if key.is_empty() || key.contains(char::is_whitespace) {
            anyhow::bail!("variable '{key}' contains whitespaces");
        }
        out.push(line.to_string());
    }
    Ok(out)
}

/// `64m`, `1g`, `512k`, `1048576`: Docker's `RAMInBytes` (binary units).
fn parse_bytes(s: &str) -> anyhow::Result<u64> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("invalid argument {s:?} for \"-m, --memory\" flag: invalid size: '{s}'"))?;
    if !(n * mult as f64).is_finite() || n * mult as f64 >= i64::MAX as f64 {
        anyhow::bail!(
            "invalid argument {s:?} for \"-m, --memory\" flag: strconv.ParseFloat: parsing {num:?}: value out of range"
        );
    }
    let bytes = (n * mult as f64) as u64;
    if bytes < 6 << 20 {
        anyhow::bail!("Minimum memory limit allowed is 6MB");
    }
    Ok(bytes)
}
