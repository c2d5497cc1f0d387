//! `skiff version` and `skiff info`: what this skiff is and what its store holds.

use crate::container::{self, Status};
use crate::runtime::{self, Kind};

pub fn version() -> anyhow::Result<i32> {
    println!("Client: skiff");
    println!(" Version:           {}", env!("CARGO_PKG_VERSION"));
    println!(" OS/Arch:           {}/{}", std::env::consts::OS, std::env::consts::ARCH);
    println!();
    println!("Runtime: (no daemon: every command works on the state root)");
    let store = super::open_store()?;
    for kind in [Kind::Wasi, Kind::Linux] {
        let (os, arch) = kind.platform();
        println!(" Backend:           {} (runs {os}/{arch} images)", kind.name());
        match runtime::open(&store, kind) {
            Ok(b) => {
                for (k, v) in b.describe() {
                    println!("  {:<17}{v}", format!("{k}:"));
                }
            }
            Err(e) => println!("  {:<17}{e}", "Unavailable:"),
        }
    }
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
    println!(" Runtimes:");
    for kind in [Kind::Wasi, Kind::Linux] {
        let (os, arch) = kind.platform();
        match runtime::open(&store, kind) {
            Ok(b) => {
                let about: Vec<String> = b.describe().into_iter().map(|(k, v)| format!("{k} {v}")).collect();
                println!("  {}: {os}/{arch} images ({})", kind.name(), about.join(", "));
            }
            Err(e) => println!("  {}: unavailable: {e}", kind.name()),
        }
    }
    println!(" Storage Driver: userspace union");
    println!("  Image layout: OCI (oci/index.json, oci/blobs/sha256)");
    println!("  Whiteouts: OCI (.wh.<name>, .wh..wh..opq)");
    println!(" Skiff Root Dir: {}", store.root().display());
    println!(" Operating System: {}", std::env::consts::OS);
    println!(" Architecture: {}", std::env::consts::ARCH);
    println!(" CPUs: {}", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    Ok(0)
}
