//! Compiled-module cache: `modules/<wasm sha256>-<engine fingerprint>.cwasm`, filled when an
//! image arrives (pull, load, build) so that `run` only maps precompiled code (≈0.05 ms).

use crate::error::{Error, Result};
use crate::spec::Digest;
use crate::store::atomic_write;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Mutex;
use wasmtime::{Engine, Module};

/// Modules by digest: in memory for this process, on disk across processes.
pub struct ModuleCache {
    engine: Engine,
    dir: PathBuf,
    fingerprint: String,
    loaded: Mutex<HashMap<Digest, Module>>,
}

impl ModuleCache {
    pub fn new(engine: Engine, dir: PathBuf) -> Self {
        // The engine's own compatibility hash covers the wasmtime version and every setting
        // that changes generated code (epoch interruption included).
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let fingerprint = format!("{:016x}", h.finish());
        ModuleCache { engine, dir, fingerprint, loaded: Mutex::new(HashMap::new()) }
    }

    fn path(&self, d: &Digest) -> PathBuf {
        self.dir.join(format!("{}-{}.cwasm", d.hex(), self.fingerprint))
    }

    /// Whether `d` is compiled on disk.
    pub fn is_cached(&self, d: &Digest) -> bool {
        self.path(d).exists()
    }

    /// Compile `wasm` (whose digest is `d`) into the disk cache unless it is there.
    pub fn precompile(&self, d: &Digest, wasm: &[u8]) -> Result<()> {
        if self.is_cached(d) {
            return Ok(());
        }
        let bytes =
            self.engine.precompile_module(wasm).map_err(|e| Error::Other(format!("compiling module {d}: {e}")))?;
        atomic_write(&self.path(d), &bytes)
    }

    /// The module `d`: from memory, from the disk cache, or compiled now from `wasm()`.
    pub fn get(&self, d: &Digest, wasm: impl FnOnce() -> Result<Vec<u8>>) -> Result<Module> {
        if let Some(m) = self.loaded.lock().unwrap().get(d) {
            return Ok(m.clone());
        }
        let p = self.path(d);
        // SAFETY: the file was written by `precompile_module` of an engine with the same
        // fingerprint, via an atomic rename; wasmtime checks the header before use. Where
        // loading it as a file mapping fails (it does under Wine 8.0: "failed deserialization
        // for: <path>"), it is read into memory instead.
        let load = || {
            unsafe { Module::deserialize_file(&self.engine, &p) }.or_else(|mapped| {
                let bytes = std::fs::read(&p).map_err(|_| mapped)?;
                unsafe { Module::deserialize(&self.engine, &bytes) }
            })
        };
        let module = match load() {
            Ok(m) => m,
            Err(_) => {
                let bytes = wasm()?;
                self.precompile(d, &bytes)?;
                load().map_err(|e| Error::Other(format!("loading module {d}: {e:#}")))?
            }
        };
        self.loaded.lock().unwrap().insert(d.clone(), module.clone());
        Ok(module)
    }
}
