//! Running a container's processes: what to run ([`ProcessSpec`]) over which root
//! ([`RootSpec`]), behind one [`Executor`] trait. `wasi` runs everywhere; a native `linux`
//! backend (OCI runtime) is to come behind the same trait.

pub mod wasi;

use crate::error::Result;
use crate::spec::Digest;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The filesystem of a container: read-only layers (top first) under a writable `upper/`,
/// with volumes and bind mounts over it; and the memory each of its processes may use.
#[derive(Debug, Clone)]
pub struct RootSpec {
    pub lowers: Vec<Lower>,
    pub upper: PathBuf,
    pub mounts: Vec<crate::unionfs::Mount>,
    /// Linear-memory limit per guest process in bytes (`--memory`; 0: none).
    pub memory: u64,
    /// Where to publish the running processes (`top` reads it); none for a build step.
    pub proc_table: Option<PathBuf>,
    /// The network the processes are on; none: loopback only, nothing reachable.
    pub net: Option<std::sync::Arc<dyn NetworkView>>,
}

/// The network as a container's processes see it (`network::ContainerNet` implements it):
/// sockets are real host sockets, addresses and names the container's virtual ones. Errors
/// are `io::Error`s whose kind the backend turns into the guest's errno.
pub trait NetworkView: Send + Sync + std::fmt::Debug {
    /// A listener for the container's `port` (on all its addresses).
    fn listen(&self, port: u16) -> std::io::Result<std::net::TcpListener>;
    /// A connection to `ip:port` as the container's network routes it.
    fn connect(&self, ip: std::net::Ipv4Addr, port: u16) -> std::io::Result<std::net::TcpStream>;
    /// The virtual address of the peer of an accepted connection whose real peer is `real`.
    fn peer(&self, real: std::net::SocketAddr) -> std::net::SocketAddrV4;
    /// The addresses `name` resolves to in the container (empty: not found).
    fn resolve(&self, name: &str) -> Vec<std::net::Ipv4Addr>;
    /// The container's interfaces, `lo` first.
    fn interfaces(&self) -> Vec<Interface>;
    /// Whether `ip` answers the container (what `ping` checks).
    fn reachable(&self, ip: std::net::Ipv4Addr) -> std::io::Result<()>;
}

/// One network interface of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub ip: std::net::Ipv4Addr,
    pub prefix: u8,
    pub mac: String,
}

/// One read-only layer of a root.
#[derive(Debug, Clone)]
pub struct Lower {
    pub chain_id: Digest,
    pub dir: PathBuf,
    /// Layer-relative path → sha256 of each wasm module in it (from the layer's meta).
    pub wasm: BTreeMap<String, Digest>,
}

/// The first process of a container.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    pub argv: Vec<String>,
    /// `KEY=VALUE`, the whole environment.
    pub env: Vec<String>,
    /// Absolute working directory (created if missing, as Docker does).
    pub cwd: String,
    /// Attach the caller's stdin (`-i`); otherwise stdin is empty.
    pub stdin: bool,
}

/// A backend that runs a process in a container root and returns its exit status.
pub trait Executor {
    /// The backend's name as `info` prints it.
    fn name(&self) -> &'static str;
    /// Run `process` in `root` attached to this process's stdio; returns the exit status.
    /// Failing to start the program (not found, not executable) is an `Err`.
    fn run(&self, root: &RootSpec, process: &ProcessSpec) -> Result<i32>;
}
