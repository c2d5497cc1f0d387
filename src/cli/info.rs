//! `skiff version` and `skiff info`: what this skiff is and what its store holds.

use crate::container::{self, Status};

pub const WASMTIME_VERSION: &str = "46.0.3";

pub fn version() -> anyhow::Result<i32> {
    println!("Client: skiff");
    println!(" Version:           {}", env!("CARGO_PKG_VERSION"));
    println!(" OS/Arch:           {}/{}", std::env::consts::OS, std::env::consts::ARCH);
    println!();
    println!("Runtime: (no daemon: every command works on the state root)");
    println!(" Backend:           wasi");
    println!(" wasmtime:          {WASMTIME_VERSION}");
    println!(" wasi-common:       {WASMTIME_VERSION}");
    println!(" Guest target:      wasm32-wasip1");
    Ok(0)
}

pub fn info() -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let containers = container::list(&store)?;
    let running = containers.iter().filter(|c| c.state.status == Status::Running).count();
    let paused = containers.iter().filter(|c| c.state.status == Status::Paused).count();
    let images = store.list_images()?;
    let layers = std::fs::read_dir(store.root().join("layers")).map(|r| r.count()).unwrap_or(0);
    println!("Client:");
    println!(" Version:    {}", env!("CARGO_PKG_VERSION"));
    println!();
    println!("Server:");
    println!(" Containers: {}", containers.len());
    println!("  Running: {running}");
    println!("  Paused: {paused}");
    println!("  Stopped: {}", containers.len() - running);
    println!(" Images: {}", images.len());
    println!(" Layers: {layers}");
    println!(" Backend: wasi (wasmtime {WASMTIME_VERSION}, wasm32-wasip1 guests)");
    println!(" Storage Driver: userspace union");
    println!("  Image layout: OCI (oci/index.json, oci/blobs/sha256)");
    println!("  Whiteouts: OCI (.wh.<name>, .wh..wh..opq)");
    println!(" Skiff Root Dir: {}", store.root().display());
    println!(" Operating System: {}", std::env::consts::OS);
    println!(" Architecture: {}", std::env::consts::ARCH);
    println!(" CPUs: {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    Ok(0)
}
