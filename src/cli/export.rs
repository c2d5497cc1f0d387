//! `skiff export CONTAINER` (the container's merged filesystem as one tar) and
//! `skiff import FILE [REPO[:TAG]]` (a filesystem tar as a one-layer image).

use crate::container::{self, commit::ImportOptions};
use crate::reference::Reference;
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
    /// Apply Dockerfile instruction to the created image
    #[arg(short, long, value_name = "list")]
    change: Vec<String>,
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
        let mut w = tar::Builder::new(out);
        walk(&fs, "/", &mut w)?;
        w.finish()?;
        Ok(())
    };
    super::write_output(a.output.as_deref(), write)?;
    Ok(0)
}

/// Tar the merged view below `dir` (whiteouts already applied by the union view), each
/// entry with its own modification time, as Docker's export keeps them.
fn walk(fs: &UnionFs, dir: &str, w: &mut tar::Builder<&mut dyn Write>) -> anyhow::Result<()> {
    let mut entries = fs.read_dir(dir)?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    for e in entries {
        let path = if dir == "/" { format!("/{}", e.name) } else { format!("{dir}/{}", e.name) };
        let rel = path.trim_start_matches('/');
        let meta = fs.metadata(&path, false)?;
        let mut h = tar::Header::new_gnu();
        h.set_mtime(meta.mtime.max(0) as u64);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mode(meta.mode & 0o7777);
        match meta.kind {
            Kind::Dir => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
                w.append_data(&mut h, format!("{rel}/"), std::io::empty())?;
                walk(fs, &path, w)?;
            }
            Kind::Symlink => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                w.append_link(&mut h, rel, fs.read_link(&path)?)?;
            }
            Kind::File => {
                let host = fs.resolve(&path, false)?.host_path;
                let f = std::fs::File::open(&host).map_err(|e| anyhow::anyhow!("{}: {e}", host.display()))?;
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(f.metadata()?.len());
                w.append_data(&mut h, rel, f)?;
            }
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
    let opts = ImportOptions {
        message: a.message,
        changes: a.change,
        platform: a.platform.as_deref().map(platform_flag).transpose()?,
        target,
        source: a.file,
    };
    println!("{}", container::commit::import(&store, raw, &opts)?);
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
