//! What a WASI container's processes move through their sockets and files (`stats`' NET I/O
//! and BLOCK I/O): counted as the bytes pass, per holder process (supervisor, `exec`s),
//! published to `procs/<host pid>.io` once a second when they changed, summed by `stats`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

/// Bytes received and sent on sockets, read and written in files.
#[derive(Default)]
pub struct Counters {
    pub net_rx: AtomicU64,
    pub net_tx: AtomicU64,
    pub blk_read: AtomicU64,
    pub blk_write: AtomicU64,
}

thread_local! {
    static CURRENT: std::cell::RefCell<Option<Arc<Counters>>> = const { std::cell::RefCell::new(None) };
}

/// The counters the calling thread's guest process adds to.
pub fn set_current(c: Option<Arc<Counters>>) {
    CURRENT.with(|x| *x.borrow_mut() = c);
}

fn add(f: impl Fn(&Counters) -> &AtomicU64, n: u64) {
    if n > 0 {
        CURRENT.with(|x| {
            if let Some(c) = x.borrow().as_ref() {
                f(c).fetch_add(n, Ordering::Relaxed);
            }
        });
    }
}

pub fn net_rx(n: u64) {
    add(|c| &c.net_rx, n);
}
pub fn net_tx(n: u64) {
    add(|c| &c.net_tx, n);
}
pub fn blk_read(n: u64) {
    add(|c| &c.blk_read, n);
}
pub fn blk_write(n: u64) {
    add(|c| &c.blk_write, n);
}

fn file(procs: &Path, pid: u32) -> PathBuf {
    procs.join(format!("{pid}.io"))
}

/// Publish `c` for this host process into `procs/` while it lives.
pub fn publish(procs: &Path, c: Weak<Counters>) {
    let path = file(procs, std::process::id());
    let _ = std::thread::Builder::new().name("iostat".into()).spawn(move || {
        let mut last = String::new();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            let Some(c) = c.upgrade() else { return };
            let now = [&c.net_rx, &c.net_tx, &c.blk_read, &c.blk_write]
                .map(|a| a.load(Ordering::Relaxed).to_string())
                .join(" ");
            if now != last {
                let _ = crate::store::atomic_write(&path, now.as_bytes());
                last = now;
            }
        }
    });
}

/// The sums over the container's holders `pids` (net rx, net tx, read, written).
pub fn totals(procs: &Path, pids: &[u32]) -> [u64; 4] {
    let mut t = [0u64; 4];
    for pid in pids {
        let Ok(text) = std::fs::read_to_string(file(procs, *pid)) else { continue };
        for (i, v) in text.split_whitespace().take(4).enumerate() {
            t[i] += v.parse::<u64>().unwrap_or(0);
        }
    }
    t
}
