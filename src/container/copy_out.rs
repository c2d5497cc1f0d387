//! Copying a directory out of a union view onto the host: `cp` out of a container, and the
//! first contents of a new volume (the image's files at its mount point, as Docker copies them).

use crate::unionfs::{Kind, UnionFs};
use std::fs;
use std::io::Result;
use std::path::Path;

/// Make room for a file at `dst` on the host: what is there and is not a regular file or a
/// directory (a symlink a container put there before, a FIFO) is removed, never written
/// through — so copying out can neither write where a planted link points nor block on a
/// FIFO.
pub fn replace_special(dst: &Path) -> Result<()> {
    match fs::symlink_metadata(dst) {
        Ok(md) if !md.is_dir() && !md.is_file() => fs::remove_file(dst),
        _ => Ok(()),
    }
}

/// Copy the directory `from` of `view` to `to` on the host, modes made safe, links as links,
/// anything else skipped with a word.
pub fn copy_out_dir(view: &UnionFs, from: &str, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for e in view.read_dir(from)? {
        let src = format!("{}/{}", from.trim_end_matches('/'), e.name);
        let dst = to.join(&e.name);
        match e.kind {
            Kind::Dir => {
                if fs::symlink_metadata(&dst).is_ok_and(|m| !m.is_dir()) {
                    fs::remove_file(&dst)?;
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
                fs::write(&dst, target.as_bytes())?;
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
