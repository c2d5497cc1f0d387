//! `skiff export CONTAINER` (the container's merged filesystem as one tar) and
//! `skiff import FILE [REPO[:TAG]]` (a filesystem tar as a one-layer image).

use crate::archive::create::{source_date_epoch, Node, TarWriter};
use crate::container;
use crate::reference::Reference;
use crate::runtime::wasi::WasiRuntime;
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
    /// A tar of a root filesystem (plain or gzip), or - for STDIN
    file: String,
    /// REPOSITORY[:TAG] for the new image
    repository: Option<String>,
}

pub fn export(a: ExportArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    let c = container::find(&store, &a.container)?;
    let root = c.root_spec(&store)?;
    let fs = UnionFs::new(root.lowers.iter().map(|l| l.dir.clone()).collect(), root.upper.clone())?;
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
    let (diff, size) = store.put_blob_reader(&mut reader)?;
    let meta = store.unpack_layer(&diff, None)?;
    WasiRuntime::new(&store)?.precompile_layer(&store, &meta)?;
    let now = container::now();
    let config = ImageConfig {
        created: Some(now.clone()),
        author: None,
        architecture: "wasm32".into(),
        os: "wasip1".into(),
        config: Some(ContainerConfig {
            env: Some(vec![format!("PATH={}", crate::runtime::wasi::program::DEFAULT_PATH)]),
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
    if let Some(t) = &target {
        store.tag_image(&manifest, t)?;
    }
    println!("{id}");
    Ok(0)
}
