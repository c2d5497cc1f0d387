//! The sandbox every test runs in: a fresh `SKIFF_ROOT`, a work dir, and a command builder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The skiff under test: the one cargo built, or the program `SKIFF_TEST_BIN` names (a
/// script that runs the Windows build under Wine: `.ci/windows.sh`).
pub fn skiff_bin() -> PathBuf {
    match std::env::var_os("SKIFF_TEST_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_skiff")),
    }
}

/// Compiled modules are shared by all tests (as a user's cache is shared by all runs), so
/// each test does not compile the guests again.
pub fn shared_module_cache() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("module-cache");
    std::fs::create_dir_all(&p).unwrap();
    p
}

pub struct Sandbox {
    pub root: tempfile::TempDir,
    pub work: tempfile::TempDir,
}

/// What a command did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "exit {}\nstdout:\n{}\nstderr:\n{}", self.code, self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn code(self, want: i32) -> Run {
        assert_eq!(self.code, want, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox { root: tempfile::tempdir().unwrap(), work: tempfile::tempdir().unwrap() }
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(skiff_bin());
        c.args(args)
            .current_dir(self.work.path())
            .env("SKIFF_ROOT", self.root.path())
            .env("SKIFF_MODULE_CACHE", shared_module_cache())
            .stdin(Stdio::null());
        c
    }

    /// Run `skiff ARGS` with no stdin.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().unwrap())
    }

    /// Run `skiff ARGS` with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Run {
        let mut c = self.cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        Run::from(c.output().unwrap())
    }

    /// Run `skiff ARGS` with `input` on stdin.
    pub fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        let mut child =
            self.cmd(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        Run::from(child.wait_with_output().unwrap())
    }

    /// Run `skiff ARGS` with the file `input` on stdin.
    pub fn run_stdin_file(&self, args: &[&str], input: &Path) -> Run {
        Run::from(self.cmd(args).stdin(std::fs::File::open(input).unwrap()).output().unwrap())
    }

    /// `skiff run --rm busybox sh -c SCRIPT`, expected to succeed; its stdout.
    pub fn sh(&self, script: &str) -> String {
        self.run(&["run", "--rm", "busybox", "sh", "-c", script]).ok().stdout
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port()
}

/// Make sure the Debian package `pkg` providing `bin` is installed, installing it with apt
/// if needed (CI starts with nothing). Returns `None`, after printing why, only where the
/// tool cannot exist (not Linux); an install that fails on Linux fails the test.
pub fn require_tool(bin: &str, pkg: &str) -> Option<PathBuf> {
    require_where(bin, pkg, &|| {
        std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(bin)).find(|p| p.is_file()))
    })
}

fn require_where(bin: &str, pkg: &str, find: &dyn Fn() -> Option<PathBuf>) -> Option<PathBuf> {
    static APT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: {bin} comes from Debian's {pkg} package, which needs Linux");
        return None;
    }
    if let Some(p) = find() {
        return Some(p);
    }
    let _guard = APT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = find() {
        return Some(p);
    }
    let apt = |args: &[&str]| {
        let out = Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=300", "-y", "-q"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .expect("apt-get runs");
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    if !apt(&["install", "--no-install-recommends", pkg]).0 {
        let (ok, err) = apt(&["update"]);
        assert!(ok, "apt-get update failed: {err}");
        let (ok, err) = apt(&["install", "--no-install-recommends", pkg]);
        assert!(ok, "apt-get install {pkg} failed: {err}");
    }
    Some(find().unwrap_or_else(|| panic!("{pkg} installed but {bin} is not on PATH")))
}

impl Drop for Sandbox {
    /// A test that failed half-way may leave detached containers: remove them with the root.
    fn drop(&mut self) {
        let dir = self.root.path().join("containers");
        let ids: Vec<String> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids.iter().map(String::as_str));
            let _ = self.cmd(&args).output();
        }
    }
}

/// Native bridge networking is host-wide (bridges, subnets, the firewall table), and every
/// sandbox's networks start at the same subnets: tests that attach native containers to
/// bridges take this lock, so they never overlap (within this run or with another).
pub fn native_net_lock() -> std::fs::File {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(std::env::temp_dir().join("skiff-tests-native-net.lock"))
        .unwrap();
    f.lock().unwrap();
    f
}

/// A command on a pseudo-terminal of its own (stdin, stdout and stderr), of a given size:
/// the test types into it and reads what it prints, as a person at a terminal.
#[cfg(unix)]
pub struct Pty {
    master: std::fs::File,
    child: std::process::Child,
    out: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

#[cfg(unix)]
impl Pty {
    pub fn spawn(mut cmd: Command, rows: u16, cols: u16) -> Pty {
        use std::os::fd::{FromRawFd, OwnedFd};
        let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
        let (mut m, mut s) = (0, 0);
        // SAFETY: out pointers to two ints; a valid winsize; no name or termios wanted.
        let rc = unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), &ws) };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: openpty returned two fresh descriptors that nothing else owns.
        let (master, slave) = unsafe { (std::fs::File::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
        cmd.stdin(slave.try_clone().unwrap()).stdout(slave.try_clone().unwrap()).stderr(slave);
        let child = cmd.spawn().unwrap();
        drop(cmd); // our copies of the slave: the master reads EIO once the child's are closed
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (mut reader, sink) = (master.try_clone().unwrap(), out.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = std::io::Read::read(&mut reader, &mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty { master, child, out }
    }

    /// The terminal is `rows` x `cols` now (as a window resized).
    pub fn resize(&self, rows: u16, cols: u16) {
        use std::os::fd::AsRawFd;
        let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCSWINSZ on our pty master with a valid winsize.
        assert_eq!(unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) }, 0);
    }

    pub fn type_in(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
    }

    /// All it printed so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    /// Wait (up to 20 s) until what it printed satisfies `cond`; false if it never did.
    pub fn wait_for(&self, mut cond: impl FnMut(&str) -> bool) -> bool {
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(20) {
            if cond(&self.text()) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        false
    }

    /// Its exit code (killed after 20 s).
    pub fn wait(&mut self) -> Option<i32> {
        let start = std::time::Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            if start.elapsed() > std::time::Duration::from_secs(20) {
                let _ = self.child.kill();
                return self.child.wait().unwrap().code();
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}
