//! The crate's error type: Docker-shaped, one-line messages that name the thing that failed.

use std::path::PathBuf;

/// What went wrong, worded as Docker words it (the CLI prints `Error: {self}`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("No such image: {0}")]
    NoSuchImage(String),
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    /// Docker's wording: `invalid reference format[: reason]`.
    #[error("{0}")]
    InvalidReference(String),
    #[error("Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name.")]
    NameInUse { name: String, id: String },
    #[error("Invalid container name ({0}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    InvalidName(String),
    #[error("You cannot remove a running container {0}. Stop the container before attempting removal or force remove")]
    RemoveRunning(String),
    #[error("exec: \"{0}\": executable file not found in $PATH")]
    ExecNotFound(String),
    #[error("exec: \"{0}\": stat {0}: no such file or directory")]
    ExecNoSuchFile(String),
    #[error("exec: \"{0}\": permission denied")]
    ExecPermission(String),
    #[error("exec {0}: exec format error")]
    ExecFormat(String),
    #[error(
        "blob {digest} is corrupt: its content hashes to {actual} (remove it with `skiff image rm` and pull again)"
    )]
    CorruptBlob { digest: String, actual: String },
    #[error("invalid layer {layer}: {entry}: {reason}")]
    InvalidLayer { layer: String, entry: String, reason: String },
    /// (The io error is part of the message, not a `source`, so `Error: {e:#}`
    /// does not print it twice.)
    #[error("{path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wrap an io error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), error: source }
    }
}

/// Attach a path to io results: `fs::read(&p).at(&p)?`.
pub trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|e| Error::io(path, e))
    }
}

/// `s` made safe to print on a terminal: control characters (an escape sequence in a file
/// name from an archive or a guest, a carriage return) are shown escaped (`\x1b`), so what
/// reaches the terminal is only text. Newlines and tabs stay.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        c.is_control() && c != '\n' && c != '\t' || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if !bad(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`printable`] for a file name that must also stay on one line (`diff`, `cp`): newlines
/// and tabs are escaped too.
pub fn printable_name(s: &str) -> String {
    printable(s).replace('\n', "\\n").replace('\t', "\\t")
}
