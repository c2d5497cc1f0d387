//! Processes: ps, top, kill, killall, pidof, watch — over the host's process table
//! (`proc_list`), signals (`kill`) and the terminal (`tty_size`, `tty_mode`).

use crate::err;
use crate::term::{self, Key};
use crate::util::{self, done, errstr, out};
use skiff_guest::proc::{self, sig, ProcInfo};
use std::io::{self, Write};

/// Why an ABI-v2 import failed, for an applet's message.
pub fn host_err(e: &io::Error, what: &str) -> String {
    if e.kind() == io::ErrorKind::Unsupported || e.raw_os_error() == Some(skiff_guest::errno::ENOSYS) {
        format!("{what} is not supported by this host")
    } else {
        errstr(e)
    }
}

fn procs() -> Result<Vec<ProcInfo>, i32> {
    match proc::proc_list() {
        Ok(mut v) => {
            v.sort_by_key(|p| p.pid);
            Ok(v)
        }
        Err(e) => {
            err!("can't read the process table: {}", host_err(&e, "the process table"));
            Err(1)
        }
    }
}

/// The command name of a process: the base name of its first word.
pub fn comm(p: &ProcInfo) -> &str {
    let first = p.args.split(' ').next().unwrap_or("");
    util::base_name(first)
}

/// `m:ss` of CPU time (busybox's TIME column), `h:mm:ss` past an hour.
pub fn cpu_time(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Elapsed time `[[dd-]hh:]mm:ss` (ps's etime).
pub fn elapsed(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m, ss) = (s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}-{h:02}:{m:02}:{ss:02}")
    } else if h > 0 {
        format!("{h:02}:{m:02}:{ss:02}")
    } else {
        format!("{m:02}:{ss:02}")
    }
}

/// One `-o` column: its key, header, width, and whether values are right-aligned.
#[derive(Debug, Clone, PartialEq)]
pub struct Col {
    pub key: &'static str,
    pub header: String,
    pub width: usize,
    pub right: bool,
}

const COLS: &[(&str, &str, usize, bool)] = &[
    ("pid", "PID", 5, true),
    ("ppid", "PPID", 5, true),
    ("pgid", "PGID", 5, true),
    ("user", "USER", 8, false),
    ("ruser", "RUSER", 8, false),
    ("uid", "UID", 5, true),
    ("stat", "STAT", 4, false),
    ("time", "TIME", 5, true),
    ("etime", "ELAPSED", 7, true),
    ("rss", "RSS", 5, true),
    ("vsz", "VSZ", 5, true),
    ("tty", "TT", 4, false),
    ("nice", "NI", 3, true),
    ("pcpu", "%CPU", 4, true),
    ("comm", "COMMAND", 16, false),
    ("args", "COMMAND", 0, false),
];

fn alias(k: &str) -> &str {
    match k {
        "cmd" | "command" => "args",
        "s" | "state" => "stat",
        "cputime" => "time",
        "rssize" | "rsz" => "rss",
        "vsize" => "vsz",
        "ni" => "nice",
        "%cpu" => "pcpu",
        "ucmd" | "ucomm" | "fname" => "comm",
        "euser" | "uname" => "user",
        "euid" => "uid",
        other => other,
    }
}

/// Parse `-o` lists (`pid,user`, `pid user`, `args=CMD`); `Err` names an unknown key.
pub fn parse_cols(specs: &[&str]) -> Result<Vec<Col>, String> {
    let mut v = Vec::new();
    for spec in specs {
        // A `key=header` takes the rest of the spec (headers may contain commas).
        let mut rest = *spec;
        while !rest.is_empty() {
            let (item, tail) = match (rest.find('='), rest.find([',', ' '])) {
                (Some(e), Some(c)) if e < c => (rest, ""),
                (Some(_), None) => (rest, ""),
                (_, Some(c)) => (&rest[..c], &rest[c + 1..]),
                (None, None) => (rest, ""),
            };
            rest = tail;
            if item.is_empty() {
                continue;
            }
            let (k, hdr) = match item.split_once('=') {
                Some((k, h)) => (k, Some(h)),
                None => (item, None),
            };
            let key = alias(&k.to_ascii_lowercase()).to_string();
            let &(key, h, w, r) = COLS.iter().find(|c| c.0 == key).ok_or_else(|| format!("bad -o argument '{k}'"))?;
            v.push(Col { key, header: hdr.unwrap_or(h).to_string(), width: w, right: r });
        }
    }
    Ok(v)
}

/// The value of column `key` for `p` (`now_ms` for elapsed times).
pub fn col_value(key: &str, p: &ProcInfo, user: &dyn Fn(u32) -> String, now_ms: i64) -> String {
    match key {
        "pid" => p.pid.to_string(),
        "ppid" => p.ppid.to_string(),
        "pgid" => p.pid.to_string(),
        "user" | "ruser" => user(p.uid),
        "uid" => p.uid.to_string(),
        "stat" => p.state.to_string(),
        "time" => cpu_time(p.cpu_ms),
        "etime" => elapsed((now_ms - p.start_ms) / 1000),
        "rss" | "vsz" => p.rss_kb.to_string(),
        "tty" => "?".into(),
        "nice" => "0".into(),
        "pcpu" => {
            let life = (now_ms - p.start_ms).max(1);
            format!("{:.1}", p.cpu_ms as f64 * 100.0 / life as f64)
        }
        "comm" => comm(p).to_string(),
        _ => {
            if p.args.is_empty() {
                format!("[{}]", comm(p))
            } else {
                p.args.clone()
            }
        }
    }
}

/// ps's table: headers padded to the column widths (left), values right- or left-aligned,
/// one space between columns; the last column is not padded and lines are cut at `width`.
pub fn ps_table(
    list: &[ProcInfo],
    cols: &[Col],
    user: &dyn Fn(u32) -> String,
    now_ms: i64,
    width: Option<usize>,
) -> String {
    let mut s = String::new();
    let cut = |line: String| -> String {
        let line = line.trim_end().to_string();
        match width {
            Some(w) => term::fit(&line, w).to_string(),
            None => line,
        }
    };
    if cols.iter().any(|c| !c.header.is_empty()) {
        let mut h = String::new();
        for (i, c) in cols.iter().enumerate() {
            if i + 1 < cols.len() {
                h.push_str(&format!("{:<w$} ", c.header, w = c.width));
            } else {
                h.push_str(&c.header);
            }
        }
        s.push_str(&cut(h));
        s.push('\n');
    }
    for p in list {
        let mut l = String::new();
        for (i, c) in cols.iter().enumerate() {
            let mut v = col_value(c.key, p, user, now_ms);
            if matches!(c.key, "user" | "ruser") && v.chars().count() > c.width {
                v = term::fit(&v, c.width).to_string();
            }
            if i + 1 == cols.len() {
                l.push_str(&v);
            } else if c.right {
                l.push_str(&format!("{v:>w$} ", w = c.width));
            } else {
                l.push_str(&format!("{v:<w$} ", w = c.width));
            }
        }
        s.push_str(&cut(l));
        s.push('\n');
    }
    s
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `ps [-o COL,...] [-ef] [aux] [-w] [-T] [-p PID,...]`: busybox's default columns
/// `PID USER TIME COMMAND`; the BSD/SysV selection options are accepted (every process of the
/// container is shown anyway).
pub fn ps(args: &[String]) -> i32 {
    let mut specs: Vec<String> = Vec::new();
    let mut pids: Vec<i32> = Vec::new();
    let mut long = false;
    let mut wide = false;
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        let body = a.strip_prefix('-').unwrap_or(a);
        if a == "--" {
            continue;
        }
        let mut chars = body.char_indices();
        while let Some((k, c)) = chars.next() {
            match c {
                'o' | 'p' => {
                    let v = if k + 1 < body.len() {
                        body[k + 1..].to_string()
                    } else if i < args.len() {
                        i += 1;
                        args[i - 1].clone()
                    } else {
                        err!("option requires an argument -- '{c}'");
                        return 1;
                    };
                    if c == 'o' {
                        specs.push(v);
                    } else {
                        for x in v.split([',', ' ']).filter(|x| !x.is_empty()) {
                            match x.parse() {
                                Ok(n) => pids.push(n),
                                Err(_) => {
                                    err!("invalid number '{x}'");
                                    return 1;
                                }
                            }
                        }
                    }
                    break;
                }
                'l' | 'f' | 'u' => long = true,
                'w' => wide = true,
                'e' | 'A' | 'a' | 'x' | 'T' | 'j' | 'g' => {}
                _ => {
                    err!("invalid option -- '{c}'");
                    return 1;
                }
            }
        }
    }
    let default = if long { "pid,user,time,stat,rss,args" } else { "pid,user,time,args" };
    let spec_refs: Vec<&str> =
        if specs.is_empty() { vec![default] } else { specs.iter().map(String::as_str).collect() };
    let cols = match parse_cols(&spec_refs) {
        Ok(c) => c,
        Err(m) => {
            err!("{m}");
            return 1;
        }
    };
    let mut list = match procs() {
        Ok(v) => v,
        Err(c) => return c,
    };
    if !pids.is_empty() {
        list.retain(|p| pids.contains(&p.pid));
    }
    let width = if term::stdout_is_tty() && !wide { Some(term::size().1) } else { None };
    let text = ps_table(&list, &cols, &util::user_or_id, now_ms(), width);
    let mut w = out();
    let _ = w.write_all(text.as_bytes());
    done(&mut w, if !pids.is_empty() && list.is_empty() { 1 } else { 0 })
}

/// `kill` operands: the signal (default TERM) and the PIDs; `Err` is the message.
pub fn parse_kill(args: &[String]) -> Result<(i32, Vec<i32>), String> {
    let mut signo = sig::TERM;
    let mut i = 1;
    if let Some(a) = args.get(1) {
        if a == "-s" || a == "-n" {
            let v = args.get(2).ok_or("option requires an argument -- 's'")?;
            signo = sig::parse(v).ok_or_else(|| format!("bad signal name '{v}'"))?;
            i = 3;
        } else if a == "--" {
            i = 2;
        } else if let Some(s) = a.strip_prefix('-') {
            if !s.is_empty() {
                signo = sig::parse(s).ok_or_else(|| format!("bad signal name '{s}'"))?;
                i = 2;
            }
        }
    }
    if args.get(i).map(String::as_str) == Some("--") {
        i += 1;
    }
    if i >= args.len() {
        return Err("usage: kill [-s SIG | -SIG] PID...".into());
    }
    let mut pids = Vec::new();
    for a in &args[i..] {
        match a.parse::<i32>() {
            Ok(n) => pids.push(n),
            Err(_) => return Err(format!("invalid number '{a}'")),
        }
    }
    Ok((signo, pids))
}

/// `kill -l` (every `N) NAME`, as busybox), `kill -l N|NAME` (the other one).
pub fn kill_list(args: &[String]) -> Result<String, String> {
    let mut s = String::new();
    if args.is_empty() {
        for n in 1..sig::NAMES.len() {
            s.push_str(&format!("{n:2}) {}\n", sig::NAMES[n]));
        }
        return Ok(s);
    }
    for a in args {
        match a.parse::<i32>() {
            Ok(n) => {
                let n = if n > 128 { n - 128 } else { n };
                if !(1..32).contains(&n) {
                    return Err(format!("bad signal name '{a}'"));
                }
                s.push_str(&sig::name(n));
            }
            Err(_) => match sig::parse(a) {
                Some(n) if n > 0 => s.push_str(&n.to_string()),
                _ => return Err(format!("bad signal name '{a}'")),
            },
        }
        s.push('\n');
    }
    Ok(s)
}

fn kill_err(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(proc::errno::ESRCH) => "No such process".into(),
        Some(proc::errno::EPERM) => "Operation not permitted".into(),
        Some(proc::errno::EINVAL) => "Invalid argument".into(),
        _ => host_err(e, "sending signals"),
    }
}

/// `kill [-s SIG | -SIG | -NUM] PID...`, `kill -l [N|NAME]...`
pub fn kill(args: &[String]) -> i32 {
    if matches!(args.get(1).map(String::as_str), Some("-l" | "-L")) {
        return match kill_list(&args[2..]) {
            Ok(s) => {
                print!("{s}");
                0
            }
            Err(m) => {
                err!("{m}");
                1
            }
        };
    }
    let (signo, pids) = match parse_kill(args) {
        Ok(x) => x,
        Err(m) => {
            err!("{m}");
            return 1;
        }
    };
    let mut rc = 0;
    for pid in pids {
        if pid <= 0 {
            err!("can't kill pid {pid}: process groups are not supported");
            rc = 1;
            continue;
        }
        if let Err(e) = proc::kill(pid, signo) {
            err!("can't kill pid {pid}: {}", kill_err(&e));
            rc = 1;
        }
    }
    rc
}

/// Processes named `name` (command base name, or the whole first word), except `me`.
pub fn by_name<'a>(list: &'a [ProcInfo], name: &str, me: i32) -> Vec<&'a ProcInfo> {
    list.iter()
        .filter(|p| p.pid != me && p.state != 'Z')
        .filter(|p| comm(p) == name || p.args.split(' ').next() == Some(name))
        .collect()
}

/// `killall [-l] [-q] [-SIG | -s SIG] NAME...`
pub fn killall(args: &[String]) -> i32 {
    let mut signo = sig::TERM;
    let mut quiet = false;
    let mut names = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        match a.as_str() {
            "-l" => return kill(&[args[0].clone(), "-l".into()]),
            "-q" => quiet = true,
            "-s" => {
                let Some(v) = args.get(i) else {
                    err!("option requires an argument -- 's'");
                    return 1;
                };
                i += 1;
                match sig::parse(v) {
                    Some(n) => signo = n,
                    None => {
                        err!("bad signal name '{v}'");
                        return 1;
                    }
                }
            }
            _ if a.starts_with('-') && a.len() > 1 => match sig::parse(&a[1..]) {
                Some(n) => signo = n,
                None => {
                    err!("bad signal name '{}'", &a[1..]);
                    return 1;
                }
            },
            _ => names.push(a.clone()),
        }
    }
    if names.is_empty() {
        err!("usage: killall [-l] [-q] [-SIG] PROCESS_NAME...");
        return 1;
    }
    let list = match procs() {
        Ok(v) => v,
        Err(c) => return c,
    };
    let me = proc::getpid();
    let mut rc = 0;
    for n in &names {
        let found = by_name(&list, n, me);
        if found.is_empty() {
            if !quiet {
                err!("{n}: no process killed");
            }
            rc = 1;
        }
        for p in found {
            if let Err(e) = proc::kill(p.pid, signo) {
                if !quiet {
                    err!("can't kill pid {}: {}", p.pid, kill_err(&e));
                }
                rc = 1;
            }
        }
    }
    rc
}

/// `pidof [-s] NAME...`: PIDs of the named programs, highest first.
pub fn pidof(args: &[String]) -> i32 {
    let o = match util::getopt(args, "so:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let list = match procs() {
        Ok(v) => v,
        Err(c) => return c,
    };
    let me = proc::getpid();
    let mut found: Vec<String> = Vec::new();
    for n in &o.args {
        let mut v: Vec<i32> = by_name(&list, n, me).iter().map(|p| p.pid).collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        if o.has('s') {
            v.truncate(1);
        }
        found.extend(v.iter().map(|p| p.to_string()));
    }
    if found.is_empty() {
        return 1;
    }
    println!("{}", found.join(" "));
    0
}

/// The numbers `sysinfo` gives, by key (missing keys are 0).
pub struct SysInfo(pub Vec<(String, String)>);

impl SysInfo {
    pub fn get(&self, k: &str) -> f64 {
        self.0.iter().find(|(key, _)| key == k).and_then(|(_, v)| v.trim().parse().ok()).unwrap_or(0.0)
    }
    pub fn int(&self, k: &str) -> u64 {
        self.get(k).max(0.0) as u64
    }
}

/// `sysinfo`, or the applet's message and status 1.
pub fn sysinfo() -> Result<SysInfo, i32> {
    match proc::sysinfo() {
        Ok(v) => Ok(SysInfo(v)),
        Err(e) => {
            err!("can't read system information: {}", host_err(&e, "sysinfo"));
            Err(1)
        }
    }
}

/// What top sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopSort {
    Cpu,
    Mem,
    Pid,
    Time,
}

/// One top screen: the header lines and the process list, each line cut to `cols`, at most
/// `rows` lines in all (`None`: no limit). `cpu` gives each process's %CPU.
pub fn top_screen(
    si: &SysInfo,
    list: &[ProcInfo],
    cpu: &dyn Fn(&ProcInfo) -> f64,
    user: &dyn Fn(u32) -> String,
    sort: TopSort,
    reverse: bool,
    rows: Option<usize>,
    cols: usize,
) -> Vec<String> {
    let mut lines = Vec::new();
    lines.push(format!(
        "Mem: {}K used, {}K free, 0K shrd, 0K buff, 0K cached",
        si.int("mem_used_kb"),
        si.int("mem_free_kb")
    ));
    let running = list.iter().filter(|p| p.state == 'R').count();
    let last = list.iter().map(|p| p.pid).max().unwrap_or(0);
    lines.push(format!(
        "Load average: {:.2} {:.2} {:.2} {}/{} {}",
        si.get("load1"),
        si.get("load5"),
        si.get("load15"),
        running,
        list.len(),
        last
    ));
    lines.push(format!(
        "{}{}{}",
        term::REVERSE,
        format!("{:<w$}", "  PID  PPID USER     STAT   VSZ %VSZ CPU %CPU COMMAND", w = cols),
        term::NORMAL
    ));
    let total = si.get("mem_total_kb").max(1.0);
    let mut v: Vec<(&ProcInfo, f64)> = list.iter().map(|p| (p, cpu(p))).collect();
    v.sort_by(|a, b| {
        let o = match sort {
            TopSort::Cpu => b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal),
            TopSort::Mem => b.0.rss_kb.cmp(&a.0.rss_kb),
            TopSort::Time => b.0.cpu_ms.cmp(&a.0.cpu_ms),
            TopSort::Pid => std::cmp::Ordering::Equal,
        };
        o.then(a.0.pid.cmp(&b.0.pid))
    });
    if reverse {
        v.reverse();
    }
    for (p, c) in v {
        let pmem = p.rss_kb as f64 * 100.0 / total;
        let vsz = if p.rss_kb >= 100_000 { format!("{}m", p.rss_kb / 1024) } else { p.rss_kb.to_string() };
        lines.push(format!(
            "{:>5}{:>6} {:<8.8} {:<4}{:>6}{:>4.0}% {:>3}{:>4.0}% {}",
            p.pid,
            p.ppid,
            user(p.uid),
            p.state,
            vsz,
            pmem,
            0,
            c,
            col_value("args", p, user, 0)
        ));
    }
    if let Some(r) = rows {
        lines.truncate(r.max(1));
    }
    for l in lines.iter_mut() {
        if !l.starts_with('\x1b') {
            *l = term::fit(l, cols).to_string();
        }
    }
    lines
}

/// %CPU of each process between two samples (or over its life when it is new).
pub struct CpuMeter {
    prev: Vec<(i32, i64)>,
    prev_ms: i64,
}

impl CpuMeter {
    pub fn new() -> CpuMeter {
        CpuMeter { prev: Vec::new(), prev_ms: 0 }
    }
    pub fn percent(&self, p: &ProcInfo, now_ms: i64) -> f64 {
        match self.prev.iter().find(|(pid, _)| *pid == p.pid) {
            Some(&(_, before)) if now_ms > self.prev_ms => {
                (p.cpu_ms - before).max(0) as f64 * 100.0 / (now_ms - self.prev_ms) as f64
            }
            _ => p.cpu_ms as f64 * 100.0 / (now_ms - p.start_ms).max(1) as f64,
        }
    }
    pub fn record(&mut self, list: &[ProcInfo], now_ms: i64) {
        self.prev = list.iter().map(|p| (p.pid, p.cpu_ms)).collect();
        self.prev_ms = now_ms;
    }
}

/// `top [-b] [-n N] [-d SECS]`: busybox's header and process list. On a terminal it redraws
/// every `-d` seconds until `q` or Ctrl-C (raw mode); otherwise it prints `-n` screens
/// (one by default).
pub fn top(args: &[String]) -> i32 {
    let o = match util::getopt(args, "bn:d:mHs") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let tty = term::stdout_is_tty() && !o.has('b');
    let iterations = match o.val('n').map(|v| v.parse::<u64>()) {
        None => {
            if tty {
                u64::MAX
            } else {
                1
            }
        }
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            err!("invalid number '{}'", o.val('n').unwrap());
            return 1;
        }
    };
    let delay = match o.val('d').map(|v| v.parse::<f64>()) {
        None => 3.0,
        Some(Ok(d)) if d >= 0.0 && d.is_finite() => d,
        Some(_) => {
            err!("invalid number '{}'", o.val('d').unwrap());
            return 1;
        }
    };
    let delay_ms = (delay * 1000.0) as u64;
    // Raw mode (keys without Enter, no Ctrl-C signal) only when we can also wait for a key
    // with a timeout; otherwise Ctrl-C is the host's INT.
    let mut raw = if tty { term::Raw::enter().ok() } else { None };
    let mut keys = term::Keys::new();
    let mut meter = CpuMeter::new();
    let mut sort = TopSort::Cpu;
    let mut reverse = false;
    // The cursor is hidden only while we can also restore it (in raw mode we read `q`;
    // without it Ctrl-C ends top where it stands).
    if raw.is_some() {
        term::put(term::HIDE_CURSOR);
    }
    let mut n = 0u64;
    let rc = loop {
        let si = match sysinfo() {
            Ok(s) => s,
            Err(c) => break c,
        };
        let list = match procs() {
            Ok(v) => v,
            Err(c) => break c,
        };
        let now = now_ms();
        let (rows, cols) = if tty {
            let (r, c) = term::size();
            (Some(r), c)
        } else {
            (None, 512)
        };
        let screen = top_screen(&si, &list, &|p| meter.percent(p, now), &util::user_or_id, sort, reverse, rows, cols);
        meter.record(&list, now);
        let mut text = String::new();
        if tty {
            text.push_str(term::CLEAR);
            let last = screen.len().saturating_sub(1);
            for (i, l) in screen.iter().enumerate() {
                text.push_str(l);
                // In raw mode the host does not turn \n into \r\n.
                if i < last {
                    text.push_str("\r\n");
                }
            }
        } else {
            for l in &screen {
                text.push_str(l.trim_start_matches(term::REVERSE).trim_end_matches(term::NORMAL).trim_end());
                text.push('\n');
            }
            text.push('\n');
        }
        {
            let mut w = io::stdout().lock();
            if w.write_all(text.as_bytes()).and_then(|_| w.flush()).is_err() {
                break 1;
            }
        }
        n += 1;
        if n >= iterations {
            break 0;
        }
        // Wait for the delay, or a key in raw mode.
        let mut quit = false;
        if raw.is_some() {
            let deadline = now_ms() + delay_ms as i64;
            loop {
                let left = (deadline - now_ms()).max(0) as u64;
                match keys.next_timeout(left) {
                    Ok(None) => break,
                    Ok(Some(Key::Char('q')) | Some(Key::Ctrl('c')) | Some(Key::Esc)) => {
                        quit = true;
                        break;
                    }
                    Ok(Some(Key::Char(c))) => {
                        match c {
                            'P' => sort = TopSort::Cpu,
                            'M' => sort = TopSort::Mem,
                            'N' => sort = TopSort::Pid,
                            'T' => sort = TopSort::Time,
                            'R' => reverse = !reverse,
                            _ => continue,
                        }
                        break;
                    }
                    Ok(Some(_)) => {
                        if left == 0 {
                            break;
                        }
                    }
                    Err(_) => {
                        // No timed wait on stdin here: back to cooked mode (Ctrl-C works).
                        raw = None;
                        term::put(term::SHOW_CURSOR);
                        let _ = proc::sleep(std::time::Duration::from_millis(left));
                        break;
                    }
                }
            }
        } else if let Err(e) = proc::sleep(std::time::Duration::from_millis(delay_ms)) {
            if proc::interrupted(&e) {
                quit = true;
            } else {
                std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            }
        }
        if quit {
            break 0;
        }
    };
    drop(raw);
    if tty {
        term::put(&format!("{}\r\n", term::SHOW_CURSOR));
    }
    rc
}

/// busybox watch's header: `Every 2.0s: CMD` and the date at the right edge of `width`.
pub fn watch_header(period: f64, cmd: &str, date: &str, width: usize) -> String {
    let left = format!("Every {period:.1}s: {cmd}");
    let room = width.saturating_sub(date.len() + 1);
    if left.chars().count() <= room {
        format!("{:<room$} {date}", left)
    } else {
        term::fit(&left, width).to_string()
    }
}

/// `watch [-n SECS] [-t] CMD [ARGS]...`: run `CMD` with `/bin/sh -c` every SECS (2) seconds;
/// on a terminal the screen is cleared first. Ends on Ctrl-C (the host's INT).
pub fn watch(args: &[String]) -> i32 {
    let o = match util::getopt(args, "+n:t") {
        Ok(o) => o,
        Err(c) => return c,
    };
    if o.args.is_empty() {
        err!("usage: watch [-n SECS] [-t] PROG ARGS");
        return 1;
    }
    let period = match o.val('n').map(|v| v.parse::<f64>()) {
        None => 2.0,
        Some(Ok(p)) if p >= 0.1 && p.is_finite() => p,
        Some(Ok(p)) if p >= 0.0 => 0.1,
        Some(_) => {
            err!("invalid number '{}'", o.val('n').unwrap());
            return 1;
        }
    };
    let cmd = o.args.join(" ");
    let tty = term::stdout_is_tty();
    loop {
        let mut head = String::new();
        if tty {
            head.push_str(term::CLEAR);
        }
        if !o.has('t') {
            let width = if tty { term::size().1 } else { 80 };
            let date = crate::date::strftime("%Y-%m-%d %H:%M:%S", &crate::date::gmtime(crate::date::now()));
            head.push_str(&watch_header(period, &cmd, &date, width));
            head.push_str("\n\n");
        }
        term::put(&head);
        let argv = vec!["/bin/sh".to_string(), "-c".to_string(), cmd.clone()];
        if let Err(e) = util::run_cmd(&argv, None) {
            if skiff_guest::proc::interrupted(&e) {
                return 0;
            }
            err!("can't execute '/bin/sh': {}", errstr(&e));
            return skiff_guest::spawn_error_status(&e);
        }
        match proc::sleep(std::time::Duration::from_secs_f64(period)) {
            Ok(()) => {}
            Err(e) if proc::interrupted(&e) => return 0,
            Err(_) => std::thread::sleep(std::time::Duration::from_secs_f64(period)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::testutil::argv;

    fn p(pid: i32, ppid: i32, uid: u32, state: char, cpu: i64, rss: u64, args: &str) -> ProcInfo {
        ProcInfo { pid, ppid, uid, state, start_ms: 1_000_000, cpu_ms: cpu, rss_kb: rss, args: args.into() }
    }

    fn names(u: u32) -> String {
        match u {
            0 => "root".into(),
            1000 => "averylongname".into(),
            n => n.to_string(),
        }
    }

    #[test]
    fn ps_default_columns() {
        let list = vec![p(1, 0, 0, 'S', 0, 640, "sh"), p(12, 1, 1000, 'R', 75_000, 1024, "ps")];
        let cols = parse_cols(&["pid,user,time,args"]).unwrap();
        assert_eq!(
            ps_table(&list, &cols, &names, 2_000_000, None),
            "PID   USER     TIME  COMMAND\n    1 root      0:00 sh\n   12 averylon  1:15 ps\n"
        );
    }

    #[test]
    fn ps_o_columns() {
        let list = vec![p(7, 1, 0, 'S', 0, 640, "sleep 100")];
        let cols = parse_cols(&["pid,ppid,user,stat,time,rss,args"]).unwrap();
        assert_eq!(
            ps_table(&list, &cols, &names, 2_000_000, None),
            "PID   PPID  USER     STAT TIME  RSS   COMMAND\n    7     1 root     S     0:00   640 sleep 100\n"
        );
        let cols = parse_cols(&["pid=", "comm=NAME"]).unwrap();
        assert_eq!(cols[0].header, "");
        assert_eq!(ps_table(&list, &cols, &names, 0, None), "      NAME\n    7 sleep\n");
        let cols = parse_cols(&["pid", "etime"]).unwrap();
        assert_eq!(ps_table(&list, &cols, &names, 1_000_000 + 3_725_000, None).lines().nth(1), Some("    7 01:02:05"));
        assert!(parse_cols(&["bogus"]).is_err());
        assert_eq!(parse_cols(&["cmd"]).unwrap()[0].key, "args");
        let cut = ps_table(&list, &parse_cols(&["pid,args"]).unwrap(), &names, 0, Some(10));
        assert_eq!(cut, "PID   COMM\n    7 slee\n");
    }

    #[test]
    fn times() {
        assert_eq!(cpu_time(0), "0:00");
        assert_eq!(cpu_time(61_500), "1:01");
        assert_eq!(cpu_time(3_661_000), "1:01:01");
        assert_eq!(elapsed(59), "00:59");
        assert_eq!(elapsed(90_061), "1-01:01:01");
    }

    #[test]
    fn kill_args() {
        assert_eq!(parse_kill(&argv(&["kill", "12"])), Ok((15, vec![12])));
        assert_eq!(parse_kill(&argv(&["kill", "-9", "1", "2"])), Ok((9, vec![1, 2])));
        assert_eq!(parse_kill(&argv(&["kill", "-KILL", "3"])), Ok((9, vec![3])));
        assert_eq!(parse_kill(&argv(&["kill", "-s", "USR1", "3"])), Ok((10, vec![3])));
        assert_eq!(parse_kill(&argv(&["kill", "-SIGINT", "--", "3"])), Ok((2, vec![3])));
        assert_eq!(parse_kill(&argv(&["kill", "-0", "3"])), Ok((0, vec![3])));
        assert!(parse_kill(&argv(&["kill", "-FOO", "3"])).is_err());
        assert!(parse_kill(&argv(&["kill", "x"])).is_err());
        assert!(parse_kill(&argv(&["kill"])).is_err());
        let l = kill_list(&[]).unwrap();
        assert!(l.starts_with(" 1) HUP\n 2) INT\n"));
        assert!(l.contains("15) TERM\n"));
        assert_eq!(kill_list(&argv(&["9", "TERM", "130"])).unwrap(), "KILL\n15\nINT\n");
        assert!(kill_list(&argv(&["NOPE"])).is_err());
    }

    #[test]
    fn names_of_processes() {
        let list = vec![
            p(1, 0, 0, 'S', 0, 1, "/bin/sh -c x"),
            p(5, 1, 0, 'S', 0, 1, "sleep 9"),
            p(6, 1, 0, 'Z', 0, 1, "sleep 1"),
            p(9, 1, 0, 'R', 0, 1, "killall sleep"),
        ];
        let v: Vec<i32> = by_name(&list, "sleep", 9).iter().map(|p| p.pid).collect();
        assert_eq!(v, vec![5]);
        assert_eq!(by_name(&list, "sh", 9).len(), 1);
        assert_eq!(by_name(&list, "/bin/sh", 9).len(), 1);
    }

    #[test]
    fn top_lines() {
        let si = SysInfo(vec![
            ("mem_total_kb".into(), "1000".into()),
            ("mem_used_kb".into(), "250".into()),
            ("mem_free_kb".into(), "750".into()),
            ("load1".into(), "0.5".into()),
            ("load5".into(), "0.25".into()),
            ("load15".into(), "0".into()),
        ]);
        let list = vec![p(1, 0, 0, 'S', 10, 100, "sh"), p(8, 1, 0, 'R', 500, 200, "top -b")];
        let cpu = |p: &ProcInfo| if p.pid == 8 { 12.0 } else { 0.0 };
        let s = top_screen(&si, &list, &cpu, &names, TopSort::Cpu, false, None, 80);
        assert_eq!(s[0], "Mem: 250K used, 750K free, 0K shrd, 0K buff, 0K cached");
        assert_eq!(s[1], "Load average: 0.50 0.25 0.00 1/2 8");
        assert!(s[2].contains("  PID  PPID USER     STAT   VSZ %VSZ CPU %CPU COMMAND"));
        assert_eq!(s[3], "    8     1 root     R      200  20%   0  12% top -b");
        assert_eq!(s[4], "    1     0 root     S      100  10%   0   0% sh");
        let s = top_screen(&si, &list, &cpu, &names, TopSort::Pid, false, Some(4), 20);
        assert_eq!(s.len(), 4);
        assert_eq!(s[3], "    1     0 root    ");
        let mut m = CpuMeter::new();
        let a = p(3, 1, 0, 'R', 1000, 1, "x");
        assert_eq!(m.percent(&a, 1_000_000 + 4000), 25.0);
        m.record(&[a.clone()], 2_000_000);
        let b = ProcInfo { cpu_ms: 1500, ..a };
        assert_eq!(m.percent(&b, 2_001_000), 50.0);
    }

    #[test]
    fn watch_head() {
        assert_eq!(watch_header(2.0, "date", "2026-01-02 03:04:05", 40), "Every 2.0s: date     2026-01-02 03:04:05");
        assert_eq!(watch_header(1.0, "a-very-long-command", "2026-01-02 03:04:05", 20), "Every 1.0s: a-very-l");
    }
}
