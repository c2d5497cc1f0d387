//! Small applets: echo, true, false, pwd, sleep, yes, basename, dirname, hostname,
//! uname, env, printenv, which, seq, xargs.

use crate::err;
use crate::util::{self, done, errstr, getopt, out};
use std::io::{Read, Write};

pub fn true_(_: &[String]) -> i32 {
    0
}

pub fn false_(_: &[String]) -> i32 {
    1
}

/// `echo [-neE] ARGS...`
pub fn echo(args: &[String]) -> i32 {
    let mut nl = true;
    let mut esc = false;
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a.len() < 2 || !a.starts_with('-') || !a[1..].chars().all(|c| "neE".contains(c)) {
            break;
        }
        for c in a[1..].chars() {
            match c {
                'n' => nl = false,
                'e' => esc = true,
                _ => esc = false,
            }
        }
        i += 1;
    }
    let mut buf = Vec::new();
    for (k, a) in args[i..].iter().enumerate() {
        if k > 0 {
            buf.push(b' ');
        }
        if esc {
            if super::printf::unescape(a.as_bytes(), &mut buf, true) {
                nl = false;
                break;
            }
        } else {
            buf.extend_from_slice(a.as_bytes());
        }
    }
    if nl {
        buf.push(b'\n');
    }
    let mut w = out();
    let _ = w.write_all(&buf);
    done(&mut w, 0)
}

pub fn pwd(_: &[String]) -> i32 {
    match std::env::current_dir() {
        Ok(p) => {
            println!("{}", p.display());
            0
        }
        Err(e) => {
            err!("getcwd: {}", errstr(&e));
            1
        }
    }
}

/// Parse a sleep duration: `1`, `0.5`, `2m`, `1h`, `1d`.
pub fn parse_duration(s: &str) -> Option<f64> {
    let (num, mult) = match s.chars().last()? {
        's' => (&s[..s.len() - 1], 1.0),
        'm' => (&s[..s.len() - 1], 60.0),
        'h' => (&s[..s.len() - 1], 3600.0),
        'd' => (&s[..s.len() - 1], 86400.0),
        _ => (s, 1.0),
    };
    let v: f64 = num.parse().ok()?;
    (v >= 0.0 && v.is_finite()).then_some(v * mult)
}

pub fn sleep(args: &[String]) -> i32 {
    if args.len() < 2 {
        err!("missing operand");
        return 1;
    }
    let mut total = 0.0;
    for a in &args[1..] {
        match parse_duration(a) {
            Some(v) => total += v,
            None => {
                err!("invalid number '{a}'");
                return 1;
            }
        }
    }
    // The host's sleep: a signal ends it (box does not catch signals, so the default action
    // applies); an EINTR (a caught signal) just ends the sleep early.
    match skiff_guest::proc::sleep(std::time::Duration::from_secs_f64(total.min(1e9))) {
        Ok(()) => 0,
        Err(e) if skiff_guest::proc::interrupted(&e) => 0,
        Err(e)
            if e.kind() == std::io::ErrorKind::Unsupported || e.raw_os_error() == Some(skiff_guest::errno::ENOSYS) =>
        {
            std::thread::sleep(std::time::Duration::from_secs_f64(total));
            0
        }
        Err(e) => {
            err!("{}", errstr(&e));
            1
        }
    }
}

pub fn yes(args: &[String]) -> i32 {
    let line = if args.len() > 1 { args[1..].join(" ") } else { "y".into() };
    let mut block = String::new();
    while block.len() < 4096 {
        block.push_str(&line);
        block.push('\n');
    }
    let mut w = out();
    loop {
        if w.write_all(block.as_bytes()).is_err() {
            return 1;
        }
    }
}

pub fn basename(args: &[String]) -> i32 {
    let o = match getopt(args, "") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let Some(p) = o.args.first() else {
        err!("missing operand");
        return 1;
    };
    let mut b = util::base_name(p).to_string();
    if let Some(suf) = o.args.get(1) {
        if b.len() > suf.len() && b.ends_with(suf.as_str()) {
            b.truncate(b.len() - suf.len());
        }
    }
    println!("{b}");
    0
}

pub fn dirname(args: &[String]) -> i32 {
    let o = match getopt(args, "") {
        Ok(o) => o,
        Err(c) => return c,
    };
    if o.args.is_empty() {
        err!("missing operand");
        return 1;
    }
    let mut w = out();
    for p in &o.args {
        let _ = writeln!(w, "{}", util::dir_name(p));
    }
    done(&mut w, 0)
}

fn host_name() -> String {
    if let Ok(h) = std::env::var("HOSTNAME") {
        if !h.is_empty() {
            return h;
        }
    }
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// `hostname [-s] [-i]`; setting the name is not possible.
pub fn hostname(args: &[String]) -> i32 {
    let o = match getopt(args, "sidfF:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    if !o.args.is_empty() || o.has('F') {
        err!("sethostname: Operation not permitted");
        return 1;
    }
    let h = host_name();
    if o.has('i') {
        let Some(ips) = super::net::host_addresses(&h) else {
            err!("{h}: bad address");
            return 1;
        };
        let ips: Vec<String> = ips.iter().map(|ip| ip.to_string()).collect();
        println!("{}", ips.join(" "));
        return 0;
    }
    if o.has('s') {
        println!("{}", h.split('.').next().unwrap_or(&h));
    } else if o.has('d') {
        println!("{}", h.split_once('.').map(|x| x.1).unwrap_or(""));
    } else {
        println!("{h}");
    }
    0
}

/// `uname [-asnrvmpio]`: a WASI machine.
pub fn uname(args: &[String]) -> i32 {
    let o = match getopt(args, "asnrvmpio") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let fields = [
        ('s', "WASI".to_string()),
        ('n', host_name()),
        ('r', "preview1".to_string()),
        ('v', "skiff".to_string()),
        ('m', "wasm32".to_string()),
        ('p', "unknown".to_string()),
        ('i', "unknown".to_string()),
        ('o', "WASI".to_string()),
    ];
    let all = o.has('a');
    let mut parts = Vec::new();
    for (c, v) in &fields {
        let want = if all { !matches!(c, 'p' | 'i') } else { o.has(*c) };
        if want {
            parts.push(v.as_str());
        }
    }
    if parts.is_empty() {
        parts.push("WASI");
    }
    println!("{}", parts.join(" "));
    0
}

/// `env [-i] [-u NAME] [NAME=VALUE]... [CMD ARGS...]`
pub fn env(args: &[String]) -> i32 {
    let mut vars = util::environ();
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-i" | "-" | "--ignore-environment" => vars.clear(),
            "-u" | "--unset" => {
                i += 1;
                let Some(n) = args.get(i) else {
                    err!("option requires an argument -- 'u'");
                    return 1;
                };
                vars.retain(|kv| kv.split('=').next() != Some(n.as_str()));
            }
            "--" => {
                i += 1;
                break;
            }
            _ if a.starts_with("-u") && a.len() > 2 => {
                vars.retain(|kv| kv.split('=').next() != Some(&a[2..]));
            }
            _ if a.starts_with('-') && a.len() > 1 => {
                err!("invalid option -- '{}'", &a[1..2]);
                return 1;
            }
            _ => break,
        }
        i += 1;
    }
    while i < args.len() && args[i].contains('=') {
        let (k, _) = args[i].split_once('=').unwrap();
        vars.retain(|kv| kv.split('=').next() != Some(k));
        vars.push(args[i].clone());
        i += 1;
    }
    if i >= args.len() {
        let mut w = out();
        for v in &vars {
            let _ = writeln!(w, "{v}");
        }
        return done(&mut w, 0);
    }
    match util::run_cmd(&args[i..], Some(&vars)) {
        Ok(st) => st,
        Err(e) => {
            err!("can't execute '{}': {}", args[i], errstr(&e));
            skiff_guest::spawn_error_status(&e)
        }
    }
}

/// `printenv [NAME]...`
pub fn printenv(args: &[String]) -> i32 {
    let mut w = out();
    if args.len() < 2 {
        for v in util::environ() {
            let _ = writeln!(w, "{v}");
        }
        return done(&mut w, 0);
    }
    let mut rc = 0;
    for n in &args[1..] {
        match std::env::var_os(n) {
            Some(v) => {
                let _ = writeln!(w, "{}", v.to_string_lossy());
            }
            None => rc = 1,
        }
    }
    done(&mut w, rc)
}

/// Is `p` an executable regular file?
pub fn is_exec(p: &str) -> bool {
    util::meta(p, true).map(|s| util::is_reg(s.mode) && s.mode & 0o111 != 0).unwrap_or(false)
}

/// Search `$PATH` for `name`.
pub fn find_in_path(name: &str) -> Option<String> {
    if name.contains('/') {
        return is_exec(name).then(|| name.to_string());
    }
    let path =
        std::env::var("PATH").unwrap_or_else(|_| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    path.split(':').map(|d| util::join(if d.is_empty() { "." } else { d }, name)).find(|p| is_exec(p))
}

pub fn which(args: &[String]) -> i32 {
    let o = match getopt(args, "a") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let mut rc = 0;
    let mut w = out();
    for n in &o.args {
        match find_in_path(n) {
            Some(p) => {
                let _ = writeln!(w, "{p}");
            }
            None => rc = 1,
        }
    }
    done(&mut w, rc)
}

fn decimals(s: &str) -> usize {
    match s.find('.') {
        Some(i) => s.len() - i - 1,
        None => 0,
    }
}

/// `seq [-w] [-s SEP] [FIRST [INC]] LAST`
pub fn seq(args: &[String]) -> i32 {
    let mut sep = "\n".to_string();
    let mut wide = false;
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        if a == "-w" {
            wide = true;
        } else if a == "-s" {
            i += 1;
            sep = args.get(i).cloned().unwrap_or_default();
        } else if let Some(s) = a.strip_prefix("-s") {
            sep = s.to_string();
        } else if a == "--" {
            i += 1;
            break;
        } else {
            break;
        }
        i += 1;
    }
    let nums = &args[i.min(args.len())..];
    if nums.is_empty() || nums.len() > 3 {
        err!("missing operand");
        return 1;
    }
    let mut v = Vec::new();
    for n in nums {
        match n.parse::<f64>() {
            Ok(x) if x.is_finite() => v.push(x),
            _ => {
                err!("invalid number '{n}'");
                return 1;
            }
        }
    }
    let (first, inc, last) = match v.len() {
        1 => (1.0, 1.0, v[0]),
        2 => (v[0], 1.0, v[1]),
        _ => (v[0], v[1], v[2]),
    };
    if inc == 0.0 {
        err!("invalid increment '0'");
        return 1;
    }
    let prec = match nums.len() {
        1 => 0,
        2 => decimals(&nums[0]),
        _ => decimals(&nums[0]).max(decimals(&nums[1])),
    };
    let fmt = |x: f64| format!("{x:.prec$}");
    let width = if wide { fmt(first).len().max(fmt(last).len()) } else { 0 };
    let mut w = out();
    let mut k = 0u64;
    loop {
        let x = first + inc * k as f64;
        if (inc > 0.0 && x > last + 1e-9) || (inc < 0.0 && x < last - 1e-9) {
            break;
        }
        let mut s = fmt(x);
        if s == "-0" {
            s = "0".into();
        }
        if wide && s.len() < width {
            let neg = s.starts_with('-');
            let digits = s.trim_start_matches('-');
            s = format!("{}{}{}", if neg { "-" } else { "" }, "0".repeat(width - s.len()), digits);
        }
        if k > 0 && w.write_all(sep.as_bytes()).is_err() {
            return 1;
        }
        if w.write_all(s.as_bytes()).is_err() {
            return 1;
        }
        k += 1;
    }
    if k > 0 {
        let _ = w.write_all(b"\n");
    }
    done(&mut w, 0)
}

/// Split xargs input into arguments (blanks separate; quotes and backslash group).
pub fn xargs_split(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut it = s.chars();
    while let Some(c) = it.next() {
        match c {
            '\'' | '"' => {
                have = true;
                loop {
                    match it.next() {
                        Some(q) if q == c => break,
                        Some(x) => cur.push(x),
                        None => return Err(format!("unmatched {} quote", if c == '"' { "double" } else { "single" })),
                    }
                }
            }
            '\\' => {
                have = true;
                if let Some(x) = it.next() {
                    cur.push(x);
                }
            }
            c if c.is_whitespace() => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            c => {
                have = true;
                cur.push(c);
            }
        }
    }
    if have {
        out.push(cur);
    }
    Ok(out)
}

/// `xargs [-n N] [-I STR] [-0] [-t] [-r] [CMD [ARGS]]`
pub fn xargs(args: &[String]) -> i32 {
    let o = match getopt(args, "+n:I:0trxs:E:") {
        Ok(o) => o,
        Err(c) => return c,
    };
    let cmd: Vec<String> = if o.args.is_empty() { vec!["echo".into()] } else { o.args.clone() };
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        err!("{}", errstr(&e));
        return 1;
    }
    let items: Vec<String> = if o.has('0') {
        input.split('\0').filter(|s| !s.is_empty()).map(String::from).collect()
    } else if o.has('I') {
        input.lines().map(|l| l.trim_start().to_string()).filter(|l| !l.is_empty()).collect()
    } else {
        match xargs_split(&input) {
            Ok(v) => v,
            Err(m) => {
                err!("{m}");
                return 1;
            }
        }
    };
    let mut batches: Vec<Vec<String>> = Vec::new();
    if let Some(rep) = o.val('I') {
        for it in &items {
            batches.push(cmd.iter().map(|a| a.replace(rep, it)).collect());
        }
    } else {
        let n = match o.val('n').map(|v| v.parse::<usize>()) {
            None => usize::MAX,
            Some(Ok(n)) if n > 0 => n,
            Some(_) => {
                err!("invalid number '{}'", o.val('n').unwrap());
                return 1;
            }
        };
        if items.is_empty() {
            if !o.has('r') {
                batches.push(cmd.clone());
            }
        } else {
            for chunk in items.chunks(n.min(items.len())) {
                let mut c = cmd.clone();
                c.extend_from_slice(chunk);
                batches.push(c);
            }
        }
    }
    let mut rc = 0;
    for b in batches {
        if o.has('t') {
            eprintln!("{}", b.join(" "));
        }
        match util::run_cmd(&b, None) {
            Ok(0) => {}
            Ok(255) => {
                err!("{}: exited with status 255; aborting", b[0]);
                return 124;
            }
            Ok(s) if s > 128 => return 125,
            Ok(_) => rc = 123,
            Err(e) => {
                err!("{}: {}", b[0], errstr(&e));
                return skiff_guest::spawn_error_status(&e);
            }
        }
    }
    rc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1.5"), Some(1.5));
        assert_eq!(parse_duration("2m"), Some(120.0));
        assert_eq!(parse_duration("x"), None);
        assert_eq!(parse_duration("-1"), None);
    }

    #[test]
    fn xargs_words() {
        assert_eq!(xargs_split("a b\n 'c d' \"e\"f g\\ h").unwrap(), vec!["a", "b", "c d", "ef", "g h"]);
        assert!(xargs_split("'x").is_err());
        assert_eq!(xargs_split("''").unwrap(), vec![""]);
    }

    #[test]
    fn status() {
        let a = crate::util::testutil::argv;
        assert_eq!(true_(&a(&["true"])), 0);
        assert_eq!(false_(&a(&["false"])), 1);
        assert_eq!(seq(&a(&["seq", "x"])), 1);
        assert_eq!(seq(&a(&["seq", "1", "0", "3"])), 1);
    }
}
