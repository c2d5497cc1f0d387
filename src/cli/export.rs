//! `skiff export CONTAINER` (the container's merged filesystem as one tar) and
//! `skiff import FILE [REPO[:TAG]]` (a filesystem tar as a one-layer image).

use crate::archive::create::{source_date_epoch, Node, TarWriter};
use crate::container;
use crate::reference::Reference;
use crate::spec::{to_json, ContainerConfig, Descriptor, History, ImageConfig, RootFs, MEDIA_TYPE_LAYER};
use crate::unionfs::{Kind, UnionFs};
use clap::Args;
use std::io::{Read, Write};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long, value_name = "string")]
    output: Option<PathBuf>,
    /// The container
    container: String,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Commit message for the imported image
    #[arg(short, long, value_name = "string")]
    message: Option<String>,
    /// Set platform if server is multi-platform capable (wasip1/wasm, linux/amd64)
    #[arg(long, value_name = "string")]
    platform: Option<String>,
    /// A tar of a root filesystem (plain or gzip), or - for STDIN
    file: String,
    /// REPOSITORY[:TAG] for the new image
    repository: Option<String>,
}

pub fn export(a: ExportArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let c = container::find(&store, &a.container)?;
    let fs = UnionFs::new(c.lower_dirs(&store), c.upper(&store))?;
    let write = |out: &mut dyn Write| -> anyhow::Result<()> {
        let mut w = TarWriter::new(out, source_date_epoch());
        walk(&fs, "/", &mut w)?;
        w.finish()?;
        Ok(())
    };
    super::write_output(a.output.as_deref(), write)?;
    Ok(0)
}

/// Tar the merged view below `dir` (whiteouts already applied by the union view).
fn walk(fs: &UnionFs, dir: &str, w: &mut TarWriter<&mut dyn Write>) -> anyhow::Result<()> {
    for e in fs.read_dir(dir)? {
        let path = if dir == "/" { format!("/{}", e.name) } else { format!("{dir}/{}", e.name) };
        let rel = path.trim_start_matches('/');
        let meta = fs.metadata(&path, false)?;
        match meta.kind {
            Kind::Dir => {
                w.append(rel, &Node::Dir { mode: meta.mode & 0o7777 })?;
                walk(fs, &path, w)?;
            }
            Kind::Symlink => w.append(rel, &Node::Symlink { target: fs.read_link(&path)? })?,
            Kind::File => w.append_file(rel, &fs.resolve(&path, false)?.host_path, meta.mode & 0o7777)?,
            Kind::Other => {}
        }
    }
    Ok(())
}

pub fn import(a: ImportArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let target = a.repository.as_deref().map(Reference::parse).transpose()?.map(Reference::with_default_tag);
    let raw: Box<dyn Read> = if a.file == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(&a.file).map_err(|e| anyhow::anyhow!("{}: {e}", a.file))?)
    };
    let mut reader = crate::archive::maybe_gunzip(raw)?;
    let _lock = store.lock()?;
    store.all_or_nothing(|| import_locked(&store, &a, &mut reader, target.as_ref()))
}

/// `import` under the lock: the layer, the image, its tag.
fn import_locked(
    store: &crate::store::Store,
    a: &ImportArgs,
    reader: &mut dyn Read,
    target: Option<&Reference>,
) -> anyhow::Result<i32> {
    let store = store.clone();
    let (diff, size) = store.put_blob_reader(reader)?;
    let meta = store.unpack_layer(&diff, None)?;
    let meta = crate::build::layer::precompile(&store, meta, &mut std::io::stderr())?;
    let (os, architecture) = match &a.platform {
        Some(p) => platform_flag(p)?,
        None => platform_of_layer(&store, &meta),
    };
    let now = container::now();
    let config = ImageConfig {
        created: Some(now.clone()),
        author: None,
        architecture,
        os,
        config: Some(ContainerConfig {
            env: Some(vec![format!("PATH={}", crate::runtime::DEFAULT_PATH)]),
            ..Default::default()
        }),
        rootfs: RootFs::layers(vec![diff.clone()]),
        history: vec![History {
            created: Some(now),
            created_by: Some(String::new()),
            comment: Some(a.message.clone().unwrap_or_else(|| format!("Imported from {}", a.file))),
            ..Default::default()
        }],
        extra: Default::default(),
    };
    let (id, manifest) = store.put_image(&to_json(&config), vec![Descriptor::new(MEDIA_TYPE_LAYER, diff, size)])?;
    if let Some(t) = target {
        store.tag_image(&manifest, t)?;
    }
    store.drop_leases();
    println!("{id}");
    Ok(0)
}

/// `--platform os/arch[/variant]`.
fn platform_flag(p: &str) -> anyhow::Result<(String, String)> {
    let mut parts = p.split('/');
    match (parts.next(), parts.next()) {
        (Some(os), Some(arch)) if !os.is_empty() && !arch.is_empty() => Ok((os.to_string(), arch.to_string())),
        _ => anyhow::bail!("invalid platform {p:?}: expected os/arch, e.g. wasip1/wasm or linux/amd64"),
    }
}

/// What an imported root filesystem runs on, by its programs: wasm modules make it a WASI
/// image, ELF programs a Linux image of the host's architecture (as Docker records the host's
/// platform); a tar with neither is a WASI image, skiff's default.
fn platform_of_layer(store: &crate::store::Store, meta: &crate::store::LayerMeta) -> (String, String) {
    let wasi = crate::runtime::Kind::default().platform();
    if !meta.wasm.is_empty() {
        return (wasi.0.into(), wasi.1.into());
    }
    if crate::hostfs::has_elf(&store.layer_diff_dir(&meta.chain_id), 20_000) {
        return ("linux".into(), crate::runtime::host_arch().into());
    }
    (wasi.0.into(), wasi.1.into())
}
