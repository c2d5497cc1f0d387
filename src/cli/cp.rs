//! `skiff cp CONTAINER:SRC DEST` and `skiff cp SRC CONTAINER:DEST`: files between the host and
//! a container (running or not), through its union view, so a copy into it lands in its
//! writable layer (or in a volume mounted there).

use crate::container;
use crate::hostfs::mode_of;
use crate::unionfs::{Kind, UnionFs};
use clap::Args;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct CpArgs {
    /// CONTAINER:SRC_PATH or a host path
    src: String,
    /// CONTAINER:DEST_PATH or a host path
    dest: String,
}

/// `name:path` → (name, path); a host path has no `:` before its first `/`.
fn split(arg: &str) -> Option<(&str, &str)> {
    let (c, p) = arg.split_once(':')?;
    (!c.is_empty() && !c.contains('/')).then_some((c, p))
}

pub fn exec(a: CpArgs) -> anyhow::Result<i32> {
    let store = super::open_store()?;
    match (split(&a.src), split(&a.dest)) {
        (Some(_), Some(_)) => anyhow::bail!("copying between containers is not supported"),
        (None, None) => anyhow::bail!("must specify at least one container source"),
        (Some((name, path)), None) => {
            let c = container::find(&store, name)?;
            let view = view_of(&store, &c)?;
            let path = absolute(path, &c.config.working_dir);
            let meta = view
                .metadata(&path, true)
                .map_err(|_| anyhow::anyhow!("Could not find the file {path} in container {name}"))?;
            let dest = PathBuf::from(&a.dest);
            let base = Path::new(&path).file_name().map(|b| b.to_os_string()).unwrap_or_default();
            let target = if dest.is_dir() && !base.is_empty() { dest.join(base) } else { dest };
            match meta.kind {
                Kind::Dir => copy_out_dir(&view, &path, &target)?,
                Kind::File => {
                    replace_special(&target)?;
                    fs::write(&target, view.read(&path)?).map_err(|e| anyhow::anyhow!("{}: {e}", target.display()))?;
                    let _ = crate::hostfs::set_mode(&target, crate::hostfs::safe_mode(meta.mode));
                }
                _ => anyhow::bail!("{}: not a regular file or directory", crate::error::printable_name(&path)),
            }
        }
        (None, Some((name, path))) => {
            let c = container::find(&store, name)?;
            let view = view_of(&store, &c)?;
            let src = PathBuf::from(&a.src);
            let md = fs::symlink_metadata(&src)
                .map_err(|_| anyhow::anyhow!("lstat {}: no such file or directory", src.display()))?;
            let path = absolute(path, &c.config.working_dir);
            let into_dir = path.ends_with('/') || view.metadata(&path, true).is_ok_and(|m| m.kind == Kind::Dir);
            let base = src.file_name().map(|b| b.to_string_lossy().into_owned()).unwrap_or_default();
            let target = if into_dir { format!("{}/{base}", path.trim_end_matches('/')) } else { path.clone() };
            if !into_dir && path.ends_with('/') {
                anyhow::bail!("no such directory: {path}");
            }
            if md.is_dir() {
                copy_in_dir(&view, &src, &target)?;
            } else if !md.is_file() {
                anyhow::bail!("{}: not a regular file or directory", src.display());
            } else {
                view.write(&target, &fs::read(&src)?).map_err(|e| anyhow::anyhow!("{target}: {e}"))?;
                view.chmod(&target, mode_of(&md)).map_err(|e| anyhow::anyhow!("{target}: {e}"))?;
            }
        }
    }
    Ok(0)
}

fn view_of(store: &crate::store::Store, c: &container::Container) -> anyhow::Result<UnionFs> {
    Ok(c.view(store)?)
}

fn absolute(p: &str, workdir: &str) -> String {
    if p.starts_with('/') {
        p.to_string()
    } else {
        format!("{}/{p}", workdir.trim_end_matches('/'))
    }
}

/// Make room for a file at `dst` on the host: what is there and is not a regular file or a
/// directory (a symlink a container put there before, a FIFO) is removed, never written
/// through — so copying out can neither write where a planted link points nor block on a
/// FIFO.
fn replace_special(dst: &Path) -> anyhow::Result<()> {
    match fs::symlink_metadata(dst) {
        Ok(md) if !md.is_dir() && !md.is_file() => {
            fs::remove_file(dst).map_err(|e| anyhow::anyhow!("{}: {e}", dst.display()))
        }
        _ => Ok(()),
    }
}

fn copy_out_dir(view: &UnionFs, from: &str, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to).map_err(|e| anyhow::anyhow!("{}: {e}", to.display()))?;
    for e in view.read_dir(from)? {
        let src = format!("{}/{}", from.trim_end_matches('/'), e.name);
        let dst = to.join(&e.name);
        match e.kind {
            Kind::Dir => {
                if fs::symlink_metadata(&dst).is_ok_and(|m| !m.is_dir()) {
                    fs::remove_file(&dst).map_err(|err| anyhow::anyhow!("{}: {err}", dst.display()))?;
                }
                copy_out_dir(view, &src, &dst)?
            }
            Kind::File => {
                replace_special(&dst)?;
                fs::write(&dst, view.read(&src)?)?;
                let mode = crate::hostfs::safe_mode(view.metadata(&src, false)?.mode);
                let _ = crate::hostfs::set_mode(&dst, mode);
            }
            Kind::Symlink => {
                replace_special(&dst)?;
                let target = view.read_link(&src)?;
                // A host without symlinks gets a file holding the target, as git writes one.
                #[cfg(not(unix))]
                fs::write(&dst, target.as_bytes()).map_err(|err| anyhow::anyhow!("{}: {err}", dst.display()))?;
                #[cfg(unix)]
                crate::hostfs::symlink(Path::new(&target), &dst)?
            }
            Kind::Other => {
                eprintln!("skipping {}: not a regular file, directory or symlink", crate::error::printable_name(&src))
            }
        }
    }
    Ok(())
}

fn copy_in_dir(view: &UnionFs, from: &Path, to: &str) -> anyhow::Result<()> {
    view.create_dir_all(to).map_err(|e| anyhow::anyhow!("{to}: {e}"))?;
    let mut entries: Vec<_> = fs::read_dir(from)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let dst = format!("{}/{name}", to.trim_end_matches('/'));
        let md = fs::symlink_metadata(e.path())?;
        if md.is_dir() {
            copy_in_dir(view, &e.path(), &dst)?;
        } else if md.file_type().is_symlink() {
            view.symlink(&fs::read_link(e.path())?.to_string_lossy(), &dst)
                .map_err(|err| anyhow::anyhow!("{dst}: {err}"))?;
        } else if md.is_file() {
            view.write(&dst, &fs::read(e.path())?).map_err(|err| anyhow::anyhow!("{dst}: {err}"))?;
            view.chmod(&dst, mode_of(&md)).map_err(|err| anyhow::anyhow!("{dst}: {err}"))?;
        } else {
            // A FIFO, socket or device: opening it could block for ever or read a device.
            eprintln!("skipping {}: not a regular file, directory or symlink", e.path().display());
        }
    }
    Ok(())
}
