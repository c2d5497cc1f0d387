//! Host processes, per OS: whether one is alive, signalling it, stopping and continuing it,
//! and what it uses. Supervisors and `exec` holders are host processes; everything that
//! checks on them or signals them goes through here.

/// Linux's signal numbers (Docker's images and skiff's guests name signals by them).
pub mod sig {
    pub const HUP: i32 = 1;
    pub const INT: i32 = 2;
    pub const QUIT: i32 = 3;
    pub const KILL: i32 = 9;
    pub const USR1: i32 = 10;
    pub const USR2: i32 = 12;
    pub const TERM: i32 = 15;
    pub const CONT: i32 = 18;
    pub const STOP: i32 = 19;
}

/// The host signal a container's owner takes as "kill the container now" (SIGKILL to every
/// process of it, as `docker kill` does): a real-time signal on Linux, so the owner stays
/// alive to record the exit and clean up. Elsewhere there is none, and the owner itself is
/// killed.
pub fn kill_container_signal() -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        Some(libc::SIGRTMIN() + 1)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Send host signal `sig` (already in the host's numbering) to `pid`.
#[cfg(unix)]
pub fn signal_raw(pid: u32, sig: i32) {
    if pid != 0 {
        // SAFETY: kill(2) with a recorded PID.
        unsafe {
            libc::kill(pid as libc::pid_t, sig);
        }
    }
}

/// The host's number for Linux signal `sig` (they differ on macOS for a few).
#[cfg(unix)]
pub fn host_signal(sig: i32) -> i32 {
    match sig {
        sig::USR1 => libc::SIGUSR1,
        sig::USR2 => libc::SIGUSR2,
        sig::CONT => libc::SIGCONT,
        sig::STOP => libc::SIGSTOP,
        17 => libc::SIGCHLD,
        20 => libc::SIGTSTP,
        23 => libc::SIGURG,
        28 => libc::SIGWINCH,
        other => other,
    }
}

/// The Linux number of host signal `sig`.
#[cfg(unix)]
pub fn linux_signal(sig: i32) -> i32 {
    match sig {
        s if s == libc::SIGUSR1 => sig::USR1,
        s if s == libc::SIGUSR2 => sig::USR2,
        s if s == libc::SIGCONT => sig::CONT,
        s if s == libc::SIGSTOP => sig::STOP,
        s if s == libc::SIGCHLD => 17,
        s if s == libc::SIGTSTP => 20,
        s if s == libc::SIGURG => 23,
        s if s == libc::SIGWINCH => 28,
        other => other,
    }
}

/// Send Linux signal `sig` to host process `pid`. A stale PID fails harmlessly.
#[cfg(unix)]
pub fn signal(pid: u32, sig: i32) {
    if pid == 0 {
        return;
    }
    // SAFETY: kill(2) with a PID we recorded; a stale one fails with ESRCH.
    unsafe {
        libc::kill(pid as libc::pid_t, host_signal(sig));
    }
}

#[cfg(not(unix))]
pub fn signal(pid: u32, sig: i32) {
    // Without POSIX signals, a stop or kill ends the process; freezing is not offered.
    if pid != 0 && pid != std::process::id() && !matches!(sig, sig::STOP | sig::CONT | 0) {
        let _ = std::process::Command::new("taskkill").args(["/F", "/PID", &pid.to_string()]).output();
    }
}

/// Whether `/proc` says `pid` has exited and waits to be reaped (Linux; elsewhere: no). A
/// leader thread that exited while its other threads still finish shows as a zombie too, but
/// the process still holds its files (sockets): it counts as gone only with no threads left.
#[cfg(unix)]
fn is_zombie(pid: u32) -> bool {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { return false };
    let field = |name: &str| status.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).unwrap_or("");
    field("State:").starts_with('Z') && field("Threads:").parse::<u32>().map_or(true, |n| n <= 1)
}

/// Whether the host process `pid` exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    if pid == 0 {
        return false;
    }
    #[cfg(unix)]
    {
        // Signal 0 checks existence only; EPERM means it exists but is not ours.
        let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
        let exists = rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        exists && !is_zombie(pid)
    }
    #[cfg(not(unix))]
    {
        pid == std::process::id()
            || std::process::Command::new("tasklist")
                .args(["/FI", &format!("PID eq {pid}"), "/NH"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).contains(&pid.to_string()))
                .unwrap_or(false)
    }
}

/// Resident memory (bytes) and CPU time (milliseconds) of a host process (Linux's /proc;
/// elsewhere zeros).
pub fn usage(pid: u32) -> (u64, u64) {
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024;
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            Some(rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    (rss, ticks * 10) // USER_HZ is 100
}

/// The host's memory in bytes (0 if unknown).
pub fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024
}
