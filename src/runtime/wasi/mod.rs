//! The WASI backend: containers as wasm32-wasip1 guests in wasmtime over the userspace union
//! view. The only place that knows wasmtime and wasi-common (`fs.rs` adapts the union view,
//! `plane.rs` carries the container's sockets, `process.rs` holds the guest processes).

pub mod fs;
mod holders;
mod modules;
mod net;
pub mod plane;
pub mod process;
pub mod program;
pub mod stdio;

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
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
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
    /// goes to the network view (the supervisor's); `proc_table` names this holder's file.
    fn shared(&self, c: &ContainerSpec, published: Published, with_net: bool) -> Result<Arc<Shared>> {
        let lowers = c.lowers.iter().map(|l| l.dir.clone()).collect();
        let mounts = c
            .mounts
            .iter()
            .map(|m| crate::unionfs::Mount { target: m.target.clone(), source: m.source.clone(), readonly: m.readonly })
            .collect();
        let fs = UnionFs::new(lowers, c.upper.clone()).at(&c.upper)?.with_mounts(mounts).at(&c.upper)?;
        let procs = c.dir.join("procs");
        let _ = std::fs::create_dir_all(&procs);
        let net = c
            .network
            .as_ref()
            .filter(|_| with_net)
            .map(|n| plane::ContainerNet::new(&self.store, &c.id, n.directory.clone(), published));
        Ok(Arc::new(Shared {
            engine: self.engine.clone(),
            linker: self.linker.clone(),
            modules: self.modules.clone(),
            fs: Arc::new(fs),
            lowers: c.lowers.clone(),
            next_pid: AtomicI32::new(2), // the first process is 1
            procs: Default::default(),
            proc_table: Some(procs.join(format!("{}.json", std::process::id()))),
            stop: AtomicBool::new(false),
            stop_status: AtomicI32::new(0),
            memory_limit: c.limits.memory,
            oom: Arc::new(AtomicBool::new(false)),
            net,
        }))
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

/// Run `p` as the first process of `shared`'s guests, with `io`; `started` is called once the
/// program was found and is about to run.
fn run_first(shared: &Arc<Shared>, p: &ProcessSpec, io: &Stdio, started: &mut dyn FnMut()) -> Result<Exit> {
    if shared.fs.metadata(&p.cwd, true).is_err() {
        shared.fs.create_dir_all(&p.cwd).map_err(|e| Error::Other(format!("workdir {}: {e}", p.cwd)))?;
    }
    let name = p.argv.first().cloned().unwrap_or_default();
    let prog = process::find_program(shared, &p.argv, &p.env, &p.cwd).map_err(|e| match e {
        NotRunnable::NotFound if !name.contains('/') => Error::ExecNotFound(name.clone()),
        NotRunnable::NotFound | NotRunnable::NoSuchFile => Error::ExecNoSuchFile(name.clone()),
        NotRunnable::Permission => Error::ExecPermission(name.clone()),
        NotRunnable::Format => Error::ExecFormat(name.clone()),
    })?;
    shared.oom.store(false, Ordering::SeqCst);
    started();
    let code = process::run(shared, &prog, &p.env, &p.cwd, streams(io));
    let stopped = shared.stop_status.load(Ordering::SeqCst);
    let code = if shared.stop.load(Ordering::SeqCst) && stopped > 0 { stopped } else { code };
    Ok(Exit { code, oom_killed: shared.oom.load(Ordering::SeqCst) })
}

/// The guest's three streams for `io`.
fn streams(io: &Stdio) -> [Stream; 3] {
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

/// A WASI container prepared to run in this host process.
struct WasiTask {
    shared: Arc<Shared>,
}

impl Task for WasiTask {
    fn run(&self, p: &ProcessSpec, io: Stdio, started: &mut dyn FnMut()) -> Result<Exit> {
        self.shared.stop.store(false, Ordering::SeqCst);
        self.shared.stop_status.store(0, Ordering::SeqCst);
        if let Some(n) = &self.shared.net {
            n.clear_listeners();
        }
        let exit = run_first(&self.shared, p, &io, started);
        // PID 1 ended: every process of the container ends with it, `exec`'d ones too.
        if let Some(dir) = self.shared.proc_table.as_ref().and_then(|t| t.parent()).and_then(|d| d.parent()) {
            for pid in holders::others(dir, std::process::id()) {
                crate::hostproc::signal(pid, crate::hostproc::sig::KILL);
            }
        }
        exit
    }

    /// A guest cannot take signals yet: any signal ends every guest process with 128+N,
    /// interrupted where it is (epoch interruption reaches code that makes no host call).
    fn signal(&self, sig: i32) -> bool {
        self.shared.stop_status.store(128 + sig, Ordering::SeqCst);
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.engine.increment_epoch();
        true
    }

    fn kill_all(&self) -> bool {
        self.signal(crate::hostproc::sig::KILL)
    }
}

impl Drop for WasiTask {
    fn drop(&mut self) {
        if let Some(n) = &self.shared.net {
            n.clear_listeners();
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

    fn layer_owners(&self) -> crate::archive::create::Owners {
        crate::archive::create::Owners::Fixed(0, 0)
    }

    fn layer_added(&self, store: &Store, meta: &LayerMeta) -> Result<usize> {
        self.precompile_layer(store, meta)
    }

    fn create(&self, c: &ContainerSpec, published: Published) -> Result<Arc<dyn Task>> {
        Ok(Arc::new(WasiTask { shared: self.shared(c, published, true)? }))
    }

    fn exec(&self, c: &ContainerSpec, p: &ProcessSpec, io: Stdio) -> Result<Exit> {
        let shared = self.shared(c, Published::new(), true)?;
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
        run_first(&shared, p, &io, &mut || {})
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
        for (pid, entries) in holders::list(&c.dir, owner) {
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
