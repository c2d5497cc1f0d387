//! The WASI backend: containers as wasm32-wasip1 guests in wasmtime over the userspace union
//! view. The only place that knows wasmtime and wasi-common (`fs.rs` adapts the union view).

pub mod fs;
mod modules;
mod net;
pub mod process;
pub mod program;
pub mod stdio;

pub use modules::ModuleCache;

use crate::error::{Error, IoContext, Result};
use crate::runtime::{Executor, ProcessSpec, RootSpec};
use crate::store::{LayerMeta, Store};
use crate::unionfs::UnionFs;
use process::{Proc, Shared};
use program::NotRunnable;
use std::sync::atomic::{AtomicBool, AtomicI32};
use std::sync::{Arc, RwLock};
use stdio::Stream;
use wasmtime::{Config, Engine, Linker};

/// The WASI executor: one engine and module cache per skiff process.
pub struct WasiRuntime {
    engine: Engine,
    linker: Linker<Proc>,
    modules: Arc<ModuleCache>,
    /// Set when a process of the last run hit its memory limit.
    oom: Arc<AtomicBool>,
}

impl WasiRuntime {
    pub fn new(store: &Store) -> Result<WasiRuntime> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let engine = Engine::new(&config).map_err(|e| Error::Other(format!("wasmtime: {e}")))?;
        let linker = process::linker(&engine).map_err(|e| Error::Other(format!("wasmtime linker: {e}")))?;
        // SKIFF_MODULE_CACHE shares compiled modules between state roots (the tests use it).
        let dir = std::env::var_os("SKIFF_MODULE_CACHE").filter(|d| !d.is_empty()).map(std::path::PathBuf::from);
        let dir = dir.unwrap_or_else(|| store.root().join("modules"));
        std::fs::create_dir_all(&dir).at(&dir)?;
        let modules = Arc::new(ModuleCache::new(engine.clone(), dir));
        Ok(WasiRuntime { engine, linker, modules, oom: Arc::new(AtomicBool::new(false)) })
    }

    /// Whether a process of a run hit the memory limit (`OOMKilled`).
    pub fn oom_killed(&self) -> bool {
        self.oom.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn modules(&self) -> &ModuleCache {
        &self.modules
    }

    /// Compile every wasm module of a freshly imported layer, so `run` never compiles.
    /// Returns how many modules were compiled now.
    pub fn precompile_layer(&self, store: &Store, meta: &LayerMeta) -> Result<usize> {
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

    fn shared(&self, root: &RootSpec) -> Result<Arc<Shared>> {
        let lowers = root.lowers.iter().map(|l| l.dir.clone()).collect();
        let fs = UnionFs::new(lowers, root.upper.clone())
            .at(&root.upper)?
            .with_mounts(root.mounts.clone())
            .at(&root.upper)?;
        Ok(Arc::new(Shared {
            engine: self.engine.clone(),
            linker: self.linker.clone(),
            modules: self.modules.clone(),
            fs: Arc::new(fs),
            lowers: root.lowers.clone(),
            next_pid: AtomicI32::new(2), // the first process is 1
            procs: Default::default(),
            proc_table: root.proc_table.clone(),
            stop: AtomicBool::new(false),
            memory_limit: root.memory,
            oom: self.oom.clone(),
            net: root.net.clone(),
        }))
    }

    fn start(&self, root: &RootSpec, p: &ProcessSpec, stdio: [Stream; 3]) -> Result<i32> {
        self.run_streams(root, p, stdio, &mut || {})
    }

    /// Run with the given streams; `started` is called once the program was found and is
    /// about to run (a supervisor reports the container started then).
    pub fn run_streams(
        &self,
        root: &RootSpec,
        p: &ProcessSpec,
        stdio: [Stream; 3],
        started: &mut dyn FnMut(),
    ) -> Result<i32> {
        let shared = self.shared(root)?;
        if shared.fs.metadata(&p.cwd, true).is_err() {
            shared.fs.create_dir_all(&p.cwd).map_err(|e| Error::Other(format!("workdir {}: {e}", p.cwd)))?;
        }
        let name = p.argv.first().cloned().unwrap_or_default();
        let prog = process::find_program(&shared, &p.argv, &p.env, &p.cwd).map_err(|e| match e {
            NotRunnable::NotFound if !name.contains('/') => Error::ExecNotFound(name.clone()),
            NotRunnable::NotFound | NotRunnable::NoSuchFile => Error::ExecNoSuchFile(name.clone()),
            NotRunnable::Permission => Error::ExecPermission(name.clone()),
            NotRunnable::Format => Error::ExecFormat(name.clone()),
        })?;
        started();
        Ok(process::run(&shared, &prog, &p.env, &p.cwd, stdio))
    }

    /// Run and capture stdout (stderr passes through), e.g. `box --list` at image import.
    pub fn capture(&self, root: &RootSpec, p: &ProcessSpec) -> Result<(i32, Vec<u8>)> {
        let buf = Arc::new(RwLock::new(std::io::Cursor::new(Vec::new())));
        let out = Stream::Write(wasi_common::pipe::WritePipe::from_shared(Arc::new(RwLock::new(Box::new(SharedBuf(
            buf.clone(),
        )) as _))));
        let code = self.start(root, p, [Stream::Null, out, Stream::HostStderr])?;
        let bytes = buf.read().unwrap().get_ref().clone();
        Ok((code, bytes))
    }
}

struct SharedBuf(Arc<RwLock<std::io::Cursor<Vec<u8>>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.write().unwrap().write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Executor for WasiRuntime {
    fn name(&self) -> &'static str {
        "wasi"
    }

    fn run(&self, root: &RootSpec, p: &ProcessSpec) -> Result<i32> {
        let stdin = if p.stdin { Stream::HostStdin } else { Stream::Null };
        self.start(root, p, [stdin, Stream::HostStdout, Stream::HostStderr])
    }
}
