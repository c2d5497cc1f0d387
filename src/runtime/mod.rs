//! Running containers: one [`Backend`] trait with two implementations, chosen by the image's
//! platform in one place ([`Kind::for_platform`]), as containerd picks a shim.
//!
//! The life of a container as a backend sees it (containerd's task model):
//! * a layer enters the store → [`Backend::layer_added`] gets it ready (the WASI backend
//!   compiles its wasm modules; the native one extracts it for overlayfs on first use);
//! * the supervisor starts the container → [`Backend::create`] prepares its root and network
//!   and returns a [`Task`]; [`Task::run`] runs the main process (again after a restart);
//!   [`Task::signal`] delivers `stop`/`kill`/Ctrl-C; dropping the task tears the root down;
//! * from any skiff process: [`Backend::exec`] runs one more process in it,
//!   [`Backend::pause`]/[`Backend::resume`], [`Backend::processes`] (`top`),
//!   [`Backend::stats`], [`Backend::network_changed`] (`network connect`), and
//!   [`Backend::cleanup`] after `rm` or a crash.
//!
//! Nothing outside this module names a backend: callers hold a `Box<dyn Backend>` from
//! [`open`], and a container's record says which [`Kind`] it was created with.

mod io;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod users;
pub mod wasi;

pub use io::{follow_host_terminal, host_terminal_size, Buffer, Input, Output, SharedWriter, Stdio, WindowSize};

use crate::error::{Error, Result};
use crate::spec::Digest;
use crate::store::{LayerMeta, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The default `PATH` of a container whose image sets none (Docker's).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Which backend runs a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// WASI preview-1 guests in wasmtime over the userspace union view (every OS).
    #[default]
    Wasi,
    /// Native Linux containers through an OCI runtime (crun/runc) over kernel overlayfs.
    Linux,
}

/// The architecture Linux images must have to run natively here, in OCI/Go's words.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

impl Kind {
    /// The name `info`, `inspect` and `--runtime` use.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Wasi => "wasi",
            Kind::Linux => "linux",
        }
    }

    /// `--runtime wasi|linux`.
    pub fn parse(s: &str) -> Result<Kind> {
        match s {
            "wasi" | "wasm" | "wasmtime" => Ok(Kind::Wasi),
            "linux" | "native" | "oci" | "crun" | "runc" => Ok(Kind::Linux),
            _ => Err(Error::Other(format!("unknown runtime specified {s}: use wasi or linux"))),
        }
    }

    /// The OCI platform (`os`, `architecture`) of images this backend makes (`build`,
    /// `commit`, `import`): `wasip1/wasm` (OCI/Go names, as Docker+Wasm and runwasi use) or
    /// `linux/<host arch>`.
    pub fn platform(self) -> (&'static str, &'static str) {
        match self {
            Kind::Wasi => ("wasip1", "wasm"),
            Kind::Linux => ("linux", host_arch()),
        }
    }

    /// The backend that runs images of platform `os/arch`: `wasip1/wasm` everywhere (and the
    /// `wasm32` skiff wrote before), `linux/<host arch>` natively on Linux. Anything else is
    /// a one-line error that says why.
    pub fn for_platform(os: &str, arch: &str) -> Result<Kind> {
        match (os, arch) {
            ("wasip1" | "wasi", "wasm" | "wasm32") => Ok(Kind::Wasi),
            ("linux", a) if a == host_arch() && cfg!(target_os = "linux") => Ok(Kind::Linux),
            ("linux", a) if a == host_arch() => Err(Error::Other(format!(
                "image platform linux/{a} runs only on a Linux host (native containers); this is {}: use a WASI image (platform wasip1/wasm)",
                std::env::consts::OS
            ))),
            _ => Err(Error::Other(format!(
                "image platform {os}/{arch} does not match this host: skiff runs wasip1/wasm images{}",
                if cfg!(target_os = "linux") { format!(" and linux/{} images", host_arch()) } else { String::new() }
            ))),
        }
    }
}

/// The backend of `kind` for commands on `store`.
pub fn open(store: &Store, kind: Kind) -> Result<Box<dyn Backend>> {
    match kind {
        Kind::Wasi => Ok(Box::new(wasi::WasiBackend::new(store)?)),
        #[cfg(target_os = "linux")]
        Kind::Linux => Ok(Box::new(linux::LinuxBackend::new(store)?)),
        #[cfg(not(target_os = "linux"))]
        Kind::Linux => {
            Err(Error::Other(format!("native Linux containers need a Linux host; this is {}", std::env::consts::OS)))
        }
    }
}

/// Tell every backend that can run here that a layer entered the store (`load`, `pull`,
/// `build`, `commit`, `import`, built-in images). Returns how much work was done now (the
/// WASI backend: modules compiled).
pub fn layer_added(store: &Store, meta: &LayerMeta) -> Result<usize> {
    let mut n = 0;
    if !meta.wasm.is_empty() {
        n += open(store, Kind::Wasi)?.layer_added(store, meta)?;
    }
    Ok(n)
}

/// One read-only layer of a root.
#[derive(Debug, Clone)]
pub struct Lower {
    pub chain_id: Digest,
    /// The layer as the store extracted it (OCI whiteouts as `.wh.` files).
    pub dir: PathBuf,
    /// Layer-relative path → sha256 of each wasm module in it (from the layer's meta).
    pub wasm: BTreeMap<String, Digest>,
}

/// A volume or bind mount over the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Absolute container path.
    pub target: String,
    pub source: PathBuf,
    pub readonly: bool,
}

/// Limits on the container's resources (0: none).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// `--memory` in bytes (WASI: per guest process's linear memory).
    pub memory: u64,
    /// `--cpus` (fractions of a CPU).
    pub cpus: f64,
    /// `--pids-limit`.
    pub pids: i64,
}

/// Everything a backend needs to know about one container: made from its record by
/// `container::Container::spec`, so backends never read records themselves.
#[derive(Clone)]
pub struct ContainerSpec {
    pub id: String,
    pub name: String,
    /// `containers/<id>/`: the backend may keep its own files there (bundle, process table).
    pub dir: PathBuf,
    /// The image's layers, top first.
    pub lowers: Vec<Lower>,
    /// The writable layer.
    pub upper: PathBuf,
    /// Volumes, bind mounts, and the container's own `/etc/hostname`, `/etc/hosts`.
    pub mounts: Vec<Mount>,
    pub limits: Limits,
    pub hostname: String,
    /// `--read-only`.
    pub readonly_rootfs: bool,
    /// `--rm`: the writable layer is thrown away when the container ends.
    pub auto_remove: bool,
    /// The host process that owns the running container (its supervisor, or the attached
    /// `run`); 0 when it is not running.
    pub owner: u32,
    /// The container's networks, and what the backend may ask about the others (names,
    /// addresses, who is running); none: loopback only (a program run at image import).
    pub network: Option<NetworkSpec>,
}

impl std::fmt::Debug for ContainerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerSpec").field("id", &self.id).field("upper", &self.upper).finish()
    }
}

/// A container's view of the one network model (`src/network/`).
#[derive(Clone)]
pub struct NetworkSpec {
    /// The container records, as the network rules need them.
    pub directory: Arc<dyn crate::network::Directory>,
}

impl ContainerSpec {
    /// A bare root of `upper` over `lowers`, with no mounts and no network: what skiff runs
    /// for itself (a built-in image's `box --list`).
    pub fn bare(id: &str, dir: PathBuf, lowers: Vec<Lower>, upper: PathBuf) -> ContainerSpec {
        ContainerSpec {
            id: id.to_string(),
            name: id.to_string(),
            dir,
            lowers,
            upper,
            mounts: vec![],
            limits: Limits::default(),
            hostname: id.to_string(),
            readonly_rootfs: false,
            auto_remove: false,
            owner: 0,
            network: None,
        }
    }
}

/// One process to run in a container.
#[derive(Debug, Clone, Default)]
pub struct ProcessSpec {
    pub argv: Vec<String>,
    /// `KEY=VALUE`, the whole environment.
    pub env: Vec<String>,
    /// Absolute working directory (created if missing, as Docker does).
    pub cwd: String,
    /// `--user` / `USER` as given (`name`, `uid`, `uid:gid`, `name:group`); empty: root.
    pub user: String,
    /// `-t`: the process's stdio is a terminal.
    pub tty: bool,
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Exit {
    /// The exit status (128+N for a signal, 137 when killed).
    pub code: i32,
    /// It was killed for using more memory than `--memory`.
    pub oom_killed: bool,
}

/// One process of a running container, as `top` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Its PID inside the container (the first process is 1).
    pub pid: i32,
    pub ppid: i32,
    pub uid: u32,
    /// The host process that runs it (WASI: the skiff process holding the guest; native:
    /// the process itself).
    pub host_pid: u32,
    /// RFC 3339.
    pub started: String,
    /// CPU time, milliseconds.
    pub cpu_ms: u64,
    pub argv: Vec<String>,
}

/// What a running container uses, as `stats` shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub cpu_ns: u64,
    pub memory: u64,
    pub memory_limit: u64,
    pub pids: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
}

/// A container prepared to run: its root and network are set up. Dropping it tears them down.
pub trait Task: Send + Sync {
    /// Run the main process until it ends; `started` is called once it is running (the
    /// program was found). Failing to start (not found, not executable) is an `Err`.
    fn run(&self, process: &ProcessSpec, io: Stdio, started: &mut dyn FnMut()) -> Result<Exit>;
    /// Deliver signal `sig` (Linux numbers) to the main process, as `kill(2)` to the
    /// container's PID 1 would. Returns whether the container ends because of it now
    /// (whatever the process does), so the caller may finish it if the process lingers.
    fn signal(&self, sig: i32) -> bool;
    /// End every process of the container now (SIGKILL to all). Returns what
    /// [`Task::signal`] does.
    fn kill_all(&self) -> bool;
}

/// A way to run containers. See the module documentation for the life of a container.
pub trait Backend {
    fn kind(&self) -> Kind;
    /// What `info` says about the backend (`name: value` lines).
    fn describe(&self) -> Vec<(String, String)>;
    /// Whose files a container's writable layer holds, for `commit` and build steps: the
    /// native backend's carry the owners its processes gave them; the WASI backend's are
    /// skiff's own files (owned by root in the layer).
    fn layer_owners(&self) -> crate::archive::create::Owners;
    /// A layer entered the store: get it ready to run. Returns how much work was done now.
    fn layer_added(&self, store: &Store, meta: &LayerMeta) -> Result<usize>;
    /// Prepare `c` to run its processes here (the supervisor, or an attached `run`).
    /// `published`: host sockets already bound for its `-p` ports, by container port.
    fn create(&self, c: &ContainerSpec, published: Published) -> Result<Arc<dyn Task>>;
    /// Run one more process in the running container `c`, attached to `io`.
    fn exec(&self, c: &ContainerSpec, process: &ProcessSpec, io: Stdio) -> Result<Exit>;
    /// Freeze / thaw every process of the running container `c`.
    fn pause(&self, c: &ContainerSpec) -> Result<()>;
    fn resume(&self, c: &ContainerSpec) -> Result<()>;
    /// The processes of the running container `c`.
    fn processes(&self, c: &ContainerSpec) -> Result<Vec<Process>>;
    /// What the running container `c` uses now.
    fn stats(&self, c: &ContainerSpec) -> Result<Usage>;
    /// `c`'s networks changed while it runs (`network connect`/`disconnect`, `rename`).
    fn network_changed(&self, c: &ContainerSpec) -> Result<()>;
    /// Remove what the backend keeps for `c` outside its record (mounts, bundles, cgroups,
    /// network namespaces): after `rm`, and for a container whose supervisor was killed.
    fn cleanup(&self, c: &ContainerSpec) -> Result<()>;
}

/// Host listeners bound for a container's published ports, by container port.
pub type Published = BTreeMap<u16, Vec<std::net::TcpListener>>;
