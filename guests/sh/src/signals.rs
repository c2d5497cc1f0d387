//! Signals in the shell: names as `trap` and `kill` take them, the trap table, the
//! disposition the host is asked to apply for each signal (`docs/guest-abi.md`, "Signals"),
//! and `kill`'s arguments. Everything here is pure; `exec.rs` talks to the host.

use skiff_guest::proc::{sig, Action};

/// Signals 1..NSIG (Linux's numbers); index 0 of the trap table is `EXIT`.
pub const NSIG: usize = 32;

/// A signal argument of `trap` or `kill`: a number below NSIG (0 is EXIT), or a name with or
/// without `SIG` in any case (`TERM`, `SIGterm`), or `EXIT`.
pub fn parse(s: &str) -> Option<i32> {
    let up = s.to_ascii_uppercase();
    if up.strip_prefix("SIG").unwrap_or(&up) == "EXIT" {
        return Some(0);
    }
    if s.starts_with('+') || s.starts_with('-') {
        return None;
    }
    sig::parse(s)
}

/// The name `trap` and `kill -l` print: `EXIT` for 0, `TERM` for 15, else the number.
pub fn name(n: i32) -> String {
    if n == 0 {
        "EXIT".into()
    } else {
        sig::name(n)
    }
}

/// What the C library's `strsignal` says (job notifications: `Terminated`, `Killed`).
pub fn describe(n: i32) -> String {
    const D: [&str; NSIG] = [
        "",
        "Hangup",
        "Interrupt",
        "Quit",
        "Illegal instruction",
        "Trace/breakpoint trap",
        "Aborted",
        "Bus error",
        "Floating point exception",
        "Killed",
        "User defined signal 1",
        "Segmentation fault",
        "User defined signal 2",
        "Broken pipe",
        "Alarm clock",
        "Terminated",
        "Stack fault",
        "Child exited",
        "Continued",
        "Stopped (signal)",
        "Stopped",
        "Stopped (tty input)",
        "Stopped (tty output)",
        "Urgent I/O condition",
        "CPU time limit exceeded",
        "File size limit exceeded",
        "Virtual timer expired",
        "Profiling timer expired",
        "Window changed",
        "I/O possible",
        "Power failure",
        "Bad system call",
    ];
    match D.get(n as usize) {
        Some(d) if n > 0 => d.to_string(),
        _ => format!("Signal {n}"),
    }
}

/// `kill -l` / `trap -l`: ` 1) HUP` … `31) SYS`, one a line, as busybox prints them.
pub fn list() -> String {
    let mut out = String::new();
    for n in 1..NSIG as i32 {
        out.push_str(&format!("{n:>2}) {}\n", sig::name(n)));
    }
    out
}

/// One argument of `kill -l ARG…`: a number (an exit status 128+N works too) gives the name,
/// a name gives the number.
pub fn list_one(a: &str) -> Result<String, String> {
    if a.starts_with(|c: char| c.is_ascii_digit()) {
        let n: u32 = a.parse().map_err(|_| format!("unknown signal '{a}'"))?;
        return Ok(name((n & 0x7f) as i32));
    }
    parse(a).map(|n| n.to_string()).ok_or_else(|| format!("unknown signal '{a}'"))
}

/// ash's `single_quote`: `it's` becomes `'it'"'"'s'`.
pub fn single_quote(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    loop {
        let len = rest.find('\'').unwrap_or(rest.len());
        out.push('\'');
        out.push_str(&rest[..len]);
        out.push('\'');
        rest = &rest[len..];
        if rest.is_empty() {
            break;
        }
        let n = rest.len() - rest.trim_start_matches('\'').len();
        out.push('"');
        out.push_str(&rest[..n]);
        out.push('"');
        rest = &rest[n..];
        if rest.is_empty() {
            break;
        }
    }
    out
}

/// The trap table: `None` is the default action, `Some("")` ignores the signal, anything
/// else is the commands to run. Index 0 is the `EXIT` trap.
#[derive(Clone, Default, PartialEq, Debug)]
pub struct Traps(pub [Option<String>; NSIG]);

impl Traps {
    pub fn get(&self, n: i32) -> Option<&str> {
        self.0.get(n as usize).and_then(|t| t.as_deref())
    }

    /// Commands to run for `n` (a trap that is neither default nor ignore).
    pub fn action(&self, n: i32) -> Option<&str> {
        self.get(n).filter(|t| !t.is_empty())
    }

    pub fn set(&mut self, n: i32, action: Option<String>) {
        if let Some(t) = self.0.get_mut(n as usize) {
            *t = action;
        }
    }

    /// What `trap` alone prints: `trap -- 'echo bye' EXIT`, one a line, EXIT first.
    pub fn listing(&self) -> String {
        let mut out = String::new();
        for (n, t) in self.0.iter().enumerate() {
            if let Some(t) = t {
                out.push_str(&format!("trap -- {} {}\n", single_quote(t), name(n as i32)));
            }
        }
        out
    }
}

/// How the shell itself treats a signal that has no trap (ash's `setsignal`).
#[derive(Clone, Copy, Default, Debug, PartialEq)]
pub struct Mode {
    /// An interactive shell ignores TERM (and QUIT, as every shell here does).
    pub interactive: bool,
    /// The shell catches INT when interactive, running `-c` or a script: an interactive
    /// shell abandons the command line, any other ends with 130 once its child is done.
    pub catch_int: bool,
}

/// The disposition the host should apply to signal `n` given its trap.
pub fn disposition(trap: Option<&str>, n: i32, mode: Mode) -> Action {
    match trap {
        Some("") => Action::Ignore,
        Some(_) => Action::Catch,
        None => match n {
            sig::INT if mode.catch_int || mode.interactive => Action::Catch,
            sig::QUIT => Action::Ignore,
            sig::TERM if mode.interactive => Action::Ignore,
            _ => Action::Default,
        },
    }
}

/// What `trap ARGS` asks for.
#[derive(Debug, PartialEq)]
pub enum TrapCmd {
    /// `trap`, `trap -p`: print the table.
    Print,
    /// `trap -l`: print the signal list.
    List,
    /// Set (`Some`) or reset to the default (`None`) these signals; the strings are
    /// the arguments that are not signals (reported as errors).
    Set(Option<String>, Vec<i32>, Vec<String>),
}

/// Parse `trap`'s arguments as ash does: `trap ACTION SIG…`, `trap - SIG…` and
/// `trap SIGNUM…` (a first argument that is a number is a signal: reset them).
pub fn parse_trap(args: &[String]) -> TrapCmd {
    let mut args = args;
    match args.first().map(|s| s.as_str()) {
        None | Some("-p") => return TrapCmd::Print,
        Some("-l") => return TrapCmd::List,
        Some("--") => {
            args = &args[1..];
            if args.is_empty() {
                return TrapCmd::Print;
            }
        }
        _ => {}
    }
    let is_num = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let (action, sigs) = if args.len() > 1 && !is_num(&args[0]) {
        let a = &args[0];
        (if a == "-" { None } else { Some(a.clone()) }, &args[1..])
    } else {
        (None, args)
    };
    let mut nums = Vec::new();
    let mut bad = Vec::new();
    for s in sigs {
        match parse(s) {
            Some(n) => nums.push(n),
            None => bad.push(s.clone()),
        }
    }
    TrapCmd::Set(action, nums, bad)
}

/// What `kill ARGS` asks for.
#[derive(Debug, PartialEq)]
pub enum KillCmd {
    /// `kill -l [ARG…]`.
    List(Vec<String>),
    /// Send the signal to each target (a PID, or a job `%N` the shell resolves).
    Send(i32, Vec<String>),
}

/// Parse `kill`'s arguments as busybox does: `kill [-s SIG | -SIG | -N | --] TARGET…`.
pub fn parse_kill(args: &[String]) -> Result<KillCmd, String> {
    let mut signo = sig::TERM;
    let mut rest = args;
    if let Some(a) = args.first().filter(|a| a.len() > 1 && a.starts_with('-')) {
        if a == "-l" {
            return Ok(KillCmd::List(args[1..].to_vec()));
        }
        if a == "--" {
            rest = &args[1..];
        } else {
            let (spec, skip) = if a == "-s" && args.len() > 1 { (args[1].as_str(), 2) } else { (&a[1..], 1) };
            signo = parse(spec).ok_or_else(|| format!("bad signal name '{spec}'"))?;
            rest = &args[skip..];
        }
    }
    if rest.is_empty() {
        return Err("you need to specify whom to kill".into());
    }
    Ok(KillCmd::Send(signo, rest.to_vec()))
}

/// A target of `kill`: a PID, possibly negative (a process group on Linux).
pub fn parse_pid(s: &str) -> Result<i32, String> {
    s.trim().parse::<i32>().map_err(|_| format!("invalid number '{s}'"))
}

/// An error of the `kill` import as the C library words it (WASI errno numbers).
pub fn kill_error(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(skiff_guest::proc::errno::ESRCH) => "No such process".into(),
        Some(skiff_guest::proc::errno::EPERM) => "Operation not permitted".into(),
        Some(skiff_guest::proc::errno::EINVAL) => "Invalid argument".into(),
        _ if e.kind() == std::io::ErrorKind::Unsupported => "Function not implemented".into(),
        _ => crate::io::errstr(e),
    }
}

/// The lowest signal number in a bit set (bit N is signal N).
pub fn lowest(set: u32) -> Option<i32> {
    (set != 0).then(|| set.trailing_zeros() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names() {
        for (s, n) in [
            ("TERM", 15),
            ("SIGTERM", 15),
            ("term", 15),
            ("sigint", 2),
            ("15", 15),
            ("0", 0),
            ("EXIT", 0),
            ("SIGEXIT", 0),
            ("exit", 0),
            ("USR1", 10),
            ("USR2", 12),
            ("CHLD", 17),
            ("ALRM", 14),
            ("WINCH", 28),
            ("PIPE", 13),
            ("HUP", 1),
            ("QUIT", 3),
            ("31", 31),
        ] {
            assert_eq!(parse(s), Some(n), "{s}");
        }
        for s in ["", "NOPE", "32", "64", "-1", "+5", "SIG", "1x"] {
            assert_eq!(parse(s), None, "{s}");
        }
        assert_eq!(
            (name(0), name(15), name(28), name(40)),
            ("EXIT".into(), "TERM".into(), "WINCH".into(), "40".into())
        );
        assert_eq!(
            (describe(15), describe(9), describe(2)),
            ("Terminated".into(), "Killed".into(), "Interrupt".into())
        );
    }

    #[test]
    fn kill_list() {
        let l = list();
        assert!(l.starts_with(" 1) HUP\n 2) INT\n 3) QUIT\n"), "{l}");
        assert!(l.contains("\n 9) KILL\n10) USR1\n") && l.ends_with("31) SYS\n"), "{l}");
        assert_eq!(l.lines().count(), 31);
        assert_eq!(list_one("143"), Ok("TERM".into()));
        assert_eq!(list_one("9"), Ok("KILL".into()));
        assert_eq!(list_one("TERM"), Ok("15".into()));
        assert_eq!(list_one("sigusr1"), Ok("10".into()));
        assert_eq!(list_one("FOO"), Err("unknown signal 'FOO'".into()));
    }

    #[test]
    fn quoting() {
        assert_eq!(single_quote("echo hi"), "'echo hi'");
        assert_eq!(single_quote(""), "''");
        assert_eq!(single_quote("it's"), "'it'\"'\"'s'");
        assert_eq!(single_quote("a''"), "'a'\"''\"");
        assert_eq!(single_quote("'x"), "''\"'\"'x'");
    }

    #[test]
    fn trap_table() {
        let mut t = Traps::default();
        t.set(15, Some("echo term".into()));
        t.set(0, Some("echo it's over".into()));
        t.set(2, Some(String::new()));
        assert_eq!(t.listing(), "trap -- 'echo it'\"'\"'s over' EXIT\ntrap -- '' INT\ntrap -- 'echo term' TERM\n");
        assert_eq!((t.action(15), t.action(2), t.get(2), t.action(1)), (Some("echo term"), None, Some(""), None));
        t.set(99, Some("x".into()));
        t.set(15, None);
        assert_eq!(t.listing(), "trap -- 'echo it'\"'\"'s over' EXIT\ntrap -- '' INT\n");
    }

    #[test]
    fn trap_args() {
        assert_eq!(parse_trap(&[]), TrapCmd::Print);
        assert_eq!(parse_trap(&v(&["-l"])), TrapCmd::List);
        assert_eq!(
            parse_trap(&v(&["echo x", "INT", "SIGTERM", "0"])),
            TrapCmd::Set(Some("echo x".into()), vec![2, 15, 0], vec![])
        );
        assert_eq!(parse_trap(&v(&["", "QUIT"])), TrapCmd::Set(Some(String::new()), vec![3], vec![]));
        assert_eq!(parse_trap(&v(&["-", "INT", "HUP"])), TrapCmd::Set(None, vec![2, 1], vec![]));
        // A number first: these are signals to reset (ash, POSIX).
        assert_eq!(parse_trap(&v(&["1", "2"])), TrapCmd::Set(None, vec![1, 2], vec![]));
        assert_eq!(parse_trap(&v(&["INT"])), TrapCmd::Set(None, vec![2], vec![]));
        assert_eq!(
            parse_trap(&v(&["--", "x", "BOGUS", "USR1"])),
            TrapCmd::Set(Some("x".into()), vec![10], vec!["BOGUS".into()])
        );
    }

    #[test]
    fn dispositions() {
        let script = Mode { interactive: false, catch_int: true };
        let stdin = Mode::default();
        let inter = Mode { interactive: true, catch_int: true };
        assert_eq!(disposition(Some("echo"), 15, stdin), Action::Catch);
        assert_eq!(disposition(Some(""), 15, inter), Action::Ignore);
        assert_eq!(disposition(None, 15, stdin), Action::Default);
        assert_eq!(disposition(None, 15, script), Action::Default);
        assert_eq!(disposition(None, 15, inter), Action::Ignore);
        assert_eq!(disposition(None, 3, stdin), Action::Ignore);
        assert_eq!(disposition(None, 2, stdin), Action::Default);
        assert_eq!(disposition(None, 2, script), Action::Catch);
        assert_eq!(disposition(None, 2, inter), Action::Catch);
        assert_eq!(disposition(None, 10, inter), Action::Default);
        // `trap - TERM` in an interactive shell keeps ignoring TERM, as ash.
        assert_eq!(disposition(None, 15, inter), Action::Ignore);
    }

    #[test]
    fn kill_args() {
        assert_eq!(parse_kill(&v(&["12"])), Ok(KillCmd::Send(15, v(&["12"]))));
        assert_eq!(parse_kill(&v(&["-9", "12", "13"])), Ok(KillCmd::Send(9, v(&["12", "13"]))));
        assert_eq!(parse_kill(&v(&["-KILL", "12"])), Ok(KillCmd::Send(9, v(&["12"]))));
        assert_eq!(parse_kill(&v(&["-SIGUSR1", "12"])), Ok(KillCmd::Send(10, v(&["12"]))));
        assert_eq!(parse_kill(&v(&["-s", "hup", "12"])), Ok(KillCmd::Send(1, v(&["12"]))));
        assert_eq!(parse_kill(&v(&["-0", "12"])), Ok(KillCmd::Send(0, v(&["12"]))));
        assert_eq!(parse_kill(&v(&["--", "-12"])), Ok(KillCmd::Send(15, v(&["-12"]))));
        assert_eq!(parse_kill(&v(&["-l"])), Ok(KillCmd::List(vec![])));
        assert_eq!(parse_kill(&v(&["-l", "143"])), Ok(KillCmd::List(v(&["143"]))));
        assert_eq!(parse_kill(&v(&["-FOO", "1"])), Err("bad signal name 'FOO'".into()));
        assert_eq!(parse_kill(&v(&["-9"])), Err("you need to specify whom to kill".into()));
        assert_eq!(parse_kill(&[]), Err("you need to specify whom to kill".into()));
        assert_eq!(parse_pid("12"), Ok(12));
        assert_eq!(parse_pid("-1"), Ok(-1));
        assert_eq!(parse_pid("abc"), Err("invalid number 'abc'".into()));
    }

    #[test]
    fn errors() {
        let e = std::io::Error::from_raw_os_error(skiff_guest::proc::errno::ESRCH);
        assert_eq!(kill_error(&e), "No such process");
        let e = std::io::Error::from_raw_os_error(skiff_guest::proc::errno::EPERM);
        assert_eq!(kill_error(&e), "Operation not permitted");
        assert_eq!(lowest(0), None);
        assert_eq!(lowest((1 << 15) | (1 << 10)), Some(10));
    }
}
