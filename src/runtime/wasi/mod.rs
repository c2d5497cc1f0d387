//! The WASI backend: containers as wasm32-wasip1 guests in wasmtime over the userspace union
//! view. The only place that knows wasmtime and wasi-common (`fs.rs` adapts the union view,
//! `plane.rs` carries the container's sockets, `process.rs` holds the guest processes).

mod control;
pub mod fs;
mod holders;
mod identity;
mod iostat;
mod modules;
mod net;
pub mod plane;
mod posix;
pub mod process;
pub mod program;
mod signals;
pub mod stdio;
mod sysinfo;
mod tty;

pub use modules::ModuleCache;

/// The wasmtime and wasi-common release the backend is built on.
pub const WASMTIME_VERSION: &str = "46.0.3";

use crate::error::{Error, IoContext, Result};
use crate::runtime::{
    Backend, ContainerSpec, Exit, Input, Kind, Output, Process, ProcessSpec, Published, Stdio, Task, Usage,
};
use crate::store::{LayerMeta, Store};
use crate::unionfs::UnionFs;
use process::{Proc, Shared};
use program::NotRunnable;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use stdio::Stream;
use wasmtime::{Config, Engine, Linker};

/// The WASI backend: one engine and module cache per skiff process.
pub struct WasiBackend {
    store: Store,
    engine: Engine,
    linker: Linker<Proc>,
    modules: Arc<ModuleCache>,
}

impl WasiBackend {
    pub fn new(store: &Store) -> Result<WasiBackend> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| Error::Other(format!("wasmtime: {e}")))?;
        let linker = process::linker(&engine).map_err(|e| Error::Other(format!("wasmtime linker: {e}")))?;
        // SKIFF_MODULE_CACHE shares compiled modules between state roots (the tests use it).
        let dir = std::env::var_os("SKIFF_MODULE_CACHE").filter(|d| !d.is_empty()).map(std::path::PathBuf::from);
        let dir = dir.unwrap_or_else(|| store.root().join("modules"));
        std::fs::create_dir_all(&dir).at(&dir)?;
        let modules = Arc::new(ModuleCache::new(engine.clone(), dir));
        Ok(WasiBackend { store: store.clone(), engine, linker, modules })
    }

    /// What every process of container `c` held by this host process shares. `published`
    /// goes to the network view (the supervisor's); `init`: this holder runs PID 1 (the PID
    /// count starts again); `tty`: the terminal of `-t`.
    fn shared(
        &self,
        c: &ContainerSpec,
        published: Published,
        init: bool,
        tty: Option<Arc<tty::Tty>>,
    ) -> Result<Arc<Shared>> {
        for l in &c.lowers {
            // A layer extracted before indexes existed gets its index once (best effort).
            let _ = crate::unionfs::index::ensure(&l.dir);
        }
        let lowers = c.lowers.iter().map(|l| l.dir.clone()).collect();
        let mounts = c
            .mounts
            .iter()
            .map(|m| crate::unionfs::Mount { target: m.target.clone(), source: m.source.clone(), readonly: m.readonly })
            .collect();
        let fs = UnionFs::new(lowers, c.upper.clone()).at(&c.upper)?.with_mounts(mounts).at(&c.upper)?;
        let procs = c.dir.join("procs");
        let has_procs = std::fs::create_dir_all(&procs).is_ok() && c.network.is_some();
        let net =
            c.network.as_ref().map(|n| plane::ContainerNet::new(&self.store, &c.id, n.directory.clone(), published));
        let pids_limit = match c.limits.pids {
            0 => DEFAULT_PIDS_LIMIT,
            n if n < 0 => usize::MAX,
            n => n as usize,
        };
        let shared = Arc::new(Shared {
            engine: self.engine.clone(),
            linker: self.linker.clone(),
            modules: self.modules.clone(),
            fs: Arc::new(fs),
            lowers: c.lowers.clone(),
            pids: control::Pids::new(has_procs.then_some(procs.as_path()), init),
            pids_limit,
            tty: tty.clone(),
            procs_dir: has_procs.then(|| procs.clone()),
            started: std::time::SystemTime::now(),
            procs: Default::default(),
            proc_table: has_procs.then(|| procs.join(format!("{}.json", std::process::id()))),
            memory_limit: c.limits.memory,
            oom: Arc::new(AtomicBool::new(false)),
            net,
            io: Default::default(),
        });
        if has_procs {
            iostat::publish(&procs, Arc::downgrade(&shared.io));
        }
        if has_procs {
            // The listener holds a weak reference: it ends with the container's processes.
            let weak: std::sync::Weak<Shared> = Arc::downgrade(&shared);
            let weak: std::sync::Weak<dyn control::Target> = weak;
            let _ = control::listen(&procs, weak);
        }
        if let Some(t) = &tty {
            let weak = Arc::downgrade(&shared);
            let _ = t.on_signal.set(Box::new(move |sig| {
                if let Some(sh) = weak.upgrade() {
                    for st in sh.states().into_iter().filter(|s| s.on_tty()) {
                        st.deliver(sig, &sh.engine);
                    }
                }
            }));
            let _ = t.interrupted.set(Box::new(|| {
                signals::current().and_then(|st| match st.interrupted() {
                    Some(signals::Wake::Killed(_)) => Some(tty::killed_error()),
                    Some(_) => Some(tty::interrupted_error()),
                    None => None,
                })
            }));
        }
        Ok(shared)
    }

    /// Compile every wasm module of a layer, so `run` never compiles. Returns how many
    /// modules were compiled now.
    fn precompile_layer(&self, store: &Store, meta: &LayerMeta) -> Result<usize> {
        let mut n = 0;
        for (rel, digest) in &meta.wasm {
            if self.modules.is_cached(digest) {
                continue;
            }
            let p = store.layer_diff_dir(&meta.chain_id).join(rel);
            let bytes = std::fs::read(&p).at(&p)?;
            self.modules.precompile(digest, &bytes)?;
            n += 1;
        }
        Ok(n)
    }
}

/// At most this many guest processes per holder without `--pids-limit` (each is a host
/// thread; a fork bomb of `sh -c` must end in `EAGAIN`, not in the host's thread limit).
const DEFAULT_PIDS_LIMIT: usize = 1024;

/// Run `p` in `shared`'s container on this thread: as its PID 1 (`init`), or as one more
/// process (`exec`); `started` is called once the program was found and is about to run.
fn run_first(shared: &Arc<Shared>, p: &ProcessSpec, io: &Stdio, init: bool, started: &mut dyn FnMut()) -> Result<Exit> {
    if shared.fs.metadata(&p.cwd, true).is_err() {
        shared.fs.create_dir_all(&p.cwd).map_err(|e| Error::Other(format!("workdir {}: {e}", p.cwd)))?;
    }
    let id = identity::Identity::resolve(&shared.fs, &p.user).map_err(Error::Other)?;
    let name = p.argv.first().cloned().unwrap_or_default();
    let prog = process::find_program(shared, &p.argv, &p.env, &p.cwd).map_err(|e| match e {
        NotRunnable::NotFound if !name.contains('/') => Error::ExecNotFound(name.clone()),
        NotRunnable::NotFound | NotRunnable::NoSuchFile => Error::ExecNoSuchFile(name.clone()),
        NotRunnable::Permission => Error::ExecPermission(name.clone()),
        NotRunnable::Format => Error::ExecFormat(name.clone()),
    })?;
    shared.oom.store(false, Ordering::SeqCst);
    let mut env = p.env.clone();
    if let Some(t) = &shared.tty {
        let (rows, cols) = t.size();
        for (k, v) in [("COLUMNS", cols.to_string()), ("LINES", rows.to_string())] {
            if !env.iter().any(|e| e.starts_with(&format!("{k}="))) {
                env.push(format!("{k}={v}"));
            }
        }
    }
    if id.uid != 0 {
        // HOME follows the user, as Docker sets it from passwd.
        env.retain(|e| !e.starts_with("HOME=/root"));
        if !env.iter().any(|e| e.starts_with("HOME=")) {
            env.push(format!("HOME={}", id.home));
        }
    }
    let pid = if init { 1 } else { shared.pids.next() };
    let start = process::Start { pid, ppid: 0, init, id };
    started();
    let streams = streams(io, shared.tty.as_ref());
    let code = process::run(shared, start, &prog, &env, &p.cwd, streams);
    Ok(Exit { code, oom_killed: shared.oom.load(Ordering::SeqCst) })
}

/// The guest's three streams for `io` (all three the terminal with `-t`).
fn streams(io: &Stdio, tty: Option<&Arc<tty::Tty>>) -> [Stream; 3] {
    if let Some(t) = tty {
        // Without -i the terminal is still stdin (as a pty is), it just gets no input.
        return [Stream::Tty(t.clone()), Stream::Tty(t.clone()), Stream::Tty(t.clone())];
    }
    let input = match &io.stdin {
        Input::Null => Stream::Null,
        Input::Inherit => Stream::HostStdin,
        Input::Reader(r) => Stream::reader(stdio::SharedRead(r.clone())),
    };
    let output = |o: &Output, host: Stream| match o {
        Output::Null => Stream::Null,
        Output::Inherit => host,
        Output::Writer(w) => Stream::writer(stdio::SharedWrite(w.clone())),
    };
    [input, output(&io.stdout, Stream::HostStdout), output(&io.stderr, Stream::HostStderr)]
}

/// The terminal for a `-t` process whose output goes to `io.stdout`: attached to this
/// process's own terminal when stdin is inherited (raw mode; restored when the guard drops).
fn terminal(p: &ProcessSpec, io: &Stdio) -> (Option<Arc<tty::Tty>>, Option<tty::HostTerminal>) {
    if !p.tty {
        return (None, None);
    }
    let out: Box<dyn std::io::Write + Send> = match &io.stdout {
        Output::Writer(w) => Box::new(stdio::SharedWrite(w.clone())),
        Output::Null => Box::new(std::io::sink()),
        Output::Inherit => Box::new(std::io::stdout()),
    };
    let t = tty::Tty::new(out, tty::host_size().unwrap_or((24, 80)));
    let host = matches!(io.stdin, Input::Inherit).then(|| tty::HostTerminal::attach(t.clone()));
    if host.is_none() {
        tty::follow(&t, io.size.clone());
    }
    if let Input::Reader(r) = &io.stdin {
        tty::feed(&t, r.clone());
    }
    (Some(t), host)
}

/// A WASI container prepared to run in this host process.
struct WasiTask {
    backend_store: Store,
    spec: ContainerSpec,
    published: std::sync::Mutex<Option<Published>>,
    /// The container's processes here while it runs (None between runs).
    shared: std::sync::Mutex<Option<Arc<Shared>>>,
}

impl WasiTask {
    fn running(&self) -> Option<Arc<Shared>> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Task for WasiTask {
    fn run(&self, p: &ProcessSpec, io: Stdio, started: &mut dyn FnMut()) -> Result<Exit> {
        let backend = WasiBackend::new(&self.backend_store)?;
        let (tty, _host) = terminal(p, &io);
        let published = self.published.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_default();
        let shared = backend.shared(&self.spec, published, true, tty)?;
        if let Some(n) = &shared.net {
            n.clear_listeners();
        }
        if let Some(d) = &shared.procs_dir {
            let _ = crate::store::atomic_write(
                &sysinfo::boot_file(d),
                chrono::Utc::now().timestamp_millis().to_string().as_bytes(),
            );
        }
        *self.shared.lock().unwrap_or_else(|e| e.into_inner()) = Some(shared.clone());
        let exit = run_first(&shared, p, &io, true, started);
        *self.shared.lock().unwrap_or_else(|e| e.into_inner()) = None;
        // PID 1 ended: every process of the container ends with it, `exec`'d ones too.
        for pid in holders::others(&self.spec.dir, std::process::id()) {
            crate::hostproc::signal(pid, crate::hostproc::sig::KILL);
        }
        if let Some(n) = &shared.net {
            n.clear_listeners();
        }
        exit
    }

    /// To PID 1, with init's rules: a signal it neither catches nor ignores is dropped
    /// (except KILL), as in a Linux PID namespace.
    fn signal(&self, sig: i32) -> bool {
        if let Some(sh) = self.running() {
            let _ = sh.kill(1, sig);
        }
        false
    }

    fn kill_all(&self) -> bool {
        if let Some(sh) = self.running() {
            sh.kill_all(128 + signals::SIGKILL);
        }
        for pid in holders::others(&self.spec.dir, std::process::id()) {
            crate::hostproc::signal(pid, crate::hostproc::sig::KILL);
        }
        true // a guest blocked in a host call that cannot be woken is not waited for
    }
}

impl control::Target for Shared {
    fn deliver(&self, pid: i32, sig: i32) -> bool {
        match self.state(pid) {
            Some(st) => st.deliver(sig, &self.engine),
            None => false,
        }
    }
}

impl Backend for WasiBackend {
    fn kind(&self) -> Kind {
        Kind::Wasi
    }

    fn describe(&self) -> Vec<(String, String)> {
        vec![
            ("wasmtime".into(), WASMTIME_VERSION.into()),
            ("wasi-common".into(), WASMTIME_VERSION.into()),
            ("Guest target".into(), "wasm32-wasip1".into()),
        ]
    }

    /// As root, the union view keeps guests' owners on the host files themselves, so they go
    /// into the layer as they are; otherwise every file is skiff's, and the layer says root.
    /// Without Unix owners (Windows), the writable layer keeps guests' owners in skiff's own
    /// metadata, which the layer tar reads as the host's.
    fn layer_owners(&self) -> crate::archive::create::Owners {
        #[cfg(unix)]
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            return crate::archive::create::Owners::AsOnHost;
        }
        #[cfg(not(unix))]
        return crate::archive::create::Owners::AsOnHost;
        #[cfg(unix)]
        crate::archive::create::Owners::Fixed(0, 0)
    }

    fn layer_added(&self, store: &Store, meta: &LayerMeta) -> Result<usize> {
        self.precompile_layer(store, meta)
    }

    fn create(&self, c: &ContainerSpec, published: Published) -> Result<Arc<dyn Task>> {
        Ok(Arc::new(WasiTask {
            backend_store: self.store.clone(),
            spec: c.clone(),
            published: std::sync::Mutex::new(Some(published)),
            shared: Default::default(),
        }))
    }

    fn exec(&self, c: &ContainerSpec, p: &ProcessSpec, io: Stdio) -> Result<Exit> {
        let (tty, _host) = terminal(p, &io);
        let shared = self.shared(c, Published::new(), false, tty)?;
        // The container's PID 1 is held by its supervisor: if that goes, so does this.
        let owner = c.owner;
        if owner != 0 && owner != std::process::id() {
            std::thread::spawn(move || loop {
                std::thread::sleep(std::time::Duration::from_millis(200));
                if !crate::hostproc::alive(owner) {
                    std::process::exit(137);
                }
            });
        }
        run_first(&shared, p, &io, false, &mut || {})
    }

    fn pause(&self, c: &ContainerSpec) -> Result<()> {
        let owner = c.owner;
        // The holders are frozen whole (guests and all): SIGSTOP takes no part of a guest.
        for (pid, _) in holders::list(&c.dir, owner) {
            crate::hostproc::signal(pid, crate::hostproc::sig::STOP);
        }
        crate::hostproc::signal(owner, crate::hostproc::sig::STOP);
        Ok(())
    }

    fn resume(&self, c: &ContainerSpec) -> Result<()> {
        let owner = c.owner;
        crate::hostproc::signal(owner, crate::hostproc::sig::CONT);
        for (pid, _) in holders::list(&c.dir, owner) {
            crate::hostproc::signal(pid, crate::hostproc::sig::CONT);
        }
        Ok(())
    }

    fn processes(&self, c: &ContainerSpec) -> Result<Vec<Process>> {
        let owner = c.owner;
        let mut out = Vec::new();
        for (host, entries) in holders::list(&c.dir, owner) {
            for e in entries {
                out.push(Process {
                    pid: e.pid,
                    ppid: e.ppid,
                    uid: 0,
                    host_pid: host,
                    started: e.started,
                    cpu_ms: 0,
                    argv: e.argv,
                });
            }
        }
        Ok(out)
    }

    fn stats(&self, c: &ContainerSpec) -> Result<Usage> {
        let owner = c.owner;
        let mut u = Usage { memory_limit: c.limits.memory, ..Default::default() };
        let holders = holders::list(&c.dir, owner);
        let pids: Vec<u32> = holders.iter().map(|(p, _)| *p).collect();
        [u.net_rx, u.net_tx, u.block_read, u.block_write] = iostat::totals(&c.dir.join("procs"), &pids);
        for (pid, entries) in holders {
            let (mem, cpu_ms) = crate::hostproc::usage(pid);
            u.memory += mem;
            u.cpu_ns += cpu_ms * 1_000_000;
            u.pids += entries.len() as u64;
        }
        Ok(u)
    }

    fn network_changed(&self, _c: &ContainerSpec) -> Result<()> {
        Ok(()) // the plane reads the record at every connect and listen
    }

    fn cleanup(&self, c: &ContainerSpec) -> Result<()> {
        plane::clear_listeners(&c.dir);
        let _ = std::fs::remove_dir_all(c.dir.join("procs"));
        let _ = std::fs::create_dir_all(c.dir.join("procs"));
        Ok(())
    }
}
