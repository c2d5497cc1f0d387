//! Signals to a container from commands: `stop` (STOPSIGNAL, then SIGKILL after a timeout),
//! `kill -s`, and signal names. A signal goes to the container's owner process (its
//! supervisor, or the attached `run`), which hands it to the main process through the
//! backend and records how the container ended; SIGKILL ends the owner itself, and what it
//! held is cleaned up by the backend.

use super::{Container, Status};
use crate::hostproc::{self, sig};
use crate::store::Store;
use std::time::{Duration, Instant};

pub const SIGTERM: i32 = sig::TERM;
pub const SIGKILL: i32 = sig::KILL;

/// Send `sig` to a running container's owner; wait up to `timeout` for it to end. Returns
/// whether it ended. A paused container is thawed first (a frozen process takes no signal).
pub fn signal_and_wait(store: &Store, c: &Container, sig: i32, timeout: Duration) -> bool {
    if !c.state.is_alive() {
        return true;
    }
    if c.state.status == Status::Paused {
        if let (Ok(b), Ok(spec)) = (c.backend(store), c.spec(store)) {
            let _ = b.resume(&spec);
        }
    }
    crate::events::container(store, c, "kill", &[("signal", &sig.to_string())]);
    // KILL: the owner kills every process of the container and records it; if it does not
    // answer, it is killed itself below.
    hostproc::signal_holder(&c.dir(store).join("procs"), c.state.pid, sig);
    let start = Instant::now();
    while hostproc::alive(c.state.pid) {
        if start.elapsed() >= timeout {
            if sig == SIGKILL {
                hostproc::signal(c.state.pid, SIGKILL);
                std::thread::sleep(Duration::from_millis(20));
                cleanup(store, c);
                return !hostproc::alive(c.state.pid);
            }
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    if sig == SIGKILL {
        cleanup(store, c);
    }
    true
}

/// SIGKILL a running container's owner, wait for it to go, and clean up what it held.
pub fn kill_now(store: &Store, c: &Container) {
    signal_and_wait(store, c, SIGKILL, Duration::from_secs(5));
}

/// What the backend keeps for a container whose owner is gone (mounts, runtime state,
/// other processes) is removed.
pub fn cleanup(store: &Store, c: &Container) {
    if let (Ok(b), Ok(spec)) = (c.backend(store), c.spec(store)) {
        let _ = b.cleanup(&spec);
    }
}

/// Stop: the image's STOPSIGNAL (SIGTERM by default), then SIGKILL after the timeout.
pub fn stop(store: &Store, c: &Container, timeout: Duration) {
    let stop_signal = store
        .find_image(&c.image.to_string())
        .ok()
        .and_then(|i| i.config.config.and_then(|cc| cc.stop_signal))
        .and_then(|s| signal_number(&s))
        .unwrap_or(SIGTERM);
    let was_running = c.state.is_alive();
    if !signal_and_wait(store, c, stop_signal, timeout) {
        signal_and_wait(store, c, SIGKILL, Duration::from_secs(5));
    }
    if was_running {
        crate::events::container(store, c, "stop", &[]);
    }
}

/// `SIGTERM`, `TERM`, `15` → 15 (the numbers are Linux's, which Docker's images use).
pub fn signal_number(s: &str) -> Option<i32> {
    if let Ok(n) = s.parse::<i32>() {
        return (1..=64).contains(&n).then_some(n);
    }
    let name = s.to_ascii_uppercase();
    let name = name.strip_prefix("SIG").unwrap_or(&name);
    const NAMES: [(&str, i32); 14] = [
        ("HUP", 1),
        ("INT", 2),
        ("QUIT", 3),
        ("ILL", 4),
        ("ABRT", 6),
        ("KILL", 9),
        ("USR1", 10),
        ("SEGV", 11),
        ("USR2", 12),
        ("PIPE", 13),
        ("ALRM", 14),
        ("TERM", 15),
        ("CHLD", 17),
        ("WINCH", 28),
    ];
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}
