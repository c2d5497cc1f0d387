//! Errors of the union filesystem: an `io::Error` that names the virtual path and carries a
//! portable error code, so adapters (WASI errno, guest ABI) never guess from messages.

use std::fmt;
use std::io;

/// A portable errno: what went wrong, independent of the host OS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    NoEnt,
    Exist,
    NotDir,
    IsDir,
    NotEmpty,
    XDev,
    Loop,
    Perm,
    Acces,
    RoFs,
    Inval,
    Busy,
    NotSup,
    Io,
}

impl Code {
    /// The `io::ErrorKind` used when skiff itself raises this code.
    fn kind(self) -> io::ErrorKind {
        use io::ErrorKind as K;
        match self {
            Code::NoEnt => K::NotFound,
            Code::Exist => K::AlreadyExists,
            Code::NotDir => K::NotADirectory,
            Code::IsDir => K::IsADirectory,
            Code::NotEmpty => K::DirectoryNotEmpty,
            Code::XDev => K::CrossesDevices,
            Code::Perm | Code::Acces => K::PermissionDenied,
            Code::RoFs => K::ReadOnlyFilesystem,
            Code::Inval => K::InvalidInput,
            Code::Busy => K::ResourceBusy,
            Code::NotSup => K::Unsupported,
            // `FilesystemLoop` is not a stable ErrorKind; the code says it.
            Code::Loop | Code::Io => K::Other,
        }
    }
}

/// The payload of every error the union filesystem returns.
#[derive(Debug)]
pub struct FsError {
    /// The virtual (container) path the operation was about.
    pub path: String,
    pub code: Code,
    msg: String,
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.msg)
    }
}

impl std::error::Error for FsError {}

/// An error raised by skiff itself (not by the host).
pub(crate) fn err(code: Code, path: &str, msg: &str) -> io::Error {
    io::Error::new(code.kind(), FsError { path: path.to_string(), code, msg: msg.to_string() })
}

/// Wraps a host error so it names the virtual path; keeps its kind and its code.
pub(crate) fn ctx(e: io::Error, path: &str) -> io::Error {
    if e.get_ref().is_some_and(|inner| inner.is::<FsError>()) {
        return e;
    }
    let code = code_of(&e);
    io::Error::new(e.kind(), FsError { path: path.to_string(), code, msg: e.to_string() })
}

/// The portable code of any io error (ours, or a raw host error).
pub fn code_of(e: &io::Error) -> Code {
    if let Some(fe) = e.get_ref().and_then(|inner| inner.downcast_ref::<FsError>()) {
        return fe.code;
    }
    #[cfg(unix)]
    if let Some(code) = e.raw_os_error().and_then(code_of_errno) {
        return code;
    }
    use io::ErrorKind as K;
    match e.kind() {
        K::NotFound => Code::NoEnt,
        K::AlreadyExists => Code::Exist,
        K::NotADirectory => Code::NotDir,
        K::IsADirectory => Code::IsDir,
        K::DirectoryNotEmpty => Code::NotEmpty,
        K::CrossesDevices => Code::XDev,
        K::PermissionDenied => Code::Acces,
        K::ReadOnlyFilesystem => Code::RoFs,
        K::InvalidInput | K::InvalidFilename => Code::Inval,
        K::ResourceBusy => Code::Busy,
        K::Unsupported => Code::NotSup,
        _ => Code::Io,
    }
}

#[cfg(unix)]
fn code_of_errno(errno: i32) -> Option<Code> {
    Some(match errno {
        libc::ENOENT => Code::NoEnt,
        libc::EEXIST => Code::Exist,
        libc::ENOTDIR => Code::NotDir,
        libc::EISDIR => Code::IsDir,
        libc::ENOTEMPTY => Code::NotEmpty,
        libc::EXDEV => Code::XDev,
        libc::ELOOP => Code::Loop,
        libc::EPERM => Code::Perm,
        libc::EACCES => Code::Acces,
        libc::EROFS => Code::RoFs,
        libc::EINVAL => Code::Inval,
        libc::EBUSY => Code::Busy,
        libc::ENOTSUP => Code::NotSup,
        _ => return None,
    })
}
