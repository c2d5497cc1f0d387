//! Host processes, per OS: whether one is alive, signalling it, stopping and continuing it,
//! and what it uses. Supervisors and `exec` holders are host processes; everything that
//! checks on them or signals them goes through here.
//!
//! * Linux and macOS: POSIX signals. `stop` is SIGTERM to the supervisor, `pause` SIGSTOP;
//!   "kill the container" is a real-time signal on Linux (the supervisor lives on to record
//!   the exit), SIGKILL on macOS (which has none to spare).
//! * Windows: no signals. Liveness is a process handle (`OpenProcess`, `GetExitCodeProcess`);
//!   `pause`/`unpause` suspend and resume the process from outside (`NtSuspendProcess`, as
//!   SIGSTOP does); every other signal travels over the holder's control port ([`port`],
//!   the one the WASI runtime already uses to reach guests held by another process) and the
//!   holder acts on it as the POSIX signal handler would. A KILL nobody answers terminates
//!   the process (status 137).

pub mod port;
#[cfg(windows)]
mod windows;

use std::path::Path;
use std::sync::Arc;

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
/// alive to record the exit and clean up. Elsewhere there is none (on Windows the request
/// goes over the control port instead), and on macOS the owner itself is killed.
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

/// Send Linux signal `sig` to host process `pid` directly. A stale PID fails harmlessly.
/// Without POSIX signals (Windows) only what can be done from outside is done: KILL ends the
/// process (status 137), STOP and CONT suspend and resume it; use [`signal_holder`] to reach
/// a holder's own handling.
pub fn signal(pid: u32, sig: i32) {
    if pid == 0 {
        return;
    }
    #[cfg(unix)]
    // SAFETY: kill(2) with a PID we recorded; a stale one fails with ESRCH.
    unsafe {
        libc::kill(pid as libc::pid_t, host_signal(sig));
    }
    #[cfg(windows)]
    match sig {
        sig::KILL => windows::terminate(pid, 128 + sig::KILL as u32),
        sig::STOP => windows::suspend(pid, true),
        sig::CONT => windows::suspend(pid, false),
        _ => {}
    }
}

/// Send Linux signal `sig` to `pid`, a holder of a container's processes (its supervisor,
/// an attached `run`, an `exec`) whose process directory is `dir`: how `stop`, `kill`,
/// `pause` and the end of a container reach them. KILL means "kill the container now": the
/// holder ends its guests and records 137, and is killed itself only if it does not go.
pub fn signal_holder(dir: &Path, pid: u32, sig: i32) {
    if pid == 0 {
        return;
    }
    #[cfg(unix)]
    {
        let _ = dir;
        match (sig, kill_container_signal()) {
            (sig::KILL, Some(k)) => signal_raw(pid, k),
            _ => signal(pid, sig),
        }
    }
    #[cfg(not(unix))]
    {
        if matches!(sig, sig::STOP | sig::CONT) {
            return signal(pid, sig); // frozen from outside: a frozen holder answers nothing
        }
        let answered = port::request(dir, pid, &format!("signal {sig}")).is_some_and(|r| r == "ok");
        if !answered && sig == sig::KILL {
            signal(pid, sig);
        }
    }
}

/// What this process does with the signals [`signal_holder`] sends it, in Linux numbering
/// (KILL: kill the container). On Unix they arrive as POSIX signals and the caller waits for
/// them itself (`sigwait`); elsewhere this opens the process's control port in `dir` (the
/// container's process directory) and calls `handler` for each, and on Windows a console's
/// Ctrl-C and Ctrl-Break come as INT and QUIT.
pub fn receive_signals(dir: &Path, handler: Arc<dyn Fn(i32) + Send + Sync>) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let _ = (dir, handler);
        Ok(())
    }
    #[cfg(not(unix))]
    {
        on_console_signals(handler.clone());
        port::serve(
            dir,
            "signal",
            Arc::new(move |words: &[&str]| {
                let sig = words.get(1)?.parse::<i32>().ok().filter(|s| (1..=64).contains(s))?;
                let handler = handler.clone();
                // Answer first: the handler may end the process.
                std::thread::spawn(move || handler(sig));
                Some("ok".into())
            }),
        )
    }
}

/// Windows: a console's Ctrl-C, Ctrl-Break and closing go to `handler` as INT, QUIT and
/// HUP. Elsewhere the terminal sends POSIX signals, taken with `sigwait`: nothing to do.
pub fn on_console_signals(handler: Arc<dyn Fn(i32) + Send + Sync>) {
    #[cfg(windows)]
    windows::on_console_signal(handler);
    #[cfg(not(windows))]
    let _ = handler;
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
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        // Signal 0 checks existence only; EPERM means it exists but is not ours.
        let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
        let exists = rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        exists && !is_zombie(pid)
    }
    #[cfg(windows)]
    {
        windows::alive(pid)
    }
}

/// When process `pid` started, in a unit of the host's (Linux: clock ticks since boot from
/// `/proc/<pid>/stat`; Windows: its creation time), so a reused PID is told from the process
/// that had it; `None` where that cannot be read.
pub fn start_time(pid: u32) -> Option<u64> {
    #[cfg(windows)]
    {
        windows::start_time(pid)
    }
    #[cfg(not(windows))]
    {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name (field 2) may hold spaces and parentheses: count from its end.
        let rest = &stat[stat.rfind(')')? + 2..];
        rest.split_whitespace().nth(19)?.parse().ok()
    }
}

/// Resident memory (bytes) and CPU time (milliseconds) of a host process (Linux's /proc,
/// Windows' process counters; elsewhere zeros).
pub fn usage(pid: u32) -> (u64, u64) {
    #[cfg(windows)]
    {
        windows::usage(pid)
    }
    #[cfg(not(windows))]
    {
        let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
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
}

/// The host's memory in bytes (0 if unknown).
pub fn host_memory() -> u64 {
    #[cfg(windows)]
    {
        windows::host_memory()
    }
    #[cfg(not(windows))]
    {
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
}

/// Make this process's standard output go nowhere (a detached supervisor, once it has told
/// its starter it is up: the starter stops reading, and a write to the closed pipe must not
/// fail the supervisor).
pub fn detach_stdout() {
    #[cfg(unix)]
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::unix::io::AsRawFd;
        // SAFETY: both fds are valid; dup2 replaces fd 1 atomically.
        unsafe {
            libc::dup2(null.as_raw_fd(), 1);
        }
    }
    #[cfg(windows)]
    windows::detach_stdout();
}

/// Prepare `cmd` to start a process that outlives this one and takes no signals meant for
/// this one's terminal (a new session on Unix; on Windows no console and a new process
/// group, so a Ctrl-C here does not reach it).
pub fn detach(cmd: &mut std::process::Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: setsid is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        const DETACHED_PROCESS: u32 = 0x0000_0008;
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        cmd.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
        windows::keep_std_handles();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_and_start_time() {
        assert!(alive(std::process::id()));
        assert!(!alive(0));
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--list")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let started = start_time(pid);
        child.wait().unwrap();
        assert!(!alive(pid), "a reaped child is gone");
        assert!(started.is_some() || !cfg!(any(target_os = "linux", windows)));
    }
}
