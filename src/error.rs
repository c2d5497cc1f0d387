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
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wrap an io error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
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
