//! Commands run inside the shell itself: cd, export, set, echo, printf, read, test, ...

use crate::exec::{normalize, Ctl, Shell, Var, R};
use crate::io::{errstr, Fds};
use crate::jobs;
use crate::parser::is_name;
use crate::signals::{self, KillCmd, TrapCmd};
use crate::testcmd;

pub const BUILTINS: [&str; 40] = [
    ":", ".", "[", "alias", "break", "cd", "command", "continue", "echo", "eval", "exec", "exit", "export", "false",
    "getopts", "hash", "local", "printf", "pwd", "read", "readonly", "return", "set", "shift", "source", "test",
    "times", "trap", "true", "type", "ulimit", "umask", "unalias", "unset", "wait", "let", "kill", "jobs", "fg", "bg",
];
const SPECIAL: [&str; 15] = [
    ":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set", "shift", "source",
    "trap", "unset",
];
pub const KEYWORDS: [&str; 16] =
    ["if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for", "in", "{", "}", "!"];

pub fn is_builtin(name: &str) -> bool {
    BUILTINS.contains(&name)
}

pub fn is_special(name: &str) -> bool {
    SPECIAL.contains(&name)
}

pub fn run(sh: &mut Shell, argv: &[String], fds: &Fds) -> R {
    let args = &argv[1..];
    let name = argv[0].as_str();
    macro_rules! fail {
        ($msg:expr) => {{
            let m: String = $msg;
            sh.err(fds, &format!("{name}: {m}"));
            return Ok(1);
        }};
    }
    match name {
        ":" | "true" | "hash" | "alias" | "unalias" => Ok(0),
        "false" => Ok(1),
        "echo" => {
            echo(args, fds);
            Ok(0)
        }
        "printf" => printf(sh, args, fds),
        "pwd" => {
            fds.out(&format!("{}\n", sh.st.cwd));
            Ok(0)
        }
        "cd" => cd(sh, args, fds),
        "export" | "readonly" => export(sh, name, args, fds),
        "unset" => {
            let funcs = args.first().map(|s| s.as_str()) == Some("-f");
            for a in args.iter().filter(|a| !a.starts_with('-')) {
                if funcs {
                    sh.st.funcs.remove(a);
                } else if sh.st.vars.get(a).is_some_and(|v| v.readonly) {
                    fail!(format!("{a}: is read only"))
                } else if sh.st.vars.remove(a).is_none() {
                    sh.st.funcs.remove(a);
                }
            }
            Ok(0)
        }
        "set" => set(sh, args, fds),
        "shift" => {
            let n = match args.first() {
                Some(a) => match a.parse::<usize>() {
                    Ok(n) => n,
                    Err(_) => fail!(format!("Illegal number: {a}")),
                },
                None => 1,
            };
            if n > sh.st.params.len() {
                fail!("can't shift that many".into())
            }
            sh.st.params.drain(..n);
            Ok(0)
        }
        "exit" | "return" => {
            let n = match args.first() {
                Some(a) => match a.parse::<i32>() {
                    Ok(n) => n & 255,
                    Err(_) => {
                        sh.err(fds, &format!("{name}: Illegal number: {a}"));
                        2
                    }
                },
                None if name == "exit" => sh.trap_status.unwrap_or(sh.st.status),
                None => sh.st.status,
            };
            Err(if name == "exit" { Ctl::Exit(n) } else { Ctl::Return(n) })
        }
        "break" | "continue" => {
            let n = args.first().and_then(|a| a.parse::<u32>().ok()).unwrap_or(1).max(1);
            if sh.st.loops == 0 {
                return Ok(0);
            }
            let n = n.min(sh.st.loops);
            Err(if name == "break" { Ctl::Break(n) } else { Ctl::Continue(n) })
        }
        "test" | "[" => {
            let mut a = args.to_vec();
            if name == "[" {
                if a.last().map(|s| s.as_str()) != Some("]") {
                    sh.err(fds, "[: missing ]");
                    return Ok(2);
                }
                a.pop();
            }
            match testcmd::test(&a) {
                Ok(v) => Ok(!v as i32),
                Err(e) => {
                    sh.err(fds, &format!("{name}: {e}"));
                    Ok(2)
                }
            }
        }
        "read" => read(sh, args, fds),
        "wait" => wait(sh, args, fds),
        "." | "source" => {
            let Some(file) = args.first() else { fail!("filename argument required".into()) };
            let path = if file.contains('/') {
                Some(sh.abs(file))
            } else {
                find_in_path(sh, file).or_else(|| Some(sh.abs(file)))
            };
            let text = match std::fs::read_to_string(path.unwrap()) {
                Ok(t) => t,
                Err(e) => {
                    sh.err(fds, &format!("{name}: can't open '{file}': {}", errstr(&e)));
                    return if sh.st.interactive { Ok(2) } else { Err(Ctl::Exit(2)) };
                }
            };
            let saved = (args.len() > 1).then(|| std::mem::replace(&mut sh.st.params, args[1..].to_vec()));
            let r = sh.run_text(&text, fds, true);
            if let Some(p) = saved {
                sh.st.params = p;
            }
            match r {
                Err(Ctl::Return(s)) => Ok(s),
                r => r,
            }
        }
        "eval" => {
            let src = args.join(" ");
            sh.run_text(&src, fds, false)
        }
        "exec" => {
            if args.is_empty() {
                sh.base = fds.clone();
                return Ok(0);
            }
            let s = if is_builtin(&args[0]) {
                run(sh, args, fds)?
            } else {
                let env = sh.env_list(&[]);
                // The program takes the shell's place: no EXIT trap after it, and signals
                // sent to the shell go to it (`skiff stop` of `sh -c 'exec prog'`).
                sh.st.traps.set(0, None);
                sh.forward_signals();
                match sh.spawn_with(args, &env, fds) {
                    Ok((pid, pumps)) => {
                        sh.run_pumps(pumps);
                        sh.wait_forwarding(pid)
                    }
                    Err(e) => {
                        let s = skiff_guest::spawn_error_status(&e);
                        let what = if s == 127 || e.kind() == std::io::ErrorKind::Unsupported {
                            "not found"
                        } else {
                            "Permission denied"
                        };
                        sh.err(fds, &format!("exec: {}: {what}", args[0]));
                        if s == 127 {
                            127
                        } else {
                            s
                        }
                    }
                }
            };
            Err(Ctl::Exit(s))
        }
        "type" => {
            let mut s = 0;
            for a in args {
                match describe(sh, a) {
                    Some(d) => fds.out(&format!("{a} {d}\n")),
                    None => {
                        fds.out(&format!("{a}: not found\n"));
                        s = 127;
                    }
                }
            }
            Ok(s)
        }
        "command" => match args.first().map(|s| s.as_str()) {
            Some("-v") | Some("-V") => {
                let verbose = args[0] == "-V";
                let mut s = 0;
                for a in &args[1..] {
                    if verbose {
                        match describe(sh, a) {
                            Some(d) => fds.out(&format!("{a} {d}\n")),
                            None => s = 127,
                        }
                    } else if is_builtin(a) || KEYWORDS.contains(&a.as_str()) || sh.st.funcs.contains_key(a) {
                        fds.out(&format!("{a}\n"));
                    } else if let Some(p) = find_in_path(sh, a) {
                        fds.out(&format!("{p}\n"));
                    } else {
                        s = 1;
                    }
                }
                Ok(s)
            }
            None => Ok(0),
            Some(_) => {
                if is_builtin(&args[0]) {
                    run(sh, args, fds)
                } else {
                    let env = sh.env_list(&[]);
                    match sh.spawn_with(args, &env, fds) {
                        Ok((pid, pumps)) => {
                            sh.run_pumps(pumps);
                            Ok(sh.wait_child(pid))
                        }
                        Err(e) => {
                            let s = skiff_guest::spawn_error_status(&e);
                            sh.err(
                                fds,
                                &format!("{}: {}", args[0], if s == 127 { "not found" } else { "Permission denied" }),
                            );
                            Ok(s)
                        }
                    }
                }
            }
        },
        "trap" => match signals::parse_trap(args) {
            TrapCmd::Print => {
                fds.out(&sh.st.traps.listing());
                Ok(0)
            }
            TrapCmd::List => {
                fds.out(&signals::list());
                Ok(0)
            }
            TrapCmd::Set(action, sigs, bad) => {
                for n in sigs {
                    sh.st.traps.set(n, action.clone());
                }
                sh.sync_signals();
                for b in &bad {
                    sh.err(fds, &format!("trap: {b}: invalid signal specification"));
                }
                Ok(!bad.is_empty() as i32)
            }
        },
        "kill" => kill(sh, args, fds),
        "jobs" => {
            let states = sh.sys.proc_states().ok();
            let mut out = String::new();
            for job in sh.jobs.list.clone() {
                let letter = states.as_ref().and_then(|v| v.iter().find(|p| p.0 == job.pid).map(|p| p.1));
                let state = match jobs::state_of(letter) {
                    Some(st) => st,
                    None => {
                        let s = sh.wait_child(job.pid);
                        jobs::State::Done(s)
                    }
                };
                let line = sh.jobs.line(&job, state);
                if matches!(state, jobs::State::Done(_)) {
                    sh.jobs.remove(job.pid);
                }
                if args.first().map(|s| s.as_str()) == Some("-p") {
                    out.push_str(&format!("{}\n", job.pid));
                } else {
                    out.push_str(&line);
                }
            }
            fds.out(&out);
            Ok(0)
        }
        "fg" | "bg" => {
            let spec = args.first().map(|s| s.as_str()).unwrap_or("%%");
            let spec = if spec.starts_with('%') { spec.to_string() } else { format!("%{spec}") };
            let job = match sh.jobs.find(&spec) {
                Ok(j) => j.clone(),
                Err(_) if sh.jobs.list.is_empty() => fail!("no current job".into()),
                Err(e) => fail!(e),
            };
            let _ = sh.sys.kill(job.pid, skiff_guest::proc::sig::CONT);
            if name == "bg" {
                fds.out(&format!("[{}] {} &\n", job.id, job.cmd));
                return Ok(0);
            }
            fds.out(&format!("{}\n", job.cmd));
            sh.jobs.remove(job.pid);
            Ok(sh.wait_child(job.pid))
        }
        "umask" => {
            if args.is_empty() {
                fds.out("0022\n");
            }
            Ok(0)
        }
        "ulimit" => {
            fds.out("unlimited\n");
            Ok(0)
        }
        "times" => {
            fds.out("0m0.000s 0m0.000s\n0m0.000s 0m0.000s\n");
            Ok(0)
        }
        "local" => {
            if sh.st.locals.is_empty() {
                fail!("not in a function".into())
            }
            for a in args {
                let (n, v) = match a.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (a.clone(), None),
                };
                if !is_name(&n) {
                    fail!(format!("{n}: bad variable name"))
                }
                let old = sh.st.vars.get(&n).cloned();
                let frame = sh.st.locals.last_mut().unwrap();
                if !frame.iter().any(|(x, _)| *x == n) {
                    frame.push((n.clone(), old));
                }
                if let Some(v) = v {
                    if let Err(e) = sh.set_var(&n, v) {
                        fail!(e)
                    }
                }
            }
            Ok(0)
        }
        "let" => {
            let mut last = 0;
            for a in args {
                last = match crate::arith::eval(a, &mut LetVars(sh)) {
                    Ok(v) => v,
                    Err(e) => fail!(e),
                };
            }
            Ok((last == 0) as i32)
        }
        "getopts" => getopts(sh, args, fds),
        _ => fail!("not a builtin".into()),
    }
}

struct LetVars<'a>(&'a mut Shell);

impl crate::arith::Vars for LetVars<'_> {
    fn get(&self, name: &str) -> Option<String> {
        self.0.var(name)
    }
    fn set(&mut self, name: &str, value: String) {
        let _ = self.0.set_var(name, value);
    }
}

pub fn find_in_path(sh: &Shell, name: &str) -> Option<String> {
    if name.contains('/') {
        let p = sh.abs(name);
        return std::fs::metadata(&p).is_ok_and(|m| m.is_file()).then_some(name.to_string());
    }
    let path = sh.var("PATH").unwrap_or_default();
    for dir in path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let p = format!("{}/{name}", dir.trim_end_matches('/'));
        if std::fs::metadata(sh.abs(&p)).is_ok_and(|m| m.is_file()) {
            return Some(p);
        }
    }
    None
}

fn describe(sh: &Shell, a: &str) -> Option<String> {
    if KEYWORDS.contains(&a) {
        Some("is a shell keyword".into())
    } else if sh.st.funcs.contains_key(a) {
        Some("is a function".into())
    } else if is_builtin(a) {
        Some(if is_special(a) { "is a special shell builtin" } else { "is a shell builtin" }.into())
    } else {
        find_in_path(sh, a).map(|p| format!("is {p}"))
    }
}

fn echo(args: &[String], fds: &Fds) {
    let mut newline = true;
    let mut escapes = false;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a.len() < 2 || !a.starts_with('-') || !a[1..].chars().all(|c| "neE".contains(c)) {
            break;
        }
        for c in a[1..].chars() {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        i += 1;
    }
    let mut out = String::new();
    for (k, a) in args[i..].iter().enumerate() {
        if k > 0 {
            out.push(' ');
        }
        if escapes {
            let (s, stop) = unescape(a, true);
            out.push_str(&s);
            if stop {
                fds.out(&out);
                return;
            }
        } else {
            out.push_str(a);
        }
    }
    if newline {
        out.push('\n');
    }
    fds.out(&out);
}

/// Backslash escapes of `echo -e` / `printf`; true when `\c` asked to stop output.
fn unescape(s: &str, echo: bool) -> (String, bool) {
    let cs: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < cs.len() {
        if cs[i] != '\\' || i + 1 >= cs.len() {
            out.push(cs[i]);
            i += 1;
            continue;
        }
        i += 1;
        let c = cs[i];
        i += 1;
        match c {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'c' => return (out, true),
            'e' => out.push('\x1b'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '0'..='7' => {
                let max = if echo && c == '0' {
                    3
                } else if c == '0' {
                    3
                } else {
                    2
                };
                let mut v = if echo && c == '0' { 0 } else { c.to_digit(8).unwrap() };
                let mut k = 0;
                while k < max && i < cs.len() && cs[i].is_digit(8) {
                    v = v * 8 + cs[i].to_digit(8).unwrap();
                    i += 1;
                    k += 1;
                }
                out.push(char::from_u32(v & 0xff).unwrap_or('?'));
            }
            'x' => {
                let mut v = 0;
                let mut k = 0;
                while k < 2 && i < cs.len() && cs[i].is_ascii_hexdigit() {
                    v = v * 16 + cs[i].to_digit(16).unwrap();
                    i += 1;
                    k += 1;
                }
                if k == 0 {
                    out.push_str("\\x");
                } else {
                    out.push(char::from_u32(v).unwrap_or('?'));
                }
            }
            '"' if !echo => out.push('"'),
            '\'' if !echo => out.push('\''),
            _ => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    (out, false)
}

fn printf(sh: &mut Shell, args: &[String], fds: &Fds) -> R {
    let Some(fmt) = args.first() else {
        sh.err(fds, "printf: usage: printf FORMAT [ARGUMENT...]");
        return Ok(2);
    };
    let fmt: Vec<char> = fmt.chars().collect();
    let mut rest = args[1..].iter();
    let mut out = String::new();
    let mut status = 0;
    loop {
        let mut used = false;
        let mut i = 0;
        while i < fmt.len() {
            let c = fmt[i];
            if c == '\\' {
                let mut j = i + 1;
                if j < fmt.len() && fmt[j] == '0' || fmt.get(j).is_some_and(|c| c.is_digit(8)) {
                    while j < fmt.len() && j < i + 4 && fmt[j].is_digit(8) {
                        j += 1;
                    }
                } else if fmt.get(j) == Some(&'x') {
                    j += 1;
                    while j < fmt.len() && j < i + 4 && fmt[j].is_ascii_hexdigit() {
                        j += 1;
                    }
                } else {
                    j = (j + 1).min(fmt.len());
                }
                let (s, stop) = unescape(&fmt[i..j].iter().collect::<String>(), false);
                out.push_str(&s);
                if stop {
                    fds.out(&out);
                    return Ok(status);
                }
                i = j;
                continue;
            }
            if c != '%' {
                out.push(c);
                i += 1;
                continue;
            }
            i += 1;
            if fmt.get(i) == Some(&'%') {
                out.push('%');
                i += 1;
                continue;
            }
            let mut flags = String::new();
            while i < fmt.len() && "-+ #0".contains(fmt[i]) {
                flags.push(fmt[i]);
                i += 1;
            }
            let mut width = String::new();
            if fmt.get(i) == Some(&'*') {
                used = true;
                width = rest.next().cloned().unwrap_or_default();
                i += 1;
            }
            while i < fmt.len() && fmt[i].is_ascii_digit() {
                width.push(fmt[i]);
                i += 1;
            }
            let mut prec: Option<String> = None;
            if fmt.get(i) == Some(&'.') {
                i += 1;
                let mut p = String::new();
                if fmt.get(i) == Some(&'*') {
                    used = true;
                    p = rest.next().cloned().unwrap_or_default();
                    i += 1;
                }
                while i < fmt.len() && fmt[i].is_ascii_digit() {
                    p.push(fmt[i]);
                    i += 1;
                }
                prec = Some(p);
            }
            while i < fmt.len() && "hlLqjzt".contains(fmt[i]) {
                i += 1;
            }
            let Some(&conv) = fmt.get(i) else {
                out.push('%');
                break;
            };
            i += 1;
            let arg = rest.next();
            used |= arg.is_some();
            let arg = arg.map(|s| s.as_str()).unwrap_or("");
            let width: usize = width.trim_start_matches('-').parse().unwrap_or(0);
            let left = flags.contains('-');
            let prec_n: Option<usize> = prec.as_ref().map(|p| p.parse().unwrap_or(0));
            let body = match conv {
                's' | 'b' => {
                    let mut s = if conv == 'b' { unescape(arg, true).0 } else { arg.to_string() };
                    if let Some(p) = prec_n {
                        s = s.chars().take(p).collect();
                    }
                    s
                }
                'c' => arg.chars().next().map(String::from).unwrap_or_default(),
                'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                    let v = match int_arg(arg) {
                        Ok(v) => v,
                        Err(_) => {
                            sh.err(fds, &format!("printf: invalid number '{arg}'"));
                            status = 1;
                            0
                        }
                    };
                    let (neg, mag) = (v < 0, v.unsigned_abs());
                    let mut digits = match conv {
                        'x' => format!("{:x}", if conv == 'x' && neg { v as u64 } else { mag }),
                        'X' => format!("{:X}", if neg { v as u64 } else { mag }),
                        'o' => format!("{:o}", if neg { v as u64 } else { mag }),
                        'u' => format!("{}", if neg { v as u64 } else { mag }),
                        _ => mag.to_string(),
                    };
                    if let Some(p) = prec_n {
                        while digits.len() < p {
                            digits.insert(0, '0');
                        }
                    }
                    let signed = matches!(conv, 'd' | 'i');
                    let sign = if signed && neg {
                        "-"
                    } else if signed && flags.contains('+') {
                        "+"
                    } else if signed && flags.contains(' ') {
                        " "
                    } else {
                        ""
                    };
                    let alt = if flags.contains('#') && v != 0 {
                        match conv {
                            'x' => "0x",
                            'X' => "0X",
                            'o' => "0",
                            _ => "",
                        }
                    } else {
                        ""
                    };
                    let prefix = format!("{sign}{alt}");
                    if flags.contains('0') && !left && prec.is_none() {
                        while prefix.len() + digits.len() < width {
                            digits.insert(0, '0');
                        }
                    }
                    format!("{prefix}{digits}")
                }
                'f' | 'F' | 'e' | 'E' | 'g' | 'G' => {
                    let mut s =
                        fixed(arg, if matches!(conv, 'f' | 'F') { prec_n.unwrap_or(6) } else { prec_n.unwrap_or(0) });
                    if flags.contains('+') && !s.starts_with('-') {
                        s.insert(0, '+');
                    }
                    if flags.contains('0') && !left {
                        let signed = s.starts_with('-') || s.starts_with('+');
                        while s.len() < width {
                            s.insert(if signed { 1 } else { 0 }, '0');
                        }
                    }
                    s
                }
                _ => {
                    sh.err(fds, &format!("printf: %{conv}: invalid format"));
                    return Ok(1);
                }
            };
            let pad = width.saturating_sub(body.chars().count());
            if left {
                out.push_str(&body);
                out.push_str(&" ".repeat(pad));
            } else {
                out.push_str(&" ".repeat(pad));
                out.push_str(&body);
            }
        }
        if !used || rest.len() == 0 {
            break;
        }
    }
    fds.out(&out);
    Ok(status)
}

/// A decimal number rounded to `prec` fraction digits, by string arithmetic (the float
/// formatting code of `core` would add ~15 KB to the module).
fn fixed(a: &str, prec: usize) -> String {
    let t = a.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (ip, fp) = t.split_once('.').unwrap_or((t, ""));
    let ip: String = ip.chars().take_while(|c| c.is_ascii_digit()).collect();
    let fp: String = fp.chars().take_while(|c| c.is_ascii_digit()).collect();
    let mut digits: Vec<u8> =
        format!("{}{}", if ip.is_empty() { "0" } else { &ip }, fp).bytes().map(|b| b - b'0').collect();
    let int_len = digits.len() - fp.len();
    let keep = int_len + prec;
    let round_up = digits.get(keep).is_some_and(|&d| d >= 5);
    digits.resize(keep, 0);
    if round_up {
        let mut k = keep;
        loop {
            if k == 0 {
                digits.insert(0, 1);
                break;
            }
            k -= 1;
            if digits[k] == 9 {
                digits[k] = 0;
            } else {
                digits[k] += 1;
                break;
            }
        }
    }
    let int_len = digits.len() - prec;
    let mut out = String::new();
    if neg && digits.iter().any(|&d| d != 0) {
        out.push('-');
    }
    let int: String = digits[..int_len].iter().map(|d| (d + b'0') as char).collect();
    let int = int.trim_start_matches('0');
    out.push_str(if int.is_empty() { "0" } else { int });
    if prec > 0 {
        out.push('.');
        out.extend(digits[int_len..].iter().map(|d| (d + b'0') as char));
    }
    out
}

fn int_arg(a: &str) -> Result<i64, ()> {
    let t = a.trim();
    if let Some(c) = t.strip_prefix('\'').or_else(|| t.strip_prefix('"')) {
        return Ok(c.chars().next().map_or(0, |c| c as i64));
    }
    if t.is_empty() {
        return Ok(0);
    }
    crate::arith::parse_num(t).map_err(|_| ())
}

fn cd(sh: &mut Shell, args: &[String], fds: &Fds) -> R {
    let args: Vec<&String> = args.iter().filter(|a| !matches!(a.as_str(), "-P" | "-L")).collect();
    let mut print = false;
    let target = match args.first().map(|s| s.as_str()) {
        None | Some("~") => sh.var("HOME").filter(|h| !h.is_empty()).unwrap_or_else(|| "/".into()),
        Some("-") => {
            print = true;
            sh.var("OLDPWD").unwrap_or_else(|| sh.st.cwd.clone())
        }
        Some(d) => d.to_string(),
    };
    let path = normalize(&sh.abs(&target));
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            sh.err(fds, &format!("cd: can't cd to {target}: Not a directory"));
            return Ok(1);
        }
        Err(e) => {
            sh.err(fds, &format!("cd: can't cd to {target}: {}", errstr(&e)));
            return Ok(1);
        }
    }
    if let Err(e) = std::env::set_current_dir(&path) {
        sh.err(fds, &format!("cd: can't cd to {target}: {}", errstr(&e)));
        return Ok(1);
    }
    let old = std::mem::replace(&mut sh.st.cwd, path.clone());
    let _ = sh.set_var("OLDPWD", old);
    let _ = sh.set_var("PWD", path.clone());
    if print {
        fds.out(&format!("{path}\n"));
    }
    Ok(0)
}

fn export(sh: &mut Shell, name: &str, args: &[String], fds: &Fds) -> R {
    let readonly = name == "readonly";
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if names.is_empty() {
        let mut ks: Vec<String> = sh
            .st
            .vars
            .iter()
            .filter(|(_, v)| if readonly { v.readonly } else { v.exported })
            .map(|(k, _)| k.clone())
            .collect();
        crate::exec::sort(&mut ks);
        let mut out = String::new();
        for k in ks {
            out.push_str(&format!("{name} {k}={}\n", quote_always(&sh.st.vars[&k].val)));
        }
        fds.out(&out);
        return Ok(0);
    }
    let mut s = 0;
    for a in names {
        let (n, v) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (a.as_str(), None),
        };
        if !is_name(n) {
            sh.err(fds, &format!("{name}: {n}: bad variable name"));
            s = 1;
            continue;
        }
        if let Some(v) = v {
            if let Err(e) = sh.set_var(n, v) {
                sh.err(fds, &e);
                s = 1;
                continue;
            }
        }
        let var =
            sh.st.vars.entry(n.to_string()).or_insert(Var { val: String::new(), exported: false, readonly: false });
        if readonly {
            var.readonly = true;
        } else {
            var.exported = true;
        }
    }
    Ok(s)
}

fn quote_always(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn set(sh: &mut Shell, args: &[String], fds: &Fds) -> R {
    if args.is_empty() {
        let mut ks: Vec<String> = sh.st.vars.keys().cloned().collect();
        crate::exec::sort(&mut ks);
        let mut out = String::new();
        for k in ks {
            out.push_str(&format!("{k}={}\n", quote_always(&sh.st.vars[&k].val)));
        }
        fds.out(&out);
        return Ok(0);
    }
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            sh.st.params = args[i + 1..].to_vec();
            return Ok(0);
        }
        if a == "-" {
            i += 1;
            break;
        }
        let on = a.starts_with('-');
        if !(on || a.starts_with('+')) || a.len() < 2 {
            break;
        }
        for c in a[1..].chars() {
            if c == 'o' {
                i += 1;
                let Some(opt) = args.get(i) else {
                    let o = &sh.st.opts;
                    let mut out = String::new();
                    for (n, v) in [
                        ("errexit", o.errexit),
                        ("noglob", o.noglob),
                        ("nounset", o.nounset),
                        ("xtrace", o.xtrace),
                        ("pipefail", o.pipefail),
                    ] {
                        out.push_str(&format!("{n:<16}{}\n", if v { "on" } else { "off" }));
                    }
                    fds.out(&out);
                    return Ok(0);
                };
                let o = &mut sh.st.opts;
                match opt.as_str() {
                    "errexit" => o.errexit = on,
                    "xtrace" => o.xtrace = on,
                    "noglob" => o.noglob = on,
                    "nounset" => o.nounset = on,
                    "pipefail" => o.pipefail = on,
                    _ => {}
                }
                continue;
            }
            let o = &mut sh.st.opts;
            match c {
                'e' => o.errexit = on,
                'x' => o.xtrace = on,
                'f' => o.noglob = on,
                'u' => o.nounset = on,
                'v' | 'a' | 'C' | 'h' | 'm' | 'b' | 'n' => {}
                _ => {
                    sh.err(fds, &format!("set: illegal option -{c}"));
                    return Ok(2);
                }
            }
        }
        i += 1;
    }
    if i < args.len() || args.last().map(|s| s.as_str()) == Some("-") {
        sh.st.params = args[i..].to_vec();
    }
    Ok(0)
}

fn read(sh: &mut Shell, args: &[String], fds: &Fds) -> R {
    let mut raw = false;
    let mut names = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-r" => raw = true,
            "-p" => {
                i += 1;
                if let Some(p) = args.get(i) {
                    fds.err(p);
                }
            }
            "-s" => {}
            "-t" | "-n" | "-u" | "-d" => i += 1,
            a if a.starts_with('-') && names.is_empty() => {
                raw |= a.contains('r');
            }
            a => names.push(a.to_string()),
        }
        i += 1;
    }
    if names.is_empty() {
        names.push("REPLY".into());
    }
    // Bytes of the line; `true` marks chars protected by a backslash (never split).
    let mut line: Vec<(char, bool)> = Vec::new();
    let mut bytes = Vec::new();
    let mut eof = true;
    let mut escaped = false;
    while let Some(b) = fds.0[0].read_byte() {
        if b == b'\n' {
            if escaped {
                escaped = false;
                continue;
            }
            eof = false;
            break;
        }
        if !raw && b == b'\\' && !escaped {
            escaped = true;
            continue;
        }
        bytes.push(b);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            for c in s.chars() {
                line.push((c, escaped));
            }
            bytes.clear();
        }
        escaped = false;
    }
    let ifs = sh.var("IFS").unwrap_or_else(|| " \t\n".into());
    let is_ws = |c: char| ifs.contains(c) && c.is_whitespace();
    let is_sep = |c: char, esc: bool| !esc && ifs.contains(c);
    let mut pos = 0;
    let n = line.len();
    while pos < n && is_ws(line[pos].0) && !line[pos].1 {
        pos += 1;
    }
    for (k, name) in names.iter().enumerate() {
        let value = if k + 1 == names.len() {
            let mut end = n;
            while end > pos && is_ws(line[end - 1].0) && !line[end - 1].1 {
                end -= 1;
            }
            let v: String = line[pos..end].iter().map(|p| p.0).collect();
            pos = n;
            v
        } else {
            let st = pos;
            while pos < n && !is_sep(line[pos].0, line[pos].1) {
                pos += 1;
            }
            let v: String = line[st..pos].iter().map(|p| p.0).collect();
            while pos < n && is_ws(line[pos].0) && !line[pos].1 {
                pos += 1;
            }
            if pos < n && is_sep(line[pos].0, line[pos].1) && !is_ws(line[pos].0) {
                pos += 1;
                while pos < n && is_ws(line[pos].0) && !line[pos].1 {
                    pos += 1;
                }
            }
            v
        };
        if let Err(e) = sh.set_var(name, value) {
            sh.err(fds, &format!("read: {e}"));
            return Ok(1);
        }
    }
    Ok(eof as i32)
}

fn getopts(sh: &mut Shell, args: &[String], _fds: &Fds) -> R {
    let (Some(spec), Some(var)) = (args.first(), args.get(1)) else { return Ok(2) };
    let params: Vec<String> = if args.len() > 2 { args[2..].to_vec() } else { sh.st.params.clone() };
    let optind: usize = sh.var("OPTIND").and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
    let sub: usize = sh.var("_GETOPTS_SUB").and_then(|v| v.parse().ok()).unwrap_or(1);
    let Some(arg) = params.get(optind - 1) else {
        let _ = sh.set_var(var, "?".into());
        return Ok(1);
    };
    if arg == "--" {
        let _ = sh.set_var("OPTIND", (optind + 1).to_string());
        let _ = sh.set_var(var, "?".into());
        return Ok(1);
    }
    if !arg.starts_with('-') || arg.len() < 2 {
        let _ = sh.set_var(var, "?".into());
        return Ok(1);
    }
    let cs: Vec<char> = arg.chars().collect();
    let c = cs[sub.min(cs.len() - 1)];
    let last = sub + 1 >= cs.len();
    let (mut next_ind, mut next_sub) = if last { (optind + 1, 1) } else { (optind, sub + 1) };
    let silent = spec.starts_with(':');
    let pos = spec.find(c).filter(|_| c != ':');
    match pos {
        None => {
            let _ = sh.set_var(var, "?".into());
            if silent {
                let _ = sh.set_var("OPTARG", c.to_string());
            } else {
                sh.err(_fds, &format!("illegal option -- {c}"));
                sh.st.vars.remove("OPTARG");
            }
        }
        Some(p) if spec[p + 1..].starts_with(':') => {
            let val = if !last {
                Some(cs[sub + 1..].iter().collect::<String>())
            } else {
                next_ind = optind + 2;
                params.get(optind).cloned()
            };
            next_sub = 1;
            if !last {
                next_ind = optind + 1;
            }
            match val {
                Some(v) => {
                    let _ = sh.set_var(var, c.to_string());
                    let _ = sh.set_var("OPTARG", v);
                }
                None => {
                    if silent {
                        let _ = sh.set_var(var, ":".into());
                        let _ = sh.set_var("OPTARG", c.to_string());
                    } else {
                        let _ = sh.set_var(var, "?".into());
                        sh.err(_fds, &format!("option requires an argument -- {c}"));
                    }
                }
            }
        }
        Some(_) => {
            let _ = sh.set_var(var, c.to_string());
        }
    }
    let _ = sh.set_var("OPTIND", next_ind.to_string());
    let _ = sh.set_var("_GETOPTS_SUB", next_sub.to_string());
    Ok(0)
}

/// `wait [PID|%N]…`: a caught signal with a trap ends it with 128+N (the trap runs next).
fn wait(sh: &mut Shell, args: &[String], fds: &Fds) -> R {
    if args.is_empty() {
        for pid in sh.jobs.pids() {
            let s = sh.wait_job(pid);
            if sh.jobs.has(pid) {
                return Ok(s);
            }
        }
        return Ok(0);
    }
    let mut s = 127;
    for a in args {
        let pid = if a.starts_with('%') {
            match sh.jobs.find(a) {
                Ok(j) => j.pid,
                Err(e) => {
                    sh.err(fds, &format!("wait: {e}"));
                    s = 127;
                    continue;
                }
            }
        } else {
            match a.parse::<i32>() {
                Ok(p) => p,
                Err(_) => {
                    sh.err(fds, &format!("wait: Illegal number: {a}"));
                    return Ok(2);
                }
            }
        };
        if !sh.jobs.has(pid) {
            s = 127;
            continue;
        }
        s = sh.wait_job(pid);
        if sh.jobs.has(pid) {
            return Ok(s);
        }
    }
    Ok(s)
}

/// `kill [-s SIG | -SIG] PID|%N…`, `kill -l [N|NAME]…`, with busybox's messages.
fn kill(sh: &mut Shell, args: &[String], fds: &Fds) -> R {
    let cmd = match signals::parse_kill(args) {
        Ok(c) => c,
        Err(e) => {
            sh.err(fds, &e);
            return Ok(1);
        }
    };
    match cmd {
        KillCmd::List(names) if names.is_empty() => {
            fds.out(&signals::list());
            Ok(0)
        }
        KillCmd::List(names) => {
            let mut out = String::new();
            for n in &names {
                match signals::list_one(n) {
                    Ok(s) => out.push_str(&format!("{s}\n")),
                    Err(e) => {
                        fds.out(&out);
                        sh.err(fds, &e);
                        return Ok(1);
                    }
                }
            }
            fds.out(&out);
            Ok(0)
        }
        KillCmd::Send(signo, targets) => {
            let mut errors = 0;
            for t in &targets {
                let pid = if t.starts_with('%') {
                    sh.jobs.find(t).map(|j| j.pid).map_err(|e| format!("kill: {e}"))
                } else {
                    signals::parse_pid(t)
                };
                match pid {
                    Ok(pid) => {
                        if let Err(e) = sh.sys.kill(pid, signo) {
                            sh.err(fds, &format!("can't kill pid {pid}: {}", signals::kill_error(&e)));
                            errors += 1;
                        }
                    }
                    Err(e) => {
                        sh.err(fds, &e);
                        errors += 1;
                    }
                }
            }
            Ok(errors.min(255))
        }
    }
}
