//! One WASI container's processes live in several host processes (its supervisor, each
//! `exec`). This module makes them one process table: PIDs come from one counter for the
//! whole container (`containers/<id>/procs/next-pid`, under a file lock), and each holder
//! listens on a loopback control port (`procs/<host pid>.ctl`) so `kill PID` from any
//! process of the container reaches a guest held elsewhere. Loopback TCP works the same on
//! every OS (no Unix sockets or signals needed).

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Weak;
use std::time::Duration;

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

/// Listen for control requests for the guests of this holder (`procs` is the container's
/// process directory). The listener stops when `target` is gone.
pub fn listen(procs: &Path, target: Weak<dyn Target>) -> std::io::Result<()> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    let port = l.local_addr()?.port();
    let file = procs.join(format!("{}.ctl", std::process::id()));
    crate::store::atomic_write(&file, port.to_string().as_bytes()).map_err(|e| std::io::Error::other(e.to_string()))?;
    std::thread::Builder::new().name("ctl".into()).spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { continue };
            let Some(t) = target.upgrade() else { break };
            let _ = serve(conn, t.as_ref());
        }
        let _ = std::fs::remove_file(&file);
    })?;
    Ok(())
}

fn serve(conn: TcpStream, t: &dyn Target) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut line = String::new();
    BufReader::new(&conn).read_line(&mut line)?;
    let reply = match line.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["kill", pid, sig] => match (pid.parse(), sig.parse()) {
            (Ok(p), Ok(s)) if t.deliver(p, s) => "ok\n",
            _ => "esrch\n",
        },
        _ => "bad\n",
    };
    (&conn).write_all(reply.as_bytes())
}

/// Ask the holder with host PID `holder` to deliver `sig` to guest `pid`. Ok(false): it does
/// not hold it (or is gone).
pub fn send_kill(procs: &Path, holder: u32, pid: i32, sig: i32) -> bool {
    let Ok(port) = std::fs::read_to_string(procs.join(format!("{holder}.ctl"))) else { return false };
    let Ok(port) = port.trim().parse::<u16>() else { return false };
    let ask = || -> std::io::Result<bool> {
        let s = TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(1))?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        (&s).write_all(format!("kill {pid} {sig}\n").as_bytes())?;
        let mut reply = String::new();
        BufReader::new(&s).read_line(&mut reply)?;
        Ok(reply.trim() == "ok")
    };
    ask().unwrap_or(false)
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
