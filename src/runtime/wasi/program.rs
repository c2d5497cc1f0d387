//! Finding what to run for an argv inside a container root: `PATH` search, symlinks, `#!`
//! interpreters, and the `\0asm` check that makes a file a WASI executable.

use crate::runtime::Lower;
use crate::spec::Digest;
use crate::unionfs::{Kind, Layer, UnionFs};

use crate::runtime::DEFAULT_PATH;

/// Why a program could not be started (mapped to exit 127 / 126 / an errno by callers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRunnable {
    /// A bare name not found on `PATH`.
    NotFound,
    /// A path that does not exist.
    NoSuchFile,
    /// A directory or a file without execute permission.
    Permission,
    /// An executable that is neither a wasm module nor a `#!` script.
    Format,
}

/// A resolved program: the wasm file to instantiate and the argv it gets.
#[derive(Debug, Clone)]
pub struct Program {
    /// Absolute container path of the wasm module.
    pub module_path: String,
    /// The digest of the module when a layer's index knows it (saves hashing it).
    pub known_digest: Option<Digest>,
    pub argv: Vec<String>,
}

/// Resolve `argv` as `execvp` would, inside the container.
pub fn resolve(
    fs: &UnionFs,
    lowers: &[Lower],
    argv: &[String],
    path_var: Option<&str>,
    cwd: &str,
) -> Result<Program, NotRunnable> {
    resolve_depth(fs, lowers, argv, path_var, cwd, 0)
}

fn resolve_depth(
    fs: &UnionFs,
    lowers: &[Lower],
    argv: &[String],
    path_var: Option<&str>,
    cwd: &str,
    depth: u32,
) -> Result<Program, NotRunnable> {
    let name = argv.first().ok_or(NotRunnable::NotFound)?;
    let path = if name.contains('/') {
        let p = absolute(cwd, name);
        check_executable(fs, &p)?;
        p
    } else {
        let mut found = None;
        let mut denied = false;
        for dir in path_var.unwrap_or(DEFAULT_PATH).split(':').filter(|d| !d.is_empty()) {
            let p = absolute(cwd, &format!("{}/{name}", dir.trim_end_matches('/')));
            match check_executable(fs, &p) {
                Ok(()) => {
                    found = Some(p);
                    break;
                }
                Err(NotRunnable::Permission) => denied = true,
                Err(_) => {}
            }
        }
        match found {
            Some(p) => p,
            None if denied => return Err(NotRunnable::Permission),
            None => return Err(NotRunnable::NotFound),
        }
    };
    let head = fs.read_head(&path, 256).map_err(|_| NotRunnable::Permission)?;
    if head.starts_with(b"\0asm") {
        return Ok(Program { known_digest: known_digest(fs, lowers, &path), module_path: path, argv: argv.to_vec() });
    }
    if head.starts_with(b"#!") && depth < 4 {
        let line = String::from_utf8_lossy(&head[2..]);
        let line = line.lines().next().unwrap_or("").trim();
        let (interp, arg) = match line.split_once(char::is_whitespace) {
            Some((i, a)) => (i.to_string(), Some(a.trim().to_string())),
            None => (line.to_string(), None),
        };
        if interp.is_empty() {
            return Err(NotRunnable::Format);
        }
        let mut new_argv = vec![interp];
        new_argv.extend(arg.filter(|a| !a.is_empty()));
        new_argv.push(if name.contains('/') { name.clone() } else { path.clone() });
        new_argv.extend(argv[1..].iter().cloned());
        return resolve_depth(fs, lowers, &new_argv, path_var, cwd, depth + 1).map_err(|e| match e {
            NotRunnable::NotFound => NotRunnable::NoSuchFile,
            other => other,
        });
    }
    Err(NotRunnable::Format)
}

fn check_executable(fs: &UnionFs, path: &str) -> Result<(), NotRunnable> {
    let meta = fs.metadata(path, true).map_err(|_| NotRunnable::NoSuchFile)?;
    if meta.kind == Kind::Dir {
        return Err(NotRunnable::Permission);
    }
    if cfg!(unix) && !fs.may_execute(&meta) {
        return Err(NotRunnable::Permission);
    }
    Ok(())
}

/// The digest recorded for this file by the layer that provides it, if that is a lower layer.
fn known_digest(fs: &UnionFs, lowers: &[Lower], path: &str) -> Option<Digest> {
    let r = fs.resolve(path, true).ok()?;
    match r.layer {
        Layer::Lower(i) => lowers.get(i)?.wasm.get(r.path.trim_start_matches('/')).cloned(),
        _ => None,
    }
}

/// `name` made absolute against `cwd` (no normalisation: the union view resolves `..`).
pub fn absolute(cwd: &str, name: &str) -> String {
    if name.starts_with('/') {
        name.to_string()
    } else if cwd.ends_with('/') {
        format!("{cwd}{name}")
    } else {
        format!("{cwd}/{name}")
    }
}
