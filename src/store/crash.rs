//! Fault injection for the crash-consistency tests: `SKIFF_CRASH_AT=<point>:<n>` makes the
//! process kill itself with SIGKILL (exactly what `kill -9` does: no destructor, no flush) the
//! `n`-th time it passes the named point. Points sit where a write is half-way: between a temp
//! file and its rename, between a blob and the index that names it, between a container's
//! directory and its record. `SKIFF_CRASH_AT=list` prints every point passed to stderr (the
//! tests use it to find out how many kill points a command has). Unset, a point costs one
//! relaxed atomic load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

enum Plan {
    Off,
    List,
    At { point: String, n: u64 },
}

fn plan() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| match std::env::var("SKIFF_CRASH_AT") {
        Ok(v) if v == "list" => Plan::List,
        Ok(v) => match v.rsplit_once(':').and_then(|(p, n)| Some((p.to_string(), n.parse().ok()?))) {
            Some((point, n)) => Plan::At { point, n },
            None => Plan::Off,
        },
        Err(_) => Plan::Off,
    })
}

/// Pass the named kill point (see the module doc).
pub fn point(name: &str) {
    static HITS: Mutex<Vec<(String, u64)>> = Mutex::new(Vec::new());
    static ANY: AtomicU64 = AtomicU64::new(0);
    match plan() {
        Plan::Off => {}
        Plan::List => {
            ANY.fetch_add(1, Ordering::Relaxed);
            eprintln!("crash-point {name}");
        }
        Plan::At { point, n } => {
            if point != name && point != "any" {
                return;
            }
            let mut hits = HITS.lock().unwrap_or_else(|p| p.into_inner());
            let count = match hits.iter_mut().find(|(p, _)| p == point) {
                Some((_, c)) => {
                    *c += 1;
                    *c
                }
                None => {
                    hits.push((point.clone(), 1));
                    1
                }
            };
            if count == *n {
                die();
            }
        }
    }
}

fn die() -> ! {
    #[cfg(unix)]
    // SAFETY: kill(2) on our own process; SIGKILL cannot be caught.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    std::process::abort()
}
