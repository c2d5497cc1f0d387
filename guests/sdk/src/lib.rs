//! Guest SDK: safe wrappers over the `skiff` host imports (see `docs/guest-abi.md`).
//!
//! On targets other than wasm32 the imports do not exist; every call returns
//! `ErrorKind::Unsupported`, so guest programs still build and unit-test on the host.

use std::io;

pub mod net;
pub mod proc;

/// Standard stream wiring for a spawned child (one per fd 0, 1, 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stdio {
    /// The caller's own original stream for that fd.
    Inherit,
    /// EOF on read, discard on write.
    Null,
    /// A pipe end from [`pipe`]; moved into the child.
    Pipe(i32),
    /// A file opened by the host: `mode` is "r", "w" (truncate), "a" (append) or "rw".
    File { mode: &'static str, path: String },
    /// The same stream as the child's fd `n` (n smaller than this fd): `2>&1` is `Dup(1)`.
    Dup(u32),
}

impl Stdio {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Stdio::Inherit => out.extend_from_slice(b"inherit"),
            Stdio::Null => out.extend_from_slice(b"null"),
            Stdio::Pipe(h) => out.extend_from_slice(format!("pipe:{h}").as_bytes()),
            Stdio::File { mode, path } => out.extend_from_slice(format!("file:{mode}:{path}").as_bytes()),
            Stdio::Dup(n) => out.extend_from_slice(format!("dup:{n}").as_bytes()),
        }
        out.push(0);
    }
}

/// File metadata the WASI filesystem API does not carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stat {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub size: u64,
    pub mtime: i64,
}

pub const S_IFMT: u32 = 0o170000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFLNK: u32 = 0o120000;

/// WASI errno values the host returns (negated).
pub mod errno {
    pub const EACCES: i32 = 2;
    pub const EBADF: i32 = 8;
    pub const ECHILD: i32 = 12;
    pub const EINVAL: i32 = 28;
    pub const ENOENT: i32 = 44;
    pub const ENOEXEC: i32 = 45;
    pub const ENOSYS: i32 = 52;
    pub const ENOTDIR: i32 = 54;
    pub const EPERM: i32 = 63;
}

#[cfg(target_arch = "wasm32")]
mod sys {
    #[link(wasm_import_module = "skiff")]
    extern "C" {
        pub fn spawn(
            argv: *const u8,
            argv_len: usize,
            env: *const u8,
            env_len: usize,
            cwd: *const u8,
            cwd_len: usize,
            stdio: *const u8,
            stdio_len: usize,
        ) -> i32;
        pub fn wait(pid: i32, status: *mut i32) -> i32;
        pub fn pipe(out: *mut i32) -> i32;
        pub fn pipe_fd(handle: i32) -> i32;
        pub fn pipe_close(handle: i32) -> i32;
        pub fn stat(path: *const u8, path_len: usize, follow: i32, out: *mut u8) -> i32;
        pub fn chmod(path: *const u8, path_len: usize, mode: u32) -> i32;
    }
}

/// An error from a host import: `raw_os_error()` is the WASI errno.
#[cfg(target_arch = "wasm32")]
fn check(rc: i32) -> io::Result<i32> {
    if rc < 0 {
        Err(io::Error::from_raw_os_error(-rc))
    } else {
        Ok(rc)
    }
}

fn nul_list<I, S>(items: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = Vec::new();
    for s in items {
        out.extend_from_slice(s.as_ref().as_bytes());
        out.push(0);
    }
    out
}

/// Make `path` absolute using the current directory.
pub fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        return path.to_string();
    }
    let cwd = std::env::current_dir().map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|_| "/".to_string());
    if cwd.ends_with('/') {
        format!("{cwd}{path}")
    } else {
        format!("{cwd}/{path}")
    }
}

/// Start-up for every skiff guest: enter `$PWD` (wasi-libc always starts in `/`).
pub fn init() {
    if let Ok(pwd) = std::env::var("PWD") {
        if !pwd.is_empty() {
            let _ = std::env::set_current_dir(&pwd);
        }
    }
}

/// Start a program; returns its PID. See `docs/guest-abi.md` for how `argv[0]` is found.
pub fn spawn(argv: &[String], env: &[String], cwd: &str, stdio: [Stdio; 3]) -> io::Result<i32> {
    let a = nul_list(argv);
    let e = nul_list(env);
    let mut s = Vec::new();
    for x in &stdio {
        x.encode(&mut s);
    }
    let _ = (&a, &e, &s, cwd);
    #[cfg(target_arch = "wasm32")]
    {
        let rc = unsafe {
            sys::spawn(a.as_ptr(), a.len(), e.as_ptr(), e.len(), cwd.as_ptr(), cwd.len(), s.as_ptr(), s.len())
        };
        check(rc)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Wait for a child; returns its exit status.
pub fn wait(pid: i32) -> io::Result<i32> {
    let _ = pid;
    #[cfg(target_arch = "wasm32")]
    {
        let mut status = 0i32;
        check(unsafe { sys::wait(pid, &mut status) })?;
        Ok(status)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Make a pipe: returns `(read_handle, write_handle)`.
pub fn pipe() -> io::Result<(i32, i32)> {
    #[cfg(target_arch = "wasm32")]
    {
        let mut out = [0i32; 2];
        check(unsafe { sys::pipe(out.as_mut_ptr()) })?;
        Ok((out[0], out[1]))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Turn a pipe end into a file of this process (e.g. to read a child's output).
pub fn pipe_file(handle: i32) -> io::Result<std::fs::File> {
    let _ = handle;
    #[cfg(target_arch = "wasm32")]
    {
        use std::os::wasi::io::FromRawFd;
        let fd = check(unsafe { sys::pipe_fd(handle) })?;
        Ok(unsafe { std::fs::File::from_raw_fd(fd) })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Drop a pipe end this process still holds.
pub fn pipe_close(handle: i32) -> io::Result<()> {
    let _ = handle;
    #[cfg(target_arch = "wasm32")]
    {
        check(unsafe { sys::pipe_close(handle) })?;
        Ok(())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Mode, owner, link count, size and mtime of `path` (relative paths use the cwd).
pub fn stat(path: &str, follow: bool) -> io::Result<Stat> {
    let p = absolute(path);
    let _ = (&p, follow);
    #[cfg(target_arch = "wasm32")]
    {
        let mut buf = [0u8; 32];
        check(unsafe { sys::stat(p.as_ptr(), p.len(), follow as i32, buf.as_mut_ptr()) })?;
        let u32_at = |i: usize| u32::from_le_bytes(buf[i..i + 4].try_into().unwrap());
        Ok(Stat {
            mode: u32_at(0),
            uid: u32_at(4),
            gid: u32_at(8),
            nlink: u32_at(12),
            size: u64::from_le_bytes(buf[16..24].try_into().unwrap()),
            mtime: i64::from_le_bytes(buf[24..32].try_into().unwrap()),
        })
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Set permission bits (`mode & 0o7777`).
pub fn chmod(path: &str, mode: u32) -> io::Result<()> {
    let p = absolute(path);
    let _ = (&p, mode);
    #[cfg(target_arch = "wasm32")]
    {
        check(unsafe { sys::chmod(p.as_ptr(), p.len(), mode) })?;
        Ok(())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// Exit status of a child that could not be started (`spawn` error), as shells report it.
pub fn spawn_error_status(e: &io::Error) -> i32 {
    match e.raw_os_error() {
        Some(errno::ENOENT) => 127,
        _ => 126,
    }
}
