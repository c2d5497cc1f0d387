//! Signals to a container's owner process (its supervisor, or the attached `run`): `stop`
//! (STOPSIGNAL, then SIGKILL after a timeout), `kill`, the SIGSTOP/SIGCONT of `pause`, and
//! signal names. The owner records how the container ended (see `supervisor`).

use super::{Container, Status};
use crate::store::Store;
use std::time::{Duration, Instant};

/// Linux's numbers (Docker's images name signals by them); libc's where the host has them.
pub const SIGTERM: i32 = 15;
pub const SIGKILL: i32 = 9;
#[cfg(unix)]
pub const SIGCONT: i32 = libc::SIGCONT;
#[cfg(unix)]
pub const SIGSTOP: i32 = libc::SIGSTOP;
#[cfg(not(unix))]
pub const SIGCONT: i32 = 18;
#[cfg(not(unix))]
pub const SIGSTOP: i32 = 19;

/// Send `sig` to a running container's supervisor; wait up to `timeout` for it to end.
/// Returns whether it ended.
pub fn signal_and_wait(c: &Container, sig: i32, timeout: Duration) -> bool {
    if !c.state.is_alive() {
        return true;
    }
    if c.state.status == Status::Paused {
        send(c.state.pid, SIGCONT); // a frozen supervisor takes no signal but KILL
    }
    send(c.state.pid, sig);
    let start = Instant::now();
    while super::process_alive(c.state.pid) {
        if start.elapsed() >= timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

/// SIGKILL a running container's owner and wait for it to go.
pub fn kill_now(c: &Container) {
    signal_and_wait(c, SIGKILL, Duration::from_secs(5));
}

#[cfg(unix)]
pub fn send(pid: u32, sig: i32) {
    // SAFETY: kill(2) with a PID we recorded; a stale one fails harmlessly (ESRCH).
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

#[cfg(not(unix))]
pub fn send(_: u32, _: i32) {}

/// Stop: the image's STOPSIGNAL (SIGTERM by default), then SIGKILL after the timeout.
pub fn stop(store: &Store, c: &Container, timeout: Duration) {
    let stop_signal = store
        .find_image(&c.image.to_string())
        .ok()
        .and_then(|i| i.config.config.and_then(|cc| cc.stop_signal))
        .and_then(|s| signal_number(&s))
        .unwrap_or(SIGTERM);
    if !signal_and_wait(c, stop_signal, timeout) {
        signal_and_wait(c, SIGKILL, Duration::from_secs(5));
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
