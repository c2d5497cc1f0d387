//! Signals, the process table and identity through the `skiff` imports (`docs/guest-abi.md`,
//! "Signals", "Process table", "Users", "System"): WASI preview 1 has none of them.
//! Signal numbers are Linux's (`SIGTERM` 15), so `kill -15` means what it means on Linux.

use std::io;

#[cfg(target_arch = "wasm32")]
use crate::check;

/// Linux signal numbers (what `kill -l` lists).
pub mod sig {
    pub const HUP: i32 = 1;
    pub const INT: i32 = 2;
    pub const QUIT: i32 = 3;
    pub const ILL: i32 = 4;
    pub const TRAP: i32 = 5;
    pub const ABRT: i32 = 6;
    pub const BUS: i32 = 7;
    pub const FPE: i32 = 8;
    pub const KILL: i32 = 9;
    pub const USR1: i32 = 10;
    pub const SEGV: i32 = 11;
    pub const USR2: i32 = 12;
    pub const PIPE: i32 = 13;
    pub const ALRM: i32 = 14;
    pub const TERM: i32 = 15;
    pub const CHLD: i32 = 17;
    pub const CONT: i32 = 18;
    pub const STOP: i32 = 19;
    pub const TSTP: i32 = 20;
    pub const TTIN: i32 = 21;
    pub const TTOU: i32 = 22;
    pub const URG: i32 = 23;
    pub const XCPU: i32 = 24;
    pub const XFSZ: i32 = 25;
    pub const VTALRM: i32 = 26;
    pub const PROF: i32 = 27;
    pub const WINCH: i32 = 28;
    pub const IO: i32 = 29;
    pub const PWR: i32 = 30;
    pub const SYS: i32 = 31;

    /// Names without `SIG`, indexed by number (index 0 is unused), as `kill -l` prints them.
    pub const NAMES: [&str; 32] = [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM",
        "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF",
        "WINCH", "IO", "PWR", "SYS",
    ];

    /// A signal by name (`TERM`, `SIGTERM`, `term`) or number (`15`).
    pub fn parse(s: &str) -> Option<i32> {
        if let Ok(n) = s.parse::<i32>() {
            return (0..32).contains(&n).then_some(n);
        }
        let up = s.to_ascii_uppercase();
        let name = up.strip_prefix("SIG").unwrap_or(&up);
        if name == "IOT" {
            return Some(ABRT);
        }
        if name == "POLL" {
            return Some(IO);
        }
        NAMES.iter().position(|n| !n.is_empty() && *n == name).map(|i| i as i32)
    }

    /// The name of a signal number (`TERM`), or the number as text.
    pub fn name(n: i32) -> String {
        match NAMES.get(n as usize) {
            Some(s) if !s.is_empty() && n > 0 => s.to_string(),
            _ => n.to_string(),
        }
    }
}

/// What a process does when a signal arrives ([`sig_action`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The default action (the host applies it: most signals end the process with 128+N;
    /// CHLD, CONT, URG, WINCH are ignored; PID 1 ignores every default-action signal
    /// except KILL, as init does in a PID namespace).
    Default = 0,
    /// The signal is dropped.
    Ignore = 1,
    /// The signal is kept pending for [`sig_take`]; blocking imports return `EINTR`.
    Catch = 2,
}

/// WASI errno values of these imports (negated by the host).
pub mod errno {
    pub const EINTR: i32 = 27;
    pub const EINVAL: i32 = 28;
    pub const ENOTTY: i32 = 59;
    pub const EPERM: i32 = 63;
    pub const ESRCH: i32 = 71;
}

#[cfg(target_arch = "wasm32")]
mod sys {
    #[link(wasm_import_module = "skiff")]
    extern "C" {
        pub fn kill(pid: i32, sig: i32) -> i32;
        pub fn sig_action(sig: i32, action: i32) -> i32;
        pub fn sig_take() -> i32;
        pub fn sleep_ms(ms: i64) -> i32;
        pub fn getpid() -> i32;
        pub fn getppid() -> i32;
        pub fn proc_list(out: *mut u8, out_len: usize) -> i32;
        pub fn ids(out: *mut u32, out_len: usize) -> i32;
        pub fn chown(path: *const u8, path_len: usize, uid: u32, gid: u32, follow: i32) -> i32;
        pub fn tty_size(fd: i32, out: *mut u16) -> i32;
        pub fn tty_mode(fd: i32, mode: i32) -> i32;
        pub fn sysinfo(out: *mut u8, out_len: usize) -> i32;
    }
}

fn unsupported<T>() -> io::Result<T> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Send signal `sig` to process `pid` of this container (`sig` 0: only check it exists).
pub fn kill(pid: i32, sig: i32) -> io::Result<()> {
    let _ = (pid, sig);
    #[cfg(target_arch = "wasm32")]
    {
        check(unsafe { sys::kill(pid, sig) })?;
        return Ok(());
    }
    #[allow(unreachable_code)]
    unsupported()
}

/// Set what this process does on `sig`; returns the previous action.
pub fn sig_action(sig: i32, action: Action) -> io::Result<Action> {
    let _ = (sig, action);
    #[cfg(target_arch = "wasm32")]
    {
        let prev = check(unsafe { sys::sig_action(sig, action as i32) })?;
        return Ok(match prev {
            1 => Action::Ignore,
            2 => Action::Catch,
            _ => Action::Default,
        });
    }
    #[allow(unreachable_code)]
    unsupported()
}

/// The lowest-numbered caught signal that is pending (and clear it), if any.
pub fn sig_take() -> Option<i32> {
    #[cfg(target_arch = "wasm32")]
    {
        let n = unsafe { sys::sig_take() };
        return (n > 0).then_some(n);
    }
    #[allow(unreachable_code)]
    None
}

/// Sleep; `Err(EINTR)` when a caught signal arrived first (take it with [`sig_take`]).
pub fn sleep(d: std::time::Duration) -> io::Result<()> {
    #[cfg(target_arch = "wasm32")]
    {
        let ms = d.as_millis().min(i64::MAX as u128) as i64;
        check(unsafe { sys::sleep_ms(ms) })?;
        return Ok(());
    }
    #[allow(unreachable_code)]
    {
        std::thread::sleep(d);
        Ok(())
    }
}

/// Whether an error is "interrupted by a signal".
pub fn interrupted(e: &io::Error) -> bool {
    e.raw_os_error() == Some(errno::EINTR) || e.kind() == io::ErrorKind::Interrupted
}

/// This process's PID in the container (1 for its first process).
pub fn getpid() -> i32 {
    #[cfg(target_arch = "wasm32")]
    {
        return unsafe { sys::getpid() };
    }
    #[allow(unreachable_code)]
    1
}

/// The parent's PID (0 for PID 1).
pub fn getppid() -> i32 {
    #[cfg(target_arch = "wasm32")]
    {
        return unsafe { sys::getppid() };
    }
    #[allow(unreachable_code)]
    0
}

/// One process of the container, as [`proc_list`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    pub uid: u32,
    /// `R` running, `S` sleeping (blocked in the host), `T` stopped (paused), `Z` ended.
    pub state: char,
    /// Start time, milliseconds since the Unix epoch.
    pub start_ms: i64,
    /// CPU time used, milliseconds.
    pub cpu_ms: i64,
    /// Resident memory (the guest's linear memory), KiB.
    pub rss_kb: u64,
    /// The command line, arguments joined by spaces.
    pub args: String,
}

impl ProcInfo {
    /// Parse one line of `proc_list`'s text (tab-separated fields).
    pub fn parse(line: &str) -> Option<ProcInfo> {
        let f: Vec<&str> = line.splitn(8, '\t').collect();
        if f.len() < 8 {
            return None;
        }
        Some(ProcInfo {
            pid: f[0].parse().ok()?,
            ppid: f[1].parse().ok()?,
            uid: f[2].parse().ok()?,
            state: f[3].chars().next()?,
            start_ms: f[4].parse().ok()?,
            cpu_ms: f[5].parse().ok()?,
            rss_kb: f[6].parse().ok()?,
            args: f[7].to_string(),
        })
    }
}

/// Fetch a text answer from an import that returns the needed length (growing the buffer).
#[cfg(target_arch = "wasm32")]
fn text_import(f: impl Fn(*mut u8, usize) -> i32) -> io::Result<String> {
    let mut cap = 4096usize;
    loop {
        let mut buf = vec![0u8; cap];
        let n = check(f(buf.as_mut_ptr(), buf.len()))? as usize;
        if n <= cap {
            buf.truncate(n);
            return Ok(String::from_utf8_lossy(&buf).into_owned());
        }
        cap = n;
    }
}

/// Every process of this container, by PID.
pub fn proc_list() -> io::Result<Vec<ProcInfo>> {
    #[cfg(target_arch = "wasm32")]
    {
        let text = text_import(|p, n| unsafe { sys::proc_list(p, n) })?;
        return Ok(text.lines().filter_map(ProcInfo::parse).collect());
    }
    #[allow(unreachable_code)]
    unsupported()
}

/// Who this process runs as.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

/// This process's user, group and supplementary groups (`run --user`, `USER`).
pub fn ids() -> Ids {
    #[cfg(target_arch = "wasm32")]
    {
        let mut buf = [0u32; 34];
        let n = unsafe { sys::ids(buf.as_mut_ptr(), buf.len()) };
        if n >= 3 {
            let k = (buf[2] as usize).min(31);
            return Ids { uid: buf[0], gid: buf[1], groups: buf[3..3 + k].to_vec() };
        }
    }
    Ids::default()
}

/// Change the owner of `path` (`None` keeps it); `follow` = false changes a symlink itself.
pub fn chown(path: &str, uid: Option<u32>, gid: Option<u32>, follow: bool) -> io::Result<()> {
    let p = crate::absolute(path);
    let _ = (&p, uid, gid, follow);
    #[cfg(target_arch = "wasm32")]
    {
        let u = uid.unwrap_or(u32::MAX);
        let g = gid.unwrap_or(u32::MAX);
        check(unsafe { sys::chown(p.as_ptr(), p.len(), u, g, follow as i32) })?;
        return Ok(());
    }
    #[allow(unreachable_code)]
    unsupported()
}

/// `(rows, cols)` of the terminal on `fd`; `Err(ENOTTY)` when it is not a terminal.
pub fn tty_size(fd: i32) -> io::Result<(u16, u16)> {
    let _ = fd;
    #[cfg(target_arch = "wasm32")]
    {
        let mut out = [0u16; 2];
        check(unsafe { sys::tty_size(fd, out.as_mut_ptr()) })?;
        return Ok((out[0], out[1]));
    }
    #[allow(unreachable_code)]
    unsupported()
}

/// Terminal input modes ([`tty_mode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtyMode {
    /// The host edits lines (echo, backspace, Ctrl-U), Ctrl-C sends INT and Ctrl-\ QUIT to
    /// the container's processes on the terminal, Ctrl-D at a line start is end of file.
    Cooked = 0,
    /// Bytes arrive as typed (arrow keys as escape sequences), no echo, no signals.
    Raw = 1,
}

/// Switch the terminal on `fd` (0) to `mode`; returns the previous one.
pub fn tty_mode(fd: i32, mode: TtyMode) -> io::Result<TtyMode> {
    let _ = (fd, mode);
    #[cfg(target_arch = "wasm32")]
    {
        let prev = check(unsafe { sys::tty_mode(fd, mode as i32) })?;
        return Ok(if prev == 1 { TtyMode::Raw } else { TtyMode::Cooked });
    }
    #[allow(unreachable_code)]
    unsupported()
}

/// The container's resources as `free`, `uptime` and `df` show them: `(key, value)` pairs
/// (`uptime_ms`, `boot_ms`, `mem_total_kb`, `mem_used_kb`, `mem_free_kb`, `procs`,
/// `fs_total_kb`, `fs_used_kb`, `fs_free_kb`, `load1`, `load5`, `load15`).
pub fn sysinfo() -> io::Result<Vec<(String, String)>> {
    #[cfg(target_arch = "wasm32")]
    {
        let text = text_import(|p, n| unsafe { sys::sysinfo(p, n) })?;
        return Ok(text
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_string(), v.trim().to_string()))
            .collect());
    }
    #[allow(unreachable_code)]
    unsupported()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names() {
        assert_eq!(sig::parse("TERM"), Some(15));
        assert_eq!(sig::parse("sigkill"), Some(9));
        assert_eq!(sig::parse("10"), Some(10));
        assert_eq!(sig::parse("NOPE"), None);
        assert_eq!(sig::parse("64"), None);
        assert_eq!(sig::name(2), "INT");
        assert_eq!(sig::name(40), "40");
    }

    #[test]
    fn proc_lines() {
        let p = ProcInfo::parse("7\t1\t0\tS\t1700000000000\t12\t640\tsleep 100").unwrap();
        assert_eq!((p.pid, p.ppid, p.state, p.args.as_str()), (7, 1, 'S', "sleep 100"));
        assert!(ProcInfo::parse("garbage").is_none());
    }
}
