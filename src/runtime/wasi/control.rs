//! One WASI container's processes live in several host processes (its supervisor, each
//! `exec`). This module makes them one process table: PIDs come from one counter for the
//! whole container (`containers/<id>/procs/next-pid`, under a file lock), and each holder
//! listens on a loopback control port (`procs/<host pid>.ctl`) so `kill PID` from any
//! process of the container reaches a guest held elsewhere. Loopback TCP works the same on
//! every OS (no Unix sockets or signals needed).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Weak;

/// Where new PIDs come from.
pub struct Pids {
    /// `procs/next-pid` of the container (none: a bare root, numbered in this process).
    file: Option<PathBuf>,
    local: AtomicI32,
}

impl Pids {
    /// PIDs for the container whose process tables live in `procs` (PID 1 is the supervisor's
    /// first process; `reset` starts the count again, as a container start does).
    pub fn new(procs: Option<&Path>, reset: bool) -> Pids {
        let file = procs.map(|p| p.join("next-pid"));
        if let (Some(f), true) = (&file, reset) {
            let _ = crate::store::atomic_write(f, b"2");
        }
        Pids { file, local: AtomicI32::new(2) }
    }

    /// The next free PID.
    pub fn next(&self) -> i32 {
        let Some(path) = &self.file else { return self.local.fetch_add(1, Ordering::SeqCst) };
        let take = || -> std::io::Result<i32> {
            let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
            f.lock()?;
            let mut text = String::new();
            std::io::Read::read_to_string(&mut &f, &mut text)?;
            let n: i32 = text.trim().parse().unwrap_or(2).max(2);
            let next = if n >= 4_000_000 { 2 } else { n + 1 };
            use std::io::Seek;
            (&f).seek(std::io::SeekFrom::Start(0))?;
            f.set_len(0)?;
            (&f).write_all(next.to_string().as_bytes())?;
            Ok(n)
        };
        take().unwrap_or_else(|_| 1_000_000 + self.local.fetch_add(1, Ordering::SeqCst))
    }
}

/// What a holder answers on its control port.
pub trait Target: Send + Sync {
    /// Deliver `sig` to guest `pid` held here; false if it is not here.
    fn deliver(&self, pid: i32, sig: i32) -> bool;
}

/// Answer `kill PID SIG` requests for the guests of this holder on its control port
/// ([`crate::hostproc::port`]; `procs` is the container's process directory). Requests find
/// nothing once `target` is gone.
pub fn listen(procs: &Path, target: Weak<dyn Target>) -> std::io::Result<()> {
    crate::hostproc::port::serve(
        procs,
        "kill",
        std::sync::Arc::new(move |words: &[&str]| {
            let (Some(Ok(pid)), Some(Ok(sig))) = (words.get(1).map(|p| p.parse()), words.get(2).map(|s| s.parse()))
            else {
                return None;
            };
            target.upgrade().filter(|t| t.deliver(pid, sig)).map(|_| "ok".to_string())
        }),
    )
}

/// Ask the holder with host PID `holder` to deliver `sig` to guest `pid`. Ok(false): it does
/// not hold it (or is gone).
pub fn send_kill(procs: &Path, holder: u32, pid: i32, sig: i32) -> bool {
    crate::hostproc::port::request(procs, holder, &format!("kill {pid} {sig}")).is_some_and(|r| r == "ok")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    struct Rec(Mutex<Vec<(i32, i32)>>);
    impl Target for Rec {
        fn deliver(&self, pid: i32, sig: i32) -> bool {
            self.0.lock().unwrap().push((pid, sig));
            pid == 7
        }
    }

    #[test]
    fn pids_are_shared_and_kills_travel() {
        let d = tempfile::tempdir().unwrap();
        let a = Pids::new(Some(d.path()), true);
        let b = Pids::new(Some(d.path()), false);
        assert_eq!((a.next(), b.next(), a.next()), (2, 3, 4));
        let rec: Arc<dyn Target> = Arc::new(Rec(Mutex::new(vec![])));
        listen(d.path(), Arc::downgrade(&rec)).unwrap();
        assert!(send_kill(d.path(), std::process::id(), 7, 15));
        assert!(!send_kill(d.path(), std::process::id(), 8, 15));
        assert!(!send_kill(d.path(), 1, 7, 15), "no such holder");
    }
}
